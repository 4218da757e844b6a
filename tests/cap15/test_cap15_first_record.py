"""cap15: what the first incident and the variants say once the cap of unchecked variants waiting is reached, and an
input from before cap15 (no ``unchecked_cap``) running as it did."""

from __future__ import annotations

import json
from datetime import timedelta
from functools import partial

import pytest

from firestop.cli.incidents import decide
from firestop.lifecycle.incident import CHECK_WAITS, GENUINE_STEP, UNCHECKED_VARIANTS_WAITING as CAP
from tests.e2e.test_webhook import served  # noqa: F401 (fixture)
from tests.source_check_steps import confirm_outcomes, post_delivery
from tests.variants14.test_v14_variants_reported import _rejected, paging  # noqa: F401 (fixture)
from tests.verify12.test_v12_forged_dimensions import GATEWAY_IP, RAW, _fire_genuine, _with_dimension

_post = partial(post_delivery, statuses=(200, 202))


@pytest.fixture(autouse=True)
def check_on(monkeypatch):
    monkeypatch.setenv("FIRESTOP_ALERT_SOURCE_CHECK", "on")


def _through_waits(env) -> None:
    for wait in CHECK_WAITS:
        env.host.clock.set(env.host.clock.now() + timedelta(seconds=wait))
        env.host.run_until_idle()


def _waiting(env, incident: str) -> bool:
    status = env.host.get_status(incident)
    return (status.runtime_status in ("Running", "Pending")
            and ((status.custom_status or {}).get("pending_approval") or {}).get("step") == GENUINE_STEP)


def test_the_first_incidents_record_says_how_many_more_could_not_be_checked(served):  # noqa: F811
    env, server, app = served
    _fire_genuine(env)
    first = _post(env, server, app, _with_dimension("CallerIPAddress", GATEWAY_IP))["id"]
    assert confirm_outcomes(env, first) == ["not confirmed"]
    env.tenant.inject_fault("alerts.get", 429, retry_after=1, times=10_000)
    forged = [_post(env, server, app, _with_dimension("CallerIPAddress", f"198.51.100.{60 + n}"))["id"]
              for n in range(CAP)]
    genuine = _post(env, server, app, json.loads(RAW))["id"]  # the genuine delivery, past the cap
    _through_waits(env)
    assert all(_waiting(env, v) for v in forged) and not _waiting(env, genuine)
    for n, variant in enumerate(forged, 1):  # each waiting card says that more may exist
        card = env.host.get_status(variant).custom_status["pending_approval"]["notes"]
        assert any(f"delivery #{n} " in t and f"at most {CAP} wait on their own decision" in t for t in card), card
    ended = env.host.get_status(genuine).output  # not dropped: its own record, what to do
    assert ended["status"] == "needs_responder" and "alert handle FILE --rerun" in ended["reason"], ended["reason"]
    assert confirm_outcomes(env, genuine) == ["could not check"]
    decide(env, first, GENUINE_STEP, "reject", "oid-alice", comment="not at its source: forged")
    env.host.run_until_idle(first)
    record = env.host.get_status(first).output
    assert [(v["variant"], v["outcome"]) for v in record["variants"] if v["variant"] == genuine] == [
        (genuine, "could not check, not waiting")]
    (line,) = [e for e in record["timeline"] if e["step"] == "deliveries checked on their own"]
    assert "1 more deliveries could not be checked: look them up at the source" in line["detail"], line["detail"]
    from firestop.records.render import render_markdown

    assert "1 more deliveries could not be checked: look them up at the source; `alert handle FILE --rerun`" in (
        render_markdown(record))


def test_an_input_sealed_before_cap15_waits_as_it_did(served):  # noqa: F811
    """A variant's input without ``unchecked_cap`` (sealed before cap15; in-flight ones replay) asks no place: past
    the cap it still tries CHECK_ATTEMPTS times and waits on its own decision."""
    from firestop.alerts import parse_alert
    from firestop.lifecycle import ORCHESTRATOR_NAME
    from firestop.lifecycle.start import incident_input
    from firestop.trust.seal import Purpose, seal

    env, server, app = served
    _fire_genuine(env)
    first = _post(env, server, app, _with_dimension("CallerIPAddress", GATEWAY_IP))["id"]
    env.tenant.inject_fault("alerts.get", 429, retry_after=1, times=10_000)
    for n in range(CAP):
        _post(env, server, app, _with_dimension("CallerIPAddress", f"198.51.100.{60 + n}"))
    inp = incident_input(parse_alert(RAW), received_at=env.clients.clock.now(), sandbox=True,
                         incident_id="inc-older", source_check=True, variant_of=first)
    assert inp.pop("unchecked_cap") == CAP
    env.host.start_new(ORCHESTRATOR_NAME, "inc-older", seal(Purpose.INCIDENT, inp, binding="inc-older"))
    env.host.run_until_idle("inc-older")
    _through_waits(env)
    assert _waiting(env, "inc-older")
    assert confirm_outcomes(env, "inc-older") == ["could not check"]


def test_past_the_cap_after_the_first_incident_ended_one_responder_is_asked(paging, served):  # noqa: F811
    """The first incident rejected (its tally closed): nothing waits there, so the first capped variant asks a
    responder (the playbook's page, as variants14 item 2 does for a not-confirmed one); later ones name it."""
    env, server, app = served
    _fire_genuine(env)
    first = _post(env, server, app, _with_dimension("CallerIPAddress", GATEWAY_IP))["id"]
    _rejected(env, first)
    env.tenant.inject_fault("alerts.get", 429, retry_after=1, times=10_000)
    variants = [_post(env, server, app, _with_dimension("CallerIPAddress", f"198.51.100.{60 + n}"))["id"]
                for n in range(CAP + 2)]
    _through_waits(env)
    assert [_waiting(env, v) for v in variants] == [True] * CAP + [False, False]
    asker, later = (env.host.get_status(v).output for v in variants[CAP:])
    assert [(p["kind"], p["paged"]) for p in asker["pages"]] == [("needs_responder", ["oid-alice"])], asker["pages"]
    assert f"{first} has ended" in asker["reason"] and "decide this one" in asker["reason"], asker["reason"]
    assert later["pages"] == [] and f"incident {variants[CAP]} asked a responder" in later["reason"], later["reason"]
