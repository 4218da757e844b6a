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

from ..core.armapi import ok, typed_resource
from ..core.router import RequestContext
from ..core.wire import SandboxResponse
from . import room
from .models import WORKSPACE_TYPE

ARM = "management.azure.com"


@room.route("GET", ARM, "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.OperationalInsights/workspaces/{name}",
            "workspaces.get")
def get_workspace(ctx: RequestContext) -> SandboxResponse:
    found, bad = typed_resource(ctx, WORKSPACE_TYPE, ctx.params["name"])
    if bad:
        return bad
    return ok(copy.deepcopy(found))
