"""Routes of the graph room (Microsoft Graph v1.0; answers as documented on learn.microsoft.com/graph/api):

======================================  ======  ==================================================================
operation                               method  path / answer
======================================  ======  ==================================================================
servicePrincipals.get                   GET     /v1.0/servicePrincipals/{id} → 200 JSON, 404 Request_ResourceNotFound
servicePrincipals.update                PATCH   /v1.0/servicePrincipals/{id} → 204 (accountEnabled, displayName, tags)
users.get                               GET     /v1.0/users/{id|userPrincipalName} → 200 JSON
users.revokeSignInSessions              POST    /v1.0/users/{id}/revokeSignInSessions → 200 {"value": true}
                                                (signInSessionsValidFromDateTime = now)
riskyServicePrincipals.get              GET     /v1.0/identityProtection/riskyServicePrincipals/{id} → 200 JSON
riskyServicePrincipals.confirmCompromised POST  /v1.0/identityProtection/riskyServicePrincipals/confirmCompromised
                                                body {"servicePrincipalIds": [...]} (1-60) → 204; riskState
                                                confirmedCompromised, riskLevel high
security.alerts_v2.get                  GET     /v1.0/security/alerts_v2/{id} → 200 JSON (microsoft.graph.security.alert),
                                                404 Request_ResourceNotFound
======================================  ======  ==================================================================
"""

from __future__ import annotations

import copy

from ..core.armapi import json_body, ok, state_of
from ..core.clock import format_utc
from ..core.errors import error
from ..core.router import RequestContext
from ..core.wire import SandboxResponse
from . import room
from .models import GRAPH, graph_state, risky_service_principal

V1 = "/v1.0"
CONTEXT = "https://graph.microsoft.com/v1.0/$metadata#"


def _not_found(what: str) -> SandboxResponse:
    return error(404, "Request_ResourceNotFound",
                 f"Resource '{what}' does not exist or one of its queried reference-property objects are not present.")


def _sp(ctx: RequestContext) -> dict | None:
    return graph_state(state_of(ctx).doc)["servicePrincipals"].get(ctx.params["id"].lower())


@room.route("GET", GRAPH, V1 + "/servicePrincipals/{id}", "servicePrincipals.get", service="graph")
def get_service_principal(ctx: RequestContext) -> SandboxResponse:
    sp = _sp(ctx)
    if sp is None:
        return _not_found(ctx.params["id"])
    return ok({"@odata.context": CONTEXT + "servicePrincipals/$entity", **copy.deepcopy(sp)})


@room.route("PATCH", GRAPH, V1 + "/servicePrincipals/{id}", "servicePrincipals.update", service="graph")
def update_service_principal(ctx: RequestContext) -> SandboxResponse:
    sp = _sp(ctx)
    if sp is None:
        return _not_found(ctx.params["id"])
    body, bad = json_body(ctx)
    if bad:
        return bad
    if not isinstance(body, dict):
        return error(400, "Request_BadRequest", "The request body must be a JSON object.")
    for key, value in body.items():
        if key == "@odata.type":
            continue
        if key not in ("accountEnabled", "displayName", "tags"):
            return error(400, "Request_BadRequest", f"Property '{key}' is read-only or unknown on servicePrincipal in this sandbox.")
        if key == "accountEnabled" and not isinstance(value, bool):
            return error(400, "Request_BadRequest", "Invalid value specified for property 'accountEnabled' of resource 'ServicePrincipal'.")
    sp.update({k: copy.deepcopy(v) for k, v in body.items() if k != "@odata.type"})
    risky = graph_state(state_of(ctx).doc)["riskyServicePrincipals"].get(sp["id"].lower())
    if risky is not None:
        risky["isEnabled"] = sp["accountEnabled"]
    return SandboxResponse(204, None, {})


def _user(ctx: RequestContext) -> dict | None:
    users = graph_state(state_of(ctx).doc)["users"]
    wanted = ctx.params["id"].lower()
    return users.get(wanted) or next((u for u in users.values() if u["userPrincipalName"].lower() == wanted), None)


@room.route("GET", GRAPH, V1 + "/users/{id}", "users.get", service="graph")
def get_user(ctx: RequestContext) -> SandboxResponse:
    u = _user(ctx)
    if u is None:
        return _not_found(ctx.params["id"])
    return ok({"@odata.context": CONTEXT + "users/$entity", **copy.deepcopy(u)})


@room.route("POST", GRAPH, V1 + "/users/{id}/revokeSignInSessions", "users.revokeSignInSessions", service="graph")
def revoke_sign_in_sessions(ctx: RequestContext) -> SandboxResponse:
    u = _user(ctx)
    if u is None:
        return _not_found(ctx.params["id"])
    u["signInSessionsValidFromDateTime"] = format_utc(ctx.now)
    return ok({"@odata.context": CONTEXT + "Edm.Boolean", "value": True})


@room.route("GET", GRAPH, V1 + "/identityProtection/riskyServicePrincipals/{id}", "riskyServicePrincipals.get", service="graph")
def get_risky_service_principal(ctx: RequestContext) -> SandboxResponse:
    graph = graph_state(state_of(ctx).doc)
    risky = graph["riskyServicePrincipals"].get(ctx.params["id"].lower())
    if risky is None:
        sp = graph["servicePrincipals"].get(ctx.params["id"].lower())
        if sp is None:
            return _not_found(ctx.params["id"])
        risky = risky_service_principal(sp, {})
    return ok({"@odata.context": CONTEXT + "identityProtection/riskyServicePrincipals/$entity", **copy.deepcopy(risky)})


@room.route("POST", GRAPH, V1 + "/identityProtection/riskyServicePrincipals/confirmCompromised",
            "riskyServicePrincipals.confirmCompromised", service="graph")
def confirm_compromised(ctx: RequestContext) -> SandboxResponse:
    body, bad = json_body(ctx)
    if bad:
        return bad
    ids = (body or {}).get("servicePrincipalIds") if isinstance(body, dict) else None
    if not isinstance(ids, list) or not 1 <= len(ids) <= 60 or not all(isinstance(i, str) for i in ids):
        return error(400, "Request_BadRequest", "servicePrincipalIds must list 1 to 60 service principal object ids.")
    graph = graph_state(state_of(ctx).doc)
    missing = [i for i in ids if i.lower() not in graph["servicePrincipals"]]
    if missing:
        return _not_found(missing[0])
    for sp_id in ids:
        sp = graph["servicePrincipals"][sp_id.lower()]
        risky = graph["riskyServicePrincipals"].setdefault(sp_id.lower(), risky_service_principal(sp, {}))
        risky.update({"riskState": "confirmedCompromised", "riskLevel": "high",
                      "riskDetail": "adminConfirmedServicePrincipalCompromised", "riskLastUpdatedDateTime": format_utc(ctx.now)})
    return SandboxResponse(204, None, {})


@room.route("GET", GRAPH, V1 + "/security/alerts_v2/{id}", "security.alerts_v2.get", service="graph")
def get_security_alert(ctx: RequestContext) -> SandboxResponse:
    found = graph_state(state_of(ctx).doc)["alerts"].get(ctx.params["id"].lower())
    if found is None:
        return _not_found(ctx.params["id"])
    return ok({"@odata.context": CONTEXT + "security/alerts_v2/$entity", **copy.deepcopy(found)})
