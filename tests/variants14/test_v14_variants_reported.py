"""variants14 items 2 and 3: what the incident a variant would have joined hears of it, and who is asked when that
incident has ended.

Attacker: the webhook-key holder (every action group receiver URL carries the key), the source check on.

Item 3 (low-medium): a variant — a delivery that would have joined an incident not confirmed at its source, checked
on its own instead (variants13, joins14) — told the incident that waits nothing: its record named none of the
forged deliveries that ended unconfirmed; and the alert a variant took stayed in that incident's tally (a genuine
alert that joined a forged incident while its check ran was counted *and* contained by its own variant: the forged
incident's record listed it among its joined alerts). Now each variant reports how its check ended to the tally of
that incident (``firestop.lifecycle.tally`` operation ``variant``): the record names them (``variants``, the first
``MAX_VARIANTS_NAMED``, the rest counted in ``variant_count``), a timeline line names the unconfirmed ones, and the
alert is counted by one incident only.

Item 2 (low-medium): a differing delivery after the first incident was rejected (``alert.genuine``) ended
``needs_responder`` naming that incident — where nothing waited any more — and nobody was asked. Now the tally
answers that it was closed (the incident ended): the first such variant asks a responder as every
``needs_responder`` outcome does (the playbook's ``page``), its reason saying what to do; later ones name it (one
page per ended incident).
"""

from __future__ import annotations

import json
from functools import partial

import pytest

from firestop.cli.incidents import decide
from firestop.lifecycle.incident import GENUINE_STEP
from firestop.settings import REPO_ROOT
from tests.e2e.test_webhook import served  # noqa: F401 (fixture)
from tests.redteam15.test_rt15_forged_alert_holds_resource import _forged
from tests.source_check_steps import confirm_outcomes, post_delivery, timeline_of
from tests.variants13.test_v13_joined_while_checked import _posted, _variant_of
from tests.verify12.test_v12_forged_dimensions import GATEWAY_IP, RAW, _deny_rules, _fire_genuine, _with_dimension


@pytest.fixture(autouse=True)
def check_on(monkeypatch):
    monkeypatch.setenv("FIRESTOP_ALERT_SOURCE_CHECK", "on")


_post = partial(post_delivery, statuses=(200, 202))


def _rejected(env, incident: str) -> dict:
    decide(env, incident, GENUINE_STEP, "reject", "oid-alice", comment="not at its source: forged")
    env.host.run_until_idle(incident)
    status = env.host.get_status(incident)
    assert status.runtime_status == "Completed", status.runtime_status
    return status.output


def test_the_waiting_incident_names_the_variants_that_ended_unconfirmed(served, monkeypatch):  # noqa: F811
    from firestop.lifecycle import tally

    monkeypatch.setattr(tally, "MAX_VARIANTS_NAMED", 2)  # bounded: the rest counted
    env, server, app = served
    _fire_genuine(env)
    first = _post(env, server, app, _with_dimension("CallerIPAddress", GATEWAY_IP))["id"]
    forged = [_post(env, server, app, _with_dimension("CallerIPAddress", f"198.51.100.{n}"))["id"] for n in (71, 72, 73)]
    assert len(set(forged)) == 3 and first not in forged
    record = _rejected(env, first)
    assert [v["variant"] for v in record["variants"]] == forged[:2], record["variants"]  # before: no such field
    assert all(v["outcome"] == "not confirmed" and v["why"] for v in record["variants"])
    assert record["variant_count"] == 3
    (line,) = [e for e in record["timeline"] if e["step"] == "deliveries checked on their own"]
    assert "3 delivery(ies)" in line["detail"] and forged[0] in line["detail"] and "1 more not named" in line["detail"]
    from firestop.records.render import render_markdown

    text = render_markdown(record)
    assert "Deliveries checked on their own" in text and forged[1] in text


def test_the_alert_a_variant_took_is_not_counted_by_the_incident_it_joined(served):  # noqa: F811
    env, server, app = served
    _fire_genuine(env)
    forged = _posted(server, app, _forged())["id"]
    genuine = _posted(server, app, json.loads(RAW))
    assert genuine.get("correlatedTo") == forged, genuine  # joined while the forged incident's check ran
    env.host.run_until_idle()
    own = _variant_of(json.loads(RAW))
    assert confirm_outcomes(env, own) == ["ok"] and _deny_rules(env, "203.0.113.200")  # its variant contained it
    record = _rejected(env, forged)
    genuine_id = json.loads(RAW)["data"]["essentials"]["alertId"]
    # before: correlated_count 1, the genuine alert listed among the forged incident's joined alerts
    assert record["correlated_count"] == 0 and not record["correlated_alerts"], record["correlated_alerts"]
    assert [(v["variant"], v["alert_id"], v["outcome"]) for v in record["variants"]] == [(own, genuine_id, "ok")]


@pytest.fixture
def paging(firestop_home, tmp_path, monkeypatch) -> None:
    """The shipped playbooks, content-abuse paging oid-alice (a needs_responder outcome pages the playbook's page);
    set before ``served`` reads the settings."""
    folder = tmp_path / "playbooks"
    folder.mkdir()
    for source in (REPO_ROOT / "playbooks").glob("*.yaml"):
        text = source.read_text(encoding="utf-8")
        if source.name == "content-abuse.yaml":
            text += "\npage: [oid-alice]\n"
        (folder / source.name).write_text(text, encoding="utf-8")
    monkeypatch.setenv("FIRESTOP_PLAYBOOKS", str(folder))


def test_a_differing_delivery_after_a_rejection_asks_a_responder(paging, served):  # noqa: F811
    env, server, app = served
    _fire_genuine(env)
    first = _post(env, server, app, _with_dimension("CallerIPAddress", GATEWAY_IP))["id"]
    _rejected(env, first)
    after = _post(env, server, app, _with_dimension("CallerIPAddress", "198.51.100.77"))["id"]
    record = env.host.get_status(after).output
    assert record["status"] == "needs_responder"
    # before: "while <first> waits, a responder decides there" and no page: nobody waited, nobody was asked
    assert [(p["kind"], p["paged"]) for p in record["pages"]] == [("needs_responder", ["oid-alice"])], record["pages"]
    assert f"{first} has ended" in record["reason"] and "decide this one" in record["reason"], record["reason"]
    again = _post(env, server, app, _with_dimension("CallerIPAddress", "198.51.100.78"))["id"]
    later = env.host.get_status(again).output
    assert later["pages"] == [] and f"incident {after} asked a responder" in later["reason"], later["reason"]
    assert _deny_rules(env, "198.51.100.77") == [] and _deny_rules(env, "198.51.100.78") == []


def test_a_variant_of_a_waiting_incident_pages_nobody(paging, served):  # noqa: F811
    """variants13's bound stays: while the first incident waits, a forged variant ends there with no page."""
    env, server, app = served
    _fire_genuine(env)
    first = _post(env, server, app, _with_dimension("CallerIPAddress", GATEWAY_IP))["id"]
    second = _post(env, server, app, _with_dimension("CallerIPAddress", "198.51.100.77"))["id"]
    record = env.host.get_status(second).output
    assert record["status"] == "needs_responder" and record["pages"] == [] and first in record["reason"]
    assert env.host.get_status(first).runtime_status in ("Running", "Pending")
    assert [e for e in timeline_of(env, first) if e.get("step") == "deliveries checked on their own"] == []
