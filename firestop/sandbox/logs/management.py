"""Log Analytics on ARM: ``Microsoft.OperationalInsights/workspaces`` (read-only).

=================  ======  =====================================================================================
operation          method  path
=================  ======  =====================================================================================
workspaces.get     GET     /subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.OperationalInsights/workspaces/{name}
=================  ======  =====================================================================================

REST ``Workspaces_Get`` (spec ``Microsoft.OperationalInsights/stable/2022-10-01/Workspaces.json``): the workspace's ARM
JSON (:func:`~.models.workspace`), whose ``properties.customerId`` is "the ID associated with the workspace" — the GUID
the Log Analytics query API takes (``FIRESTOP_LOG_WORKSPACE_ID``). Any api-version is accepted and logged (callers read
it through ``azure-mgmt-resource``'s generic ``resources.get_by_id``). An unknown workspace is 404
``ResourceNotFound``. Writes (create, tables, retention) are not modelled.
"""

from __future__ import annotations

import copy

from ..core.armapi import check_scope, ok, state_of
from ..core.errors import arm_not_found
from ..core.router import RequestContext
from ..core.wire import SandboxResponse
from . import room
from .models import WORKSPACE_TYPE

ARM = "management.azure.com"


@room.route("GET", ARM, "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.OperationalInsights/workspaces/{name}",
            "workspaces.get")
def get_workspace(ctx: RequestContext) -> SandboxResponse:
    bad = check_scope(ctx)
    if bad:
        return bad
    p = ctx.params
    found = state_of(ctx).resource(f"/subscriptions/{p['sub']}/resourceGroups/{p['rg']}/providers/{WORKSPACE_TYPE}/{p['name']}")
    if found is None or str(found.get("type", "")).lower() != WORKSPACE_TYPE.lower():
        return arm_not_found(WORKSPACE_TYPE, p["name"], p["rg"])
    return ok(copy.deepcopy(found))
