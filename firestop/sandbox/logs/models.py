"""Log Analytics state: the workspace's ARM body; tables live in ``doc["workspaces"]``.

``doc["workspaces"]`` = ``{lower customerId: {"name", "resource_id", "customer_id", "tables":
{TableName: {"columns": [{"name", "type"}], "rows": [[...]], "pending"?: [{"visible_at", "row"}]}}}}``.
"""

from __future__ import annotations

from ..core.state import TenantState

WORKSPACE_TYPE = "Microsoft.OperationalInsights/workspaces"


def workspace(state: TenantState, *, resource_group: str, name: str, location: str, customer_id: str) -> dict:
    return {
        "id": state.arm_id(resource_group, f"Microsoft.OperationalInsights/workspaces/{name}"),
        "name": name,
        "type": WORKSPACE_TYPE,
        "location": location,
        "properties": {
            "customerId": customer_id,
            "provisioningState": "Succeeded",
            "sku": {"name": "PerGB2018"},
            "retentionInDays": 90,
        },
    }
