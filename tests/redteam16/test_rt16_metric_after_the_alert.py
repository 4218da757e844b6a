"""RT16-02: a metric alert's delivered dimension was confirmed by requests made after the alert had fired.

Attacker: the webhook-key holder of verify12 / RT15-02, re-posting the genuine metric alert split by
``ModelDeploymentName`` (``aoai-deployment-requests``: Total of ``AzureOpenAIRequests`` over PT15M GreaterThan 3,
routed to ``ai-denial-of-wallet``: ``throttle-deployment`` halves the deployment it names) naming another production
deployment — and, being a caller of the account too, sending that deployment a few requests right after the alert
fired. verify13 item 3 ended a log alert's re-run at the source's ``startDateTime`` (no row after it was read by the
rule), but the metric read still ran to ``startDateTime`` + 60 s and :func:`window_peak` took any span inside it: 3
requests in the window and 2 in the minute after the alert (never above 3 in any window the rule evaluated) confirmed
``text-embedding-3-large``, which was then throttled as for a confirmed alert. Fixed: the metric read ends at
``startDateTime`` as the log re-run does, and a point stamped after it is not counted
(``firestop.azure.monitor_source.confirm_metric_dimensions``).
"""

from __future__ import annotations

from datetime import timedelta

from tests.e2e.test_webhook import served  # noqa: F401 (fixture)
from tests.verify12.test_v12_metric_dimensions import APP, _checks, _genuine, check_on  # noqa: F401 (fixture)

OTHER = "text-embedding-3-large"


def _calls(env, at, n: int) -> None:
    for _ in range(n):
        env.tenant.data_plane_call(account="contoso-openai-prod", ip="203.0.113.9", principal=APP, deployment=OTHER, at=at)


def _naming_other(env, after: int) -> list:
    now = env.tenant.clock.now()
    _calls(env, now - timedelta(minutes=5), 3)  # in the rule's window: 3, not above 3
    _calls(env, now + timedelta(seconds=70), after)  # the minute after the alert fired: the rule never read it
    body = _genuine(env)
    body["data"]["alertContext"]["condition"]["allOf"][0]["dimensions"][0]["value"] = OTHER
    return body


def test_requests_after_the_alert_fired_do_not_confirm_a_deployment(served):  # noqa: F811
    env, server, app = served
    checks = _checks(env, server, app, _naming_other(env, 2))
    assert checks and checks[0][0] == "not confirmed", checks
    assert "not above the rule's threshold" in checks[0][1], checks


def test_a_breach_inside_the_rules_window_is_still_confirmed(served):  # noqa: F811
    env, server, app = served
    now = env.tenant.clock.now()
    _calls(env, now - timedelta(minutes=1), 1)  # 4 within the window before the alert
    checks = _checks(env, server, app, _naming_other(env, 0))
    assert [c[0] for c in checks] == ["ok"], checks
