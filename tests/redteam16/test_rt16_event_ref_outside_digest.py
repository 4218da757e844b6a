"""RT16-01: a delivery equal to the genuine one but for the Activity Log event it names held the genuine alert.

Attacker: anyone holding the alerts webhook key who knows a real activity log alert (id and content: Alerts
Management lists it to any Monitoring Reader, the caller knows what they did) and posts it first. verify13 reads the
event a delivery names (``correlationId``, ``eventDataId``, ``eventTimestamp``: the input's ``source_ref``) back from
the Activity Log, but variants13 tells two deliveries of one alert id apart by ``delivery_digest`` of the input's
alert JSON only — the event reference lives in the alert's context, outside it. So the forger's copy naming another
event (or none) opened the incident, was not confirmed (no such event), and the relay's genuine delivery had the
same digest: a *duplicate* of the forged incident, never checked, its keys not rotated automatically; it waited for
a responder. The same held for a Defender alert's ``source_ref`` (its ``alertResourceId``; the alert id is its
``systemAlertId``). A Sentinel incident's ``incidentId`` is part of its alert id: not affected.

Fixed: the digest covers the input's ``source_ref`` too (``firestop.intake.accept.delivery_digest(alert,
source_ref)``; an incident's input gives its own), so a delivery naming another event is other content and the
genuine one gets its own variant, checked and contained.
"""

from __future__ import annotations

import json

import pytest

from tests.e2e.test_webhook import served  # noqa: F401 (fixture)
from tests.source_check_steps import confirm_outcomes, fire_genuine, post_delivery
from tests.verify13.test_v13_activity_log_caller import RAW


@pytest.fixture(autouse=True)
def check_on(monkeypatch):
    monkeypatch.setenv("FIRESTOP_ALERT_SOURCE_CHECK", "on")


def _naming_event(event_data_id: str | None) -> dict:
    body = json.loads(RAW)
    context = body["data"]["alertContext"]
    if event_data_id is None:
        context.pop("eventDataId", None)
    else:
        context["eventDataId"] = event_data_id
    return body


@pytest.mark.parametrize("other", ["0a0b0c0d-1e2f-4a3b-8c4d-5e6f7a8b9c0d", None], ids=["another-event", "no-event"])
def test_a_copy_naming_another_event_does_not_hold_the_genuine_alert(served, other):  # noqa: F811
    env, server, app = served
    fire_genuine(env, RAW)
    forged = post_delivery(env, server, app, _naming_event(other))["id"]
    assert confirm_outcomes(env, forged) == ["not confirmed"]
    genuine = post_delivery(env, server, app, json.loads(RAW), statuses=(200, 202))
    assert genuine["id"] != forged and genuine.get("correlatedTo") != forged, genuine
    assert confirm_outcomes(env, genuine["id"]) == ["ok"]
    again = post_delivery(env, server, app, json.loads(RAW), statuses=(200, 202))  # Azure's retry: the same incident
    assert again["id"] == genuine["id"], again


def test_the_one_decision_counts_the_reference_as_content():
    """``takes_variant`` (intake's and ``alert handle``'s one decision) tells the copy naming another event apart."""
    from firestop.alerts import parse_alert
    from firestop.alerts.alert import alert_input_json
    from firestop.alerts.source_refs import delivered_ref
    from firestop.intake.accept import delivery_digest, takes_variant

    genuine = parse_alert(RAW)
    copy = parse_alert(json.dumps(_naming_event("0a0b0c0d-1e2f-4a3b-8c4d-5e6f7a8b9c0d")))
    opened_by = alert_input_json(copy)
    assert alert_input_json(genuine) == opened_by  # the alert JSON alone cannot tell them apart
    assert takes_variant(opened_by, "not confirmed", genuine, delivery_digest(genuine), delivered_ref(copy))
    assert not takes_variant(opened_by, "not confirmed", copy, delivery_digest(copy), delivered_ref(copy))


def test_a_defender_copy_naming_another_alert_resource_does_not_hold_the_genuine_alert(served):  # noqa: F811
    """The same for a Defender for Cloud alert: its id is the delivered ``systemAlertId``, the check reads the
    ``id`` (``alertResourceId``) — a copy whose ``id`` names another location held the genuine one as a duplicate."""
    from tests.verify11.test_defender_source_check import DOW

    env, server, app = served
    copy = json.loads(json.dumps(DOW))
    copy["id"] = copy["id"].replace("/locations/westeurope/", "/locations/northeurope/")
    forged = post_delivery(env, server, app, copy)["id"]
    assert confirm_outcomes(env, forged) == ["not confirmed"]
    genuine = post_delivery(env, server, app, DOW, statuses=(200, 202))
    assert genuine["id"] != forged and genuine.get("correlatedTo") != forged, genuine
    assert confirm_outcomes(env, genuine["id"]) == ["ok"]
