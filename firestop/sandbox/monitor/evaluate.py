"""The rule evaluator: Azure Monitor's alerting on the sandbox's virtual clock.

:func:`evaluate(state, now)` runs every enabled rule whose evaluations fell due up to ``now`` and
returns the notifications to deliver (``[Notification]``), oldest first. Per kind:

* **Scheduled query rules** (Log Alerts V2) are evaluated at every multiple of
  ``evaluationFrequency`` (since the Unix epoch) after the evaluator first saw the rule. An
  evaluation at ``t`` releases the rows ingested by ``t`` (``diagnostics.ingestion`` /
  ``activity.ingestion`` after they happened), runs each condition's query with the KQL engine over
  the scope's tables (a workspace, or a resource: the rows it sent, by ``_ResourceId``) limited to
  ``[t - windowSize, t]``, splits the result by the dimension columns, aggregates the
  ``metricMeasureColumn`` (``Count`` = rows) and compares with the threshold; a condition's
  ``resourceIdColumn`` splits by that column too and makes each alert's target the resource id it
  holds (Log Alerts V2 ``Condition.resourceIdColumn``, Microsoft.Insights scheduledQueryRules
  2021-08-01+; a value that is not a resource id leaves the scope as target). A dimension combination
  fires once at least ``minFailingPeriodsToAlert`` of its last ``numberOfEvaluationPeriods``
  evaluations breached; with ``autoMitigate`` it is Resolved at its first evaluation that does
  not breach (sandbox choice: Azure resolves stateful log alerts when the condition is no longer
  met); ``muteActionsDuration`` suppresses re-notification.
* **Activity log alerts** match each Activity Log event as it becomes visible (its
  ``submissionTimestamp``) against ``condition.allOf`` (``field`` ``equals`` case-insensitive,
  ``containsAny``, ``anyOf``; fields ``category``, ``operationName``, ``status``, ``subStatus``,
  ``caller``, ``level``, ``resourceType``, ``resourceGroup``, ``resourceId``, ``properties.<name>``)
  within ``scopes`` (an id prefix of the event's ``resourceId``). Stateless: Fired only
  (corpus ``NOTES.md``: activity log alerts are "always activated").
* **Metric alerts** aggregate the per-minute platform metrics (:mod:`.traffic`) published
  ``metrics.latency`` seconds (default 60) after their minute ends, over ``[t - windowSize, t]``
  every ``evaluationFrequency``. Static thresholds compare directly; dynamic thresholds learn
  from the 12 windows before those the failing periods cover (sandbox approximation — Azure's
  model, trained on days of history, is not public):
  upper bound ``max(mean + k·σ, mean·(1 + k/2), 5)`` with k = 2/3/4 for High/Medium/Low
  sensitivity. Resolved after 3 consecutive healthy evaluations (Azure's documented rule for
  metric alerts), with ``autoMitigate``. A criterion's ``dimensions`` split a metric the sandbox records
  dimensions for (``traffic.RECORDED_DIMENSIONS``: ``AzureOpenAIRequests``) into one time series per
  combination of the listed values (``Include`` the values or ``*``, ``Exclude`` the others), each alerting on its
  own with its values in the payload's ``dimensions``; on the other metrics dimensions are not modelled (one series).

A rule whose action groups do not exist or are disabled still changes state but reaches no
webhook (``Notification.webhooks`` empty): as on Azure, nobody is told.
Evaluation state lives in ``doc["monitor_eval"]`` (rule id -> cursors, history, active alerts).
"""

from __future__ import annotations

import functools
import json
import math
from datetime import datetime, timedelta, timezone
from typing import Any, Optional

from msgspec import Struct, field

from ..activitylog import events as activity
from ..core.clock import due_times, format_utc, parse_utc
from ..core.state import TenantState
from ..logs.kql import KqlError, run_query
from . import models, payloads
from . import traffic
from .traffic import known_tables, metric_series

#: resource-log categories a resource-centric rule reads (Cognitive Services; API Management's GatewayLogs)
LOG_CATEGORIES = ("Audit", "RequestResponse", "Trace", "GatewayLogs")

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
#: at most this many evaluations of one rule per call (a clock jump of days does not loop forever)
MAX_EVALUATIONS = 2000
DEFAULT_METRICS_LATENCY_S = 60.0
_SENSITIVITY = {"High": 2.0, "Medium": 3.0, "Low": 4.0}


class Notification(Struct):
    """One alert state change to deliver: ``payload`` (common schema), the receivers' ``webhooks``
    (``[{"name", "serviceUri", "useCommonAlertSchema"}]``), and why it fired (``explain``)."""

    rule_id: str
    rule_name: str
    kind: str
    condition: str  # Fired | Resolved
    at: datetime
    payload: dict
    webhooks: list[dict] = field(default_factory=list)
    explain: dict = field(default_factory=dict)


def _compare(value: float, operator: str, threshold: float) -> bool:
    return {"GreaterThan": value > threshold, "GreaterThanOrEqual": value >= threshold, "LessThan": value < threshold,
            "LessThanOrEqual": value <= threshold, "Equals": value == threshold}.get(operator, False)


def _aggregate(values: list[float], how: str) -> float:
    if not values:
        return 0.0
    return {"Count": float(len(values)), "Total": float(sum(values)), "Average": sum(values) / len(values),
            "Minimum": min(values), "Maximum": max(values)}.get(how, float(sum(values)))


def _webhooks(state: TenantState, group_ids: list[str]) -> list[dict]:
    hooks: list[dict] = []
    for gid in group_ids:
        group = models.get(state, str(gid))
        props = (group or {}).get("properties") or {}
        if group is None or props.get("enabled") is False:
            continue
        hooks.extend(dict(h) for h in props.get("webhookReceivers") or [])
    return hooks


def _due_times(entry: dict, now: datetime, frequency: float) -> list[datetime]:
    """Evaluation times in ``(last, now]`` on multiples of ``frequency`` since the epoch."""
    return due_times(parse_utc(entry["last"]), now, frequency, cap=MAX_EVALUATIONS)


def evaluate(state: TenantState, now: datetime) -> list[Notification]:
    """Every notification due up to ``now`` (see the module docstring); updates ``doc["monitor_eval"]``."""
    book = state.doc.setdefault("monitor_eval", {})
    out: list[Notification] = []
    rules = models.resources_by_kind(state)  # evaluating rules changes no rule: one listing serves the three kinds
    for rule in rules.get("scheduledQueryRules", []):
        out.extend(_scheduled(state, book, rule, now))
    for rule in rules.get("metricAlerts", []):
        out.extend(_metric(state, book, rule, now))
    for rule in rules.get("activityLogAlerts", []):
        out.extend(_activity(state, book, rule, now))
    activity.release(state, now)
    out.sort(key=lambda n: n.at)
    return out


def _entry(book: dict, rule: dict, now: datetime) -> dict:
    key = rule["id"].lower()
    entry = book.get(key)
    if entry is None:  # (not setdefault: its default, built at every clock move for every rule, is almost never used)
        entry = book[key] = {"last": format_utc(now), "history": {}, "fired": {}, "healthy": {}, "muted_until": {}}
    return entry


# ---------------------------------------------------------------------- scheduled query rules
@functools.lru_cache(maxsize=65536)
def _when(text: Any) -> datetime:
    try:
        return parse_utc(str(text))
    except ValueError:
        return EPOCH


def _scope_tables(state: TenantState, scopes: list, at: datetime, window: float) -> tuple[dict, str]:
    """(tables, workspace customer id) a resource-centric or workspace rule reads at ``at``: only rows whose
    ``TimeGenerated`` lies in ``[at - window, at]`` (the query's time range; pre-filtered so the KQL engine
    reads a window, not the whole table)."""
    start = at - timedelta(seconds=window)
    tables: dict = {}
    customer = ""
    for scope in scopes:
        low = str(scope).rstrip("/").lower()
        direct = [w for w in state.doc["workspaces"].values() if str(w.get("resource_id", "")).lower() == low]
        targets = direct or list({id(w): w for c in LOG_CATEGORIES
                                  for w in models.log_workspaces(state, str(scope), c)}.values())
        for workspace in targets:
            customer = customer or workspace.get("customer_id", "")
            for name, table in workspace["tables"].items():
                names = [c["name"] for c in table["columns"]]
                rid = names.index("_ResourceId") if "_ResourceId" in names else None
                tg = names.index("TimeGenerated") if "TimeGenerated" in names else None
                try:  # the time test first: the cheaper one, and it leaves out most rows (a window of a long history)
                    rows = [r for r in table["rows"]
                            if (tg is None or start <= _when(r[tg]) <= at)
                            and (direct or (rid is not None and str(r[rid]).lower() == low))]
                except TypeError:  # an unhashable time on a row of another resource: the resource test first, as before
                    rows = [r for r in table["rows"]
                            if (direct or (rid is not None and str(r[rid]).lower() == low))
                            and (tg is None or start <= _when(r[tg]) <= at)]
                tables.setdefault(name, {"columns": table["columns"], "rows": []})["rows"].extend(rows)
    if tables:
        for name, table in known_tables().items():
            tables.setdefault(name, table)
    return tables, customer


def _scheduled(state: TenantState, book: dict, rule: dict, now: datetime) -> list[Notification]:
    props = rule.get("properties") or {}
    if props.get("enabled") is False:
        return []
    entry = _entry(book, rule, now)
    frequency = models.duration_seconds(props.get("evaluationFrequency")) or 300.0
    window = models.duration_seconds(props.get("windowSize")) or frequency
    out: list[Notification] = []
    conditions = (props.get("criteria") or {}).get("allOf") or []
    for t in _due_times(entry, now, frequency):
        entry["last"] = format_utc(t)
        activity.release(state, t)
        tables, customer = _scope_tables(state, props.get("scopes") or [], t, window)
        for index, cond in enumerate(conditions):
            dims = [d.get("name") for d in cond.get("dimensions") or [] if isinstance(d, dict) and d.get("name")]
            # resourceIdColumn (Log Alerts V2 condition): one alert per resource id in that column, targeting it
            rid_col = cond.get("resourceIdColumn") if isinstance(cond.get("resourceIdColumn"), str) else None
            if rid_col and rid_col not in dims:
                dims.append(rid_col)
            try:
                # a scope whose resources send nothing has no tables: an empty result, as on Azure
                result = run_query(cond["query"], tables, t, (t - timedelta(seconds=window), t)) if tables else None
            except KqlError as exc:
                entry["error"] = exc.message  # Azure marks the rule unhealthy; nothing fires
                continue
            names = [n for n, _ in result.columns] if result else []
            measure = cond.get("metricMeasureColumn")
            groups: dict[tuple, list[float]] = {}
            for row in (result.rows if result else []):
                values = dict(zip(names, row))
                key = tuple((d, values.get(d)) for d in dims)
                number = values.get(measure) if measure else 1
                groups.setdefault(key, []).append(float(number or 0))
            fired_keys = {tuple(tuple(p) for p in info.get("key", [])) for slot, info in entry.get("fired", {}).items()
                          if slot.startswith(f"{index}:")}
            for key in sorted(set(groups) | fired_keys, key=str):
                value = _aggregate(groups[key], cond.get("timeAggregation", "Count")) if key in groups else 0.0
                breached = key in groups and _compare(value, cond.get("operator", "GreaterThan"), float(cond.get("threshold", 0)))
                out.extend(_transition(state, entry, rule, f"{index}:{key!r}", breached, t, cond.get("failingPeriods"),
                                       lambda condition, at, key=key, value=value, cond=cond, t=t: _log_payload(
                                           state, rule, cond, key, value, t, window, customer),
                                       kind="scheduledQueryRules", explain={"value": value, "window_s": window, "frequency_s": frequency,
                                                                            "dimensions": {d: v for d, v in key if d != rid_col}},
                                       resolve_after=1, key=[list(p) for p in key]))
    return out


def _log_payload(state, rule, cond, key, value, t, window, customer):
    props = rule.get("properties") or {}
    scope = (props.get("scopes") or [""])[0]
    rid_col = cond.get("resourceIdColumn") if isinstance(cond.get("resourceIdColumn"), str) else None
    target = next((str(v) for d, v in key if d == rid_col and isinstance(v, str) and v.startswith("/subscriptions/")), None)
    key = tuple((d, v) for d, v in key if d != rid_col)
    context = payloads.log_alert_context(rule=rule, condition=cond, dimensions=list(key), value=value,
                                         window=(t - timedelta(seconds=window), t), workspace_customer_id=customer,
                                         tenant_id=state.tenant_id, scope=scope)
    return context, target.lower() if target else scope, "Log", "Log Alerts V2", dict((props.get("actions") or {}).get("customProperties") or {})


def _transition(state, entry, rule, slot, breached, t, failing, build, *, kind, explain, resolve_after, key=None) -> list[Notification]:
    """Record one evaluation of one series; the Fired/Resolved notifications it causes."""
    periods = failing or {}
    n = int(periods.get("numberOfEvaluationPeriods", 1) or 1)
    m = int(periods.get("minFailingPeriodsToAlert", 1) or 1)
    history = entry["history"].setdefault(slot, [])
    history.append(bool(breached))
    del history[:-n]
    fired = entry.setdefault("fired", {})
    props = rule.get("properties") or {}
    out: list[Notification] = []
    if slot not in fired and sum(history) >= m:
        instance = f"{rule['id'].lower()}|{slot}|{format_utc(t)}"
        fired[slot] = {"instance": instance, "fired": format_utc(t), "key": key or []}
        entry["healthy"][slot] = 0
        muted = entry["muted_until"].get(slot)
        if muted is None or parse_utc(muted) <= t:
            mute = models.duration_seconds(props.get("muteActionsDuration"))
            if mute:
                entry["muted_until"][slot] = format_utc(t + timedelta(seconds=mute))
            out.append(_notify(state, rule, kind, "Fired", t, instance, build, explain))
    elif slot in fired:
        entry["healthy"][slot] = 0 if breached else entry["healthy"].get(slot, 0) + 1
        if props.get("autoMitigate", True) and entry["healthy"][slot] >= resolve_after:
            info = fired.pop(slot)
            out.append(_notify(state, rule, kind, "Resolved", t, info["instance"], build, explain, fired_at=parse_utc(info["fired"])))
    return out


def _notify(state, rule, kind, condition, t, instance, build, explain, fired_at=None) -> Notification:
    context, target, signal, service, custom = build(condition, t)
    props = rule.get("properties") or {}
    if kind == "activityLogAlerts":
        groups = [g.get("actionGroupId") for g in (props.get("actions") or {}).get("actionGroups") or [] if isinstance(g, dict)]
    elif kind == "metricAlerts":
        groups = [a.get("actionGroupId") for a in props.get("actions") or [] if isinstance(a, dict)]
    else:
        groups = list((props.get("actions") or {}).get("actionGroups") or [])
    payload = payloads.envelope(rule=rule, subscription_id=state.subscription_id, instance=instance, signal_type=signal,
                                monitoring_service=service, target=target, fired_at=fired_at or t, condition=condition,
                                resolved_at=t if condition == "Resolved" else None, context=context, custom=custom)
    return Notification(rule_id=rule["id"], rule_name=rule["name"], kind=kind, condition=condition, at=t, payload=payload,
                        webhooks=_webhooks(state, groups), explain=dict(explain))


# ---------------------------------------------------------------------- metric alerts
def _split_series(state: TenantState, scope: str, crit: dict) -> Optional[dict[tuple, dict[str, float]]]:
    """The criterion's time series split by its dimensions: ``{((name, value), …): {minute: value}}``; ``None`` when it
    names no dimension or its metric has none recorded (:func:`traffic.recorded_dimensions`): one series, as before.

    Each dimension of the criterion splits (metric alerts monitor every combination of the listed values as its own
    time series); ``Include`` keeps the listed values (``*``: all), ``Exclude`` the others, compared case-insensitively.
    A dimension the sandbox does not record has no value: ``*`` keeps it as one series, named values keep nothing."""
    dims = [d for d in crit.get("dimensions") or [] if isinstance(d, dict) and d.get("name")]
    recorded = traffic.recorded_dimensions(str(crit.get("metricName", "")))
    if not dims or not recorded:
        return None
    out: dict[tuple, dict[str, float]] = {}
    for minute, values, count in traffic.metric_split(state, scope, str(crit.get("metricName", ""))):
        lowered = {k.lower(): v for k, v in values.items()}
        key = []
        for dim in dims:
            value = lowered.get(str(dim["name"]).lower())
            wanted = [str(v).lower() for v in dim.get("values") or []]
            listed = "*" in wanted or (value is not None and value.lower() in wanted)
            keep = not listed if str(dim.get("operator", "Include")).lower() == "exclude" else listed
            if not keep:
                break
            key.append((str(dim["name"]), value or ""))
        else:
            series = out.setdefault(tuple(key), {})
            series[minute] = series.get(minute, 0.0) + count
    return out


def _metric(state: TenantState, book: dict, rule: dict, now: datetime) -> list[Notification]:
    props = rule.get("properties") or {}
    if props.get("enabled") is False:
        return []
    entry = _entry(book, rule, now)
    frequency = models.duration_seconds(props.get("evaluationFrequency")) or 60.0
    window = models.duration_seconds(props.get("windowSize")) or 300.0
    latency = state.latency.get("metrics.latency", DEFAULT_METRICS_LATENCY_S)
    out: list[Notification] = []
    for t in _due_times(entry, now, frequency):
        entry["last"] = format_utc(t)
        for scope in props.get("scopes") or []:
            for index, crit in enumerate((props.get("criteria") or {}).get("allOf") or []):
                base_slot = f"{scope.lower()}|{index}"
                split = _split_series(state, scope, crit)
                if split is None:
                    serieses = {(): metric_series(state, scope, crit.get("metricName", ""))}
                else:  # every combination with data, and every one still fired (so it can resolve when its data stops)
                    serieses = dict(split)
                    for slot, info in (entry.get("fired") or {}).items():
                        if slot.startswith(base_slot + "|"):
                            serieses.setdefault(tuple(tuple(pair) for pair in info.get("key") or []), {})
                for dims_key, series in sorted(serieses.items()):
                    out.extend(_metric_series(state, entry, rule, scope, crit, series, dims_key,
                                              f"{base_slot}|{json.dumps(dims_key)}" if split is not None else base_slot,
                                              t, window=window, frequency=frequency, latency=latency))
    return out


def _metric_series(state, entry, rule, scope, crit, series, dims_key, slot, t, *, window, frequency, latency) -> list[Notification]:
    """One evaluation at ``t`` of one time series (``{minute: value}``) of a metric criterion; its notifications."""
    def window_values(end: datetime) -> list[float]:
        start = end - timedelta(seconds=window)
        return [v for minute, v in series.items()
                if start <= parse_utc(minute) < end and parse_utc(minute) + timedelta(seconds=60 + latency) <= t]

    how = crit.get("timeAggregation", "Total")
    value = _aggregate(window_values(t), how)
    if crit.get("criterionType") == "DynamicThresholdCriterion":
        # learn from the 12 windows before the ones the failing periods look at (a spike does not teach itself)
        skip = int((crit.get("failingPeriods") or {}).get("numberOfEvaluationPeriods", 1) or 1)
        base = [_aggregate(window_values(t - timedelta(seconds=window * (i + skip))), how) for i in range(12)]
        mean = sum(base) / len(base)
        sigma = math.sqrt(sum((b - mean) ** 2 for b in base) / len(base))
        k = _SENSITIVITY.get(crit.get("alertSensitivity", "Medium"), 3.0)
        threshold = max(mean + k * sigma, mean * (1 + k / 2), 5.0)
        operator = "GreaterThan" if crit.get("operator") in (None, "GreaterThan", "GreaterOrLessThan") else "LessThan"
        failing = crit.get("failingPeriods")
    else:
        threshold = float(crit.get("threshold", 0))
        operator = crit.get("operator", "GreaterThan")
        failing = None
    breached = _compare(value, operator, threshold)
    dimensions = [{"name": name, "value": v} for name, v in dims_key]
    return _transition(
        state, entry, rule, slot, breached, t, failing,
        lambda condition, at: (
            payloads.metric_alert_context(rule=rule, criterion=crit, value=value, threshold=threshold,
                                          window=(t - timedelta(seconds=window), t), dimensions=dimensions),
            scope, "Metric", "Platform", _metric_custom(rule)),
        kind="metricAlerts", explain={"value": value, "threshold": threshold, "window_s": window, "frequency_s": frequency,
                                      "metric": crit.get("metricName"), **({"dimensions": dimensions} if dimensions else {})},
        resolve_after=3, key=[list(pair) for pair in dims_key])


def _metric_custom(rule: dict) -> dict:
    for action in (rule.get("properties") or {}).get("actions") or []:
        if isinstance(action, dict) and action.get("webHookProperties"):
            return dict(action["webHookProperties"])
    return {}


# ---------------------------------------------------------------------- activity log alerts
def _field(event: dict, name: str) -> Any:
    low = name.lower()
    if low.startswith("properties."):
        return (event.get("properties") or {}).get(name.split(".", 1)[1])
    mapping = {"category": ("category", "value"), "operationname": ("operationName", "value"), "status": ("status", "value"),
               "substatus": ("subStatus", "value"), "resourcetype": ("resourceType", "value"), "level": ("level", None),
               "caller": ("caller", None), "resourcegroup": ("resourceGroupName", None), "resourceid": ("resourceId", None)}
    key, sub = mapping.get(low, (name, None))
    value = event.get(key)
    return (value or {}).get(sub) if sub and isinstance(value, dict) else value


def _condition_holds(event: dict, cond: dict) -> bool:
    if "anyOf" in cond:
        return any(_condition_holds(event, c) for c in cond.get("anyOf") or [] if isinstance(c, dict))
    value = _field(event, str(cond.get("field", "")))
    text = "" if value is None else (value if isinstance(value, str) else str(value))
    if "containsAny" in cond:
        return any(str(v).lower() in text.lower() for v in cond.get("containsAny") or [])
    return text.lower() == str(cond.get("equals", "")).lower()


def _activity(state: TenantState, book: dict, rule: dict, now: datetime) -> list[Notification]:
    props = rule.get("properties") or {}
    if props.get("enabled") is False:
        return []
    entry = _entry(book, rule, now)
    last = parse_utc(entry["last"])
    entry["last"] = format_utc(now)
    scopes = [str(s).rstrip("/").lower() for s in props.get("scopes") or []]
    out: list[Notification] = []
    for item in state.doc.get("activity_log", []):
        visible = parse_utc(item["visible_at"])
        if not last < visible <= now:
            continue
        event = item["event"]
        rid = str(event.get("resourceId", "")).lower()
        if scopes and not any(rid == s or rid.startswith(s + "/") for s in scopes):
            continue
        if not all(_condition_holds(event, c) for c in (props.get("condition") or {}).get("allOf") or [] if isinstance(c, dict)):
            continue
        custom = next((g.get("webhookProperties") for g in (props.get("actions") or {}).get("actionGroups") or []
                       if isinstance(g, dict) and g.get("webhookProperties")), {}) or {}
        category = (event.get("category") or {}).get("value", "Administrative")
        instance = f"{rule['id'].lower()}|{event.get('eventDataId')}"
        out.append(_notify(state, rule, "activityLogAlerts", "Fired", visible, instance,
                           lambda condition, at, event=event, category=category, custom=custom: (
                               payloads.activity_alert_context(event), event.get("resourceId", ""), "Activity Log",
                               f"Activity Log - {category}", dict(custom)),
                           {"event_at": event.get("eventTimestamp"), "submitted_at": event.get("submissionTimestamp"),
                            "operation": (event.get("operationName") or {}).get("value")}))
    return out
