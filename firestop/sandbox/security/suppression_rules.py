"""ARM: Microsoft.Security alerts suppression rules (REST 2019-01-01-preview) — Defender for Cloud dismissing its own
alerts as it raises them (RT20-04).

Source: Azure/azure-rest-api-specs ``specification/security/resource-manager/Microsoft.Security/preview/
2019-01-01-preview/alertsSuppressionRules.json`` (``AlertsSuppressionRules_List/Get/Update/Delete``) and its examples
``examples/AlertsSuppressionRules/PutAlertsSuppressionRule_example.json``, ``GetAlertsSuppressionRules_example.json``;
azure-mgmt-security 7.0.0 sends ``2019-01-01-preview`` for ``alerts_suppression_rules`` (any api-version is accepted).
What a rule does: learn.microsoft.com "Suppress alerts from Microsoft Defender for Cloud" — "When an alert matches the
conditions of an active suppression rule, the alert status is automatically changed to Dismissed … it no longer
triggers notifications"; "Security admin and Owner can create and delete rules".

===========================  ======  ==========================================================================
operation                    method  path (``/subscriptions/{s}/providers/Microsoft.Security/alertsSuppressionRules``)
===========================  ======  ==========================================================================
alertsSuppressionRules.list  GET     ``…`` → ``{"value": [...]}``; ``AlertType=<type>`` keeps that type's rules
alertsSuppressionRules.get   GET     ``…/{name}`` → 200, 404 ``NotFound``
alertsSuppressionRules.update PUT    ``…/{name}`` body ``{"properties": {alertType, reason, state, comment?,
                                     expirationDateUtc?, suppressionAlertsScope?: {allOf: [...]}}}`` → 200 + the rule
                                     (``lastModifiedUtc`` set); 400 ``InvalidInputJson`` naming the member
alertsSuppressionRules.delete DELETE ``…/{name}`` → 204 (the SDK accepts 204 only), there or not
===========================  ======  ==========================================================================

Matching (:func:`dismissing`, what the detector applies to each alert it raises): a rule dismisses an alert when its
``state`` is ``Enabled``, its ``expirationDateUtc`` (if any) is later than the alert, its ``alertType`` is ``*`` or the
alert's type (case-insensitive), and every ``suppressionAlertsScope.allOf`` element holds. An element is ``{"field":
"entities.<type>.<property>", "in": [values]}`` (the portal's Equals) or ``{…, "contains": value}`` (the built-in policy
"Deploy - Configure suppression rules for Azure Security Center alerts", 80e94a21-…, maps the portal's entity names to
these fields, e.g. "Azure resource ID" → ``entities.azureresource.resourceid``); the PUT refuses any other shape
(sandbox assumption: those are the two the portal and the policy write). The element holds when an entity of that type
in the alert's ``entities`` has the property equal to one of ``in`` / containing ``contains`` (case-insensitive), or
when the alert has no entity of that type (the policy: "alerts without entities will be suppressed entirely"). Entity
types compare without hyphens (the alert's ``azure-resource`` is the field's ``azureresource``).
"""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Optional

from ..core.armapi import check_scope, checked_properties, ok, state_of
from ..core.clock import format_utc, parse_utc
from ..core.errors import error
from ..core.router import RequestContext, Route
from ..core.wire import SandboxResponse
from . import room
from .models import security

ARM = "management.azure.com"
RULE_TYPE = "Microsoft.Security/alertsSuppressionRules"
RULES = "/subscriptions/{sub}/providers/Microsoft.Security/alertsSuppressionRules"
#: ``state`` values (spec ``RuleState``).
STATES = ("Enabled", "Disabled", "Expired")
#: The name's bounds (the Bicep reference: 1-260 characters; the portal: letters, digits, ``-``, ``_``).
MAX_NAME = 260


def rules(state) -> dict:
    """``{lower rule name: ARM JSON}`` (created on first use: tenants persisted before load)."""
    return security(state).setdefault("suppression_rules", {})


def rule_id(subscription_id: str, name: str) -> str:
    return f"/subscriptions/{subscription_id}/providers/{RULE_TYPE}/{name}"


def _time(value: object) -> Optional[datetime]:
    try:
        return parse_utc(value) if isinstance(value, str) else None
    except ValueError:
        return None


def check_properties(props: object) -> Optional[str]:
    """None when ``props`` holds the spec's members in their types (and a scope this sandbox can apply), else which
    member is not (a sentence)."""
    if not isinstance(props, dict):
        return "properties must be an object {alertType, reason, state, …}"
    for member in ("alertType", "reason"):
        if not isinstance(props.get(member), str) or not props[member].strip():
            return f"properties.{member} is required (a string; alertType '*' for every alert type)"
    if props.get("state") not in STATES:
        return f"properties.state must be one of {', '.join(STATES)}"
    if props.get("comment") is not None and not isinstance(props["comment"], str):
        return "properties.comment must be a string"
    if props.get("expirationDateUtc") is not None and _time(props["expirationDateUtc"]) is None:
        return "properties.expirationDateUtc must be an ISO 8601 date-time"
    scope = props.get("suppressionAlertsScope")
    if scope is not None:
        if not isinstance(scope, dict) or not isinstance(scope.get("allOf"), list):
            return "properties.suppressionAlertsScope must be {\"allOf\": [conditions]}"
        for i, cond in enumerate(scope["allOf"]):
            ok_in = isinstance(cond, dict) and isinstance(cond.get("in"), list) and all(isinstance(v, str) for v in cond["in"])
            ok_contains = isinstance(cond, dict) and isinstance(cond.get("contains"), str)
            if not isinstance(cond, dict) or not isinstance(cond.get("field"), str) or ok_in == ok_contains:
                return (f"properties.suppressionAlertsScope.allOf[{i}] must be {{\"field\": \"entities.<type>.<property>\", "
                        "\"in\": [values]}} or {\"field\": …, \"contains\": value}")
    return None


def list_rules(ctx: RequestContext) -> SandboxResponse:
    bad = check_scope(ctx)
    if bad:
        return bad
    wanted = next((v for k, v in ctx.request.query.items() if k.lower() == "alerttype"), None)
    value = [copy.deepcopy(r) for _, r in sorted(rules(state_of(ctx)).items())
             if wanted is None or str(r["properties"].get("alertType")).lower() == str(wanted).lower()]
    return ok({"value": value})


def get_rule(ctx: RequestContext) -> SandboxResponse:
    bad = check_scope(ctx)
    if bad:
        return bad
    found = rules(state_of(ctx)).get(ctx.params["name"].lower())
    if found is None:
        return error(404, "NotFound", f"The alerts suppression rule '{ctx.params['name']}' was not found.")
    return ok(copy.deepcopy(found))


def put_rule(ctx: RequestContext) -> SandboxResponse:
    bad = check_scope(ctx)
    if bad:
        return bad
    name = ctx.params["name"]
    if not name or len(name) > MAX_NAME or not all(c.isalnum() or c in "-_" for c in name):
        return error(400, "InvalidInputJson", f"The rule name must be 1-{MAX_NAME} letters, digits, '-' or '_'.")
    _, props, bad = checked_properties(ctx, check_properties, "InvalidInputJson")
    if bad:
        return bad
    state = state_of(ctx)
    kept = {k: copy.deepcopy(props[k]) for k in ("alertType", "reason", "state", "comment", "expirationDateUtc",
                                                 "suppressionAlertsScope") if props.get(k) is not None}
    body = {"id": rule_id(state.subscription_id, name), "name": name, "type": RULE_TYPE,
            "properties": {**kept, "lastModifiedUtc": format_utc(ctx.now)}}
    rules(state)[name.lower()] = body
    return ok(copy.deepcopy(body))


def delete_rule(ctx: RequestContext) -> SandboxResponse:
    bad = check_scope(ctx)
    if bad:
        return bad
    rules(state_of(ctx)).pop(ctx.params["name"].lower(), None)
    return SandboxResponse(204)


room.add(
    Route("GET", ARM, RULES, "alertsSuppressionRules.list", "arm", list_rules),
    Route("GET", ARM, RULES + "/{name}", "alertsSuppressionRules.get", "arm", get_rule),
    Route("PUT", ARM, RULES + "/{name}", "alertsSuppressionRules.update", "arm", put_rule),
    Route("DELETE", ARM, RULES + "/{name}", "alertsSuppressionRules.delete", "arm", delete_rule),
)


def _holds(cond: dict, entities: list) -> bool:
    """One ``allOf`` element against an alert's ``entities`` (see the module's "Matching")."""
    parts = str(cond.get("field") or "").lower().split(".")
    if len(parts) != 3 or parts[0] != "entities":
        return False  # (the PUT admits any field string; one this sandbox cannot place suppresses nothing)
    kind, member = parts[1], parts[2]
    values = [str(e.get(k)) for e in entities if isinstance(e, dict)
              and str(e.get("type") or "").replace("-", "").lower() == kind
              for k in e if str(k).lower() == member and e.get(k) is not None]
    if not any(isinstance(e, dict) and str(e.get("type") or "").replace("-", "").lower() == kind for e in entities):
        return True  # the alert has no entity of that type: suppressed (the built-in policy's wording)
    if "in" in cond:
        wanted = {str(v).lower() for v in cond.get("in") or []}
        return any(v.lower() in wanted for v in values)
    needle = str(cond.get("contains") or "").lower()
    return bool(needle) and any(needle in v.lower() for v in values)


def dismissing(state, alert: dict, at: datetime) -> Optional[str]:
    """The name of the first (by name) active suppression rule matching ``alert`` (REST 2022-01-01 alert JSON) raised
    at ``at``, or None."""
    props = alert.get("properties") or {}
    alert_type = str(props.get("alertType") or "").lower()
    entities = props.get("entities") or []
    for _, rule in sorted(rules(state).items()):
        p = rule.get("properties") or {}
        if p.get("state") != "Enabled":
            continue
        until = _time(p["expirationDateUtc"]) if p.get("expirationDateUtc") else None
        if until is not None and until <= at:
            continue
        if str(p.get("alertType") or "") != "*" and str(p.get("alertType") or "").lower() != alert_type:
            continue
        if all(_holds(c, entities) for c in (p.get("suppressionAlertsScope") or {}).get("allOf") or []):
            return rule["name"]
    return None
