"""verify13 item 2 (low-medium): the metric check confirmed that the delivered dimension had data in the window, not
that the rule's own evaluation breached for it, unless the rule was a static Total/Count/Maximum above a threshold.

Attacker: the webhook-key holder of verify12, re-posting a genuine metric alert of a rule measured by its
``Average`` (here: requests per minute per deployment, Average > 3 over PT15M; throttle-deployment acts on the
deployment it names) with another deployment that had a request in the window (1 a minute: never above 3). On
e322e3e it was confirmed ("data there"); now the rule's aggregation and operator are recomputed over spans of its
window (:func:`firestop.azure.monitor_source.metric_breached`). A dynamic threshold cannot be recomputed (its learned
bounds are not published): such a criterion confirms no delivered dimension (a responder decides once).
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from firestop.azure import monitor_source as M
from tests.e2e.test_webhook import served  # noqa: F401 (fixture)
from tests.source_check_steps import confirm_checks, post_delivery
from tests.verify12.test_v12_metric_dimensions import APP, metric_payload

@pytest.fixture(autouse=True)
def check_on(monkeypatch):
    monkeypatch.setenv("FIRESTOP_ALERT_SOURCE_CHECK", "on")


def _payload(env, deployment: str, alert_guid: str) -> dict:
    return metric_payload(env, deployment, alert_guid, rule="aoai-deployment-average", aggregation="Average",
                          description="requests a minute per deployment")


def _genuine(env) -> dict:
    from firestop.alerts import parse_alert
    from firestop.sandbox.alertsmanagement.models import payload_of

    for _ in range(6):  # the burst the rule saw, on gpt-4o
        env.tenant.data_plane_call(account="contoso-openai-prod", ip="203.0.113.9", principal=APP, deployment="gpt-4o")
    # one ordinary request on another deployment in the same minutes: data there, never above 3 a minute
    env.tenant.data_plane_call(account="contoso-openai-prod", ip="203.0.113.9", principal=APP,
                               deployment="text-embedding-3-large")
    body = _payload(env, "gpt-4o", str(uuid.uuid4()))
    assert env.tenant.fire_alert(payload_of(parse_alert(json.dumps(body))))  # Azure Monitor fired it (and holds its rule)
    return body


def test_the_real_average_alert_naming_a_deployment_that_never_breached_is_not_confirmed(served):  # noqa: F811
    env, server, app = served
    body = _genuine(env)
    body["data"]["alertContext"]["condition"]["allOf"][0]["dimensions"][0]["value"] = "text-embedding-3-large"
    checks = confirm_checks(env, post_delivery(env, server, app, body)["id"])
    assert checks and checks[0][0] == "not confirmed", checks
    assert "(Average GreaterThan 3" in checks[0][1], checks


def test_the_genuine_average_alert_is_confirmed(served):  # noqa: F811
    env, server, app = served
    checks = confirm_checks(env, post_delivery(env, server, app, _genuine(env))["id"])
    assert [c[0] for c in checks] == ["ok"], checks


T0 = datetime(2026, 11, 29, 1, 0, tzinfo=timezone.utc)


def _series(values: list[float]) -> list[list[tuple[datetime, float]]]:
    return [[(T0 + timedelta(minutes=i), v) for i, v in enumerate(values)]]


def _criterion(**changes) -> dict:
    return {"criterionType": "StaticThresholdCriterion", "metricName": "AzureOpenAIRequests", "operator": "LessThan",
            "threshold": 2, "timeAggregation": "Total", **changes}


def test_less_than_is_held_to_whole_spans_of_the_window():
    busy = _series([5.0] * 20)  # 5 a minute for 20 minutes: a PT5M total never below 2
    end = T0 + timedelta(minutes=20)
    # (a partial span at the read's end — its last minute alone, 5 — would have been below... nothing: whole spans only)
    assert M.metric_breached(_criterion(), busy, "Total", 300, T0, end) is not None
    quiet = _series([5.0] * 10 + [0.0] * 5 + [5.0] * 5)
    assert M.metric_breached(_criterion(), quiet, "Total", 300, T0, end) is None  # minutes 10-14: 0 < 2


@pytest.mark.parametrize("aggregation, operator, threshold, values, breached", [
    ("Average", "GreaterThan", 3, [1.0, 1.0, 9.0, 1.0, 1.0, 1.0], False),   # mean over PT5M never above 3
    ("Average", "GreaterThan", 3, [1.0, 9.0, 9.0, 9.0, 9.0, 1.0], True),
    ("Minimum", "GreaterThan", 2, [5.0, 5.0, 1.0, 5.0, 5.0, 5.0], True),    # minutes 3-7 (whole span) all above 2
    ("Minimum", "LessThan", 2, [5.0, 5.0, 5.0, 5.0, 5.0, 5.0], False),
    ("Maximum", "LessThanOrEqual", 4, [5.0, 5.0, 5.0, 5.0, 5.0, 5.0], False),
])
def test_the_rules_aggregation_and_operator_are_recomputed(aggregation, operator, threshold, values, breached):
    series = _series(values + [values[-1]] * 4)
    found = M.metric_breached(_criterion(operator=operator, threshold=threshold, timeAggregation=aggregation), series,
                              aggregation, 300, T0, T0 + timedelta(minutes=len(values) + 4))
    assert (found is None) is breached, found


def test_a_dynamic_threshold_confirms_no_dimension():
    found = M.metric_breached({"criterionType": "DynamicThresholdCriterion", "metricName": "ProcessedPromptTokens",
                               "operator": "GreaterOrLessThan", "alertSensitivity": "Medium"},
                              _series([1e9] * 20), "Total", 900, T0, T0 + timedelta(minutes=20))
    assert found and "dynamic threshold" in found
