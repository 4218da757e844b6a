"""Turn a target resource ID into the names the SDK calls take."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlparse

from firestop.azure.errors import RunbookError

ACCOUNT_TYPE = "microsoft.cognitiveservices/accounts"
# Key Vault DNS suffixes (public, China, US Gov clouds): https://learn.microsoft.com/azure/key-vault/general/about-keys-secrets-certificates
VAULT_SUFFIXES = (".vault.azure.net", ".vault.azure.cn", ".vault.usgovcloudapi.net", ".vault.microsoftazure.de")


@dataclass(frozen=True)
class AccountRef:
    """A Cognitive Services / Azure OpenAI account: subscription, resource group, name."""

    subscription_id: str
    resource_group: str
    name: str

    @property
    def resource_id(self) -> str:
        return (
            f"/subscriptions/{self.subscription_id}/resourceGroups/{self.resource_group}"
            f"/providers/Microsoft.CognitiveServices/accounts/{self.name}"
        )


def account_ref(target: str | None) -> AccountRef:
    """Parse an Azure OpenAI account resource ID; ``RunbookError('invalid')`` naming the fix otherwise."""
    parts = [p for p in (target or "").strip().split("/") if p]
    lower = [p.lower() for p in parts]
    expected = "/subscriptions/<id>/resourceGroups/<rg>/providers/Microsoft.CognitiveServices/accounts/<name>"
    if (
        len(parts) != 8
        or lower[0] != "subscriptions"
        or lower[2] != "resourcegroups"
        or lower[4] != "providers"
        or lower[5] != "microsoft.cognitiveservices"
        or lower[6] != "accounts"
    ):
        raise RunbookError("invalid", f"target: {target!r} is not an Azure OpenAI account resource ID; use {expected}")
    return AccountRef(subscription_id=parts[1], resource_group=parts[3], name=parts[7])


def vault_url(value: str | None, *, field: str = "key_vault_url") -> str:
    """Validate a Key Vault URL (``https://<name>.vault.azure.net``); ``RunbookError('invalid')`` otherwise."""
    if not value:
        raise RunbookError(
            "invalid", f"{field}: no Key Vault configured; set FIRESTOP_KEY_VAULT_URL or the step's {field}"
        )
    parsed = urlparse(value)
    host = (parsed.hostname or "").lower()
    if parsed.scheme != "https" or not host.endswith(VAULT_SUFFIXES) or parsed.path not in ("", "/"):
        raise RunbookError("invalid", f"{field}: {value!r} is not a Key Vault URL; use https://<vault-name>.vault.azure.net")
    return f"https://{host}"


NSG_TYPE = "microsoft.network/networksecuritygroups"


@dataclass(frozen=True)
class NsgRef:
    """A network security group: subscription, resource group, name."""

    subscription_id: str
    resource_group: str
    name: str

    @property
    def resource_id(self) -> str:
        return (
            f"/subscriptions/{self.subscription_id}/resourceGroups/{self.resource_group}"
            f"/providers/Microsoft.Network/networkSecurityGroups/{self.name}"
        )


def nsg_ref(target: str | None) -> NsgRef:
    """Parse a network security group resource ID; ``RunbookError('invalid')`` naming the fix otherwise."""
    parts = [p for p in (target or "").strip().split("/") if p]
    lower = [p.lower() for p in parts]
    expected = "/subscriptions/<id>/resourceGroups/<rg>/providers/Microsoft.Network/networkSecurityGroups/<name>"
    if (
        len(parts) != 8
        or lower[0] != "subscriptions"
        or lower[2] != "resourcegroups"
        or lower[4] != "providers"
        or lower[5] != "microsoft.network"
        or lower[6] != "networksecuritygroups"
    ):
        raise RunbookError("invalid", f"target: {target!r} is not a network security group resource ID; use {expected}")
    return NsgRef(subscription_id=parts[1], resource_group=parts[3], name=parts[7])


def resource_type(resource_id: str | None) -> str:
    """Lower-case ARM type of a resource ID (``microsoft.network/networksecuritygroups``), or "" if none."""
    parts = [p.lower() for p in (resource_id or "").split("/") if p]
    if "providers" not in parts:
        return ""
    i = len(parts) - 1 - parts[::-1].index("providers")
    rest = parts[i + 1 :]
    if len(rest) < 3:
        return ""
    return "/".join([rest[0]] + [rest[j] for j in range(1, len(rest), 2)])
