"""Log alert contexts: log search V1 (``Log Analytics`` / ``Application
Insights``), log alerts V2 (``Log Alerts V2``) and Simple Log Alert.

Source: ``alerts-common-schema.md`` / ``alerts-payload-samples.md``. Quirks:
V1 ``SearchIntervalEndtimeUtc`` (lower-case ``t``), locale timestamps
(``3/22/2019 1:36:31 PM``), ``IncludedSearchResults: "True"`` and
``IncludeSearchResults: true``, ``Threshold`` int or float, results omitted over
256 KB (use ``LinkToSearchResultsAPI``); V2 ``targetResourceTypes`` as the string
``"['Microsoft.Compute/virtualMachines']"``, ``metricMeasureColumn`` null; Simple
Log Alert criteria null with ``event`` rows of ``{name, value}``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AliasChoices, BeforeValidator, Field

from firestop.alerts.contexts.common import Dimension, Dimensions, FailingPeriods, _Ctx, _event_rows
from firestop.alerts.contexts.lenient import (
    LenientBool,
    LenientFloat,
    LenientInt,
    LenientText,
    LenientUtc,
    StrDict,
    TextTuple,
    _list,
    _Model,
    _nested,
    _nested_tuple,
    _resource_types,
)

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

