"""ARM: Microsoft.AlertsManagement alerts (REST 2019-03-01, ``Alerts_GetById``; any api-version is accepted and logged).

=============  ======  =====================================================================================
operation      method  path / answer
=============  ======  =====================================================================================
alerts.get     GET     ``/subscriptions/{s}/providers/Microsoft.AlertsManagement/alerts/{alertId}`` → 200 + the
                       alert (:mod:`.models`), 404 ``ResourceNotFound`` for an alert Azure Monitor never fired
=============  ======  =====================================================================================

Alert processing rules (``alertProcessingRules.*``, REST 2021-08-08, :mod:`.processing`): PUT/GET/DELETE
``/subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.AlertsManagement/actionRules/{name}``, list by
resource group and by subscription (``/subscriptions/{s}/providers/Microsoft.AlertsManagement/actionRules``).
"""

from __future__ import annotations

import copy

from ..core.armapi import caller_object_id, check_scope, json_body, ok, state_of
from ..core.clock import format_utc
from ..core.errors import error
from ..core.router import RequestContext, Route
from ..core.wire import SandboxResponse
from . import processing, room
from .models import section

ARM = "management.azure.com"
ALERT = "/subscriptions/{sub}/providers/Microsoft.AlertsManagement/alerts/{name}"


def get_alert(ctx: RequestContext) -> SandboxResponse:
    bad = check_scope(ctx)
    if bad:
        return bad
    state = state_of(ctx)
    wanted = f"/subscriptions/{state.subscription_id}/providers/Microsoft.AlertsManagement/alerts/{ctx.params['name']}"
    found = section(state)["alerts"].get(wanted.lower())
    if found is None:
        return error(404, "ResourceNotFound", f"The alert '{ctx.params['name']}' was not found.")
    return ok(copy.deepcopy(found))


room.add(Route("GET", ARM, ALERT, "alerts.get", "arm", get_alert))


# ---------------------------------------------------------------------- alert processing rules (REST 2021-08-08)
#: ``AlertProcessingRules_*`` of AlertProcessingRules.json 2021-08-08 (:mod:`.processing`): PUT → 201 new / 200
#: replaced, GET → 200 / 404 ``ResourceNotFound``, DELETE → 200 / 204 absent, list → ``{"value": [...]}``; 400
#: ``BadRequest`` naming the field :func:`.processing.validate` refuses.
APR_RG = "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.AlertsManagement/actionRules"


def _apr_id(ctx: RequestContext) -> str:
    return state_of(ctx).arm_id(ctx.params["rg"], f"{processing.RULE_TYPE}/{ctx.params['name']}")


def put_rule(ctx: RequestContext) -> SandboxResponse:
    bad = check_scope(ctx)
    if bad:
        return bad
    body, bad = json_body(ctx)
    if bad:
        return bad
    problem = processing.validate(body)
    if problem:
        return error(400, "BadRequest", problem)
    state = state_of(ctx)
    rid = _apr_id(ctx)
    held = processing.rules(state)
    previous = held.get(rid.lower())
    now, who = format_utc(ctx.now), caller_object_id(ctx)
    before = (previous or {}).get("systemData") or {}
    stored = {"id": rid, "name": ctx.params["name"], "type": processing.RULE_TYPE,
              "location": body.get("location", "Global"), "tags": copy.deepcopy(body.get("tags") or {}),
              "properties": copy.deepcopy(body["properties"]),
              "systemData": {"createdAt": before.get("createdAt", now), "createdBy": before.get("createdBy", who),
                             "createdByType": "User", "lastModifiedAt": now, "lastModifiedBy": who,
                             "lastModifiedByType": "User"}}
    stored["properties"].setdefault("enabled", True)
    held[rid.lower()] = stored
    return ok(processing.public(stored), status=200 if previous else 201)


def get_rule(ctx: RequestContext) -> SandboxResponse:
    bad = check_scope(ctx)
    if bad:
        return bad
    found = processing.rules(state_of(ctx)).get(_apr_id(ctx).lower())
    if found is None:
        return error(404, "ResourceNotFound", f"The alert processing rule '{ctx.params['name']}' was not found.")
    return ok(processing.public(found))


def delete_rule(ctx: RequestContext) -> SandboxResponse:
    bad = check_scope(ctx)
    if bad:
        return bad
    gone = processing.rules(state_of(ctx)).pop(_apr_id(ctx).lower(), None)
    return ok({}, status=200) if gone is not None else SandboxResponse(204, None)


def list_rules(ctx: RequestContext) -> SandboxResponse:
    bad = check_scope(ctx)
    if bad:
        return bad
    rg = ctx.params.get("rg")
    return ok({"value": [processing.public(r) for r in processing.rules(state_of(ctx)).values()
                         if rg is None or f"/resourcegroups/{rg.lower()}/" in r["id"].lower()]})


room.add(Route("PUT", ARM, APR_RG + "/{name}", "alertProcessingRules.createOrUpdate", "arm", put_rule),
         Route("GET", ARM, APR_RG + "/{name}", "alertProcessingRules.get", "arm", get_rule),
         Route("DELETE", ARM, APR_RG + "/{name}", "alertProcessingRules.delete", "arm", delete_rule),
         Route("GET", ARM, APR_RG, "alertProcessingRules.list", "arm", list_rules),
         Route("GET", ARM, "/subscriptions/{sub}/providers/Microsoft.AlertsManagement/actionRules",
               "alertProcessingRules.list", "arm", list_rules))
