"""A16-03 (attacker A, the webhook key only): the status token of someone else's incident, for the asking.

trust16 bound ``GET /api/alerts/{id}/status`` to a token "of the 202 that named this incident" so that the webhook key
alone does not tell whether production is mid-incident, nor its state. But every 202 naming an incident carries that
incident's token — also the 202 of a delivery that did not start it. The key holder posts a made-up *Resolved* alert
(fresh alert id, the production account as target): nothing starts, and if an incident is open on the account the
answer is ``resolved`` naming it, with its status token — the incident's runtimeStatus, containment time and custom
status follow. (A made-up *Fired* alert does the same through ``correlated``, at the price of a line on the card.)
"""

from __future__ import annotations

import pytest

from tests.e2e.test_webhook import ACCOUNT, alert_body, answer, get_status, post, served  # noqa: F401


@pytest.mark.xfail(strict=True, reason="A16-03 not fixed here: the token goes with every 202 naming an incident "
                   "(tests/e2e/test_webhook.py asserts a correlated alert gets the first one's statusUri); the fix — a "
                   "token only in a 202 whose delivery started the incident (or a repeat of it), other outcomes a "
                   "statusUri without one — changes that contract: the integrator's call")
def test_a16_03_a_made_up_alert_does_not_hand_out_the_open_incidents_status_token(served):  # noqa: F811
    env, server, app = served
    genuine = answer(post(app, server, alert_body(target=ACCOUNT)))  # Azure Monitor's delivery: the incident opens
    for probe in (alert_body(target=ACCOUNT, condition="Resolved", resolved="2026-11-29T03:50:00Z"),
                  alert_body(target=ACCOUNT.upper())):
        response = post(app, server, probe)
        body = answer(response)
        link = body.get("statusUri") or f"{server.base_url}/api/alerts/{genuine['id']}/status"
        if body.get("id") == genuine["id"]:
            status, shown = get_status(app, server, link)
            assert status == 403, (response.headers.get("X-Firestop-Intake"), status, shown)
