"""trust16 item 4: Graph's copy of an old Defender for Cloud alert is not acted on now.

A ``Microsoft.Graph.AlertCreated`` event names a Graph security alert by id; ``POST /api/events`` fetches it from
Graph, and Graph's copy of an alert Defender for Cloud raised was not checked at all (its content is Graph's). Any
alert id Graph holds could be named again: a months-old alert nobody triaged (``status`` still ``new``) contained at
once. With the source check on, its creation time is now bounded against the check's as an Azure Monitor alert's
is (24 h, 5 min of skew), and the reason says what to do.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from firestop.lifecycle.incident import CONFIRM_STEP
from tests.intake.test_intake_eventgrid import endpoint, intake_of  # noqa: F401 (fixture)
from tests.source_check_steps import timeline_of

SAMPLE = Path(__file__).parents[1] / "intake" / "samples" / "eventgrid" / "graph-alert-created.cloudevents.json"
ACCOUNT = ("/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-ai-prod/providers/"
           "Microsoft.CognitiveServices/accounts/contoso-openai-prod")


@pytest.fixture(autouse=True)
def check_on(monkeypatch):
    monkeypatch.setenv("FIRESTOP_ALERT_SOURCE_CHECK", "on")


def _deliver(env, call, graph_id: str, created) -> str:
    """Defender for Cloud raised the alert ``graph_id`` at ``created`` (Graph holds it, status new); an AlertCreated
    event names it. → the incident id."""
    from firestop.sandbox.graph.models import graph_state

    stamp = created.strftime("%Y-%m-%dT%H:%M:%SZ")
    alert = {"id": graph_id, "providerAlertId": f"2516935104300000{graph_id[-3:]}_t16", "serviceSource": "microsoftDefenderForCloud",
             "detectionSource": "microsoftDefenderForCloud", "detectorId": "AI.Azure_Jailbreak.ContentFiltering.BlockedAttempt",
             "title": "Jailbreak attempt blocked", "severity": "high", "status": "new", "createdDateTime": stamp,
             "firstActivityDateTime": stamp, "lastActivityDateTime": stamp,
             "evidence": [{"@odata.type": "#microsoft.graph.security.azureResourceEvidence", "resourceId": ACCOUNT}]}
    with env.tenant._exclusive() as state:
        graph_state(state.doc)["alerts"][graph_id.lower()] = alert
        env.tenant._save_locked()
    event = json.loads(SAMPLE.read_text())
    event["id"] = f"ev-{graph_id}"
    event["data"] = {**event["data"], "resourceData": {"id": graph_id}, "resource": f"security/alerts_v2/{graph_id}"}
    answer = call("post_events", "events", [event], content_type="application/cloudevents-batch+json")
    assert answer.status_code == 200, answer.get_body()
    (accepted,) = intake_of(answer)
    env.host.run_until_idle()
    return accepted["incident"]


def _checks(env, incident: str) -> list[tuple[str, str]]:
    return [(e["outcome"], e.get("detail", "")) for e in timeline_of(env, incident) if e.get("step") == CONFIRM_STEP]


def test_an_old_graph_copy_of_a_defender_alert_waits_for_a_responder(endpoint):  # noqa: F811
    env, call = endpoint
    incident = _deliver(env, call, "da-t16-old-001", env.clients.clock.now() - timedelta(days=90))
    checks = _checks(env, incident)
    # before: no check at all (Graph's copy of a Defender alert was taken as confirmed) and the playbook acted
    assert [outcome for outcome, _ in checks] == ["not confirmed"], checks
    assert "more than 24 h before this check" in checks[0][1]
    card = (env.host.get_status(incident).custom_status or {}).get("pending_approval") or {}
    assert card.get("step") == "alert.genuine" and card.get("reason_code") == "too_old", card
    # the card says what to do: where to look, and when to approve or reject
    assert "Defender for Cloud → Security alerts" in card["why"] and "decide it genuine here" in card["why"], card["why"]


def test_a_recent_graph_copy_is_confirmed_and_one_from_the_future_is_not(endpoint):  # noqa: F811
    env, call = endpoint
    now = env.clients.clock.now()
    recent = _deliver(env, call, "da-t16-new-002", now - timedelta(minutes=10))
    assert [o for o, _ in _checks(env, recent)] == ["ok"], _checks(env, recent)
    ahead = _deliver(env, call, "da-t16-ahead-003", now + timedelta(hours=2))
    ((outcome, detail),) = _checks(env, ahead)
    assert outcome == "not confirmed" and "after this check" in detail, detail


def test_confirm_graph_copy_bounds_both_ways():
    from datetime import datetime, timezone

    from firestop.azure.security_source import confirm_graph_copy
    from firestop.source_reasons import Reason

    now = datetime(2026, 12, 5, 3, 0, tzinfo=timezone.utc)
    at = lambda delta: {"fired_at": (now + delta).isoformat()}  # noqa: E731
    assert confirm_graph_copy(at(-timedelta(hours=23, minutes=59)), now)["confirmed"] is True
    assert confirm_graph_copy(at(timedelta(minutes=4)), now)["confirmed"] is True  # within the skew
    for delta in (-timedelta(hours=24, seconds=1), timedelta(minutes=6)):
        answer = confirm_graph_copy(at(delta), now)
        assert answer["confirmed"] is False and answer["code"] is Reason.TOO_OLD, answer
    assert confirm_graph_copy({}, now)["confirmed"] is False
