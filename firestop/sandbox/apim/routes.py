"""Routes of the apim room, under ``/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.ApiManagement/service/{service}``:

=========================================  ======  =============================================================
operation                                  method  path / answer
=========================================  ======  =============================================================
apimSubscriptions.list                     GET     /subscriptions → {"value": [...]}
apimSubscriptions.get                      GET     /subscriptions/{sid} → 200 + ETag (no keys in the body)
apimSubscriptions.update                   PATCH   /subscriptions/{sid} → 200 + the entity; ``If-Match`` required
                                                   (412 on a stale etag); properties state, stateComment,
                                                   displayName, expirationDate, allowTracing
apimSubscriptions.regeneratePrimaryKey     POST    /subscriptions/{sid}/regeneratePrimaryKey → 204
apimSubscriptions.regenerateSecondaryKey   POST    /subscriptions/{sid}/regenerateSecondaryKey → 204
apimSubscriptions.listSecrets              POST    /subscriptions/{sid}/listSecrets → {"primaryKey", "secondaryKey"}
=========================================  ======  =============================================================
"""

from __future__ import annotations

import copy
import hashlib

from ..arm.armjson import if_match_failed
from ..core.armapi import check_scope, json_body, ok, state_of
from ..core.errors import arm_not_found, error
from ..core.router import RequestContext
from ..core.wire import SandboxResponse
from . import room
from .models import STATES, SERVICE_TYPE, SUBSCRIPTION_TYPE, new_key

ARM = "management.azure.com"
BASE = "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.ApiManagement/service/{service}/subscriptions"
WRITABLE = ("state", "stateComment", "displayName", "expirationDate", "allowTracing")


def _etag(body: dict) -> str:
    return '"' + hashlib.sha256(repr(sorted(body["properties"].items())).encode()).hexdigest()[:16] + '"'


def _find(ctx: RequestContext, with_sid: bool = True) -> tuple[dict | None, SandboxResponse | None]:
    bad = check_scope(ctx)
    if bad:
        return None, bad
    state = state_of(ctx)
    sid = f"/subscriptions/{ctx.params['sub']}/resourceGroups/{ctx.params['rg']}/providers/{SERVICE_TYPE}/{ctx.params['service']}"
    service = state.resource(sid)
    if service is None:
        return None, arm_not_found(SERVICE_TYPE, ctx.params["service"], ctx.params["rg"])
    if not with_sid:
        return service, None
    item = state.resource(f"{service['id']}/subscriptions/{ctx.params['sid']}")
    if item is None:
        return None, error(404, "ResourceNotFound", "Subscription not found.")
    return item, None


@room.route("GET", ARM, BASE, "apimSubscriptions.list")
def list_subscriptions(ctx: RequestContext) -> SandboxResponse:
    service, bad = _find(ctx, with_sid=False)
    if bad:
        return bad
    prefix = service["id"].lower() + "/subscriptions/"
    value = [copy.deepcopy(r) for k, r in sorted(state_of(ctx).doc["resources"].items()) if k.startswith(prefix) and r.get("type") == SUBSCRIPTION_TYPE]
    return ok({"value": value, "count": len(value)})


@room.route("GET", ARM, BASE + "/{sid}", "apimSubscriptions.get")
def get_subscription(ctx: RequestContext) -> SandboxResponse:
    item, bad = _find(ctx)
    if bad:
        return bad
    return ok(copy.deepcopy(item), etag=_etag(item))


@room.route("PATCH", ARM, BASE + "/{sid}", "apimSubscriptions.update")
def update_subscription(ctx: RequestContext) -> SandboxResponse:
    item, bad = _find(ctx)
    if bad:
        return bad
    if_match = ctx.request.header("If-Match")
    if if_match is None:
        return error(400, "InvalidRequest", "The If-Match header is required.")
    if if_match_failed(if_match, _etag(item)):
        return error(412, "PreconditionFailed", "The entity has been modified since it was read (If-Match).")
    body, bad = json_body(ctx)
    if bad:
        return bad
    props = (body or {}).get("properties") if isinstance(body, dict) else None
    if not isinstance(props, dict):
        return error(400, "ValidationError", "The request body needs a properties object.")
    for key, value in props.items():
        if key not in WRITABLE:
            return error(400, "ValidationError", f"Property '{key}' cannot be updated.")
        if key == "state" and value not in STATES:
            return error(400, "ValidationError", f"state must be one of {', '.join(STATES)}.")
    item["properties"].update(copy.deepcopy(props))
    return ok(copy.deepcopy(item), etag=_etag(item))


def _regenerate(ctx: RequestContext, which: str) -> SandboxResponse:
    item, bad = _find(ctx)
    if bad:
        return bad
    state = state_of(ctx)
    state.doc.setdefault("apim_keys", {})[item["id"].lower()][which] = new_key(state)
    return SandboxResponse(204, None, {})


@room.route("POST", ARM, BASE + "/{sid}/regeneratePrimaryKey", "apimSubscriptions.regeneratePrimaryKey")
def regenerate_primary(ctx: RequestContext) -> SandboxResponse:
    return _regenerate(ctx, "primaryKey")


@room.route("POST", ARM, BASE + "/{sid}/regenerateSecondaryKey", "apimSubscriptions.regenerateSecondaryKey")
def regenerate_secondary(ctx: RequestContext) -> SandboxResponse:
    return _regenerate(ctx, "secondaryKey")


@room.route("POST", ARM, BASE + "/{sid}/listSecrets", "apimSubscriptions.listSecrets")
def list_secrets(ctx: RequestContext) -> SandboxResponse:
    item, bad = _find(ctx)
    if bad:
        return bad
    keys = state_of(ctx).doc.setdefault("apim_keys", {})[item["id"].lower()]
    return ok(dict(keys), etag=_etag(item))
