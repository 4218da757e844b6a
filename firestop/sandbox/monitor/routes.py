"""ARM routes of Azure Monitor: alert rules, action groups, diagnostic settings.

Resource-group resources (``{kind}`` in :data:`~.models.KINDS` but diagnostic settings)::

    PUT|GET|DELETE /subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.Insights/{kind}/{name}
    GET            /subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.Insights/{kind}
    GET            /subscriptions/{s}/providers/Microsoft.Insights/{kind}

Diagnostic settings on a resource (``{resourceUri}`` = ``subscriptions/…/providers/{ns}/{type}/{name}``)::

    PUT|GET|DELETE /{resourceUri}/providers/Microsoft.Insights/diagnosticSettings/{name}
    GET            /{resourceUri}/providers/Microsoft.Insights/diagnosticSettings   -> {"value": [...]}

(the same on a child resource, ``{resourceUri}/{childType}/{childName}``, e.g. a storage account's
``blobServices/default``, where ``infra/azuredeploy.json``'s ``firestop-audit`` setting is.)

Answers: PUT 201 (new; 200 for metric alerts and diagnostic settings, whose specs list only 200) /
200 (replaced) with the stored body; GET 200 / 404
``ResourceNotFound``; DELETE 200 / 204 (absent), as the REST specs list them; 400
``BadRequest`` naming the field for a body :func:`~.models.validate` refuses, and for a
scheduled query rule whose query the KQL engine cannot compile against its scope's
workspace (Azure validates the query when the rule is created); 404
``SubscriptionNotFound``/``ResourceGroupNotFound`` for a foreign scope; diagnostic
settings on a resource the tenant does not have: 404 ``ResourceNotFound``.
Any api-version is accepted (the request log records it).
"""

from __future__ import annotations

import copy
from typing import Optional

from ..core.armapi import caller_object_id, check_scope, json_body, ok, state_of
from ..core.clock import format_utc
from ..core.errors import error
from ..core.router import RequestContext, Route
from ..core.wire import SandboxResponse
from ..logs.kql import KqlError, run_query
from . import models, room
from .evaluate import LOG_CATEGORIES
from .traffic import known_tables

ARM = "management.azure.com"
RG = "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Insights"
RESOURCE = "/subscriptions/{sub}/resourceGroups/{rg}/providers/{ns}/{rtype}/{rname}"
#: Internal members a template deployment stores beside the ARM body; never answered.
_INTERNAL = ("runtime",)


def _public(resource: dict) -> dict:
    body = {k: copy.deepcopy(v) for k, v in resource.items() if k not in _INTERNAL and k != "apiVersion"}
    kind = models.kind_of(resource)
    if kind:
        body["type"] = models.KINDS[kind]
    body["name"] = str(resource.get("name", "")).split("/")[-1]
    return body


def _not_found(kind: str, name: str, rg: str) -> SandboxResponse:
    return error(404, "ResourceNotFound", f"The Resource 'Microsoft.Insights/{kind}/{name}' under resource group '{rg}' was not found.")


def _rid(ctx: RequestContext, kind: str) -> str:
    return state_of(ctx).arm_id(ctx.params["rg"], f"Microsoft.Insights/{kind}/{ctx.params['name']}")


def query_problem(state, rule_properties: dict) -> Optional[str]:
    """The KQL engine's message when a condition's query does not compile against the rule's scope, else ``None``.

    Scope: a Log Analytics workspace's ARM id (its tables), or a resource (the tables of the
    workspaces its diagnostic settings write to). Scopes the tenant has no tables for are
    not checked.
    """
    tables = scope_tables(state, rule_properties.get("scopes") or [])
    if tables is None:
        return None
    for i, cond in enumerate((rule_properties.get("criteria") or {}).get("allOf") or []):
        try:
            result = run_query(cond["query"], tables, _epoch())
        except KqlError as exc:
            return f"properties.criteria.allOf[{i}].query: the query is invalid: {exc.message}"
        names = {name for name, _ in result.columns}
        for field in [cond.get("metricMeasureColumn")] + [d.get("name") for d in cond.get("dimensions") or [] if isinstance(d, dict)]:
            if field and field not in names:
                return f"properties.criteria.allOf[{i}]: the query's result has no column '{field}' (columns: {', '.join(sorted(names))})."
    return None


def _epoch():
    from datetime import datetime, timezone
    return datetime(2000, 1, 1, tzinfo=timezone.utc)


def scope_tables(state, scopes: list) -> Optional[dict]:
    """Tables (name -> ``{"columns", "rows": []}``) a rule with these scopes reads, ``None`` if none known.

    Columns only, no rows: this is the PUT-time check (:func:`query_problem`), and every KqlError the engine
    raises is a compile-time one (names, types, arity: firestop.sandbox.logs.kql.evaluator compiles each operator
    before it touches a row), so a query's verdict and result columns do not depend on the rows. Running the
    check over the live rows cost ~30 ms per rule PUT on a tabletop tenant (the whole table turned into dicts
    at every PUT). The evaluator (firestop.sandbox.monitor.evaluate) reads the rows.
    """
    tables: dict = {}
    found = False
    for scope in scopes:
        low = str(scope).rstrip("/").lower()
        for workspace in state.doc["workspaces"].values():
            if str(workspace.get("resource_id", "")).lower() == low:
                found = True
                for name, table in workspace["tables"].items():
                    tables.setdefault(name, {"columns": table["columns"], "rows": []})
        for category in LOG_CATEGORIES:
            for workspace in models.log_workspaces(state, str(scope), category):
                found = True
                for name, table in workspace["tables"].items():
                    if name not in tables:
                        tables[name] = {"columns": table["columns"], "rows": []}
    if found:
        for name, table in known_tables().items():  # Azure tables exist in every workspace before their first row
            tables.setdefault(name, table)
    return tables if found else None


def _put(ctx: RequestContext, kind: str, rid: str, extra_check=None) -> SandboxResponse:
    body, bad = json_body(ctx)
    if bad:
        return bad
    problem = models.validate(kind, body)
    if problem is None and extra_check is not None:
        problem = extra_check(body)
    if problem:
        return error(400, "BadRequest", problem)
    state = state_of(ctx)
    previous = models.get(state, rid)
    existed = previous is not None
    stored = {
        "id": rid,
        "name": rid.rsplit("/", 1)[-1],
        "type": models.KINDS[kind],
        "apiVersion": ctx.request.api_version or "",
        **{k: copy.deepcopy(body[k]) for k in ("location", "tags", "kind", "identity") if k in body},
        "properties": copy.deepcopy(body["properties"]),
    }
    if kind == "scheduledQueryRules":
        stored["properties"].setdefault("enabled", True)
        stored["properties"].setdefault("autoMitigate", True)
    elif kind in ("activityLogAlerts", "metricAlerts", "actionGroups"):
        stored["properties"].setdefault("enabled", True)
    if kind == "metricAlerts":
        stored["properties"].setdefault("autoMitigate", True)
    models.stamp(stored, previous, format_utc(ctx.now), caller_object_id(ctx))  # (A13-09: when the rule last changed)
    models.put(state, stored)
    # metricAlerts (2018-03-01) and diagnosticSettings (2021-05-01-preview) answer 200 only in their specs
    created = 201 if kind in ("actionGroups", "scheduledQueryRules", "activityLogAlerts") else 200
    return ok(_public(stored), status=200 if existed else created)


def _get(ctx: RequestContext, kind: str) -> SandboxResponse:
    bad = check_scope(ctx)
    if bad:
        return bad
    found = models.get(state_of(ctx), _rid(ctx, kind))
    if found is None or models.kind_of(found) != kind:
        return _not_found(kind, ctx.params["name"], ctx.params["rg"])
    return ok(_public(found))


def _delete(ctx: RequestContext, kind: str) -> SandboxResponse:
    bad = check_scope(ctx)
    if bad:
        return bad
    return ok({}, status=200) if models.delete(state_of(ctx), _rid(ctx, kind)) else SandboxResponse(204, None)


def _list(ctx: RequestContext, kind: str) -> SandboxResponse:
    bad = check_scope(ctx)
    if bad:
        return bad
    rg = ctx.params.get("rg")
    state = state_of(ctx)
    found = [
        _public(r) for r in models.resources(state, kind)
        if rg is None or f"/resourcegroups/{rg.lower()}/" in r["id"].lower()
    ]
    return ok({"value": found})


def _register(kind: str, put_check=None) -> None:
    def put(ctx: RequestContext) -> SandboxResponse:
        bad = check_scope(ctx)
        if bad:
            return bad
        check = (lambda body: put_check(state_of(ctx), body)) if put_check else None
        return _put(ctx, kind, _rid(ctx, kind), check)

    room.add(
        Route("PUT", ARM, f"{RG}/{kind}/{{name}}", f"{kind}.createOrUpdate", "arm", put),
        Route("GET", ARM, f"{RG}/{kind}/{{name}}", f"{kind}.get", "arm", lambda ctx: _get(ctx, kind)),
        Route("DELETE", ARM, f"{RG}/{kind}/{{name}}", f"{kind}.delete", "arm", lambda ctx: _delete(ctx, kind)),
        Route("GET", ARM, f"{RG}/{kind}", f"{kind}.list", "arm", lambda ctx: _list(ctx, kind)),
        Route("GET", ARM, f"/subscriptions/{{sub}}/providers/Microsoft.Insights/{kind}", f"{kind}.list", "arm", lambda ctx: _list(ctx, kind)),
    )


def _rule_query_check(state, body: dict) -> Optional[str]:
    return query_problem(state, body["properties"])


_register("actionGroups")
_register("scheduledQueryRules", _rule_query_check)
_register("activityLogAlerts")
_register("metricAlerts")


# ---------------------------------------------------------------------- diagnostic settings
def _target(ctx: RequestContext) -> tuple[str, Optional[SandboxResponse]]:
    state = state_of(ctx)
    bad = check_scope(ctx)
    if bad:
        return "", bad
    p = ctx.params
    path = f"{p['ns']}/{p['rtype']}/{p['rname']}" + (f"/{p['ctype']}/{p['cname']}" if p.get("ctype") else "")
    rid = state.arm_id(p["rg"], path)
    known = state.resource(rid) is not None or rid.lower() in state.doc.get("deployed_resources", {}) or any(
        str(w.get("resource_id", "")).lower() == rid.lower() for w in state.doc["workspaces"].values()
    )
    if not known:
        return rid, error(404, "ResourceNotFound", f"The Resource '{path}' under resource group '{p['rg']}' was not found.")
    return rid, None


def _setting_id(target: str, name: str) -> str:
    return f"{target}/providers/Microsoft.Insights/diagnosticSettings/{name}"


def put_setting(ctx: RequestContext) -> SandboxResponse:
    target, bad = _target(ctx)
    if bad:
        return bad
    return _put(ctx, "diagnosticSettings", _setting_id(target, ctx.params["name"]))


def get_setting(ctx: RequestContext) -> SandboxResponse:
    target, bad = _target(ctx)
    if bad:
        return bad
    found = models.get(state_of(ctx), _setting_id(target, ctx.params["name"]))
    if found is None:
        return error(404, "ResourceNotFound", f"The diagnostic setting '{ctx.params['name']}' does not exist.")
    return ok(_public(found))


def delete_setting(ctx: RequestContext) -> SandboxResponse:
    target, bad = _target(ctx)
    if bad:
        return bad
    gone = models.delete(state_of(ctx), _setting_id(target, ctx.params["name"]))
    return ok({}, status=200) if gone else SandboxResponse(204, None)


def list_settings(ctx: RequestContext) -> SandboxResponse:
    target, bad = _target(ctx)
    if bad:
        return bad
    return ok({"value": [_public(s) for s in models.diagnostic_settings(state_of(ctx), target)]})


_DS = RESOURCE + "/providers/Microsoft.Insights/diagnosticSettings"
_DS_CHILD = RESOURCE + "/{ctype}/{cname}/providers/Microsoft.Insights/diagnosticSettings"
room.add(
    Route("PUT", ARM, _DS + "/{name}", "diagnosticSettings.createOrUpdate", "arm", put_setting),
    Route("GET", ARM, _DS + "/{name}", "diagnosticSettings.get", "arm", get_setting),
    Route("DELETE", ARM, _DS + "/{name}", "diagnosticSettings.delete", "arm", delete_setting),
    Route("GET", ARM, _DS, "diagnosticSettings.list", "arm", list_settings),
    # a child resource's (a storage account's blobServices/default, which infra/azuredeploy.json's firestop-audit targets)
    Route("PUT", ARM, _DS_CHILD + "/{name}", "diagnosticSettings.createOrUpdate", "arm", put_setting),
    Route("GET", ARM, _DS_CHILD + "/{name}", "diagnosticSettings.get", "arm", get_setting),
    Route("DELETE", ARM, _DS_CHILD + "/{name}", "diagnosticSettings.delete", "arm", delete_setting),
    Route("GET", ARM, _DS_CHILD, "diagnosticSettings.list", "arm", list_settings),
)
