"""R16-05: trust16 item 1 says the webhook key alone must not tell whether production is mid-incident (incident ids
are predictable), so ``GET /api/alerts/{id}/status`` needs a token. But the 202 to *any* delivery that joined a
running incident named it and carried its token: a holder of the webhook key who posts an alert on the same rule and
resource got ``X-Firestop-Intake: correlated`` — the incident runs — and a token that read its status.

Fixed (intake16): the answer to a delivery is the same whatever intake did with it — 202, the delivery's id and a
status link sealed for that delivery, no outcome header, no incident id; the status route answers a delivery token
with "received" and nothing of any incident. (Failed before: ``correlated``, and the link read the incident.)"""

from __future__ import annotations

from tests.e2e.test_webhook import ACCOUNT, OTHER_ACCOUNT, alert_body, answer, get_status, post, served  # noqa: F401


def _shape(response) -> tuple:
    """What a key holder can compare between two answers: status, header names, body keys and how its values look."""
    body = answer(response)
    return (response.status_code, sorted(dict(response.headers)), sorted(body),
            body["statusUri"].replace(body["deliveryId"], "<d>").split("?token=")[0].rsplit("/", 3)[-3:])


def test_the_webhook_key_alone_does_not_tell_that_an_incident_runs(served):  # noqa: F811
    env, server, app = served
    real = post(app, server, alert_body(target=ACCOUNT))  # production's own alert: an incident runs
    probe = post(app, server, alert_body(target=ACCOUNT))  # the key holder's guess at the same rule and resource
    quiet = post(app, server, alert_body(target=OTHER_ACCOUNT))  # the same guess where nothing runs
    incident = real.intake["incident_id"]
    assert probe.intake["outcome"] == "correlated" and quiet.intake["outcome"] == "started"  # intake did differ
    assert _shape(probe) == _shape(quiet) == _shape(real)
    assert "X-Firestop-Intake" not in probe.headers and incident not in probe.get_body().decode()
    status, body = get_status(app, server, answer(probe)["statusUri"])
    quiet_status, quiet_body = get_status(app, server, answer(quiet)["statusUri"])
    assert (status, body["status"], sorted(body)) == (quiet_status, quiet_body["status"], sorted(quiet_body)) == (
        200, "received", ["deliveryId", "message", "status"])
    assert incident not in str(body) and body["message"] == quiet_body["message"]
