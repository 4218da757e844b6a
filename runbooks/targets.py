"""Turn a target resource ID into the names the SDK calls take."""

from __future__ import annotations

from urllib.parse import urlparse

from msgspec import Struct

from firestop.azure.errors import RunbookError

ACCOUNT_TYPE = "microsoft.cognitiveservices/accounts"
# Key Vault DNS suffixes (public, China, US Gov clouds): https://learn.microsoft.com/azure/key-vault/general/about-keys-secrets-certificates
VAULT_SUFFIXES = (".vault.azure.net", ".vault.azure.cn", ".vault.usgovcloudapi.net", ".vault.microsoftazure.de")


class ResourceRef(Struct, frozen=True):
    """A top-level ARM resource: subscription, resource group, provider namespace, type and name."""

    subscription_id: str
    resource_group: str
    namespace: str
    type: str
    name: str

    @property
    def resource_id(self) -> str:
        return (
            f"/subscriptions/{self.subscription_id}/resourceGroups/{self.resource_group}"
            f"/providers/{self.namespace}/{self.type}/{self.name}"
        )


#: An Azure OpenAI / Cognitive Services account.
AccountRef = ResourceRef
#: A network security group.
NsgRef = ResourceRef


def _ref(target: str | None, namespace: str, type_: str, what: str) -> ResourceRef:
    """Parse ``/subscriptions/<id>/resourceGroups/<rg>/providers/<namespace>/<type>/<name>``;
    ``RunbookError('invalid')`` naming the expected form otherwise (case-insensitive, as ARM)."""
    parts = [p for p in (target or "").strip().split("/") if p]
    lower = [p.lower() for p in parts]
    expected = f"/subscriptions/<id>/resourceGroups/<rg>/providers/{namespace}/{type_}/<name>"
    if (
        len(parts) != 8
        or lower[0] != "subscriptions"
        or lower[2] != "resourcegroups"
        or lower[4] != "providers"
        or lower[5] != namespace.lower()
        or lower[6] != type_.lower()
    ):
        raise RunbookError("invalid", f"target: {target!r} is not {what} resource ID; use {expected}")
    return ResourceRef(subscription_id=parts[1], resource_group=parts[3], namespace=namespace, type=type_, name=parts[7])


def target_key(target: object) -> str:
    """The comparison key of a runbook target: its non-empty ``/`` parts, trimmed as :func:`_ref` reads them, joined
    by one ``/`` and lower-cased (ARM ids are case-insensitive). ``…/accounts/x/``, `` …/accounts/x`` and
    ``/subscriptions//…/accounts/X`` name the account a runbook acts on, so they are one key (RT11-02: the manual-run
    index and the undo's reliance check compared ``target.lower()``, and a run written in another form was missed)."""
    return "/" + "/".join(p for p in str(target or "").strip().split("/") if p).lower()


def account_ref(target: str | None) -> ResourceRef:
    """Parse an Azure OpenAI account resource ID; ``RunbookError('invalid')`` naming the fix otherwise."""
    return _ref(target, "Microsoft.CognitiveServices", "accounts", "an Azure OpenAI account")


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


def nsg_ref(target: str | None) -> ResourceRef:
    """Parse a network security group resource ID; ``RunbookError('invalid')`` naming the fix otherwise."""
    return _ref(target, "Microsoft.Network", "networkSecurityGroups", "a network security group")


def resource_type(resource_id: str | None) -> str:
    """Lower-case ARM type of a resource ID (``microsoft.network/networksecuritygroups``), or "" if none."""
    from firestop.resource_id import type_key

    return type_key(resource_id or "")

APIM_TYPE = "microsoft.apimanagement/service"


def apim_ref(target: str | None) -> ResourceRef:
    """Parse an API Management service resource ID; ``RunbookError('invalid')`` naming the fix otherwise."""
    return _ref(target, "Microsoft.ApiManagement", "service", "an API Management service")
