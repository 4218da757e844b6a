"""ARM: Microsoft.Security alerts (REST 2022-01-01) and pricings (REST 2024-01-01).

Shapes: the REST specifications' examples (Azure/azure-rest-api-specs,
``specification/security/resource-manager/Microsoft.Security/stable/2022-01-01/examples/Alerts/``
and ``…/2024-01-01/examples/Pricings/``; copies in ``tests/sandbox/data/security/``).
azure-mgmt-security 7.0.0 sends exactly these api-versions by default (any is accepted and logged).

===========================  ======  ==========================================================================
operation                    method  path (``{rgs}`` = ``/subscriptions/{s}`` or ``/subscriptions/{s}/resourceGroups/{rg}``)
===========================  ======  ==========================================================================
securityAlerts.list          GET     ``{rgs}/providers/Microsoft.Security/alerts`` (every location),
                                     ``{rgs}/providers/Microsoft.Security/locations/{asc}/alerts`` (one location);
                                     the subscription form lists resource-group alerts too, as Alerts_List does
securityAlerts.get           GET     ``{rgs}/providers/Microsoft.Security/locations/{asc}/alerts/{name}`` → 200, 404 ``AlertNotFound``
securityAlerts.resolve|…   POST    ``…/alerts/{name}/resolve|dismiss|activate|inProgress`` → 204 (no body), 404 ``AlertNotFound``;
                                     sets ``status`` Resolved/Dismissed/Active/InProgress (idempotent)
pricings.list                GET     ``/subscriptions/{s}/providers/Microsoft.Security/pricings`` → ``{"value": [...]}``;
                                     ``$filter=name in ('AI','Api')`` accepted (names only)
pricings.get                 GET     ``{scope}/providers/Microsoft.Security/pricings/{plan}``; ``{scope}`` is the
                                     subscription or a resource (``…/providers/{ns}/{type}/{name}``); a resource without
                                     its own pricing answers the subscription's with ``inherited: "True"``,
                                     ``inheritedFrom`` (as GetResourcePricingByNameVirtualMachines_example shows)
pricings.update              PUT     same; body ``{"properties": {"pricingTier": "Free"|"Standard", "subPlan"?,
                                     "extensions"?: [{"name", "isEnabled": "True"|"False"}]}}`` → 200 + the pricing;
                                     400 ``InvalidInputJson`` / ``InvalidPricingTier`` naming the member
pricings.delete              DELETE  resource scope only (back to inherited) → 200 or 204 when nothing was set;
                                     at subscription scope 400 ``InvalidOperation``
===========================  ======  ==========================================================================

Unknown plan names → 404 ``PricingNotFound`` (sandbox wording). SDK note: ``pricings.get(scope_id, …)``
takes the scope **without** a leading slash (``subscriptions/{s}``), as the REST examples' ``scopeId`` does.
"""

from __future__ import annotations

import copy
import re
from typing import Optional

from ..core.armapi import check_scope, json_body, ok, state_of
from ..core.clock import format_utc
from ..core.errors import arm_not_found, error
from ..core.router import RequestContext, Route
from ..core.wire import SandboxResponse
from . import room
from .models import PLANS, PRICINGS, STATUS_OF_ACTION, TIERS, alerts, new_pricing, pricing_id, pricings

ARM = "management.azure.com"
SUB = "/subscriptions/{sub}"
RG = "/subscriptions/{sub}/resourceGroups/{rg}"
RESOURCE = "/subscriptions/{sub}/resourceGroups/{rg}/providers/{ns}/{rtype}/{rname}"
SEC = "/providers/Microsoft.Security"
_FILTER = re.compile(r"^\s*name\s+in\s+\(([^)]*)\)\s*$", re.IGNORECASE)


# --- alerts ---------------------------------------------------------------------------------------

def _in_scope(alert: dict, ctx: RequestContext) -> bool:
    parts = alert["id"].split("/")
    rg = parts[4] if len(parts) > 4 and parts[3].lower() == "resourcegroups" else None
    location = alert["id"].split("/locations/", 1)[1].split("/", 1)[0]
    if "rg" in ctx.params and (rg or "").lower() != ctx.params["rg"].lower():
        return False
    if "loc" in ctx.params:
        if location.lower() != ctx.params["loc"].lower():
            return False
        if "rg" not in ctx.params and rg is not None:  # ListSubscriptionLevelByRegion: subscription-level alerts only
            return False
    return True


def list_alerts(ctx: RequestContext) -> SandboxResponse:
    bad = check_scope(ctx)
    if bad:
        return bad
    value = [copy.deepcopy(a) for _, a in sorted(alerts(state_of(ctx)).items()) if _in_scope(a, ctx)]
    return ok({"value": value})


def _find_alert(ctx: RequestContext) -> tuple[Optional[dict], Optional[SandboxResponse]]:
    bad = check_scope(ctx)
    if bad:
        return None, bad
    state = state_of(ctx)
    rg = f"/resourceGroups/{ctx.params['rg']}" if "rg" in ctx.params else ""
    wanted = f"/subscriptions/{state.subscription_id}{rg}{SEC}/locations/{ctx.params['loc']}/alerts/{ctx.params['name']}"
    found = alerts(state).get(wanted.lower())
    if found is None:
        return None, error(404, "AlertNotFound", f"Alert '{ctx.params['name']}' was not found.")
    return found, None


def get_alert(ctx: RequestContext) -> SandboxResponse:
    found, bad = _find_alert(ctx)
    return bad if bad else ok(copy.deepcopy(found))


def update_alert_state(ctx: RequestContext) -> SandboxResponse:
    status = STATUS_OF_ACTION[ctx.request.path.rstrip("/").rsplit("/", 1)[-1].lower()]
    found, bad = _find_alert(ctx)
    if bad:
        return bad
    found["properties"]["status"] = status
    return SandboxResponse(204)


for scope in (SUB, RG):
    room.add(
        Route("GET", ARM, scope + SEC + "/alerts", "securityAlerts.list", "arm", list_alerts),
        Route("GET", ARM, scope + SEC + "/locations/{loc}/alerts", "securityAlerts.list", "arm", list_alerts),
        Route("GET", ARM, scope + SEC + "/locations/{loc}/alerts/{name}", "securityAlerts.get", "arm", get_alert),
    )
    room.add(*(Route("POST", ARM, scope + SEC + "/locations/{loc}/alerts/{name}/" + action, "securityAlerts." + action, "arm", update_alert_state)
               for action in ("resolve", "dismiss", "activate", "inProgress")))


# --- pricings -------------------------------------------------------------------------------------

def _plan(name: str) -> Optional[str]:
    return next((p for p in PLANS if p.lower() == name.lower()), None)


def _pricing_scope(ctx: RequestContext) -> tuple[Optional[str], Optional[SandboxResponse]]:
    """(canonical scope, None) — the subscription, or a resource that exists — else (None, 404)."""
    bad = check_scope(ctx)
    if bad:
        return None, bad
    state = state_of(ctx)
    scope = f"/subscriptions/{state.subscription_id}"
    if "rname" in ctx.params:
        p = ctx.params
        resource = state.resource(f"{scope}/resourceGroups/{p['rg']}/providers/{p['ns']}/{p['rtype']}/{p['rname']}")
        if resource is None:
            return None, arm_not_found(f"{p['ns']}/{p['rtype']}", p["rname"], p["rg"])
        scope = resource["id"]
    return scope, None


def _not_found(name: str) -> SandboxResponse:
    return error(404, "PricingNotFound", f"The pricing '{name}' does not exist. Known plans: {', '.join(PLANS)}.")


def effective_pricing(state, scope: str, plan: str) -> dict:
    """The pricing at ``scope`` (a resource's own, else the subscription's marked inherited)."""
    table = pricings(state)
    own = table.get(pricing_id(scope, plan).lower())
    if own is not None:
        return copy.deepcopy(own)
    sub_scope = f"/subscriptions/{state.subscription_id}"
    base = table.get(pricing_id(sub_scope, plan).lower()) or new_pricing(scope=sub_scope, name=plan, tier="Free", enabled_at=None)
    body = copy.deepcopy(base)
    if scope.lower() != sub_scope.lower():
        body["id"] = pricing_id(scope, plan)
        props = body["properties"]
        props.pop("enforce", None)
        props.pop("resourcesCoverageStatus", None)
        props["inherited"] = "True"
        props["inheritedFrom"] = sub_scope
    return body


def get_pricing(ctx: RequestContext) -> SandboxResponse:
    scope, bad = _pricing_scope(ctx)
    if bad:
        return bad
    plan = _plan(ctx.params["plan"])
    if plan is None:
        return _not_found(ctx.params["plan"])
    return ok(effective_pricing(state_of(ctx), scope, plan))


def list_pricings(ctx: RequestContext) -> SandboxResponse:
    scope, bad = _pricing_scope(ctx)
    if bad:
        return bad
    names = list(PLANS)
    text = ctx.request.query.get("$filter", "").strip()
    if text:
        match = _FILTER.match(text)
        if match is None:
            return error(400, "InvalidFilter", f"The filter '{text}' is not supported: use name in ('AI','Api').")
        wanted = {n.strip().strip("'\"").lower() for n in match.group(1).split(",")}
        names = [p for p in PLANS if p.lower() in wanted]
    return ok({"value": [effective_pricing(state_of(ctx), scope, p) for p in names]})


def update_pricing(ctx: RequestContext) -> SandboxResponse:
    scope, bad = _pricing_scope(ctx)
    if bad:
        return bad
    plan = _plan(ctx.params["plan"])
    if plan is None:
        return _not_found(ctx.params["plan"])
    raw, bad = json_body(ctx)
    if bad:
        return bad
    props = raw.get("properties") if isinstance(raw, dict) else None
    if not isinstance(props, dict):
        return error(400, "InvalidInputJson", "The request body must be {\"properties\": {\"pricingTier\": \"Free\"|\"Standard\"}}.")
    tier = props.get("pricingTier")
    tier = next((t for t in TIERS if isinstance(tier, str) and t.lower() == tier.lower()), None)
    if tier is None:
        return error(400, "InvalidPricingTier", f"properties.pricingTier must be one of {', '.join(TIERS)} (got {props.get('pricingTier')!r}).")
    extensions = props.get("extensions")
    if extensions is not None:
        if not isinstance(extensions, list) or not all(
            isinstance(e, dict) and isinstance(e.get("name"), str) and str(e.get("isEnabled")).lower() in ("true", "false")
            for e in extensions
        ):
            return error(400, "InvalidInputJson", "properties.extensions must be a list of {\"name\": str, \"isEnabled\": \"True\"|\"False\"}.")
        extensions = [
            {**{k: copy.deepcopy(v) for k, v in e.items() if k != "operationStatus"},
             "isEnabled": "True" if str(e["isEnabled"]).lower() == "true" else "False"}
            for e in extensions
        ]
    state = state_of(ctx)
    table = pricings(state)
    key = pricing_id(scope, plan).lower()
    before = table.get(key)
    before_props = (before or {}).get("properties", {})
    enabled_at = before_props.get("enablementTime") if before_props.get("pricingTier") == "Standard" else None
    if tier == "Standard" and not enabled_at:
        enabled_at = format_utc(ctx.now)
    if extensions is None:
        extensions = before_props.get("extensions")
    body = new_pricing(scope=scope, name=plan, tier=tier, enabled_at=enabled_at,
                       sub_plan=props.get("subPlan") or before_props.get("subPlan"), extensions=extensions)
    table[key] = body
    return ok(copy.deepcopy(body))


def delete_pricing(ctx: RequestContext) -> SandboxResponse:
    scope, bad = _pricing_scope(ctx)
    if bad:
        return bad
    if "rname" not in ctx.params:
        return error(400, "InvalidOperation", "A subscription-level pricing cannot be deleted: PUT pricingTier Free instead.")
    plan = _plan(ctx.params["plan"])
    if plan is None:
        return _not_found(ctx.params["plan"])
    removed = pricings(state_of(ctx)).pop(pricing_id(scope, plan).lower(), None)
    return SandboxResponse(200) if removed is not None else SandboxResponse(204)


for scope in (SUB, RESOURCE):
    room.add(
        Route("GET", ARM, scope + PRICINGS, "pricings.list", "arm", list_pricings),
        Route("GET", ARM, scope + PRICINGS + "/{plan}", "pricings.get", "arm", get_pricing),
        Route("PUT", ARM, scope + PRICINGS + "/{plan}", "pricings.update", "arm", update_pricing),
        Route("DELETE", ARM, scope + PRICINGS + "/{plan}", "pricings.delete", "arm", delete_pricing),
    )
