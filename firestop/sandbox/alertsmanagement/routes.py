"""ARM: Microsoft.AlertsManagement alerts (REST 2019-03-01, ``Alerts_GetById``; any api-version is accepted and logged).

=============  ======  =====================================================================================
operation      method  path / answer
=============  ======  =====================================================================================
alerts.get     GET     ``/subscriptions/{s}/providers/Microsoft.AlertsManagement/alerts/{alertId}`` → 200 + the
                       alert (:mod:`.models`), 404 ``ResourceNotFound`` for an alert Azure Monitor never fired
=============  ======  =====================================================================================
"""

from __future__ import annotations

import copy

from ..core.armapi import check_scope, ok, state_of
from ..core.errors import error
from ..core.router import RequestContext, Route
from ..core.wire import SandboxResponse
from . import room
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
