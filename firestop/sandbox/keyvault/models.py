"""Key Vault state: the vault's ARM body; secrets live in ``doc["vaults"]``.

``doc["vaults"]`` = ``{lower vault name: {"name", "resource_id", "secrets": {lower secret name:
{"name", "versions": [{"version" (32 hex), "value", "created"/"updated" (epoch s), "enabled",
"contentType", "tags"}]}}}}`` (oldest version first).
"""

from __future__ import annotations

from ..core.state import TenantState

VAULT_TYPE = "Microsoft.KeyVault/vaults"


def key_vault(state: TenantState, *, resource_group: str, name: str, location: str) -> dict:
    return {
        "id": state.arm_id(resource_group, f"{VAULT_TYPE}/{name}"),
        "name": name,
        "type": VAULT_TYPE,
        "location": location,
        "properties": {
            "vaultUri": f"https://{name}.vault.azure.net/",
            "tenantId": state.tenant_id,
            "sku": {"family": "A", "name": "standard"},
            "enableRbacAuthorization": True,
            "provisioningState": "Succeeded",
        },
    }
