"""ARM: Microsoft.SecurityInsights incidents, comments, alerts, entities (REST 2024-03-01).

``{ws}`` = ``/subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.OperationalInsights/workspaces/{name}``
(a workspace of the tenant, else 404 ``ResourceNotFound``). Any api-version is accepted and logged.

==============================  ======  =====================================================================
operation                       method  path / answer
==============================  ======  =====================================================================
incidents.list                  GET     ``{ws}/providers/Microsoft.SecurityInsights/incidents`` → ``{"value": [...]}``
                                        (``$top`` ≤ 1000 honoured; newest ``createdTimeUtc`` first)
incidents.get                   GET     ``…/incidents/{id}`` → 200, 404 ``NotFound``
incidents.createOrUpdate        PUT     ``…/incidents/{id}`` body ``{"etag"?, "properties": {title, severity, status,
                                        owner?, classification?, classificationReason?, classificationComment?,
                                        labels?, description?}}`` → 200 (existing) / 201; 400 ``BadRequest`` naming the
                                        member (missing title/severity/status, bad enum, Closed without a
                                        classification, a reason that does not go with the classification);
                                        409 ``Conflict`` when ``etag`` is given and stale (optimistic concurrency)
incidents.listAlerts            POST    ``…/incidents/{id}/alerts`` → ``{"value": [SecurityAlert entity]}``
incidents.listEntities          POST    ``…/incidents/{id}/entities`` → ``{"entities": [...], "metaData": [...]}``
incidentComments.list           GET     ``…/incidents/{id}/comments`` → ``{"value": [...]}`` (oldest first)
incidentComments.createOrUpdate PUT     ``…/incidents/{id}/comments/{commentId}`` body ``{"properties": {"message"}}``
                                        → 201 new / 200 same id again; message 1..30,000 characters, else 400
==============================  ======  =====================================================================

Every successful incident PUT bumps ``etag`` and ``lastModifiedTimeUtc``; a comment bumps
``additionalData.commentsCount``. Comment ``author`` is the caller's object id (from the token).
"""

from __future__ import annotations

import copy
from typing import Optional

from ..core.armapi import caller_object_id, check_scope, checked_properties, json_body, ok, state_of
from ..core.clock import format_utc, parse_utc
from ..core.errors import arm_not_found, error
from ..core.router import RequestContext, Route
from ..core.wire import SandboxResponse
from . import room
from .models import (CLASSIFICATIONS, COMMENT_TYPE, MAX_COMMENT_CHARS, REASONS, SEVERITIES, SI, STATUSES,
                     sentinel)

ARM = "management.azure.com"
WS = "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.OperationalInsights/workspaces/{ws}"
INCIDENTS = WS + SI + "/incidents"


def _workspace(ctx: RequestContext) -> tuple[Optional[str], Optional[SandboxResponse]]:
    bad = check_scope(ctx)
    if bad:
        return None, bad
    state = state_of(ctx)
    rid = state.arm_id(ctx.params["rg"], f"Microsoft.OperationalInsights/workspaces/{ctx.params['ws']}")
    found = state.resource(rid)
    if found is None:
        return None, arm_not_found("Microsoft.OperationalInsights/workspaces", ctx.params["ws"], ctx.params["rg"])
    return found["id"], None


def _incident(ctx: RequestContext) -> tuple[Optional[dict], Optional[SandboxResponse]]:
    ws, bad = _workspace(ctx)
    if bad:
        return None, bad
    found = sentinel(state_of(ctx))["incidents"].get(f"{ws}{SI}/incidents/{ctx.params['incident']}".lower())
    if found is None:
        return None, error(404, "NotFound", f"Incident {ctx.params['incident']} not found")
    return found, None


def list_incidents(ctx: RequestContext) -> SandboxResponse:
    ws, bad = _workspace(ctx)
    if bad:
        return bad
    prefix = f"{ws}{SI}/incidents/".lower()
    rows = [copy.deepcopy(i) for k, i in sentinel(state_of(ctx))["incidents"].items() if k.startswith(prefix)]
    rows.sort(key=lambda i: parse_utc(i["properties"]["createdTimeUtc"]), reverse=True)
    top = ctx.request.query.get("$top")
    if top is not None:
        if not top.isdigit() or not 1 <= int(top) <= 1000:
            return error(400, "BadRequest", "$top must be an integer between 1 and 1000.")
        rows = rows[: int(top)]
    return ok({"value": rows})


def get_incident(ctx: RequestContext) -> SandboxResponse:
    found, bad = _incident(ctx)
    return bad if bad else ok(copy.deepcopy(found))


def _check_properties(props: object) -> Optional[str]:
    if not isinstance(props, dict):
        return "properties is required"
    for member, allowed in (("title", None), ("severity", SEVERITIES), ("status", STATUSES)):
        value = props.get(member)
        if not isinstance(value, str) or not value.strip():
            return f"properties.{member} is required"
        if allowed and value not in allowed:
            return f"properties.{member} must be one of {', '.join(allowed)} (got {value!r})"
    classification = props.get("classification")
    if classification is not None and classification not in CLASSIFICATIONS:
        return f"properties.classification must be one of {', '.join(CLASSIFICATIONS)}"
    if props["status"] == "Closed" and classification is None:
        return "properties.classification is required when properties.status is Closed"
    reason = props.get("classificationReason")
    if reason is not None and (classification is None or reason not in REASONS.get(classification, ())):
        return f"properties.classificationReason {reason!r} does not go with classification {classification!r}"
    owner = props.get("owner")
    if owner is not None and not isinstance(owner, dict):
        return "properties.owner must be an object {objectId, email, userPrincipalName, assignedTo}"
    return None


def put_incident(ctx: RequestContext) -> SandboxResponse:
    ws, bad = _workspace(ctx)
    if bad:
        return bad
    raw, props, bad = checked_properties(ctx, _check_properties, "BadRequest")
    if bad:
        return bad
    state = state_of(ctx)
    table = sentinel(state)["incidents"]
    rid = f"{ws}{SI}/incidents/{ctx.params['incident']}"
    existing = table.get(rid.lower())
    if existing is not None and raw.get("etag") not in (None, existing.get("etag")):
        return error(409, "Conflict", "The incident was changed since it was read (etag mismatch): read it again and retry.")
    now = format_utc(ctx.now)
    body = copy.deepcopy(existing) if existing else {
        "id": rid, "name": ctx.params["incident"], "type": "Microsoft.SecurityInsights/incidents",
        "properties": {"createdTimeUtc": now, "incidentNumber": state.counter("sentinel-incident"), "labels": [],
                       "relatedAnalyticRuleIds": [], "providerName": "Azure Sentinel",
                       "additionalData": {"alertsCount": 0, "bookmarksCount": 0, "commentsCount": 0, "alertProductNames": [], "tactics": []}},
    }
    keep = {"createdTimeUtc", "incidentNumber", "incidentUrl", "providerName", "providerIncidentId", "additionalData",
            "relatedAnalyticRuleIds", "firstActivityTimeUtc", "lastActivityTimeUtc"}
    merged = {k: v for k, v in body["properties"].items() if k in keep}
    merged.update({k: copy.deepcopy(v) for k, v in props.items() if k not in keep})
    merged["lastModifiedTimeUtc"] = now
    if merged.get("status") != "Closed":
        for member in ("classification", "classificationReason", "classificationComment"):
            merged.pop(member, None)
    body["properties"] = merged
    body["etag"] = state.new_etag()
    table[rid.lower()] = body
    return ok(copy.deepcopy(body), status=200 if existing else 201)


def list_alerts(ctx: RequestContext) -> SandboxResponse:
    found, bad = _incident(ctx)
    if bad:
        return bad
    return ok({"value": copy.deepcopy(sentinel(state_of(ctx))["alerts"].get(found["id"].lower(), []))})


def list_entities(ctx: RequestContext) -> SandboxResponse:
    found, bad = _incident(ctx)
    if bad:
        return bad
    entities = copy.deepcopy(sentinel(state_of(ctx))["entities"].get(found["id"].lower(), []))
    kinds: dict[str, int] = {}
    for e in entities:
        kinds[e.get("kind", "")] = kinds.get(e.get("kind", ""), 0) + 1
    return ok({"entities": entities, "metaData": [{"entityKind": k, "count": n} for k, n in sorted(kinds.items())]})


def list_comments(ctx: RequestContext) -> SandboxResponse:
    found, bad = _incident(ctx)
    if bad:
        return bad
    rows = list(sentinel(state_of(ctx))["comments"].get(found["id"].lower(), {}).values())
    rows.sort(key=lambda c: parse_utc(c["properties"]["createdTimeUtc"]))
    return ok({"value": copy.deepcopy(rows)})


def put_comment(ctx: RequestContext) -> SandboxResponse:
    found, bad = _incident(ctx)
    if bad:
        return bad
    raw, bad = json_body(ctx)
    if bad:
        return bad
    message = ((raw or {}).get("properties") or {}).get("message") if isinstance(raw, dict) else None
    if not isinstance(message, str) or not message.strip() or len(message) > MAX_COMMENT_CHARS:
        return error(400, "BadRequest", f"properties.message must be 1..{MAX_COMMENT_CHARS} characters of text")
    state = state_of(ctx)
    comments = sentinel(state)["comments"].setdefault(found["id"].lower(), {})
    cid = ctx.params["comment"]
    existing = comments.get(cid.lower())
    now = format_utc(ctx.now)
    oid = caller_object_id(ctx)
    body = {
        "id": f"{found['id']}/comments/{cid}", "name": cid, "type": COMMENT_TYPE, "etag": state.new_etag(),
        "properties": {"message": message, "createdTimeUtc": existing["properties"]["createdTimeUtc"] if existing else now,
                       "lastModifiedTimeUtc": now,
                       "author": {"objectId": oid, "name": None, "email": None, "userPrincipalName": None}},
    }
    comments[cid.lower()] = body
    if existing is None:
        found["properties"].setdefault("additionalData", {})["commentsCount"] = len(comments)
    return ok(copy.deepcopy(body), status=200 if existing else 201)


room.add(
    Route("GET", ARM, INCIDENTS, "incidents.list", "arm", list_incidents),
    Route("GET", ARM, INCIDENTS + "/{incident}", "incidents.get", "arm", get_incident),
    Route("PUT", ARM, INCIDENTS + "/{incident}", "incidents.createOrUpdate", "arm", put_incident),
    Route("POST", ARM, INCIDENTS + "/{incident}/alerts", "incidents.listAlerts", "arm", list_alerts),
    Route("POST", ARM, INCIDENTS + "/{incident}/entities", "incidents.listEntities", "arm", list_entities),
    Route("GET", ARM, INCIDENTS + "/{incident}/comments", "incidentComments.list", "arm", list_comments),
    Route("PUT", ARM, INCIDENTS + "/{incident}/comments/{comment}", "incidentComments.createOrUpdate", "arm", put_comment),
)
