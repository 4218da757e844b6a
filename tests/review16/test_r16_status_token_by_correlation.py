"""R16-05: trust16 item 1 says the webhook key alone must not tell whether production is mid-incident (incident ids
are predictable), so ``GET /api/alerts/{id}/status`` needs the token of the 202 that named the incident. But the 202
to *any* delivery that joins a running incident names it and carries its token: a holder of the webhook key who
posts an alert on the same rule and resource (what makes the incident id predictable) gets ``X-Firestop-Intake:
correlated`` — the incident runs — and a token that reads its status (phase, received and contained times). Holding
the key still tells, at the cost of one delivery that joins the incident (checked at its source like any join).

Not fixed: a real second alert's sender follows the incident it joined by that link; a token only for the instance a
delivery started would leave it none, and the ``correlated`` outcome (header and body) says it anyway. What the
route docstring claims is narrowed instead."""

from __future__ import annotations

import pytest

from tests.e2e.test_webhook import ACCOUNT, alert_body, answer, get_status, post, served  # noqa: F401 (fixture)


@pytest.mark.xfail(strict=True, reason="R16-05 (low, not fixed): a delivery joining a running incident gets its "
                   "status token; the key holder learns it runs (see the module docstring)")
def test_the_webhook_key_alone_does_not_tell_that_an_incident_runs(served):  # noqa: F811
    env, server, app = served
    real = answer(post(app, server, alert_body(target=ACCOUNT)))  # production's own alert: an incident runs
    probe = post(app, server, alert_body(target=ACCOUNT))  # the key holder's guess at the same rule and resource
    link = answer(probe).get("statusUri", "")
    joined = probe.headers.get("X-Firestop-Intake") in ("correlated", "duplicate")
    status, body = get_status(app, server, link) if link else (403, {})
    assert not joined and not (status == 202 and body.get("id") == real["id"]), (probe.headers.get("X-Firestop-Intake"), body)
