"""ARM: long-running-operation status URLs the sandbox hands out (operation ``operations.get``).

* ``GET /subscriptions/{s}/providers/Microsoft.CognitiveServices/locations/{loc}/operationResults/{id}``
  - Azure-AsyncOperation form: 200 ``{"id","name","status","startTime"[,"endTime"]}``
    (recorded shape; no ``Retry-After``, as recorded: clients poll at their own interval);
  - with ``operationResultResponseType=Location``: 202 (no body, ``Location``) while running, then 200 + the final resource (or, for an
    operation that ended Failed/Canceled, ``lro.FAILED_LOCATION_STATUS`` + its ``error``).
* ``GET /subscriptions/{s}/providers/Microsoft.Network/locations/{loc}/operations/{id}``
  - 200 ``{"status": ...}`` (recorded Microsoft.Network shape; ``error`` added when Failed/Canceled).

See :mod:`firestop.sandbox.core.lro` for the timing model.
"""

from __future__ import annotations

import copy

from ..core import lro
from ..core.errors import error
from ..core.router import RequestContext, Route
from ..core.wire import SandboxResponse
from ..core.armapi import ok, state_of
from . import room

ARM = "management.azure.com"


def operation_status(ctx: RequestContext) -> SandboxResponse:
    state = state_of(ctx)
    if ctx.params["sub"].lower() != state.subscription_id.lower():
        return error(404, "SubscriptionNotFound", f"The subscription '{ctx.params['sub']}' could not be found.")
    op = state.doc["operations"].get(ctx.params["op"].lower()) or state.doc["operations"].get(ctx.params["op"])
    if op is None:
        return error(404, "OperationNotFound", f"The operation '{ctx.params['op']}' could not be found.")
    running = op["status"] == "InProgress"
    if ctx.request.query.get("operationresultresponsetype", "").lower() == "location":
        if running:
            return SandboxResponse(202, None, {"Location": lro.location_url(state, op)})
        if op["status"] in ("Failed", "Canceled"):
            failure = op.get("error") or {"code": op["status"], "message": f"The operation ended {op['status']}."}
            return error(lro.FAILED_LOCATION_STATUS, failure["code"], failure["message"])
        final = state.resource(op["resource_id"])
        if op["action"] == "delete" or final is None:
            return SandboxResponse(204, None, {})
        return ok(copy.deepcopy(final), etag=final.get("etag"))
    return ok(lro.status_body(state, op))


room.add(
    Route(
        "GET", ARM,
        "/subscriptions/{sub}/providers/Microsoft.CognitiveServices/locations/{location}/operationResults/{op}",
        "operations.get", "arm", operation_status,
    ),
    Route(
        "GET", ARM,
        "/subscriptions/{sub}/providers/Microsoft.Network/locations/{location}/operations/{op}",
        "operations.get", "arm", operation_status,
    ),
)
