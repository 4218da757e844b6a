"""Azure Monitor state and the room's Python API.

State: lower-case ARM id -> ``{id, name, type, apiVersion, location?, tags?, kind?, properties}``
in ``doc["monitor"]`` (seeded or PUT through the routes) and ``doc["deployed_resources"]`` (what
ARM template deployments write), read as one: rules and settings deployed by a template are
live exactly like those PUT through the SDK.

Python API (small on purpose; everything else goes through the ARM routes):

* :func:`resources(state, kind)` — the stored resources of one kind (``KINDS`` key); :func:`resources_by_kind`
  all of them by kind, in one pass;
* :func:`diagnostic_settings(state, resource_id)` — the settings on one resource;
* :func:`log_workspaces(state, resource_id, category)` — the workspaces (``doc["workspaces"]``
  entries) that receive log ``category`` (``Audit``, ``RequestResponse``, ``Trace``) of a
  resource through an enabled diagnostic setting (``category`` or ``categoryGroup``
  ``allLogs``/``audit``); empty list = the rows are never written (no setting, no rows);
* :func:`log_destinations(state, resource_id, category)` — the same, each with whether its setting's
  ``logAnalyticsDestinationType`` is ``Dedicated`` (resource-specific tables, e.g. API Management's
  ``ApiManagementGatewayLogs``) or not (the ``AzureDiagnostics`` table);
* :func:`metrics_exported(state, resource_id)` — ``AllMetrics`` enabled by some setting;
* :func:`validate(kind, body)` — ``None`` or the message of ARM's 400 for a bad body.

Shapes and limits: REST specs ``monitor/resource-manager/Microsoft.Insights`` —
``actionGroups_API.json`` (2023-01-01: ``groupShortName`` ≤ 12 characters,
``webhookReceivers[{name, serviceUri, useCommonAlertSchema}]``), ``scheduledQueryRule_API.json``
(2023-12-01: ``evaluationFrequency``, ``windowSize``, ``criteria.allOf[{query, timeAggregation,
metricMeasureColumn, operator, threshold, dimensions, failingPeriods}]``, ``severity`` 0–4),
``activityLogAlerts_API.json`` (2020-10-01: ``condition.allOf[{field, equals | anyOf}]``),
``metricAlert_API.json`` (2018-03-01: ``criteria.allOf[{criterionType, metricName, operator,
threshold | alertSensitivity, timeAggregation}]``), ``diagnosticsSettings_API.json``
(2021-05-01-preview: ``workspaceId``, ``logs[{category | categoryGroup, enabled}]``,
``metrics[{category, enabled}]``).
"""

from __future__ import annotations

import functools
import re
from typing import Any, Optional

from ..core.state import TenantState

INSIGHTS = "Microsoft.Insights"
#: kind (the REST path segment) -> ARM type as ARM answers it
KINDS = {
    "actionGroups": "Microsoft.Insights/ActionGroups",
    "scheduledQueryRules": "Microsoft.Insights/scheduledQueryRules",
    "activityLogAlerts": "Microsoft.Insights/ActivityLogAlerts",
    "metricAlerts": "Microsoft.Insights/metricAlerts",
    "diagnosticSettings": "Microsoft.Insights/diagnosticSettings",
}
#: lower-case ARM type -> kind (``kind_of``: the evaluator asks for every stored resource at every clock move)
_KIND_OF_TYPE = {rtype.lower(): kind for kind, rtype in KINDS.items()}
#: categoryGroup -> the Cognitive Services categories it covers (diagnostic-settings.md "category groups")
CATEGORY_GROUPS = {"alllogs": {"audit", "requestresponse", "trace"}, "audit": {"audit"}}
_DURATION = re.compile(r"^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$", re.IGNORECASE)
OPERATORS = {"Equals", "GreaterThan", "GreaterThanOrEqual", "LessThan", "LessThanOrEqual"}
DYNAMIC_OPERATORS = {"GreaterThan", "LessThan", "GreaterOrLessThan"}
AGGREGATIONS = {"Count", "Average", "Minimum", "Maximum", "Total"}
#: The platform metrics the sandbox records for a Cognitive Services account (``traffic.METRIC_NAMES``) -> the
#: dimensions Azure offers on each, to filter or split on. Source: Microsoft Learn, "Supported metrics for
#: Microsoft.CognitiveServices/accounts" (also in "Azure OpenAI monitoring data reference"), columns "Name in REST
#: API" and "Dimensions". ARM refuses a metric alert whose criterion names another dimension (metric validation,
#: unless ``skipMetricValidation``); so does the sandbox. ``ClientErrors`` has no ``StatusCode``: a rule cannot be
#: narrowed to 401/403 on it (RT6-01). ``AzureOpenAIRequests`` (category "Azure OpenAI - HTTP Requests", the metric
#: Microsoft recommends for Azure OpenAI; unit Count, aggregation Total (Sum), PT1M) has one: its row as of the page's
#: 2025-04-16 revision (MicrosoftDocs/azure-monitor-docs, articles/azure-monitor/reference/supported-metrics/
#: microsoft-cognitiveservices-accounts-metrics.md).
COGNITIVE_SERVICES_NAMESPACE = "microsoft.cognitiveservices/accounts"
METRIC_DIMENSIONS = {
    "TotalCalls": ("ApiName", "OperationName", "Region", "RatelimitKey"),
    "SuccessfulCalls": ("ApiName", "OperationName", "Region", "RatelimitKey"),
    "ClientErrors": ("ApiName", "OperationName", "Region", "RatelimitKey"),
    "RAIRejectedRequests": ("Region", "ModelDeploymentName", "ModelName", "ModelVersion", "ApiName", "TextType", "Category"),
    "RAIAbusiveUsersCount": ("Region", "ModelDeploymentName"),
    "AzureOpenAIRequests": ("ApiName", "OperationName", "Region", "StreamType", "ModelDeploymentName", "ModelName", "ModelVersion",
                            "StatusCode", "IsSpillover", "ServiceTierRequest", "ServiceTierResponse"),
}
_METRIC_DIMENSIONS = {name.lower(): {d.lower() for d in dims} for name, dims in METRIC_DIMENSIONS.items()}


def metric_dimension_problem(where: str, crit: dict) -> Optional[str]:
    """ARM's 400 message when ``crit`` (a metric alert criterion) names a dimension its metric does not have, else None.

    Only the Cognitive Services metrics of :data:`METRIC_DIMENSIONS` are checked (``metricNamespace`` absent or
    ``Microsoft.CognitiveServices/accounts``); ``skipMetricValidation: true`` skips the check, as on Azure.
    """
    namespace = str(crit.get("metricNamespace") or COGNITIVE_SERVICES_NAMESPACE).lower()
    known = _METRIC_DIMENSIONS.get(str(crit.get("metricName") or "").lower())
    if namespace != COGNITIVE_SERVICES_NAMESPACE or known is None or crit.get("skipMetricValidation") is True:
        return None
    for j, dim in enumerate(crit.get("dimensions") or []):
        name = str(dim.get("name") or "") if isinstance(dim, dict) else ""
        if name.lower() not in known:
            offered = next(dims for metric, dims in METRIC_DIMENSIONS.items() if metric.lower() == str(crit["metricName"]).lower())
            return (f"{where}.dimensions[{j}]: metric {crit['metricName']!r} has no dimension {name!r}; "
                    f"its dimensions are {', '.join(offered)}.")
    return None


def kind_of(resource: dict) -> Optional[str]:
    """The ``KINDS`` key of a stored resource (case-insensitive type), else ``None``."""
    return _KIND_OF_TYPE.get(str(resource.get("type", "")).lower())


def _maps(state: TenantState) -> tuple[dict, dict]:
    return state.doc.setdefault("monitor", {}), state.doc.get("deployed_resources", {})


def resources(state: TenantState, kind: str) -> list[dict]:
    """Every stored resource of ``kind`` (``KINDS`` key): seeded/PUT ones, then template-deployed ones."""
    own, deployed = _maps(state)
    return [r for r in [*own.values(), *deployed.values()] if kind_of(r) == kind]


def resources_by_kind(state: TenantState) -> dict[str, list[dict]]:
    """``{kind: resources(state, kind)}`` for every kind held, in one pass over the stored resources (the alert
    evaluator asks for three kinds at every clock move)."""
    own, deployed = _maps(state)
    out: dict[str, list[dict]] = {}
    for resource in [*own.values(), *deployed.values()]:
        kind = kind_of(resource)
        if kind is not None:
            out.setdefault(kind, []).append(resource)
    return out


def get(state: TenantState, resource_id: str) -> Optional[dict]:
    own, deployed = _maps(state)
    return own.get(resource_id.lower()) or deployed.get(resource_id.lower())


#: The alert rule types whose GET answers when the rule last changed (A13-09), lower-case.
_RULE_TYPES = ("microsoft.insights/scheduledqueryrules", "microsoft.insights/metricalerts",
               "microsoft.insights/activitylogalerts")


def stamp(resource: dict, previous: Optional[dict], now: str, who: str) -> None:
    """Set an alert rule's modification times on create/update, as Azure answers them (A13-09): ARM's common
    ``systemData`` (``createdAt``/``createdBy`` kept from ``previous``, ``lastModifiedAt`` = ``now``, the sandbox clock's
    ISO 8601 UTC; azure-rest-api-specs ``common-types/resource-management/v2/types.json#/definitions/systemData``, which
    ``scheduledQueryRule_API.json`` 2023-12-01 references), and a metric alert's read-only
    ``properties.lastUpdatedTime`` (``metricAlert_API.json`` 2018-03-01, ``MetricAlertProperties``). Other types are
    left as they are. Mutates ``resource``."""
    kind = str(resource.get("type") or "").lower()
    if kind not in _RULE_TYPES:
        return
    before = (previous or {}).get("systemData") if isinstance((previous or {}).get("systemData"), dict) else {}
    resource["systemData"] = {
        "createdBy": before.get("createdBy", who), "createdByType": before.get("createdByType", "User"),
        "createdAt": before.get("createdAt", now),
        "lastModifiedBy": who, "lastModifiedByType": "User", "lastModifiedAt": now,
    }
    if kind == "microsoft.insights/metricalerts" and isinstance(resource.get("properties"), dict):
        resource["properties"]["lastUpdatedTime"] = now


def put(state: TenantState, resource: dict) -> None:
    """Store ``resource`` (replacing a template-deployed one of the same id in place)."""
    own, deployed = _maps(state)
    key = resource["id"].lower()
    (deployed if key in deployed else own)[key] = resource


def delete(state: TenantState, resource_id: str) -> bool:
    own, deployed = _maps(state)
    key = resource_id.lower()
    return (own.pop(key, None) is not None) | (deployed.pop(key, None) is not None)


def diagnostic_settings(state: TenantState, resource_id: str) -> list[dict]:
    """The diagnostic settings whose id is ``{resource_id}/providers/Microsoft.Insights/diagnosticSettings/…``."""
    prefix = resource_id.rstrip("/").lower() + "/providers/microsoft.insights/diagnosticsettings/"
    own, deployed = _maps(state)
    return [r for key, r in [*own.items(), *deployed.items()] if key.startswith(prefix)]


def _workspace_by_arm_id(state: TenantState, workspace_id: str) -> Optional[dict]:
    wanted = str(workspace_id or "").rstrip("/").lower()
    return next((w for w in state.doc["workspaces"].values() if str(w.get("resource_id", "")).lower() == wanted), None)


def log_workspaces(state: TenantState, resource_id: str, category: str) -> list[dict]:
    """Workspaces receiving log ``category`` of ``resource_id`` (deduplicated, setting order)."""
    found: list[dict] = []
    for workspace, _ in log_destinations(state, resource_id, category):
        if workspace not in found:
            found.append(workspace)
    return found


def log_destinations(state: TenantState, resource_id: str, category: str) -> list[tuple[dict, bool]]:
    """``[(workspace, dedicated)]`` receiving log ``category`` of ``resource_id`` (setting order, one entry per
    workspace and mode): ``dedicated`` when the setting's ``logAnalyticsDestinationType`` is ``Dedicated``
    (resource-specific tables), else the rows go to ``AzureDiagnostics`` (diagnosticsSettings_API.json:
    "A string indicating whether the export to Log Analytics should use the default destination type, i.e.
    AzureDiagnostics, or use a destination type")."""
    found: list[tuple[dict, bool]] = []
    cat = category.lower()
    for setting in diagnostic_settings(state, resource_id):
        props = setting.get("properties") or {}
        enabled = {str(l.get("category") or "").lower() for l in props.get("logs") or [] if l.get("enabled")}
        for entry in props.get("logs") or []:
            if entry.get("enabled") and entry.get("categoryGroup"):
                enabled |= CATEGORY_GROUPS.get(str(entry["categoryGroup"]).lower(), set())
        workspace = _workspace_by_arm_id(state, props.get("workspaceId", ""))
        dedicated = str(props.get("logAnalyticsDestinationType") or "").lower() == "dedicated"
        if cat in enabled and workspace is not None and not any(w is workspace and d == dedicated for w, d in found):
            found.append((workspace, dedicated))
    return found


def metrics_exported(state: TenantState, resource_id: str) -> bool:
    """True when a diagnostic setting on ``resource_id`` enables ``AllMetrics``."""
    return any(
        m.get("enabled") and str(m.get("category", "")).lower() == "allmetrics"
        for s in diagnostic_settings(state, resource_id)
        for m in (s.get("properties") or {}).get("metrics") or []
    )


def duration_seconds(text: Any) -> Optional[float]:
    """ISO 8601 ``PnDTnHnMnS`` -> seconds, ``None`` if not one.

    Texts up to 40 characters are kept (``functools.lru_cache``, 1,024; pure: str in, float or None out): the
    evaluator reads each rule's ``evaluationFrequency`` and ``windowSize`` at every clock move (~2 per rule per
    move, ~7,000 per tabletop scenario)."""
    text = str(text or "")
    return _duration_seconds(text) if len(text) <= 40 else _parse_duration(text)


@functools.lru_cache(maxsize=1024)
def _duration_seconds(text: str) -> Optional[float]:
    return _parse_duration(text)


def _parse_duration(text: str) -> Optional[float]:
    match = _DURATION.match(text)
    if not match or not any(match.groups()):
        return None
    d, h, m, s = (int(g or 0) for g in match.groups())
    return float(((d * 24 + h) * 60 + m) * 60 + s)


def _need(props: dict, *names: str) -> Optional[str]:
    for name in names:
        if props.get(name) in (None, "", []):
            return f"The property 'properties.{name}' is required."
    return None


def validate(kind: str, body: Any) -> Optional[str]:
    """``None`` when ``body`` (a PUT body) is acceptable, else the 400 message naming the field."""
    if not isinstance(body, dict) or not isinstance(body.get("properties"), dict):
        return "The request body must be a JSON object with 'properties'."
    props = body["properties"]
    if kind == "actionGroups":
        problem = _need(props, "groupShortName")
        if problem:
            return problem
        if len(str(props["groupShortName"])) > 12:
            return "The property 'properties.groupShortName' must be at most 12 characters."
        for i, hook in enumerate(props.get("webhookReceivers") or []):
            if not isinstance(hook, dict) or not hook.get("name") or not str(hook.get("serviceUri", "")).startswith(("https://", "http://")):
                return f"properties.webhookReceivers[{i}] needs a name and an http(s) serviceUri."
        return None
    if kind == "diagnosticSettings":
        if not any(props.get(k) for k in ("workspaceId", "storageAccountId", "eventHubAuthorizationRuleId", "marketplacePartnerId")):
            return "A diagnostic setting needs a destination: 'properties.workspaceId' (or storage, event hub, partner)."
        for i, entry in enumerate(props.get("logs") or []):
            if not isinstance(entry, dict) or not (entry.get("category") or entry.get("categoryGroup")) or "enabled" not in entry:
                return f"properties.logs[{i}] needs 'category' or 'categoryGroup' and 'enabled'."
        return None
    problem = _need(props, "scopes")
    if problem:
        return problem
    if kind == "scheduledQueryRules":
        problem = _need(props, "evaluationFrequency", "windowSize", "criteria")
        if problem:
            return problem
        for name in ("evaluationFrequency", "windowSize", "muteActionsDuration"):
            if name in props and duration_seconds(props[name]) is None:
                return f"The property 'properties.{name}' must be an ISO 8601 duration such as 'PT5M' (got {props[name]!r})."
        severity = props.get("severity", 3)
        if not isinstance(severity, int) or isinstance(severity, bool) or not 0 <= severity <= 4:
            return "The property 'properties.severity' must be 0 to 4."
        all_of = (props["criteria"] or {}).get("allOf") if isinstance(props["criteria"], dict) else None
        if not isinstance(all_of, list) or not all_of:
            return "The property 'properties.criteria.allOf' must list at least one condition."
        for i, cond in enumerate(all_of):
            where = f"properties.criteria.allOf[{i}]"
            if not isinstance(cond, dict) or not isinstance(cond.get("query"), str) or not cond["query"].strip():
                return f"{where}.query is required."
            if cond.get("timeAggregation") not in AGGREGATIONS:
                return f"{where}.timeAggregation must be one of {sorted(AGGREGATIONS)}."
            if cond.get("timeAggregation") != "Count" and not cond.get("metricMeasureColumn"):
                return f"{where}.metricMeasureColumn is required with timeAggregation {cond.get('timeAggregation')!r}."
            if cond.get("operator") not in OPERATORS or not isinstance(cond.get("threshold"), (int, float)):
                return f"{where} needs an operator in {sorted(OPERATORS)} and a numeric threshold."
        return None
    if kind == "activityLogAlerts":
        all_of = ((props.get("condition") or {}).get("allOf")) if isinstance(props.get("condition"), dict) else None
        if not isinstance(all_of, list) or not all_of:
            return "The property 'properties.condition.allOf' must list at least one condition."
        for i, cond in enumerate(all_of):
            if not isinstance(cond, dict) or not ((cond.get("field") and "equals" in cond) or cond.get("anyOf") or (cond.get("field") and cond.get("containsAny"))):
                return f"properties.condition.allOf[{i}] needs 'field' with 'equals'/'containsAny', or 'anyOf'."
        if not any(isinstance(c, dict) and str(c.get("field", "")).lower() == "category" for c in all_of):
            return "An activity log alert needs a condition on 'category' (Administrative, Security, Policy, ServiceHealth, …)."
        return None
    if kind == "metricAlerts":
        problem = _need(props, "evaluationFrequency", "windowSize", "criteria")
        if problem:
            return problem
        for name in ("evaluationFrequency", "windowSize"):
            if duration_seconds(props[name]) is None:
                return f"The property 'properties.{name}' must be an ISO 8601 duration such as 'PT1M' (got {props[name]!r})."
        all_of = (props["criteria"] or {}).get("allOf") if isinstance(props["criteria"], dict) else None
        if not isinstance(all_of, list) or not all_of:
            return "The property 'properties.criteria.allOf' must list at least one criterion."
        for i, crit in enumerate(all_of):
            where = f"properties.criteria.allOf[{i}]"
            if not isinstance(crit, dict) or not crit.get("metricName") or crit.get("timeAggregation") not in AGGREGATIONS:
                return f"{where} needs metricName and a timeAggregation in {sorted(AGGREGATIONS)}."
            problem = metric_dimension_problem(where, crit)
            if problem:
                return problem
            if crit.get("criterionType") == "DynamicThresholdCriterion":
                if crit.get("operator") not in DYNAMIC_OPERATORS or crit.get("alertSensitivity") not in ("Low", "Medium", "High"):
                    return f"{where}: a dynamic threshold needs operator {sorted(DYNAMIC_OPERATORS)} and alertSensitivity Low/Medium/High."
            elif crit.get("operator") not in OPERATORS or not isinstance(crit.get("threshold"), (int, float)):
                return f"{where} needs an operator in {sorted(OPERATORS)} and a numeric threshold."
        return None
    return f"Unknown Microsoft.Insights kind {kind!r}."


#: How long before its alert fired a rule :func:`register_rule_of` stores was last written (seconds): it existed, as it
#: is, at least over the window it evaluated (the shipped rules' windows are at most an hour).
REGISTERED_BEFORE_FIRE_SECONDS = 3600


def register_rule_of(state: TenantState, payload: Any, now: Any = None) -> Optional[str]:
    """Azure Monitor fires an alert only from an alert rule: when a Common Alert Schema ``payload`` fired by hand
    (:meth:`firestop.sandbox.Tenant.fire_alert`: ``alert handle``, tabletop scenarios) names by ``alertRuleID`` a
    metric, scheduled query or activity log alert rule this tenant does not hold, store one that routes as the payload
    does (its ``customProperties`` as the rule's webhook / custom properties: metricAlerts 2018-03-01
    ``actions[].webHookProperties``, scheduledQueryRules 2023-12-01 ``actions.customProperties``, activityLogAlerts
    2020-10-01 ``actions.actionGroups[].webhookProperties``), disabled (it has no criteria to evaluate). A rule the
    tenant holds is never changed. Its modification times (:func:`stamp`) are :data:`REGISTERED_BEFORE_FIRE_SECONDS`
    before the payload's ``firedDateTime`` (else ``now``, the sandbox clock's aware ``datetime``): it fired as it
    is (A13-09). Returns the id registered, else None."""
    if not isinstance(payload, dict) or not isinstance(payload.get("data"), dict):
        return None
    essentials = payload["data"].get("essentials") if isinstance(payload["data"].get("essentials"), dict) else {}
    rule_id = essentials.get("alertRuleID")
    parts = rule_id.split("/") if isinstance(rule_id, str) else []
    if len(parts) != 9 or parts[1].lower() != "subscriptions" or parts[5].lower() != "providers" or parts[6].lower() != "microsoft.insights":
        return None
    kind = next((k for k in ("metricAlerts", "scheduledQueryRules", "activityLogAlerts") if k.lower() == parts[7].lower()), None)
    if kind is None or get(state, rule_id) is not None:
        return None
    custom = payload["data"].get("customProperties")
    custom = {str(k): str(v) for k, v in custom.items()} if isinstance(custom, dict) else {}
    actions: Any
    if kind == "metricAlerts":
        actions = [{"actionGroupId": None, "webHookProperties": custom}]
    elif kind == "scheduledQueryRules":
        actions = {"actionGroups": [], "customProperties": custom}
    else:
        actions = {"actionGroups": [{"actionGroupId": None, "webhookProperties": custom}]}
    properties = {"enabled": False, "actions": actions, "description": "registered by fire_alert"}
    if kind == "scheduledQueryRules":
        properties.update(_log_criteria_of(payload["data"], essentials))
    elif kind == "metricAlerts":
        properties.update(_metric_criteria_of(payload["data"], essentials))
    else:
        properties.update(_activity_condition_of(payload["data"]))
    rule = {"id": rule_id, "name": parts[8], "type": KINDS[kind], "location": "global", "properties": properties}
    from datetime import timedelta

    from ..core.clock import format_utc, parse_utc

    try:
        fired = parse_utc(str(essentials.get("firedDateTime")))
    except (TypeError, ValueError):
        fired = now
    if fired is not None:
        stamp(rule, None, format_utc(fired - timedelta(seconds=REGISTERED_BEFORE_FIRE_SECONDS)), "sandbox-seed")
    put(state, rule)
    return rule_id



def _activity_condition_of(data: dict) -> dict:
    """An activity log alert rule's ``condition`` (activityLogAlerts 2020-10-01 ``allOf[{field, equals}]``) as a fired
    payload's ``alertContext`` gives it: its category (``eventSource``) and its ``operationName``; ``{}`` when the
    context names no operation (verify13: the source check holds the event to the rule's condition)."""
    context = data.get("alertContext") if isinstance(data.get("alertContext"), dict) else {}
    operation = context.get("operationName")
    if not isinstance(operation, str) or not operation.strip():
        return {}
    category = context.get("eventSource") if isinstance(context.get("eventSource"), str) else "Administrative"
    return {"condition": {"allOf": [{"field": "category", "equals": category},
                                    {"field": "operationName", "equals": operation}]}}


def _fired_condition(data: dict, essentials: dict, field: str) -> tuple[dict, list[dict], list[str]]:
    """A fired payload's ``alertContext.condition`` (``{}`` when absent), those of its ``allOf`` criteria whose
    ``field`` is a string, and the alert's string ``alertTargetIDs``."""
    context = data.get("alertContext") if isinstance(data.get("alertContext"), dict) else {}
    condition = context.get("condition") if isinstance(context.get("condition"), dict) else {}
    items = [c for c in condition.get("allOf") or [] if isinstance(c, dict) and isinstance(c.get(field), str)]
    targets = [t for t in essentials.get("alertTargetIDs") or [] if isinstance(t, str)]
    return condition, items, targets


def _with_dimensions_and_threshold(criterion: dict, fired: dict) -> dict:
    """``criterion`` with the fired criterion's dimension names split on every value (``Include`` ``*``) and its
    threshold as a float when it reads as one."""
    criterion["dimensions"] = [{"name": d["name"], "operator": "Include", "values": ["*"]}
                               for d in fired.get("dimensions") or [] if isinstance(d, dict) and isinstance(d.get("name"), str)]
    try:
        criterion["threshold"] = float(fired["threshold"])
    except (KeyError, TypeError, ValueError):
        pass
    return criterion

def _metric_criteria_of(data: dict, essentials: dict) -> dict:
    """A metric alert rule's ``scopes``, ``windowSize`` and ``criteria`` (metricAlerts 2018-03-01, static thresholds)
    as a fired payload's ``alertContext.condition`` gives them (its dimensions' names split every value); ``{}`` when
    the payload names no metric. What the source check reads the metric with for an alert fired by hand."""
    condition, items, targets = _fired_condition(data, essentials, "metricName")
    if not items or not targets:
        return {}
    all_of = [_with_dimensions_and_threshold(
        {"criterionType": "StaticThresholdCriterion", "name": f"criterion{index + 1}", "metricName": c["metricName"],
         **{k: c[k] for k in ("metricNamespace", "operator", "timeAggregation") if k in c}}, c)
        for index, c in enumerate(items)]
    return {"scopes": [targets[0]], "windowSize": str(condition.get("windowSize") or "PT5M"),
            "criteria": {"odata.type": "Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria", "allOf": all_of}}


def _log_criteria_of(data: dict, essentials: dict) -> dict:
    """A Log Alerts V2 rule's ``scopes``, ``windowSize`` and ``criteria`` (scheduledQueryRules 2023-12-01) as a fired
    payload's ``alertContext.condition`` gives them (``allOf[].searchQuery`` → ``query``; its first target as the
    scope, resource-centric); ``{}`` when the payload carries no query. What the source check re-runs for the
    dimensions of an alert fired by hand (``alert handle``, tests)."""
    condition, items, targets = _fired_condition(data, essentials, "searchQuery")
    if not items or not targets:
        return {}
    keep = ("metricMeasureColumn", "timeAggregation", "operator", "failingPeriods")
    all_of = [_with_dimensions_and_threshold({"query": c["searchQuery"], **{k: c[k] for k in keep if k in c}}, c)
              for c in items]
    return {"scopes": [targets[0]], "windowSize": str(condition.get("windowSize") or "PT5M"), "criteria": {"allOf": all_of}}
