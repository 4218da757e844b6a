"""Seed step of the graph room (order 60): the seed file's ``graph`` section.

``graph: {service_principals: [{id, appId, displayName, accountEnabled?, risk?: {riskLevel, riskState,
riskDetail, riskLastUpdatedDateTime}}], users: [{id, userPrincipalName, displayName?}], alerts: [{id,
providerAlertId, detectorId, title, severity, resources: [ARM id], ips: [...], created, …}]}``. Draws
nothing from the seeded RNG (ids are given), so earlier rooms' values never shift.
"""

from __future__ import annotations

from ..core.rooms import SeedContext
from . import room
from .models import graph_state, risky_service_principal, security_alert, service_principal, user


@room.seeder(order=60)
def seed_graph(ctx: SeedContext) -> None:
    spec = ctx.spec.get("graph") or {}
    graph = graph_state(ctx.doc)
    for sp in spec.get("service_principals", []) or []:
        body = service_principal(sp)
        graph["servicePrincipals"][body["id"].lower()] = body
        if sp.get("risk"):
            graph["riskyServicePrincipals"][body["id"].lower()] = risky_service_principal(sp, sp["risk"])
    for u in spec.get("users", []) or []:
        body = user(u)
        graph["users"][body["id"].lower()] = body
    for a in spec.get("alerts", []) or []:
        body = security_alert(a)
        graph["alerts"][body["id"].lower()] = body
