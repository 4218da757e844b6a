"""Seed step of the sentinel room: the seed file's ``sentinel`` section (order 70, after workspaces and alerts).

::

    sentinel:
      incidents:
        - workspace: law-contoso-sec          # a seeded workspace
          name: <incident GUID>
          number: 4211
          title: …                            # severity, status (New), description?
          created: "2026-11-29T02:29:05Z"     # first_activity / last_activity optional
          rule: <analytic rule GUID>?
          alerts:   [{name: <GUID>, alert_type, display_name, severity, account, start, end?, generated?,
                      provider_alert_id?}]   # the Defender alert's systemAlertId it was synced from
          entities: [{name, kind: Ip|AzureResource|Account|CloudApplication, properties: {...}}]

``account`` names a seeded Azure OpenAI account (its id becomes the alert's ``resourceIdentifiers``).
"""

from __future__ import annotations

from ..arm.models import account_by_name
from ..core.rooms import SeedContext
from . import room
from .models import ENTITY_TYPE, INCIDENT_TYPE, SI, sentinel


@room.seeder(order=70)
def seed_sentinel(ctx: SeedContext) -> None:
    state = ctx.state
    section = sentinel(state)
    for entry in (ctx.spec.get("sentinel") or {}).get("incidents") or []:
        ws = state.arm_id(_workspace_rg(state, entry["workspace"]), f"Microsoft.OperationalInsights/workspaces/{entry['workspace']}")
        rid = f"{ws}{SI}/incidents/{entry['name']}"
        alerts = []
        for a in entry.get("alerts") or []:
            account = account_by_name(state, str(a["account"]))
            alerts.append({
                "id": f"{ws}{SI}/Entities/{a['name']}", "name": str(a["name"]), "type": ENTITY_TYPE, "kind": "SecurityAlert",
                "properties": {
                    "systemAlertId": str(a["name"]), "alertType": a["alert_type"], "alertDisplayName": a["display_name"],
                    "severity": a.get("severity", "Medium"), "status": "New", "vendorName": "Microsoft",
                    "productName": "Azure Security Center", "startTimeUtc": ctx.arm_time(a["start"]),
                    "endTimeUtc": ctx.arm_time(a.get("end") or a["start"]),
                    "timeGenerated": ctx.arm_time(a.get("generated") or a.get("end") or a["start"]),
                    "tactics": list(a.get("tactics") or []), "confidenceLevel": "Unknown",
                    "resourceIdentifiers": [{"type": "AzureResource", "resourceId": account["id"]}],
                    "friendlyName": a["display_name"],
                    # the originating product's id (a Defender alert's systemAlertId); REST SecurityAlertProperties
                    **({"providerAlertId": str(a["provider_alert_id"])} if a.get("provider_alert_id") else {}),
                },
            })
        entities = [{"id": f"{ws}{SI}/Entities/{e['name']}", "name": str(e["name"]), "type": ENTITY_TYPE, "kind": e["kind"],
                     "properties": dict(e.get("properties") or {})} for e in entry.get("entities") or []]
        created = ctx.arm_time(entry["created"])
        section["incidents"][rid.lower()] = {
            "id": rid, "name": str(entry["name"]), "type": INCIDENT_TYPE, "etag": state.new_etag(),
            "properties": {
                "title": entry["title"], "description": entry.get("description", ""), "severity": entry.get("severity", "Medium"),
                "status": entry.get("status", "New"),
                "owner": {"objectId": None, "email": None, "userPrincipalName": None, "assignedTo": None},
                "labels": [], "incidentNumber": int(entry["number"]), "providerName": "Azure Sentinel",
                "providerIncidentId": str(entry["number"]), "createdTimeUtc": created, "lastModifiedTimeUtc": created,
                "firstActivityTimeUtc": ctx.arm_time(entry.get("first_activity") or entry["created"]),
                "lastActivityTimeUtc": ctx.arm_time(entry.get("last_activity") or entry["created"]),
                "incidentUrl": "https://portal.azure.com/#asset/Microsoft_Azure_Security_Insights/Incident" + rid,
                "relatedAnalyticRuleIds": [f"{ws}{SI}/alertRules/{entry['rule']}"] if entry.get("rule") else [],
                "additionalData": {"alertsCount": len(alerts), "bookmarksCount": 0, "commentsCount": 0,
                                   "alertProductNames": sorted({a["properties"]["productName"] for a in alerts}),
                                   "tactics": sorted({t for a in alerts for t in a["properties"]["tactics"]})},
            },
        }
        section["alerts"][rid.lower()] = alerts
        section["entities"][rid.lower()] = entities


def _workspace_rg(state, name: str) -> str:
    for body in state.doc["resources"].values():
        if body.get("type", "").lower() == "microsoft.operationalinsights/workspaces" and body.get("name", "").lower() == name.lower():
            return body["id"].split("/")[4]
    raise KeyError(f"sentinel.incidents: no seeded workspace {name!r}")
