"""A16-03 (attacker A, the webhook key only): the status token of someone else's incident, for the asking.

trust16 bound ``GET /api/alerts/{id}/status`` to a token "of the 202 that named this incident", but every 202 naming
an incident carried that incident's token — also the 202 of a delivery that did not start it. The key holder posted
a made-up *Resolved* alert (fresh alert id, the production account as target): nothing started, and with an incident
open on the account the answer was ``resolved`` naming it, with its status token — the incident's runtimeStatus,
containment time and custom status followed. (A made-up *Fired* alert did the same through ``correlated``.)

Fixed (intake16): every delivery is answered 202 with its own delivery id and a link sealed for that delivery; the
link answers "received" and nothing of an incident; the answer is the same with or without an incident open.
"""

from __future__ import annotations

import json

from tests.e2e.test_webhook import ACCOUNT, OTHER_ACCOUNT, alert_body, answer, get_status, post, served  # noqa: F401


def test_a16_03_a_made_up_alert_does_not_hand_out_the_open_incidents_status_token(served):  # noqa: F811
    env, server, app = served
    genuine = post(app, server, alert_body(target=ACCOUNT))  # Azure Monitor's delivery: the incident opens
    incident = genuine.intake["incident_id"]
    resolved = dict(condition="Resolved", resolved="2026-11-29T03:50:00Z")
    for probe, control in ((alert_body(target=ACCOUNT, **resolved), alert_body(target=OTHER_ACCOUNT, **resolved)),
                           (alert_body(target=ACCOUNT.upper()), None)):
        response = post(app, server, probe)
        assert response.intake["incident_id"] == incident  # intake reached the open incident
        body = answer(response)
        assert (response.status_code, set(body), dict(response.headers)) == (202, {"deliveryId", "statusUri"},
                                                                             {"Location": body["statusUri"]})
        assert incident not in response.get_body().decode()
        status, shown = get_status(app, server, body["statusUri"])
        assert (status, shown["status"]) == (200, "received") and incident not in str(shown)
        assert "runtimeStatus" not in shown and "containedAt" not in shown and "phase" not in shown
        # the incident's id on the route with this token: 400 (not a delivery id; a delivery's token reads no incident)
        token = body["statusUri"].split("?token=", 1)[1]
        status, refused = get_status(app, server, f"{server.base_url}/api/alerts/{incident}/status?token={token}")
        assert status == 400 and refused["field"] == "delivery_id" and incident not in json.dumps(refused), refused
        if control is not None:  # nothing open on the other account: the same answer
            other = post(app, server, control)
            assert other.intake["outcome"] == "no_incident"
            assert (other.status_code, set(answer(other)), sorted(dict(other.headers))) == (
                response.status_code, set(body), sorted(dict(response.headers)))
