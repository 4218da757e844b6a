"""The dimensions of a confirmed Azure Monitor alert, confirmed where Azure Monitor found them (verify12 item 1).

Alerts Management keeps no dimension values (``Alerts_GetById``'s ``context`` is "information specific to the
monitor service", nothing documented), so :func:`firestop.azure.alerts_management.confirm` confirmed an alert's
target, rule, time, severity, signal, condition and route, but the steps act on the *delivery's* dimensions: the
genuine ``aoai-content-abuse`` alert re-posted with ``CallerIPAddress`` in the NSG's own gateway range was confirmed
and ``block-caller`` denied the gateway. Here every indicator a step can act on (:data:`ACTED_ON`) that the delivery
names is looked for at the source:

* **log search alert** (``Microsoft.Insights/scheduledQueryRules``, REST 2023-12-01 ``scheduledQueryRule_API.json``:
  ``properties.scopes``, ``properties.windowSize``, ``properties.criteria.allOf[]`` ``{query, dimensions[].name,
  metricMeasureColumn, timeAggregation, operator, threshold, failingPeriods}``): the rule's own query — from the rule
  the source names, never the payload — is run again over the window that fired (the rule's ``windowSize`` ending at
  the source's ``startDateTime``, :data:`WINDOW_SLACK_SECONDS` before it — none after, verify13 item 3; ``windowSize`` at most
  :data:`MAX_WINDOW_SECONDS`, Log Alerts V2's P2D) through Log Analytics (azure-monitor-query 2.0.0
  ``LogsQueryClient``; Log Analytics query API v1, azure-rest-api-specs ``specification/operationalinsights/
  data-plane/Microsoft.OperationalInsights/stable/v1/OperationalInsights.json``): a workspace scope by its
  ``customerId`` GUID (``Workspaces_Get`` 2022-10-01, ``query_workspace``: ``POST /v1/workspaces/{id}/query``), a
  resource scope resource-centric (``query_resource``: ``POST /v1/{resourceId}/query``, the scope's own rows as the
  rule reads them). The rows are split by the condition's dimension columns as Azure Monitor splits them; confirmed
  when one split holds every delivered acted-on value (columns classified by the same name rules as the delivery's
  dimensions, :mod:`firestop.alerts.indicators`) and — for a static threshold evaluated over one period — breaches
  the threshold.
* **metric alert** (``Microsoft.Insights/metricAlerts`` 2018-03-01: ``properties.scopes``, ``windowSize``,
  ``criteria.allOf[]`` ``{metricName, metricNamespace, dimensions[].name, operator, threshold, timeAggregation,
  criterionType}``): the metric's dimension series of the window that fired (``windowSize`` plus
  :data:`METRIC_SLACK_SECONDS` before the source's ``startDateTime``: platform metrics reach the alert a minute or more
  late) is read through azure-mgmt-monitor 6.0.2's ``metrics.list`` (``Metrics_List`` REST 2021-05-01,
  azure-rest-api-specs ``specification/monitor/resource-manager/Microsoft.Insights/stable/2021-05-01/metrics_API.json``:
  ``GET /{resourceUri}/providers/Microsoft.Insights/metrics?timespan&interval&metricnames&aggregation&$filter``) with
  ``$filter`` ``<dimension> eq '<value>'`` for each delivered value of a dimension the rule splits by — names and values
  shape-checked first (:func:`filter_value`: an IP that parses, a GUID, a deployment name; no quote passes), anything
  else not confirmed and never sent; confirmed when one criterion's filtered series breached as the rule measures it:
  its own ``timeAggregation`` (``Total``/``Count``/``Average``/``Maximum``/``Minimum``) over spans of its own
  ``windowSize`` inside the read compared by its own operator with its static threshold (:func:`metric_breached`:
  :func:`window_peak` above a threshold — the slack must not add to a sum, RT15-02 —, :func:`span_values` whole spans
  otherwise, verify13 item 2). A dynamic threshold cannot be recomputed (Metrics_List does not publish its learned
  bounds): a dynamic criterion confirms no delivered dimension. Needs ``Microsoft.Insights/metrics/read``.
* activity log alerts: their caller, principal claims and client IP are read back from the Activity Log event the
  delivery names (:mod:`firestop.azure.activity_source`, verify13; ``Microsoft.Insights/eventtypes/values/read``).

Not confirmed → the incident's steps wait for a responder (the orchestrator's existing path). Needs
``Microsoft.OperationalInsights/workspaces/read`` and ``…/workspaces/query/read`` (workspace-scoped rules) and
``Microsoft.Insights/logs/read`` (resource-centric queries), ``Microsoft.Insights/metrics/read`` (metric alerts). Never mocked: the SDK's pipeline, the sandbox as its
transport.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any, Callable

from azure.core.exceptions import AzureError

from firestop.azure.errors import unread_why

#: Indicators a step of a shipped playbook can act on (block an IP, throttle or re-filter a deployment, suspend an
#: APIM subscription, remove a principal's role, …): each one a delivery names must be found at the source.
ACTED_ON = ("caller_ips", "principal_ids", "deployments", "apim_subscriptions", "applications", "end_user_ids",
            "user_agents")
#: How a detail names each :data:`ACTED_ON` kind to a person (newuser11: "caller_ips '198.51.100.99'" named Firestop's
#: field, not what the responder looks for in the logs).
KIND_LABELS = {"caller_ips": "caller IP", "principal_ids": "principal", "deployments": "deployment",
               "apim_subscriptions": "APIM subscription", "applications": "application", "end_user_ids": "end user",
               "user_agents": "user agent"}
#: Log Alerts V2's longest ``windowSize`` (P2D, learn.microsoft.com azure-monitor/alerts/alerts-create-log-alert-rule);
#: a rule saying more is not re-run (not confirmed).
MAX_WINDOW_SECONDS = 2 * 86400
#: Added before the fired window (seconds): the rule's query covers ``windowSize`` ending at its evaluation, which
#: comes shortly before the alert is created (``startDateTime``: the query runs, then the alert is written), so the
#: window the rule read may start up to this much earlier than ``startDateTime - windowSize``. Nothing is added after
#: ``startDateTime`` (verify13 item 3): no row after it was counted by the rule, and rows added there (the caller
#: calling on after the alert) must not lift a delivered value over the threshold. The price: a count over
#: ``windowSize`` + this may exceed the rule's own (rows of that minute it did not read), as for metrics (RT15-02);
#: the query's rows carry no time to cut them by (a rule's query summarises them).
WINDOW_SLACK_SECONDS = 60


def log_timespan(started: datetime, window: float) -> tuple[datetime, datetime]:
    """The re-run's ``(start, end)``: ``windowSize`` plus :data:`WINDOW_SLACK_SECONDS` before ``started`` (the
    source's ``startDateTime``), ending there. Pure."""
    return started - timedelta(seconds=window + WINDOW_SLACK_SECONDS), started
#: At most this many result rows are read (a split query returns one row per combination).
MAX_ROWS = 20_000
#: Added before a metric alert's window (seconds): metric values are published about a minute after their minute ends.
METRIC_SLACK_SECONDS = 300
#: At most this many conditions of one rule are re-run.
MAX_CONDITIONS = 5
_WORKSPACE = re.compile(r"^/subscriptions/[0-9a-fA-F-]{36}/resourceGroups/[-\w.()]{1,90}/providers/"
                        r"Microsoft\.OperationalInsights/workspaces/[-\w]{1,63}$", re.IGNORECASE)
_RESOURCE = re.compile(r"^/subscriptions/[0-9a-fA-F-]{36}/resourceGroups/[-\w.()]{1,90}/providers/"
                       r"[A-Za-z][\w.]{1,80}/[A-Za-z][\w]{1,80}/[-\w.]{1,90}$", re.IGNORECASE)
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_DURATION = re.compile(r"^P(?:(\d{1,3})D)?(?:T(?:(\d{1,3})H)?(?:(\d{1,4})M)?(?:(\d{1,6})S)?)?$", re.IGNORECASE)
_OPERATORS = {"GreaterThan": float.__gt__, "GreaterThanOrEqual": float.__ge__, "LessThan": float.__lt__,
              "LessThanOrEqual": float.__le__, "Equal": float.__eq__, "Equals": float.__eq__}


def delivered(alert: dict[str, Any]) -> dict[str, list[str]]:
    """The :data:`ACTED_ON` indicators ``alert`` (the incident input's alert JSON) names: ``{kind: [value, …]}``,
    kinds without values left out. Pure."""
    found = alert.get("indicators") if isinstance(alert.get("indicators"), dict) else {}
    out: dict[str, list[str]] = {}
    for kind in ACTED_ON:
        values = found.get(kind)
        values = values if isinstance(values, list) else [values] if values else []
        values = [str(v) for v in values if v is not None and str(v).strip()]
        if values:
            out[kind] = values
    return out


def unnamed_split(alert: dict[str, Any], rule: dict[str, Any]) -> str | None:
    """RT19-01: None when ``alert`` (the incident input's alert JSON) names a value of every :data:`ACTED_ON` kind
    ``rule`` (its ARM JSON: ``properties.criteria.allOf[].dimensions[].name``, scheduled query and metric rules alike)
    splits by; else why not. Azure Monitor fires a split rule once per dimension combination and its delivery names
    each value (Common Alert Schema ``alertContext.condition.allOf[].dimensions``), so a delivery that leaves one out —
    or gives it empty — is not the alert as it fired: with nothing delivered :func:`confirm_dimensions` had nothing to
    read, and the narrow step keyed on that value (an API Management consumer, a caller, a deployment) was skipped
    while the account-wide ones ran unapproved. A genuine split whose value is empty waits for a responder (fail
    safe). Pure."""
    props = rule.get("properties") if isinstance(rule, dict) and isinstance(rule.get("properties"), dict) else {}
    criteria = props.get("criteria") if isinstance(props.get("criteria"), dict) else {}
    named = delivered(alert)
    for condition in criteria.get("allOf") or []:
        if not isinstance(condition, dict):
            continue
        for dimension in condition.get("dimensions") or []:
            name = dimension.get("name") if isinstance(dimension, dict) else None
            kind = dimension_kind(name) if isinstance(name, str) else None
            if kind is not None and kind not in named:
                return (f"the alert rule splits by {str(name)[:80]!r}, and the delivery names no "
                        f"{KIND_LABELS.get(kind, kind)}: Azure Monitor's alert names the value it fired for")
    return None


#: A17-05: how long before the source's ``startDateTime`` a delivered ``windowEndTime`` may end (seconds), per kind of
#: rule (the ARM type's last segment, lower-cased). RT19-05 allowed every kind 600 s, the metric allowance; a log
#: search alert's window slid back 9 min 50 s (39 of 113 rows kept). Sources, per kind:
#:
#: * ``scheduledqueryrules`` (log search alerts v2, ``Log Alerts V2``): the rule runs its query over ``windowSize``
#:   (or ``overrideQueryTimeRange``) ending when it is evaluated, then creates the alert: Learn's Log Alerts V2 sample
#:   (MicrosoftDocs/azure-monitor-docs ``articles/azure-monitor/alerts/alerts-common-schema.md``, "Sample log search
#:   alert when the monitoringService = Log Alerts V2") gives ``windowEndTime`` 2020-07-09T13:54:34Z, the end of the
#:   ``TimeGenerated between(...)`` its ``linkToSearchResultsAPI`` query ran; Learn's test-action payload
#:   (``alerts-payload-samples.md``, ``shared/corpus/alerts/test-actions/log-alert-v2.json``) gives ``windowEndTime`` =
#:   ``firedDateTime``; Firestop's recorded ``content-abuse`` delivery ends its window 3.5 s before it fired. So
#:   :data:`WINDOW_SLACK_SECONDS` (60 s), the slack the rule's re-run already allows before ``startDateTime``. A log
#:   search evaluation Azure *retries* for ingestion latency ("To mitigate latency, the system retries the alert
#:   evaluation multiple times. After the data arrives, the alert fires", ``alerts-troubleshoot-log.md``) is not
#:   documented to keep its first window end; a genuine alert whose window ends earlier than this is not confirmed and
#:   waits for a responder (fail safe; tests/attack17/test_a17_05_window_shifted_earlier.py shows it).
#: * ``metricalerts``: platform metrics reach the evaluation late (their values are published after their minute, see
#:   :data:`METRIC_SLACK_SECONDS`), and Learn's metric samples end a window at 13:45:03 (``alerts-common-schema.md``,
#:   static threshold) where the same page's Resolved metric alert fired at 13:58:24 — two samples, maybe two firings,
#:   no documented bound. Kept at 600 s (RT19-05's figure): a metric alert's window may still be moved up to 10 min
#:   back by a forger, and a genuine one later than that waits for a responder (review17's note).
#: * ``activitylogalerts``: no evaluation window (a delivered one is refused, apr17).
WINDOW_END_BEFORE_START_SECONDS = {"scheduledqueryrules": WINDOW_SLACK_SECONDS, "metricalerts": 600}
#: How far a delivered window's length may differ from the rule's ``windowSize``, and its end lie after
#: ``startDateTime`` (seconds; a payload rounds its times).
WINDOW_LENGTH_TOLERANCE_SECONDS = 60
_KIND_NAMES = {"scheduledqueryrules": "a log search alert", "metricalerts": "a metric alert"}


def window_differs(alert: dict[str, Any], rule: dict[str, Any], started: datetime | None) -> str | None:
    """RT19-05: None when ``alert``'s delivered evaluation window (the incident input's ``window_start`` /
    ``window_end``, what ``evidence.snapshot_logs`` keeps) is the window ``rule`` (ARM JSON of a scheduled query or
    metric rule; any other kind: None) evaluated when it fired at ``started`` (the source's ``startDateTime``): its end
    within :data:`WINDOW_END_BEFORE_START_SECONDS` of the rule's kind before ``started`` (A17-05: 60 s for a log search
    alert, 600 s for a metric alert; after it by at most :data:`WINDOW_LENGTH_TOLERANCE_SECONDS`: a payload rounds its
    times), its length the rule's ``windowSize`` (or a log rule's ``overrideQueryTimeRange``) within
    :data:`WINDOW_LENGTH_TOLERANCE_SECONDS`; else why not (a sentence naming the field, the bound and the kind). A
    window given for an activity log rule (it has none), or half of one or an unreadable one, is refused (apr17). A
    delivery naming no window passes (the evidence reads its lookback before the firing time). Before, a copy of the
    real alert with its window moved past the attack was confirmed, and its sealed evidence kept none of it. Not
    confirmed is never dropped: the incident's steps wait for a responder. Pure."""
    from firestop.alerts.times import parse_utc_or_none

    kind = str((rule or {}).get("type") or "").rsplit("/", 1)[-1].lower()
    given = alert.get("window_start") is not None or alert.get("window_end") is not None
    if kind == "activitylogalerts" and given:  # (apr17) it has no evaluation window: one given would be the evidence's
        return "the delivery gives an evaluation window, which an activity log alert does not have"
    if kind not in WINDOW_END_BEFORE_START_SECONDS:
        return None
    start, end = parse_utc_or_none(alert.get("window_start")), parse_utc_or_none(alert.get("window_end"))
    if not given:
        return None
    if start is None or end is None:  # (apr17) half a window, or an unreadable one: the evidence's would be a guess
        return "the delivery's evaluation window is incomplete or unreadable (windowStartTime, windowEndTime)"
    if started is None:
        return "the source gives no startDateTime to place the delivered window at"
    late, before = (started - end).total_seconds(), WINDOW_END_BEFORE_START_SECONDS[kind]
    if late < -WINDOW_LENGTH_TOLERANCE_SECONDS or late > before:
        return (f"windowEndTime differs: the delivery says {str(alert.get('window_end'))[:40]}; {_KIND_NAMES[kind]}'s "
                f"window ends when its rule is evaluated, at most {before} s before the alert started "
                f"({started.isoformat()})")
    props = rule.get("properties") if isinstance(rule.get("properties"), dict) else {}
    lengths = [w for w in (window_seconds(props.get("windowSize")), window_seconds(props.get("overrideQueryTimeRange")))
               if w is not None]
    length = (end - start).total_seconds()
    if not any(abs(length - w) <= WINDOW_LENGTH_TOLERANCE_SECONDS for w in lengths):
        return (f"windowStartTime differs: the delivered window is {length:g} s long, the rule's windowSize "
                f"{str(props.get('windowSize'))[:20]}")
    return None


def window_seconds(text: Any) -> float | None:
    """An ISO 8601 ``windowSize`` (``PT15M``, ``P1D``) in seconds, None when unreadable, zero or over
    :data:`MAX_WINDOW_SECONDS`."""
    match = _DURATION.fullmatch(str(text or "").strip())
    if not match or not any(match.groups()):
        return None
    d, h, m, s = (int(g or 0) for g in match.groups())
    seconds = float(((d * 24 + h) * 60 + m) * 60 + s)
    return seconds if 0 < seconds <= MAX_WINDOW_SECONDS else None


def _norm(value: Any) -> str:
    return str(value).strip().lower()


def _aggregate(values: list[float], how: Any) -> float:
    if not values:
        return 0.0
    return {"Count": float(len(values)), "Total": float(sum(values)), "Average": sum(values) / len(values),
            "Minimum": min(values), "Maximum": max(values)}.get(str(how), float(sum(values)))


def _number(value: Any) -> float:
    try:
        return float(value) if value is not None and not isinstance(value, bool) else 0.0
    except (TypeError, ValueError):
        return 0.0


def split_holding(columns: list[str], rows: list[list[Any]], condition: dict[str, Any],
                  wanted: dict[str, list[str]]) -> str | None:
    """None when one split of ``rows`` (the query's result: ``columns`` names, rows of values) by ``condition``'s
    dimension columns holds every value of ``wanted`` (:func:`delivered`) and, for a static threshold evaluated over
    one period, breaches it; else why not. Pure. A value is held by a split when one of the rule's own dimension
    columns classified as that kind (:mod:`firestop.alerts.indicators`' name rules) gives it as the split's value
    (case-insensitive): a value in another column of the split's rows, a rule that does not split, or a result without
    one of the rule's dimension columns confirms nothing (a forged caller IP found in one row of an unsplit result
    would otherwise pass on the other rows' count)."""
    from firestop.alerts.indicators import extract_indicators

    dims = [d.get("name") for d in condition.get("dimensions") or [] if isinstance(d, dict) and isinstance(d.get("name"), str)]
    index = {name: i for i, name in enumerate(columns)}
    if not dims or any(d not in index for d in dims):
        kind, values = next(iter(wanted.items()))
        return (f"the rule's query {'does not split by a dimension' if not dims else 'result lacks a dimension column it splits by'}"
                f": the delivered {KIND_LABELS.get(kind, kind)} {str(values[0])[:80]!r} is not the rule's to give")
    keys = [index[d] for d in dims]
    groups: dict[tuple, list[list[Any]]] = {}
    for row in rows[:MAX_ROWS]:
        if isinstance(row, list):
            groups.setdefault(tuple(str(row[i]) if i < len(row) else None for i in keys), []).append(row)
    measure = condition.get("metricMeasureColumn")
    threshold = condition.get("threshold")
    periods = condition.get("failingPeriods") if isinstance(condition.get("failingPeriods"), dict) else {}
    one_period = int(_number(periods.get("numberOfEvaluationPeriods") or 1)) <= 1
    compare = _OPERATORS.get(str(condition.get("operator")))
    split_columns = [{"name": d} for d in dims]
    for split, group in groups.items():
        found = extract_indicators({"SearchResults": {"tables": [{"columns": split_columns, "rows": [list(split)]}]}})
        if not all({_norm(v) for v in getattr(found, kind, ())} >= {_norm(v) for v in values}
                   for kind, values in wanted.items()):
            continue
        if compare is not None and isinstance(threshold, (int, float)) and not isinstance(threshold, bool) and one_period:
            at = index.get(measure) if isinstance(measure, str) else None
            value = _aggregate([1.0 if at is None else _number(r[at] if at < len(r) else None) for r in group],
                               condition.get("timeAggregation") or "Count")
            if not compare(float(value), float(threshold)):
                continue
        return None
    kind, values = next(iter(wanted.items()))
    return (f"the rule's query, run again over the window that fired, has no split with the delivered dimensions "
            f"({KIND_LABELS.get(kind, kind)} {str(values[0])[:80]!r}{' …' if sum(map(len, wanted.values())) > 1 else ''}) "
            "above its threshold")


def _rows(result: Any) -> tuple[list[str], list[list[Any]]] | None:
    """(column names, rows) of a ``LogsQueryResult``'s first table; None for a partial or failed result."""
    tables = getattr(result, "tables", None)
    if not tables or getattr(result, "partial_error", None) is not None:
        return None
    table = tables[0]
    columns = [c if isinstance(c, str) else getattr(c, "name", str(c)) for c in table.columns]
    return columns, [list(r) for r in list(table.rows)[:MAX_ROWS]]


def confirm_log_dimensions(logs: Any, read_workspace: Callable[[str], dict], rule: dict[str, Any],
                           started: datetime, wanted: dict[str, list[str]]) -> str | None:
    """None when the scheduled query ``rule`` (its ARM JSON), run again over the window that fired (``started``:
    the source's ``startDateTime``), confirms ``wanted``; else why not. ``logs``: a ``LogsQueryClient``;
    ``read_workspace(arm_id)``: the workspace's ARM JSON (``properties.customerId``). Never raises for what Azure
    answers (an error is a reason)."""
    props = rule.get("properties") if isinstance(rule.get("properties"), dict) else {}
    scopes = props.get("scopes") if isinstance(props.get("scopes"), list) else []
    if len(scopes) != 1 or not isinstance(scopes[0], str):
        return f"the alert rule has {len(scopes)} scopes: its query is re-run only on one"
    scope = scopes[0].strip().rstrip("/")
    window = window_seconds(props.get("windowSize"))
    if window is None:
        return f"the alert rule's windowSize {str(props.get('windowSize'))[:30]!r} is not a window of at most P2D"
    conditions = [c for c in ((props.get("criteria") or {}).get("allOf") or []) if isinstance(c, dict)]
    conditions = [c for c in conditions if isinstance(c.get("query"), str) and c["query"].strip()][:MAX_CONDITIONS]
    if not conditions:
        return "the alert rule holds no query to run again"
    timespan = log_timespan(started, window)
    try:
        if _WORKSPACE.fullmatch(scope):
            customer = str(((read_workspace(scope) or {}).get("properties") or {}).get("customerId") or "")
            if not _GUID.fullmatch(customer):
                return "the rule's workspace gives no customerId GUID"
            run = lambda query: logs.query_workspace(customer, query, timespan=timespan)  # noqa: E731
        elif _RESOURCE.fullmatch(scope) and ".." not in scope:
            run = lambda query: logs.query_resource(scope, query, timespan=timespan)  # noqa: E731
        else:
            return f"the alert rule's scope {scope[:160]!r} is neither a workspace nor a resource id"
        why = "no condition"
        for condition in conditions:
            found = _rows(run(condition["query"]))
            if found is None:
                why = "the rule's query answered a partial result"
                continue
            why = split_holding(found[0], found[1], condition, wanted)
            if why is None:
                return None
        return why
    except AzureError as exc:
        status = getattr(exc, "status_code", None)
        said = f"HTTP {status}" if status else type(exc).__name__
        return unread_why(exc, f"the rule's query could not be run again ({said} after retries)")


_DIMENSION_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")
_DEPLOYMENT = re.compile(r"^[A-Za-z0-9][-A-Za-z0-9_.]{0,63}$")
_METRIC_NAME = re.compile(r"^[A-Za-z][-A-Za-z0-9_.]{0,127}$")
_NAMESPACE = re.compile(r"^[A-Za-z][\w.]{1,80}/[A-Za-z][\w]{1,80}$")
#: Aggregations whose largest value over spans of the rule's window (:func:`window_peak`) is compared with a static
#: GreaterThan threshold: a genuine breach is one such span inside the read, so it is never missed.
_MONOTONE = {"Total": sum, "Count": sum, "Maximum": max}


def dimension_kind(name: Any) -> str | None:
    """The :data:`ACTED_ON` kind a dimension (or column) called ``name`` gives, by the delivery's own name rules
    (:mod:`firestop.alerts.indicators`), else None."""
    from firestop.alerts.indicators import extract_indicators

    probe = {"caller_ips": "192.0.2.1", "principal_ids": "p", "deployments": "d", "apim_subscriptions": "s"}
    for kind, value in probe.items():
        found = extract_indicators({"SearchResults": {"tables": [{"columns": [{"name": name}], "rows": [[value]]}]}})
        if getattr(found, kind, ()):
            return kind
    return None


def filter_value(kind: str, value: Any) -> str | None:
    """``value`` as it may go into a metrics ``$filter`` literal (no quote, backslash or control character), or None
    when its shape is not that of ``kind`` (an IP that parses, a GUID or UPN-like principal, a deployment name, an
    APIM subscription id)."""
    import ipaddress

    text = str(value or "").strip()
    if not text or len(text) > 128 or any(ord(c) < 32 or c in "'\\" for c in text):
        return None
    if kind == "caller_ips":
        try:
            return str(ipaddress.ip_address(text))
        except ValueError:
            return None
    if kind == "deployments" or kind == "apim_subscriptions":
        return text if _DEPLOYMENT.fullmatch(text) else None
    if kind == "principal_ids":
        return text if _GUID.fullmatch(text) or re.fullmatch(r"[\w.+-]{1,64}@[\w.-]{1,120}", text) else None
    return None


def _timed_points(response: Any, field: str) -> list[list[tuple[datetime | None, float]]]:
    """Per series of a ``metrics.list`` answer, its ``(time_stamp, value)`` points (``field``, e.g. ``total``)."""
    out: list[list[tuple[datetime | None, float]]] = []
    for metric in getattr(response, "value", None) or []:
        for series in getattr(metric, "timeseries", None) or []:
            points = []
            for point in getattr(series, "data", None) or []:
                value = getattr(point, field, None)
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    stamp = getattr(point, "time_stamp", None)
                    points.append((stamp if isinstance(stamp, datetime) else None, float(value)))
            out.append(points)
    return out


def window_peak(series: list[list[tuple[datetime | None, float]]], aggregation: str, window: float) -> float:
    """RT15-02: the largest ``aggregation`` (Total/Count: a sum; Maximum: the largest point) over any span of
    ``window`` seconds of one series' PT1M points (a point at ``t`` covers ``[t, t + 1 min)``), i.e. what the rule
    itself could have measured inside the longer read — never the sum of the whole read (window + slack). A point
    without a timestamp counts in every span (fails towards confirming, as before). Pure."""
    if aggregation == "Maximum":
        return max((v for points in series for _, v in points), default=0.0)
    best = 0.0
    for points in series:
        loose = sum(v for t, v in points if t is None)
        timed = sorted((t, v) for t, v in points if t is not None)
        for i, (start, _) in enumerate(timed):
            end = start + timedelta(seconds=max(window, 60.0))
            best = max(best, loose + sum(v for t, v in timed[i:] if t < end))
        if not timed:
            best = max(best, loose)
    return best


#: A static metric criterion's operators (metricAlert_API.json 2018-03-01 ``MetricCriteria.operator``), compared as
#: Azure Monitor compares the window's aggregate with the threshold. ``GreaterOrLessThan`` is a dynamic criterion's.
_STATIC_OPERATORS = ("GreaterThan", "GreaterThanOrEqual", "LessThan", "LessThanOrEqual", "Equals")


def span_values(series: list[list[tuple[datetime | None, float]]], aggregation: str, window: float,
                start: datetime, end: datetime) -> list[float]:
    """verify13 item 2: the rule's own ``aggregation`` over every span of ``window`` seconds that lies whole inside
    the read ``[start, end]`` (spans starting on each minute from ``start`` on; a point at ``t`` covers
    ``[t, t + 1 min)``), for each series, leaving out spans holding no point (no data: Azure Monitor evaluates
    nothing there). ``Total``/``Count``: the sum of the PT1M points; ``Maximum``/``Minimum``: the largest / smallest
    point; ``Average``: the mean of the PT1M averages (the window's own average weighs minutes by their sample count,
    which Metrics_List's ``Average`` does not give: exact when the minutes are alike). A point without a timestamp
    counts in every span. Whole spans only: a partial span's sum or maximum would understate (and a minimum
    overstate) what the rule measured, which for ``LessThan`` would find a breach the rule never saw. Pure."""
    first = start.replace(second=0, microsecond=0)
    if first < start:
        first += timedelta(minutes=1)
    span = timedelta(seconds=max(window, 60.0))
    values: list[float] = []
    for points in series:
        loose = [v for t, v in points if t is None]
        timed = [(t, v) for t, v in points if t is not None]
        at = first
        while at + span <= end + timedelta(seconds=1):
            inside = loose + [v for t, v in timed if at <= t < at + span]
            if inside:
                values.append({"Maximum": max, "Minimum": min}.get(aggregation, sum)(inside) if aggregation != "Average"
                              else sum(inside) / len(inside))
            at += timedelta(minutes=1)
    return values


def metric_breached(criterion: dict[str, Any], series: list[list[tuple[datetime | None, float]]], aggregation: str,
                    window: float, start: datetime, end: datetime) -> str | None:
    """None when the static ``criterion`` (its ``operator`` and numeric ``threshold``) breached on one series over a
    span of the rule's window inside the read (:func:`window_peak` for a sum or maximum above the threshold — a
    partial span never overstates those —, :func:`span_values` otherwise), else why not. A dynamic threshold
    (``DynamicThresholdCriterion``) cannot be recomputed: its learned bounds are not published by Metrics_List
    (nor its failing periods' history), so it is not confirmed — a responder decides once (``alert.genuine``). A
    static criterion has no failing periods (``metricAlert_API.json`` 2018-03-01: only ``DynamicMetricCriteria``
    carries ``failingPeriods``). Pure."""
    kind = str(criterion.get("criterionType") or "StaticThresholdCriterion")
    metric = str(criterion.get("metricName") or "")[:60]
    if kind != "StaticThresholdCriterion":
        return (f"the metric {metric} is held to a dynamic threshold, which cannot be recomputed from the metric "
                "(its learned bounds are not published): its delivered dimensions are not confirmed")
    operator, threshold = str(criterion.get("operator")), criterion.get("threshold")
    compare = _OPERATORS.get(operator)
    if operator not in _STATIC_OPERATORS or compare is None or not isinstance(threshold, (int, float)) or isinstance(threshold, bool):
        return f"the metric {metric}'s criterion (operator {operator[:30]!r}, threshold {str(threshold)[:30]!r}) cannot be recomputed"
    if aggregation in _MONOTONE and operator in ("GreaterThan", "GreaterThanOrEqual"):
        breached = compare(window_peak(series, aggregation, window), float(threshold))
    else:
        breached = any(compare(float(v), float(threshold)) for v in span_values(series, aggregation, window, start, end))
    if not breached:
        how = "is not above" if operator.startswith("GreaterThan") else "does not breach"
        return (f"the metric {metric} ({aggregation} {operator} {threshold}) for the delivered dimensions {how} the "
                "rule's threshold in the window that fired")
    return None


def confirm_metric_dimensions(monitor: Callable[[str], Any], rule: dict[str, Any], started: datetime,
                              wanted: dict[str, list[str]]) -> str | None:
    """None when one criterion of the metric ``rule`` (ARM JSON) splits by a dimension for every kind of ``wanted``
    (one value each) and the metric filtered on those values has data in the window that fired (above a static
    threshold over a span of the rule's window inside the read, :func:`window_peak`), else why not. ``monitor(subscription)``: an
    azure-mgmt-monitor ``MonitorManagementClient``. Never raises for what Azure answers."""
    props = rule.get("properties") if isinstance(rule.get("properties"), dict) else {}
    scopes = props.get("scopes") if isinstance(props.get("scopes"), list) else []
    if len(scopes) != 1 or not isinstance(scopes[0], str) or not _RESOURCE.fullmatch(scopes[0].strip().rstrip("/")) or ".." in scopes[0]:
        return "the metric alert rule does not have one resource scope: its dimensions are not re-read"
    scope = scopes[0].strip().rstrip("/")
    window = window_seconds(props.get("windowSize"))
    if window is None:
        return f"the metric alert rule's windowSize {str(props.get('windowSize'))[:30]!r} is not a window of at most P2D"
    if any(len(values) != 1 for values in wanted.values()):
        return "the delivery names more than one value of a dimension: one metric alert is one time series"
    # (the read runs WINDOW_SLACK_SECONDS past startDateTime so that the span holding its own minute is whole; a point
    # stamped after startDateTime is left out below, RT16-02)
    start, end = started - timedelta(seconds=window + METRIC_SLACK_SECONDS), started + timedelta(seconds=WINDOW_SLACK_SECONDS)
    timespan = f"{start.strftime('%Y-%m-%dT%H:%M:%SZ')}/{end.strftime('%Y-%m-%dT%H:%M:%SZ')}"
    why = "the metric alert rule splits by no dimension that gives " + ", ".join(wanted)
    criteria = [c for c in ((props.get("criteria") or {}).get("allOf") or []) if isinstance(c, dict)][:MAX_CONDITIONS]
    for criterion in criteria:
        names = [d.get("name") for d in criterion.get("dimensions") or [] if isinstance(d, dict)]
        by_kind = {}
        for name in names:
            kind = dimension_kind(name) if isinstance(name, str) and _DIMENSION_NAME.fullmatch(name) else None
            if kind in wanted and kind not in by_kind:
                by_kind[kind] = name
        if set(by_kind) != set(wanted):
            continue
        clauses = []
        for kind, name in by_kind.items():
            literal = filter_value(kind, wanted[kind][0])
            if literal is None:
                return (f"the delivered {KIND_LABELS.get(kind, kind)} value {str(wanted[kind][0])[:60]!r} is not one a metric "
                        "filter is asked about: not sent")
            clauses.append(f"{name} eq '{literal}'")
        metric, namespace = str(criterion.get("metricName") or ""), criterion.get("metricNamespace")
        if not _METRIC_NAME.fullmatch(metric) or (namespace is not None and not _NAMESPACE.fullmatch(str(namespace))):
            return "the metric alert rule's metric name or namespace cannot be asked about"
        aggregation = str(criterion.get("timeAggregation") or "Total")
        aggregation = aggregation if aggregation in ("Total", "Count", "Average", "Maximum", "Minimum") else "Total"
        try:
            answer = monitor(scope.split("/")[2]).metrics.list(
                scope, timespan=timespan, interval=timedelta(minutes=1), metricnames=metric, aggregation=aggregation,
                filter=" and ".join(clauses), **({"metricnamespace": str(namespace)} if namespace else {}))
        except AzureError as exc:
            status = getattr(exc, "status_code", None)
            said = f"HTTP {status}" if status else type(exc).__name__
            return unread_why(exc, f"the metric could not be read ({said} after retries)")
        # RT16-02: no point stamped after startDateTime counts (as the log re-run ends there, verify13 item 3): the
        # rule never read it, and requests sent after the alert fired lifted a forged deployment over the threshold
        series = [[(t, v) for t, v in points if t is None or t.tzinfo is None or t <= started]
                  for points in _timed_points(answer, aggregation.lower())]
        if not any(series):  # no point at all for the delivered dimensions
            why = f"the metric {metric[:60]} has no data for the delivered dimensions in the window that fired"
            continue
        why = metric_breached(criterion, series, aggregation, window, start, end)  # verify13 item 2: the rule's own test
        if why is None:
            return None
    return why


def confirm_dimensions(logs: Callable[[], Any], read_workspace: Callable[[str], dict], alert: dict[str, Any],
                       rule: dict[str, Any], source: dict[str, Any], monitor: Callable[[str], Any] | None = None,
                       source_ref: Any = None) -> str | None:
    """None when every :data:`ACTED_ON` indicator ``alert`` (incident input alert JSON) names is confirmed at its
    source (nothing named: nothing to read), else why not. ``rule``: the alert rule's ARM JSON; ``source``: the
    Alerts Management alert (``essentials.startDateTime``); ``logs()`` builds the ``LogsQueryClient`` when needed,
    ``monitor(subscription)`` a ``MonitorManagementClient`` (None: a metric alert's dimensions, an activity log
    alert's caller and claims are not confirmed); ``source_ref``: the input's reference of the delivered Activity Log
    event (an activity log alert: :func:`firestop.azure.activity_source.confirm_activity_event`, verify13)."""
    from firestop.alerts.times import parse_utc_or_none

    wanted = delivered(alert)
    if not wanted:
        return None
    kind = str(rule.get("type") or "").rsplit("/", 1)[-1].lower()
    started = parse_utc_or_none((((source or {}).get("properties") or {}).get("essentials") or {}).get("startDateTime"))
    if started is None:
        return "the source gives no startDateTime to re-read the dimensions at"
    if kind == "scheduledqueryrules":
        return confirm_log_dimensions(logs(), read_workspace, rule, started, wanted)
    if kind == "activitylogalerts":  # verify13: the Activity Log event the delivery names, read back
        from firestop.azure.activity_source import confirm_activity_event

        return confirm_activity_event(monitor, alert, rule, source, source_ref, wanted)
    if kind == "metricalerts" and monitor is not None:
        return confirm_metric_dimensions(monitor, rule, started, wanted)
    first = next(iter(wanted))
    return f"{first} named by a {kind or 'unknown'} alert cannot be confirmed at its source"
