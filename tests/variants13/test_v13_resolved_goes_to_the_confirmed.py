"""variants13 item 3 (low-medium): a Resolved delivery went to the first (forged) incident, not the confirmed one.

After a forged delivery opened the resource's incident (not confirmed, waiting for a responder) and the genuine
delivery got a variant of its own (confirmed, contained), Azure Monitor's Resolved notification of the genuine alert
was raised on the forged incident — the one open on the slot — and its record said the forged alert resolved, while
the confirmed incident never heard of it. Fixed (``firestop.intake.accept._resolved``): with the source check on, a
Resolved delivery goes to the incident that holds its alert's confirmed Fired delivery (the once-marker
``source-confirmed/<sha256 of alert id|Fired>`` names it) — ``resolved`` while it is open, ``closed`` once it ended —
and to the slot's open incident as before only when no incident holds it.
"""

from __future__ import annotations

import json
from functools import partial

import pytest

from tests.e2e.test_webhook import served  # noqa: F401 (fixture)
from tests.source_check_steps import confirm_outcomes, post_delivery, timeline_of
from tests.verify12.test_v12_forged_dimensions import GATEWAY_IP, RAW, _fire_genuine, _with_dimension


@pytest.fixture(autouse=True)
def check_on(monkeypatch):
    monkeypatch.setenv("FIRESTOP_ALERT_SOURCE_CHECK", "on")


_post = partial(post_delivery, statuses=(200, 202))


def _resolved(body: dict) -> dict:
    essentials = body["data"]["essentials"]
    essentials["monitorCondition"] = "Resolved"
    essentials["resolvedDateTime"] = essentials.get("firedDateTime")
    return body


def test_the_resolved_delivery_reaches_the_confirmed_incident_not_the_forged_one(served):  # noqa: F811
    env, server, app = served
    _fire_genuine(env)
    forged = _post(env, server, app, _with_dimension("CallerIPAddress", GATEWAY_IP))["id"]
    genuine = _post(env, server, app, json.loads(RAW))["id"]
    assert genuine != forged and confirm_outcomes(env, genuine) == ["ok"]
    answer = _post(env, server, app, _resolved(json.loads(RAW)))
    assert answer["id"] == genuine, answer  # the confirmed incident (ended: closed), not the forged one
    assert not [e for e in timeline_of(env, forged) if e.get("step") == "alert resolved"]


def test_without_a_confirmed_incident_the_resolved_delivery_reaches_the_open_one(served):  # noqa: F811
    env, server, app = served
    _fire_genuine(env)
    forged = _post(env, server, app, _with_dimension("CallerIPAddress", GATEWAY_IP))["id"]
    answer = _post(env, server, app, _resolved(json.loads(RAW)))
    assert answer["id"] == forged, answer  # as before: nobody confirmed the alert
