"""RT15-02: a metric alert's delivered dimension was confirmed by the total of a window longer than the rule's.

Attacker: the webhook-key holder of verify12 item 1, re-posting the genuine metric alert split by
``ModelDeploymentName`` (``aoai-deployment-requests``: Total of ``AzureOpenAIRequests`` over PT15M GreaterThan 3,
routed to ``ai-denial-of-wallet``: ``throttle-deployment`` halves the named deployment's capacity) naming another
production deployment that never breached. ``confirm_metric_dimensions`` read the metric over the rule's window plus
5 minutes before and 1 after (publication slack) and compared the *sum of the whole read* with the threshold: 2
requests to ``text-embedding-3-large`` 19 minutes before the alert and 2 at it — no 15-minute window above 3 — summed
to 4 and were confirmed. Fixed: for Total/Count the threshold is compared with the largest sum over the rule's own
window length (consecutive PT1M points, by their timestamps) inside the read; Maximum by the largest point.
"""

from __future__ import annotations

from datetime import timedelta

from tests.e2e.test_webhook import served  # noqa: F401 (fixture)
from tests.verify12.test_v12_metric_dimensions import APP, _checks, _genuine, check_on  # noqa: F401 (fixture)

OTHER = "text-embedding-3-large"


def _calls(env, at, n: int) -> None:
    for _ in range(n):
        env.tenant.data_plane_call(account="contoso-openai-prod", ip="203.0.113.9", principal=APP, deployment=OTHER, at=at)


def test_a_deployment_that_never_breached_the_rules_window_is_not_confirmed(served):  # noqa: F811
    env, server, app = served
    now = env.tenant.clock.now()
    _calls(env, now - timedelta(minutes=19), 2)  # inside the read (window + 5 min slack), outside any 15 min with the rest
    _calls(env, now, 2)
    body = _genuine(env)
    body["data"]["alertContext"]["condition"]["allOf"][0]["dimensions"][0]["value"] = OTHER
    checks = _checks(env, server, app, body)
    assert checks and checks[0][0] == "not confirmed", checks
    assert "not above the rule's threshold" in checks[0][1], checks


def test_a_deployment_above_the_threshold_within_the_rules_window_is_confirmed(served):  # noqa: F811
    env, server, app = served
    now = env.tenant.clock.now()
    _calls(env, now - timedelta(minutes=14), 2)  # 4 within 15 minutes: the rule's own window breaches
    _calls(env, now, 2)
    body = _genuine(env)
    body["data"]["alertContext"]["condition"]["allOf"][0]["dimensions"][0]["value"] = OTHER
    checks = _checks(env, server, app, body)
    assert [c[0] for c in checks] == ["ok"], checks
