"""State and JSON shapes of the graph room (Microsoft Graph v1.0 resource types).

``doc["graph"]`` = ``{"servicePrincipals": {id: servicePrincipal}, "users": {id: user},
"riskyServicePrincipals": {id: riskyServicePrincipal}}`` (ids lower case). Shapes: the
v1.0 resource types ``servicePrincipal`` (``id, appId, displayName, accountEnabled,
servicePrincipalType, appOwnerOrganizationId``), ``user`` (``id, displayName,
userPrincipalName, accountEnabled, signInSessionsValidFromDateTime``) and
``riskyServicePrincipal`` (``id, appId, displayName, isEnabled, isProcessing, riskLevel,
riskState, riskDetail, riskLastUpdatedDateTime, servicePrincipalType``), and ``doc["graph"]["alerts"]``:
security ``alert`` (v2: ``id, providerAlertId, serviceSource, detectionSource, detectorId, title, description,
severity, status, category, createdDateTime, firstActivityDateTime, lastActivityDateTime, evidence[]`` with
``#microsoft.graph.security.azureResourceEvidence`` / ``ipEvidence``;
https://learn.microsoft.com/graph/api/resources/security-alert) —
https://learn.microsoft.com/graph/api/resources/serviceprincipal,
https://learn.microsoft.com/graph/api/resources/user,
https://learn.microsoft.com/graph/api/resources/riskyserviceprincipal.
"""

from __future__ import annotations

GRAPH = "graph.microsoft.com"
SECTIONS = ("servicePrincipals", "users", "riskyServicePrincipals", "alerts")


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


def security_alert(a: dict) -> dict:
    """A ``microsoft.graph.security.alert`` (v2) from the seed's short form."""
    evidence = [{"@odata.type": "#microsoft.graph.security.azureResourceEvidence", "resourceId": rid,
                 "resourceName": rid.rstrip("/").rsplit("/", 1)[-1], "resourceType": "Microsoft.CognitiveServices/accounts",
                 "roles": [], "verdict": "suspicious", "remediationStatus": "none"} for rid in a.get("resources", [])]
    evidence += [{"@odata.type": "#microsoft.graph.security.ipEvidence", "ipAddress": ip, "roles": ["attacker"],
                  "verdict": "malicious", "remediationStatus": "none"} for ip in a.get("ips", [])]
    return {
        "id": a["id"], "providerAlertId": a.get("providerAlertId"), "incidentId": a.get("incidentId"),
        "serviceSource": a.get("serviceSource", "microsoftDefenderForCloud"),
        "detectionSource": a.get("detectionSource", "microsoftDefenderForCloud"), "detectorId": a.get("detectorId"),
        "title": a.get("title", ""), "description": a.get("description", ""), "severity": a.get("severity", "medium"),
        "status": a.get("status", "new"), "category": a.get("category"), "createdDateTime": a.get("created"),
        "firstActivityDateTime": a.get("first_activity"), "lastActivityDateTime": a.get("last_activity"),
        "lastUpdateDateTime": a.get("created"), "evidence": evidence,
    }
