"""Typed views of ``data.alertContext``, chosen by ``essentials.monitoringService``.

A discriminated union (field ``kind``) of frozen pydantic models; every variant
keeps the context exactly as sent in ``raw``. :func:`parse_context` never
raises: an unknown ``monitoringService``, or a context that does not fit its
model, gives :class:`UnknownContext` (with ``reason``).

``monitoringService`` → ``kind`` (matching ignores case, spaces, ``-`` and ``_``):

=====================================================  ==================
``Platform``                                           ``metric``
``Log Analytics``, ``Application Insights``            ``log_v1`` (or ``log_v2`` if the
                                                       context has ``conditionType:
                                                       LogQueryCriteria``)
``Log Alerts V2``                                      ``log_v2``
``Simple Log Alert``                                   ``simple_log``
``Activity Log - Administrative|Policy|Autoscale|…``   ``activity_log``
``ServiceHealth``                                      ``service_health``
``Resource Health`` / ``ResourceHealth``               ``resource_health``
``SmartDetector``                                      ``smart_detector``
``CostAlerts``                                         ``budget``
``Prometheus``                                         ``prometheus``
anything else                                          ``unknown``
=====================================================  ==================

Shapes and quirks (MicrosoftDocs/azure-monitor-docs ``alerts-common-schema.md``,
``alerts-payload-samples.md``; summary in ``shared/corpus/alerts/NOTES.md``):

* metric ``threshold`` is a string (``"25"``), ``metricValue`` a number →
  both ``float``; ``dimensions`` may be empty; window times may be absent;
* log V1: ``SearchIntervalEndtimeUtc`` (lower-case ``t``), locale timestamps
  (``3/22/2019 1:36:31 PM``), ``IncludedSearchResults: "True"`` (string) and
  ``IncludeSearchResults: true`` (bool), ``Threshold`` int or float, results
  omitted beyond 256 KB (use ``LinkToSearchResultsAPI``);
* log V2: ``targetResourceTypes`` is a Python-ish string
  ``"['Microsoft.Compute/virtualMachines']"``; ``metricMeasureColumn`` may be null;
* Simple Log Alert: criteria fields null, ``event`` = rows of ``{name, value}``;
* activity log: ``claims`` and ``properties.policies`` are JSON **strings**;
  Service Health ``impactedServices`` is a JSON string (real) or an array (test
  action); ``channels`` / ``eventSource`` / ``level`` integers or strings (kept
  as sent); extra key ``"Activity Log Event Description"``.

All timestamps are aware UTC (unparseable → None); numbers that do not parse →
None. Nothing here rejects an alert.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Union

from pydantic import Field, TypeAdapter, ValidationError

from firestop.alerts.contexts.activity import (
    ActivityLogContext,
    Authorization,
    ImpactedService,
    ResourceHealthContext,
    ResourceHealthProperties,
    ServiceHealthContext,
    ServiceHealthProperties,
)
from firestop.alerts.contexts.budget import BudgetContext, BudgetData, money
from firestop.alerts.contexts.common import Dimension, FailingPeriods, UnknownContext
from firestop.alerts.contexts.log import (
    LogCondition,
    LogCriterion,
    LogV1Context,
    LogV2Context,
    SearchResults,
    SearchTable,
    SimpleLogContext,
)
from firestop.alerts.contexts.metric import MetricCondition, MetricContext, MetricCriterion
from firestop.alerts.contexts.prometheus import PrometheusContext
from firestop.alerts.contexts.smart_detector import SmartDetectorContext

__all__ = [
    "ActivityLogContext",
    "AlertContext",
    "Authorization",
    "BudgetContext",
    "BudgetData",
    "Dimension",
    "FailingPeriods",
    "ImpactedService",
    "LogCondition",
    "LogCriterion",
    "LogV1Context",
    "LogV2Context",
    "MetricCondition",
    "MetricContext",
    "MetricCriterion",
    "PrometheusContext",
    "ResourceHealthContext",
    "ResourceHealthProperties",
    "SearchResults",
    "SearchTable",
    "ServiceHealthContext",
    "ServiceHealthProperties",
    "SimpleLogContext",
    "SmartDetectorContext",
    "UnknownContext",
    "context_kind",
    "money",
    "parse_context",
]



AlertContext = Annotated[
    Union[
        MetricContext,
        LogV1Context,
        LogV2Context,
        SimpleLogContext,
        ActivityLogContext,
        ServiceHealthContext,
        ResourceHealthContext,
        SmartDetectorContext,
        BudgetContext,
        PrometheusContext,
        UnknownContext,
    ],
    Field(discriminator="kind"),
]
"""The union of typed contexts, discriminated by ``kind``."""

_ADAPTER: TypeAdapter[Any] = TypeAdapter(AlertContext)

_KINDS = {
    "platform": "metric",
    "loganalytics": "log_v1",
    "applicationinsights": "log_v1",
    "logalertsv2": "log_v2",
    "simplelogalert": "simple_log",
    "servicehealth": "service_health",
    "resourcehealth": "resource_health",
    "smartdetector": "smart_detector",
    "costalerts": "budget",
    "prometheus": "prometheus",
}


def context_kind(monitoring_service: str | None, raw: Any = None) -> str:
    """The ``kind`` for ``monitoring_service`` (see the module table)."""
    if not isinstance(monitoring_service, str):
        return "unknown"
    key = re.sub(r"[\s_\-]+", "", monitoring_service).lower()
    kind = _KINDS.get(key)
    if kind is None and key.startswith("activitylog"):
        kind = "activity_log"
    if kind == "log_v1" and isinstance(raw, dict) and raw.get("conditionType") == "LogQueryCriteria":
        kind = "log_v2"
    return kind or "unknown"


def parse_context(monitoring_service: str | None, raw: Any) -> Any:
    """Typed view of ``raw`` (an alertContext dict) for ``monitoring_service``.

    Returns one of the :data:`AlertContext` models; never raises.
    """
    raw_dict = raw if isinstance(raw, dict) else {}
    kind = context_kind(monitoring_service, raw_dict)
    if kind == "unknown":
        reason = f"no typed model for monitoringService {monitoring_service!r}"
        return UnknownContext(raw=raw_dict, reason=reason)
    data = {k: v for k, v in raw_dict.items() if k not in ("kind", "raw")}
    try:
        return _ADAPTER.validate_python({**data, "kind": kind, "raw": raw_dict})
    except (ValidationError, ValueError, TypeError, RecursionError) as exc:
        detail = exc.error_count() if isinstance(exc, ValidationError) else type(exc).__name__
        return UnknownContext(raw=raw_dict, reason=f"context does not fit the {kind} model ({detail})")
