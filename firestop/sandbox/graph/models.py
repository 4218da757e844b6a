"""State and JSON shapes of the graph room (Microsoft Graph v1.0 resource types).

``doc["graph"]`` = ``{"servicePrincipals": {id: servicePrincipal}, "users": {id: user},
"riskyServicePrincipals": {id: riskyServicePrincipal}}`` (ids lower case). Shapes: the
v1.0 resource types ``servicePrincipal`` (``id, appId, displayName, accountEnabled,
servicePrincipalType, appOwnerOrganizationId``), ``user`` (``id, displayName,
userPrincipalName, accountEnabled, signInSessionsValidFromDateTime``) and
``riskyServicePrincipal`` (``id, appId, displayName, isEnabled, isProcessing, riskLevel,
riskState, riskDetail, riskLastUpdatedDateTime, servicePrincipalType``) —
https://learn.microsoft.com/graph/api/resources/serviceprincipal,
https://learn.microsoft.com/graph/api/resources/user,
https://learn.microsoft.com/graph/api/resources/riskyserviceprincipal.
"""

from __future__ import annotations

GRAPH = "graph.microsoft.com"
SECTIONS = ("servicePrincipals", "users", "riskyServicePrincipals")


def graph_state(doc: dict) -> dict:
    """``doc["graph"]``, created empty on first use (tenants saved before the room existed)."""
    graph = doc.setdefault("graph", {})
    for name in SECTIONS:
        graph.setdefault(name, {})
    return graph


def service_principal(sp: dict) -> dict:
    return {
        "id": sp["id"], "appId": sp["appId"], "displayName": sp.get("displayName", ""),
        "accountEnabled": bool(sp.get("accountEnabled", True)),
        "servicePrincipalType": sp.get("servicePrincipalType", "Application"),
        "appOwnerOrganizationId": sp.get("appOwnerOrganizationId"),
        "tags": list(sp.get("tags", [])),
    }


def user(u: dict) -> dict:
    return {
        "id": u["id"], "displayName": u.get("displayName", ""), "userPrincipalName": u["userPrincipalName"],
        "accountEnabled": bool(u.get("accountEnabled", True)),
        "signInSessionsValidFromDateTime": u.get("signInSessionsValidFromDateTime", "2026-01-01T00:00:00Z"),
    }


def risky_service_principal(sp: dict, risk: dict) -> dict:
    return {
        "id": sp["id"], "appId": sp["appId"], "displayName": sp.get("displayName", ""),
        "isEnabled": bool(sp.get("accountEnabled", True)), "isProcessing": False,
        "riskLevel": risk.get("riskLevel", "none"), "riskState": risk.get("riskState", "none"),
        "riskDetail": risk.get("riskDetail", "none"), "riskLastUpdatedDateTime": risk.get("riskLastUpdatedDateTime"),
        "servicePrincipalType": sp.get("servicePrincipalType", "Application"),
    }
