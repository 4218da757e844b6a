"""Helpers shared by the ARM route modules."""

from __future__ import annotations

from typing import Callable, Optional

from .credential import decode_token
from .errors import arm_not_found, arm_resource_group_not_found, error
from .router import RequestContext
from .state import TenantState
from .wire import SandboxResponse


def state_of(ctx: RequestContext) -> TenantState:
    return ctx.state  # type: ignore[return-value]


def check_scope(ctx: RequestContext) -> Optional[SandboxResponse]:
    """404 for a foreign subscription or a resource group the tenant does not have."""
    state = state_of(ctx)
    sub = ctx.params.get("sub", "")
    if sub.lower() != state.subscription_id.lower():
        return error(404, "SubscriptionNotFound", f"The subscription '{sub}' could not be found.")
    rg = ctx.params.get("rg")
    if rg is not None and not state.resource_group_exists(rg):
        return arm_resource_group_not_found(rg)
    return None


def typed_resource(ctx: RequestContext, resource_type: str, name: str) -> tuple[Optional[dict], Optional[SandboxResponse]]:
    """(the live ARM JSON, None) for ``{resource_type}/{name}`` in the route's ``sub``/``rg``, or (None, error).

    The error is :func:`check_scope`'s 404 (foreign subscription, unknown resource group), or ARM's 404
    ``ResourceNotFound`` when no resource of that type (compared case-insensitively, as ARM does) has that name.
    The dict is the tenant's own: copy it before answering with it.
    """
    bad = check_scope(ctx)
    if bad:
        return None, bad
    rg = ctx.params["rg"]
    found = state_of(ctx).resource(f"/subscriptions/{ctx.params['sub']}/resourceGroups/{rg}/providers/{resource_type}/{name}")
    if found is None or str(found.get("type", "")).lower() != resource_type.lower():
        return None, arm_not_found(resource_type, name, rg)
    return found, None


def caller_object_id(ctx: RequestContext) -> str:
    token = ctx.request.bearer_token()
    claims = decode_token(token) if token else None
    return (claims or {}).get("oid", "unknown")


def json_body(ctx: RequestContext) -> tuple[Optional[object], Optional[SandboxResponse]]:
    """(parsed body, None) or (None, 400 InvalidRequestContent) for unparsable JSON."""
    try:
        return ctx.request.json(), None
    except (ValueError, UnicodeDecodeError) as exc:
        return None, error(400, "InvalidRequestContent", f"The request content was invalid and could not be deserialized: '{exc}'.")


def checked_properties(ctx: RequestContext, check: Callable[[object], Optional[str]],
                       code: str) -> tuple[Optional[dict], Optional[dict], Optional[SandboxResponse]]:
    """(the parsed body, its ``properties``, None) for a PUT whose body parses and whose ``properties`` ``check`` finds
    nothing wrong with; else (None, None, the error): :func:`json_body`'s 400 for unparsable JSON, or 400 ``code``
    with ``check``'s sentence. ``check`` gets ``properties`` as sent (None when the body is no object or has none) and
    answers None or which member is wrong and how (a sentence naming the field)."""
    raw, bad = json_body(ctx)
    if bad:
        return None, None, bad
    props = raw.get("properties") if isinstance(raw, dict) else None
    why = check(props)
    if why:
        return None, None, error(400, code, why)
    return raw, props, None  # type: ignore[return-value]


def ok(body: dict, status: int = 200, etag: Optional[str] = None, headers: Optional[dict] = None) -> SandboxResponse:
    out = dict(headers or {})
    if etag:
        out["ETag"] = etag
    return SandboxResponse(status, body, out)
