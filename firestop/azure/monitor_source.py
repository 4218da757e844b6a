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
  the source's ``startDateTime``, :data:`WINDOW_SLACK_SECONDS` either side; ``windowSize`` at most
  :data:`MAX_WINDOW_SECONDS`, Log Alerts V2's P2D) through Log Analytics (azure-monitor-query 2.0.0
  ``LogsQueryClient``; Log Analytics query API v1, azure-rest-api-specs ``specification/operationalinsights/
  data-plane/Microsoft.OperationalInsights/stable/v1/OperationalInsights.json``): a workspace scope by its
  ``customerId`` GUID (``Workspaces_Get`` 2022-10-01, ``query_workspace``: ``POST /v1/workspaces/{id}/query``), a
  resource scope resource-centric (``query_resource``: ``POST /v1/{resourceId}/query``, the scope's own rows as the
  rule reads them). The rows are split by the condition's dimension columns as Azure Monitor splits them; confirmed
  when one split holds every delivered acted-on value (columns classified by the same name rules as the delivery's
  dimensions, :mod:`firestop.alerts.indicators`) and — for a static threshold evaluated over one period — breaches
  the threshold.
* **metric alert**: no shipped metric rule splits by a dimension a step acts on (``StatusCode`` only); a delivery
  naming one is not confirmed (:func:`confirm_dimensions` says why: a responder decides).
* activity log alerts: their caller and claims are the Activity Log event's, not compared here (left as before: the
  event could be read back from the Activity Log; noticed, not done).

Not confirmed → the incident's steps wait for a responder (the orchestrator's existing path). Needs
``Microsoft.OperationalInsights/workspaces/read`` and ``…/workspaces/query/read`` (workspace-scoped rules) and
``Microsoft.Insights/logs/read`` (resource-centric queries). Never mocked: the SDK's pipeline, the sandbox as its
transport.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any, Callable

from azure.core.exceptions import AzureError

#: Indicators a step of a shipped playbook can act on (block an IP, throttle or re-filter a deployment, suspend an
#: APIM subscription, remove a principal's role, …): each one a delivery names must be found at the source.
ACTED_ON = ("caller_ips", "principal_ids", "deployments", "apim_subscriptions", "applications", "end_user_ids",
            "user_agents")
#: Log Alerts V2's longest ``windowSize`` (P2D, learn.microsoft.com azure-monitor/alerts/alerts-create-log-alert-rule);
#: a rule saying more is not re-run (not confirmed).
MAX_WINDOW_SECONDS = 2 * 86400
#: Added before and after the fired window (seconds): Azure Monitor runs the query shortly before ``startDateTime``.
WINDOW_SLACK_SECONDS = 60
#: At most this many result rows are read (a split query returns one row per combination).
MAX_ROWS = 20_000
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
    one period, breaches it; else why not. Pure. A value is held by a split when one of its columns classified as
    that kind (:mod:`firestop.alerts.indicators`' name rules) gives it (case-insensitive)."""
    from firestop.alerts.indicators import extract_indicators

    dims = [d.get("name") for d in condition.get("dimensions") or [] if isinstance(d, dict) and isinstance(d.get("name"), str)]
    index = {name: i for i, name in enumerate(columns)}
    keys = [index[d] for d in dims if d in index]
    groups: dict[tuple, list[list[Any]]] = {}
    for row in rows[:MAX_ROWS]:
        if isinstance(row, list):
            groups.setdefault(tuple(str(row[i]) if i < len(row) else None for i in keys), []).append(row)
    measure = condition.get("metricMeasureColumn")
    threshold = condition.get("threshold")
    periods = condition.get("failingPeriods") if isinstance(condition.get("failingPeriods"), dict) else {}
    one_period = int(_number(periods.get("numberOfEvaluationPeriods") or 1)) <= 1
    compare = _OPERATORS.get(str(condition.get("operator")))
    table = [{"name": c} for c in columns]
    for group in groups.values():
        found = extract_indicators({"SearchResults": {"tables": [{"columns": table, "rows": group}]}})
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
            f"({kind} {str(values[0])[:80]!r}{' …' if sum(map(len, wanted.values())) > 1 else ''}) above its threshold")


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
    timespan = (started - timedelta(seconds=window + WINDOW_SLACK_SECONDS), started + timedelta(seconds=WINDOW_SLACK_SECONDS))
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
        return f"the rule's query could not be run again ({f'HTTP {status}' if status else type(exc).__name__} after retries)"


def confirm_dimensions(logs: Callable[[], Any], read_workspace: Callable[[str], dict], alert: dict[str, Any],
                       rule: dict[str, Any], source: dict[str, Any]) -> str | None:
    """None when every :data:`ACTED_ON` indicator ``alert`` (incident input alert JSON) names is confirmed at its
    source (nothing named: nothing to read), else why not. ``rule``: the alert rule's ARM JSON; ``source``: the
    Alerts Management alert (``essentials.startDateTime``); ``logs()`` builds the ``LogsQueryClient`` when needed."""
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
    if kind == "activitylogalerts":
        return None  # the Activity Log event's caller and claims: not compared here (module docstring)
    first = next(iter(wanted))
    return (f"{first} named by a {kind or 'unknown'} alert cannot be confirmed at its source: only a log search "
            "alert's dimensions are re-read")
