"""Seed step of the monitor room: the seed file's ``monitor:`` section (order 60).

```yaml
monitor:
  action_groups:
    - {name, resource_group, short_name, webhook: <https URL>}       # one webhook receiver, common alert schema
  diagnostic_settings:
    - {account: <account name> | resource_id: <ARM id>, name, workspace: <workspace name>,
       logs: [Audit, RequestResponse, Trace], metrics: true}
    - {apim: <API Management service name>, resource_group: <its group>, name, workspace: <workspace name>,
       logs: [GatewayLogs], destination_type: Dedicated, metrics: true}
```

``destination_type`` is ``logAnalyticsDestinationType`` (``Dedicated``: resource-specific tables such as
``ApiManagementGatewayLogs``; absent: ``AzureDiagnostics``). An ``apim`` entry is not checked against the
seed's ``apim_services`` (that room seeds later, order 70).

Stored as ARM bodies in ``doc["deployed_resources"]`` (see :mod:`.models`). Unknown accounts
or workspaces are a ``ValueError`` naming the entry.
"""

from __future__ import annotations

from ..arm.models import account_by_name
from ..core.rooms import SeedContext
from . import models, room


@room.seeder(order=60)
def seed_monitor(ctx: SeedContext) -> None:
    spec = ctx.spec.get("monitor") or {}
    state = ctx.state
    for group in spec.get("action_groups") or []:
        rid = state.arm_id(group["resource_group"], f"Microsoft.Insights/actionGroups/{group['name']}")
        hooks = [{"name": "firestop", "serviceUri": str(group["webhook"]), "useCommonAlertSchema": True}] if group.get("webhook") else []
        models.put(state, {
            "id": rid, "name": group["name"], "type": models.KINDS["actionGroups"], "apiVersion": "2023-01-01",
            "location": "Global",
            "properties": {"groupShortName": str(group.get("short_name") or group["name"])[:12], "enabled": True,
                           "emailReceivers": [], "smsReceivers": [], "webhookReceivers": hooks},
        })
    for i, setting in enumerate(spec.get("diagnostic_settings") or []):
        if setting.get("account"):
            target = account_by_name(state, str(setting["account"]))["id"]
        elif setting.get("apim"):
            if not setting.get("resource_group"):
                raise ValueError(f"monitor.diagnostic_settings[{i}].resource_group: give the API Management service's resource group")
            target = state.arm_id(str(setting["resource_group"]), f"Microsoft.ApiManagement/service/{setting['apim']}")
        else:
            target = str(setting["resource_id"])
        workspace = next((w for w in state.doc["workspaces"].values() if w["name"].lower() == str(setting["workspace"]).lower()), None)
        if workspace is None:
            raise ValueError(f"monitor.diagnostic_settings[{i}].workspace: no workspace {setting['workspace']!r} in the seed")
        rid = f"{target}/providers/Microsoft.Insights/diagnosticSettings/{setting['name']}"
        models.put(state, {
            "id": rid, "name": setting["name"], "type": models.KINDS["diagnosticSettings"], "apiVersion": "2021-05-01-preview",
            "properties": {
                "workspaceId": workspace["resource_id"],
                "logAnalyticsDestinationType": setting.get("destination_type"),
                "logs": [{"category": c, "categoryGroup": None, "enabled": True, "retentionPolicy": {"enabled": False, "days": 0}}
                         for c in setting.get("logs") or []],
                "metrics": [{"category": "AllMetrics", "enabled": bool(setting.get("metrics")), "timeGrain": None,
                             "retentionPolicy": {"enabled": False, "days": 0}}],
            },
        })
