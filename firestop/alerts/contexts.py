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

import ast
import re
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal, Union

from pydantic import (
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
)

from firestop.alerts.indicators import decode_json_text
from firestop.alerts.times import parse_utc_or_none

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
    "parse_context",
]


# --------------------------------------------------------------------------
# Lenient field types: they never raise, they fall back to None / empty.
# --------------------------------------------------------------------------


def _float(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip().replace(",", ""))
        except ValueError:
            return None
    else:
        return None
    return number if number == number and number not in (float("inf"), float("-inf")) else None


def _int(value: Any) -> int | None:
    number = _float(value)
    if number is None or not number.is_integer():
        return None
    return int(number)


def _bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        low = value.strip().lower()
        if low in ("true", "yes", "1"):
            return True
        if low in ("false", "no", "0"):
            return False
    return None


def _text(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return None


def _scalar(value: Any) -> int | str | None:
    """int or str as sent (``channels: 1`` vs ``"Operation"``); anything else → None."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (int, str)):
        return value
    return None


def _json_dict(value: Any) -> dict[str, Any]:
    decoded = decode_json_text(value)
    return decoded if isinstance(decoded, dict) else {}


def _dict_or_none(value: Any) -> dict[str, Any] | None:
    return value if isinstance(value, dict) else None


def _str_dict(value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        return {}
    out: dict[str, str] = {}
    for key, item in value.items():
        text = _text(item)
        out[str(key)] = "" if text is None else text
    return out


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [item for item in _list(value) if isinstance(item, dict)]


def _texts(value: Any) -> tuple[str, ...]:
    return tuple(t for t in (_text(v) for v in _list(value)) if t is not None)


def _resource_types(value: Any) -> tuple[str, ...]:
    """``"['Microsoft.Compute/virtualMachines']"`` (Python-ish), a JSON array string, or a list."""
    if isinstance(value, list):
        return _texts(value)
    if not isinstance(value, str) or not value.strip():
        return ()
    text = value.strip()
    try:
        parsed = ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError, TypeError):
        parsed = None
    if isinstance(parsed, (list, tuple)):
        return tuple(str(v) for v in parsed if isinstance(v, str))
    if isinstance(parsed, str):
        return (parsed,)
    inner = text.strip("[]")
    return tuple(p.strip().strip("'\"") for p in inner.split(",") if p.strip().strip("'\""))


LenientFloat = Annotated[float | None, BeforeValidator(_float)]
LenientInt = Annotated[int | None, BeforeValidator(_int)]
LenientBool = Annotated[bool | None, BeforeValidator(_bool)]
LenientText = Annotated[str | None, BeforeValidator(_text)]
LenientScalar = Annotated[int | str | None, BeforeValidator(_scalar)]
LenientUtc = Annotated[datetime | None, BeforeValidator(parse_utc_or_none)]
JsonDict = Annotated[dict[str, Any], BeforeValidator(_json_dict)]
AnyDict = Annotated[dict[str, Any], BeforeValidator(lambda v: v if isinstance(v, dict) else {})]
StrDict = Annotated[dict[str, str], BeforeValidator(_str_dict)]
TextTuple = Annotated[tuple[str, ...], BeforeValidator(_texts)]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", validate_by_alias=True, validate_by_name=True)


def _nested(model: type[BaseModel]) -> Any:
    """Annotated ``model | None``: non-dicts become None."""
    return Annotated[model | None, BeforeValidator(_dict_or_none)]


def _nested_tuple(model: type[BaseModel]) -> Any:
    """Annotated ``tuple[model, ...]``: non-lists → (), non-dict items dropped."""
    return Annotated[tuple[model, ...], BeforeValidator(_dicts)]  # type: ignore[valid-type]


# --------------------------------------------------------------------------
# Shared pieces
# --------------------------------------------------------------------------


class Dimension(_Model):
    """``{"name": …, "value": …}`` (value as text)."""

    name: LenientText = None
    value: LenientText = None


Dimensions = _nested_tuple(Dimension)


def _event_rows(value: Any) -> list[list[dict[str, Any]]]:
    rows = _list(value)
    if rows and all(isinstance(r, dict) for r in rows):  # a single flat row
        return [rows]
    return [_dicts(row) for row in rows if isinstance(row, list)]


class FailingPeriods(_Model):
    number_of_evaluation_periods: LenientInt = Field(default=None, alias="numberOfEvaluationPeriods")
    min_failing_periods_to_alert: LenientInt = Field(default=None, alias="minFailingPeriodsToAlert")


class _Ctx(_Model):
    raw: dict[str, Any] = Field(default_factory=dict)
    """The alertContext exactly as sent."""


# --------------------------------------------------------------------------
# Metric (monitoringService "Platform")
# --------------------------------------------------------------------------


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


# --------------------------------------------------------------------------
# Log search V1 (monitoringService "Log Analytics" / "Application Insights")
# --------------------------------------------------------------------------


class SearchColumn(_Model):
    name: LenientText = None
    type: LenientText = None


class SearchTable(_Model):
    name: LenientText = None
    columns: _nested_tuple(SearchColumn) = ()
    rows: Annotated[tuple[tuple[Any, ...], ...], BeforeValidator(lambda v: [r for r in _list(v) if isinstance(r, list)])] = ()

    def records(self) -> list[dict[str, Any]]:
        """Rows as ``{column name: value}`` dicts (unnamed columns are ``col<i>``)."""
        names = [c.name or f"col{i}" for i, c in enumerate(self.columns)]
        return [dict(zip(names, row)) for row in self.rows]


class SearchDataSource(_Model):
    resource_id: LenientText = Field(default=None, alias="resourceId")
    region: LenientText = None
    tables: TextTuple = ()


class SearchResults(_Model):
    tables: _nested_tuple(SearchTable) = ()
    data_sources: _nested_tuple(SearchDataSource) = Field(default=(), alias="dataSources")


class LogV1Context(_Ctx):
    """Log search alert V1 (scheduledQueryRules before 2020-05-01)."""

    kind: Literal["log_v1"] = "log_v1"
    search_query: LenientText = Field(default=None, alias="SearchQuery")
    search_interval_start: LenientUtc = Field(default=None, alias="SearchIntervalStartTimeUtc")
    search_interval_end: LenientUtc = Field(
        default=None,
        validation_alias=AliasChoices("SearchIntervalEndtimeUtc", "SearchIntervalEndTimeUtc", "search_interval_end"),
    )
    search_interval_minutes: LenientInt = Field(
        default=None,
        validation_alias=AliasChoices("SearchIntervalInMinutes", "SearchIntervalDurationMin", "search_interval_minutes"),
    )
    result_count: LenientInt = Field(default=None, alias="ResultCount")
    threshold: LenientFloat = Field(default=None, alias="Threshold")
    operator: LenientText = Field(default=None, alias="Operator")
    alert_type: LenientText = Field(default=None, alias="AlertType")
    severity_description: LenientText = Field(default=None, alias="SeverityDescription")
    workspace_id: LenientText = Field(default=None, alias="WorkspaceId")
    application_id: LenientText = Field(default=None, alias="ApplicationId")
    included_search_results: LenientBool = Field(
        default=None,
        validation_alias=AliasChoices("IncludedSearchResults", "IncludeSearchResults", "included_search_results"),
    )
    """``"True"`` (string) in samples, ``true`` (bool) in test payloads."""
    affected_configuration_items: TextTuple = Field(default=(), alias="AffectedConfigurationItems")
    dimensions: Dimensions = Field(default=(), alias="Dimensions")
    search_results: _nested(SearchResults) = Field(
        default=None, validation_alias=AliasChoices("SearchResults", "SearchResult", "search_results")
    )
    link_to_search_results: LenientText = Field(default=None, alias="LinkToSearchResults")
    link_to_search_results_api: LenientText = Field(default=None, alias="LinkToSearchResultsAPI")
    link_to_filtered_search_results_api: LenientText = Field(default=None, alias="LinkToFilteredSearchResultsAPI")

    @property
    def results_omitted(self) -> bool:
        """True when no result rows are embedded (over 256 KB, or not included):
        fetch them from :attr:`link_to_search_results_api`."""
        return self.search_results is None or not any(t.rows for t in self.search_results.tables)


# --------------------------------------------------------------------------
# Log alerts V2 / Simple Log Alert (conditionType "LogQueryCriteria")
# --------------------------------------------------------------------------


class LogCriterion(_Model):
    search_query: LenientText = Field(default=None, alias="searchQuery")
    metric_measure_column: LenientText = Field(default=None, alias="metricMeasureColumn")
    target_resource_types: Annotated[tuple[str, ...], BeforeValidator(_resource_types)] = Field(
        default=(), alias="targetResourceTypes"
    )
    """Decoded from the Python-ish string ``"['Microsoft.Compute/virtualMachines']"``."""
    operator: LenientText = None
    threshold: LenientFloat = None
    time_aggregation: LenientText = Field(default=None, alias="timeAggregation")
    dimensions: Dimensions = ()
    metric_value: LenientFloat = Field(default=None, alias="metricValue")
    failing_periods: _nested(FailingPeriods) = Field(default=None, alias="failingPeriods")
    link_to_search_results_ui: LenientText = Field(default=None, alias="linkToSearchResultsUI")
    link_to_filtered_search_results_ui: LenientText = Field(default=None, alias="linkToFilteredSearchResultsUI")
    link_to_search_results_api: LenientText = Field(default=None, alias="linkToSearchResultsAPI")
    link_to_filtered_search_results_api: LenientText = Field(default=None, alias="linkToFilteredSearchResultsAPI")
    event: Annotated[tuple[tuple[Dimension, ...], ...], BeforeValidator(_event_rows)] = ()
    """Simple Log Alert rows, each a tuple of ``{name, value}``."""

    def event_records(self) -> list[dict[str, str | None]]:
        """:attr:`event` rows as ``{name: value}`` dicts."""
        return [{d.name or "": d.value for d in row} for row in self.event]


class LogCondition(_Model):
    window_size: LenientText = Field(default=None, alias="windowSize")
    all_of: _nested_tuple(LogCriterion) = Field(default=(), alias="allOf")
    window_start_time: LenientUtc = Field(default=None, alias="windowStartTime")
    window_end_time: LenientUtc = Field(default=None, alias="windowEndTime")


class LogV2Context(_Ctx):
    """Log search alert V2 (scheduledQueryRules API 2020-05-01 and later)."""

    kind: Literal["log_v2"] = "log_v2"
    condition_type: LenientText = Field(default=None, alias="conditionType")
    condition: _nested(LogCondition) = None
    properties: StrDict = Field(default_factory=dict)


class SimpleLogContext(LogV2Context):
    """Simple Log Alert: the log V2 shape with criteria fields null and ``event`` rows."""

    kind: Literal["simple_log"] = "simple_log"  # type: ignore[assignment]


# --------------------------------------------------------------------------
# Activity log family
# --------------------------------------------------------------------------


class Authorization(_Model):
    action: LenientText = None
    scope: LenientText = None


class _ActivityBase(_Ctx):
    authorization: _nested(Authorization) = None
    channels: LenientScalar = None
    claims: JsonDict = Field(default_factory=dict)
    """Decoded from the JSON string Azure sends (``{}`` when null/undecodable)."""
    caller: LenientText = None
    correlation_id: LenientText = Field(default=None, alias="correlationId")
    event_source: LenientScalar = Field(default=None, alias="eventSource")
    event_timestamp: LenientUtc = Field(default=None, alias="eventTimestamp")
    event_data_id: LenientText = Field(default=None, alias="eventDataId")
    level: LenientScalar = None
    operation_name: LenientText = Field(default=None, alias="operationName")
    operation_id: LenientText = Field(default=None, alias="operationId")
    status: LenientText = None
    sub_status: LenientText = Field(default=None, alias="subStatus")
    submission_timestamp: LenientUtc = Field(default=None, alias="submissionTimestamp")
    http_request: JsonDict = Field(default_factory=dict, alias="httpRequest")
    event_description: LenientText = Field(default=None, alias="Activity Log Event Description")


class ActivityLogContext(_ActivityBase):
    """Activity log alert: Administrative, Policy, Autoscale, Security, Recommendation."""

    kind: Literal["activity_log"] = "activity_log"
    properties: AnyDict = Field(default_factory=dict)

    @property
    def policies(self) -> tuple[dict[str, Any], ...]:
        """``properties.policies`` decoded from its JSON string (Policy events)."""
        decoded = decode_json_text(self.properties.get("policies"))
        return tuple(p for p in decoded if isinstance(p, dict)) if isinstance(decoded, list) else ()

    def json_property(self, name: str) -> Any:
        """``properties[name]`` with JSON-in-a-string decoded (e.g. ``remediationSteps``);
        None when absent or undecodable."""
        return decode_json_text(self.properties.get(name))


class ImpactedService(_Model):
    service_name: LenientText = Field(default=None, alias="ServiceName")
    impacted_regions: Annotated[tuple[str, ...], BeforeValidator(lambda v: [r.get("RegionName") for r in _dicts(v) if isinstance(r.get("RegionName"), str)])] = Field(
        default=(), alias="ImpactedRegions"
    )


def _impacted(value: Any) -> list[dict[str, Any]]:
    return _dicts(decode_json_text(value))


class ServiceHealthProperties(_Model):
    title: LenientText = None
    service: LenientText = None
    region: LenientText = None
    communication: LenientText = None
    incident_type: LenientText = Field(default=None, alias="incidentType")
    tracking_id: LenientText = Field(default=None, alias="trackingId")
    impact_start_time: LenientUtc = Field(default=None, alias="impactStartTime")
    impact_mitigation_time: LenientUtc = Field(default=None, alias="impactMitigationTime")
    impacted_services: Annotated[tuple[ImpactedService, ...], BeforeValidator(_impacted)] = Field(
        default=(), alias="impactedServices"
    )
    """JSON string in real payloads, an array in the test action: both decoded."""
    stage: LenientText = None
    communication_id: LenientText = Field(default=None, alias="communicationId")
    maintenance_id: LenientText = Field(default=None, alias="maintenanceId")
    is_hir: LenientBool = Field(default=None, alias="isHIR")
    is_synthetic: LenientBool = Field(default=None, validation_alias=AliasChoices("IsSynthetic", "isSynthetic", "is_synthetic"))
    impact_type: LenientText = Field(default=None, alias="impactType")
    version: LenientText = None


class ServiceHealthContext(_ActivityBase):
    """Service Health event (incident, maintenance, advisory, security)."""

    kind: Literal["service_health"] = "service_health"
    properties: _nested(ServiceHealthProperties) = None

    @property
    def is_resolved(self) -> bool:
        """Service Health reports resolution in ``status`` / ``properties.stage``;
        ``essentials.monitorCondition`` stays ``Fired``."""
        stage = self.properties.stage if self.properties else None
        return any((v or "").strip().lower() == "resolved" for v in (self.status, stage))


class ResourceHealthProperties(_Model):
    title: LenientText = None
    details: LenientText = None
    current_health_status: LenientText = Field(default=None, alias="currentHealthStatus")
    previous_health_status: LenientText = Field(default=None, alias="previousHealthStatus")
    type: LenientText = None
    cause: LenientText = None


class ResourceHealthContext(_ActivityBase):
    """Resource Health event."""

    kind: Literal["resource_health"] = "resource_health"
    properties: _nested(ResourceHealthProperties) = None


# --------------------------------------------------------------------------
# Smart detector, budget, Prometheus, unknown
# --------------------------------------------------------------------------


class SmartDetectorContext(_Ctx):
    """Application Insights smart detection."""

    kind: Literal["smart_detector"] = "smart_detector"
    detection_summary: LenientText = Field(default=None, alias="DetectionSummary")
    formatted_occurrence_time: LenientUtc = Field(default=None, alias="FormattedOccurrenceTime")
    detected_value: LenientText = Field(default=None, alias="DetectedValue")
    normal_value: LenientText = Field(default=None, alias="NormalValue")
    presentation_insight_event_request: LenientText = Field(default=None, alias="PresentationInsightEventRequest")
    smart_detector_id: LenientText = Field(default=None, alias="SmartDetectorId")
    smart_detector_name: LenientText = Field(default=None, alias="SmartDetectorName")
    analysis_timestamp: LenientUtc = Field(default=None, alias="AnalysisTimestamp")


_MONEY_RE = re.compile(r"-?[0-9][0-9,]*(?:\.[0-9]+)?")


def money(text: str | None) -> Decimal | None:
    """``"$11,111.00"`` → ``Decimal("11111.00")``; None when there is no number."""
    if not text:
        return None
    match = _MONEY_RE.search(text)
    if not match:
        return None
    try:
        return Decimal(match.group(0).replace(",", ""))
    except InvalidOperation:  # pragma: no cover - the regex admits only valid numbers
        return None


class BudgetData(_Model):
    scope: LenientText = Field(default=None, alias="Scope")
    threshold_type: LenientText = Field(default=None, alias="ThresholdType")
    """``Actual`` or ``Forecasted``."""
    budget_type: LenientText = Field(default=None, alias="BudgetType")
    budget_threshold: LenientText = Field(default=None, alias="BudgetThreshold")
    notification_threshold_amount: LenientText = Field(default=None, alias="NotificationThresholdAmount")
    budget_name: LenientText = Field(default=None, alias="BudgetName")
    budget_id: LenientText = Field(default=None, alias="BudgetId")
    budget_start_date: LenientText = Field(default=None, alias="BudgetStartDate")
    budget_creator: LenientText = Field(default=None, alias="BudgetCreator")
    unit: LenientText = Field(default=None, alias="Unit")
    spent_amount: LenientText = Field(default=None, alias="SpentAmount")
    forecasted_total_for_period: LenientText = Field(default=None, alias="ForecastedTotalForPeriod")

    @property
    def spent(self) -> Decimal | None:
        """:attr:`spent_amount` as a number (``"$11,111.00"`` → 11111.00)."""
        return money(self.spent_amount)

    @property
    def threshold(self) -> Decimal | None:
        """:attr:`notification_threshold_amount` as a number."""
        return money(self.notification_threshold_amount)

    @property
    def forecast(self) -> Decimal | None:
        """:attr:`forecasted_total_for_period` as a number."""
        return money(self.forecasted_total_for_period)


class BudgetContext(_Ctx):
    """Cost Management budget alert (``CostAlerts``; essentials mostly null)."""

    kind: Literal["budget"] = "budget"
    alert_category: LenientText = Field(default=None, alias="AlertCategory")
    alert_data: _nested(BudgetData) = Field(default=None, alias="AlertData")


class PrometheusContext(_Ctx):
    """Azure Monitor managed Prometheus rule group alert."""

    kind: Literal["prometheus"] = "prometheus"
    interval: LenientText = None
    expression: LenientText = None
    expression_value: LenientText = Field(default=None, alias="expressionValue")
    for_: LenientText = Field(default=None, alias="for")
    labels: StrDict = Field(default_factory=dict)
    annotations: StrDict = Field(default_factory=dict)
    rule_group: LenientText = Field(default=None, alias="ruleGroup")


class UnknownContext(_Ctx):
    """An alertContext without a typed model (unknown service, or it did not fit)."""

    kind: Literal["unknown"] = "unknown"
    reason: str | None = None


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
