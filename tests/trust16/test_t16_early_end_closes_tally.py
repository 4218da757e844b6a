"""trust16 item 2: an incident that ends early closes its tally, so a later variant of it asks somebody.

Before, only the full path (contain, resolve) read and closed the incident's tally entity (``_drain_events``); an
incident that ended early — ``no_playbook``, a refused input, a variant not confirmed — left it open. A differing
delivery after such an incident then reported to an open tally, heard "a responder decides there" (nothing waited
there) and nobody was asked.
"""

from __future__ import annotations

from functools import partial

import pytest

from firestop.settings import REPO_ROOT
from tests.e2e.test_webhook import served  # noqa: F401 (fixture)
from tests.source_check_steps import post_delivery
from tests.verify12.test_v12_forged_dimensions import GATEWAY_IP, _fire_genuine, _with_dimension


@pytest.fixture(autouse=True)
def check_on(monkeypatch):
    monkeypatch.setenv("FIRESTOP_ALERT_SOURCE_CHECK", "on")


@pytest.fixture
def no_content_playbook(firestop_home, tmp_path, monkeypatch) -> None:
    """The shipped playbooks but content-abuse (which these alerts match): they end ``no_playbook``."""
    folder = tmp_path / "playbooks"
    folder.mkdir()
    for source in (REPO_ROOT / "playbooks").glob("*.yaml"):
        if source.name != "content-abuse.yaml":
            (folder / source.name).write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    monkeypatch.setenv("FIRESTOP_PLAYBOOKS", str(folder))


_post = partial(post_delivery, statuses=(200, 202))


def test_a_variant_after_a_no_playbook_incident_asks_a_responder(no_content_playbook, served):  # noqa: F811
    env, server, app = served
    _fire_genuine(env)
    first = _post(env, server, app, _with_dimension("CallerIPAddress", GATEWAY_IP))["id"]
    ended = env.host.get_status(first)
    assert ended.runtime_status == "Completed" and ended.output["status"] == "no_playbook", ended.output
    after = _post(env, server, app, _with_dimension("CallerIPAddress", "198.51.100.77"))["id"]
    assert after != first
    record = env.host.get_status(after).output
    assert record["status"] == "needs_responder"
    # before: "while <first> waits, a responder decides there" — nothing waited there, nobody was asked
    assert f"{first} has ended" in record["reason"] and "decide this one" in record["reason"], record["reason"]
    again = _post(env, server, app, _with_dimension("CallerIPAddress", "198.51.100.78"))["id"]
    later = env.host.get_status(again).output
    assert f"incident {after} asked a responder" in later["reason"], later["reason"]


def test_a_refused_input_closes_the_tally_of_its_instance(served):  # noqa: F811
    """An orchestration started with an input not sealed by this app (the system-key holder's forgery) ends
    ``refused``; its tally is closed too, so a variant that reports there later is told nothing waits."""
    from firestop.lifecycle import ORCHESTRATOR_NAME
    from firestop.lifecycle.tally import TALLY_ENTITY

    env, _, _ = served
    forged = "inc-forged-0001"
    env.host.start_new(ORCHESTRATOR_NAME, forged, {"incident_id": forged, "alert": {}, "seal": "v1.00000000.xx"})
    env.host.run_until_idle()
    assert env.host.get_status(forged).output["status"] == "refused"
    found, state = env.host.read_entity_state((TALLY_ENTITY, forged))
    assert found and state["closed"] is True, state  # before: no tally at all (nothing read it)
