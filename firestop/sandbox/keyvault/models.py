"""Key Vault state: the vault's ARM body; secrets live in ``doc["vaults"]``.

The ARM body (``Microsoft.KeyVault/vaults``, served by :mod:`.management`) follows the
Key Vault management REST spec example ``getVault.json`` (2023-07-01): ``properties``
holds ``tenantId``, ``sku``, ``vaultUri``, ``enableSoftDelete`` (default true),
``softDeleteRetentionInDays`` (default 90), ``enableRbacAuthorization``,
``enablePurgeProtection`` (absent until turned on: it cannot be turned off again),
``publicNetworkAccess``, ``provisioningState``. A seed file's ``properties`` override them.

``doc["vaults"]`` = ``{lower vault name: {"name", "resource_id", "secrets": {lower secret name:
{"name", "versions": [{"version" (32 hex), "value", "created"/"updated" (epoch s), "enabled",
"contentType", "tags"}]}}}}`` (oldest version first).
"""

from __future__ import annotations

from ..core.state import TenantState

VAULT_TYPE = "Microsoft.KeyVault/vaults"


def key_vault(state: TenantState, *, resource_group: str, name: str, location: str, properties: dict | None = None) -> dict:
    """A vault's ARM body; ``properties`` (seed file) override the defaults (a ``None`` value removes one)."""
    body = {
        "id": state.arm_id(resource_group, f"{VAULT_TYPE}/{name}"),
        "name": name,
        "type": VAULT_TYPE,
        "location": location,
        "properties": {
            "vaultUri": f"https://{name}.vault.azure.net/",
            "tenantId": state.tenant_id,
            "sku": {"family": "A", "name": "standard"},
            "enableRbacAuthorization": True,
            "enableSoftDelete": True,
            "softDeleteRetentionInDays": 90,
            "publicNetworkAccess": "Enabled",
            "provisioningState": "Succeeded",
        },
    }
    for key, value in (properties or {}).items():
        if value is None:
            body["properties"].pop(key, None)
        else:
            body["properties"][key] = value
    return body
