"""Metric alert context (``monitoringService: Platform``): static, dynamic
threshold and web test availability criteria.

Source: ``alerts-common-schema.md`` / ``alerts-payload-samples.md``. Quirks:
``threshold`` is a string (``"25"``), ``metricValue`` a number; ``dimensions``
may be empty; ``windowStartTime`` / ``windowEndTime`` sometimes absent;
``properties`` null or the custom properties; ``webTestName`` null for
non-web-test rules.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from firestop.alerts.contexts.common import Dimensions, FailingPeriods, _Ctx
from firestop.alerts.contexts.lenient import (
    LenientFloat,
    LenientText,
    LenientUtc,
    StrDict,
    _Model,
    _nested,
    _nested_tuple,
)

class MetricCriterion(_Model):
    metric_name: LenientText = Field(default=None, alias="metricName")
    metric_namespace: LenientText = Field(default=None, alias="metricNamespace")
    operator: LenientText = None
    threshold: LenientFloat = None
    """Sent as a string (``"25"``)."""
    time_aggregation: LenientText = Field(default=None, alias="timeAggregation")
    dimensions: Dimensions = ()
    metric_value: LenientFloat = Field(default=None, alias="metricValue")
    web_test_name: LenientText = Field(default=None, alias="webTestName")
    alert_sensitivity: LenientText = Field(default=None, alias="alertSensitivity")
    failing_periods: _nested(FailingPeriods) = Field(default=None, alias="failingPeriods")
    ignore_data_before: LenientUtc = Field(default=None, alias="ignoreDataBefore")


class MetricCondition(_Model):
    window_size: LenientText = Field(default=None, alias="windowSize")
    """ISO 8601 duration as sent (``PT5M``)."""
    all_of: _nested_tuple(MetricCriterion) = Field(default=(), alias="allOf")
    window_start_time: LenientUtc = Field(default=None, alias="windowStartTime")
    window_end_time: LenientUtc = Field(default=None, alias="windowEndTime")


class MetricContext(_Ctx):
    """Metric alert (static, dynamic threshold, web test availability)."""

    kind: Literal["metric"] = "metric"
    condition_type: LenientText = Field(default=None, alias="conditionType")
    condition: _nested(MetricCondition) = None
    properties: StrDict = Field(default_factory=dict)

