"""Protected scopes from the command line, parsed and checked to exist.

Forms accepted (each error names the flag and the fix, :class:`ScopeError`):

* ``--subscription``: a subscription ID (GUID).
* ``--resource-group NAME`` (repeatable): the custom role is assigned on the whole group (its NSGs,
  accounts, …). Checked with ``ResourceManagementClient.resource_groups.get``.
* ``--account RG/NAME`` or an account resource ID (repeatable): an Azure OpenAI account; the role is
  assigned on the account alone. Checked with ``CognitiveServicesManagementClient.accounts.get``.
* ``--nsg RG/NAME`` or an NSG resource ID (repeatable): a network security group ``network.block_ips``
  edits. Checked with ``NetworkManagementClient.network_security_groups.get``.
* ``--key-vault RG/NAME`` or a vault ID, with ``--key-secret-name``: the role is assigned on that one
  secret (``…/vaults/{v}/secrets/{s}``); checked for format and resource group only.
* ``--workspace RG/NAME`` or a workspace ID: the evidence workspace. Read through ARM
  (``ResourceManagementClient.resources.get_by_id``, api-version :data:`WORKSPACE_API_VERSION`; REST
  ``Workspaces_Get``): it must exist, and its ``properties.customerId`` — "the ID associated with the workspace",
  the GUID the Log Analytics query API takes — becomes :attr:`Scopes.workspace_customer_id`, so ``infra`` needs no
  ``--log-workspace-id`` beside it. A workspace the caller may not read (403) is named with the one flag that
  replaces the read (``--log-workspace-id``).
* Write-back scopes (a narrow role each, :data:`runbooks.permissions.WRITE_BACK_SCOPES`):
  ``--defender-resource-group NAME`` (repeatable; default: the protected accounts' groups, where Defender
  for Cloud keeps their alerts), ``--sentinel-workspace RG/NAME`` or a workspace ID (the Sentinel
  workspace), ``--apim RG/NAME`` or an API Management service ID (repeatable). Checked for format and
  resource group.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Optional

from firestop.resource_id import resource_group_name_problem

_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_NAME = re.compile(r"^[-\w._()]{1,90}$")
MAX_SCOPES = 100
#: Microsoft.OperationalInsights/workspaces api-version the workspace is read with (spec ``stable/2022-10-01/Workspaces.json``)
WORKSPACE_API_VERSION = "2022-10-01"


class ScopeError(ValueError):
    """A flag whose value is malformed or names nothing that exists: ``flag`` and ``message``."""

    def __init__(self, flag: str, message: str) -> None:
        super().__init__(f"{flag}: {message}")
        self.flag = flag
        self.message = message


@dataclass(frozen=True)
class Resource:
    """A protected resource: its resource group and ``<namespace>/<type>/<name>[/<child>/<name>]`` in it."""

    resource_group: str
    path: str

    def id(self, subscription_id: str) -> str:
        return f"/subscriptions/{subscription_id}/resourceGroups/{self.resource_group}/providers/{self.path}"


@dataclass
class Scopes:
    subscription_id: str
    resource_groups: list[str] = field(default_factory=list)
    resources: list[Resource] = field(default_factory=list)
    key_vault: Optional[str] = None  # vault name (for the URL)
    defender_resource_groups: list[str] = field(default_factory=list)
    sentinel_workspace: Optional[Resource] = None
    apim_services: list[Resource] = field(default_factory=list)
    workspace: Optional[Resource] = None  # the evidence workspace (also in ``resources``)
    #: the evidence workspace's workspace ID (GUID, ARM ``properties.customerId``), set by :func:`check`
    workspace_customer_id: Optional[str] = None

    def write_back_ids(self) -> tuple[Optional[str], list[str]]:
        """(the Sentinel workspace's resource ID or None, the API Management services' resource IDs)."""
        ws = self.sentinel_workspace.id(self.subscription_id) if self.sentinel_workspace else None
        return ws, [r.id(self.subscription_id) for r in self.apim_services]


def _split(flag: str, value: str, namespace_type: str, subscription_id: str) -> tuple[str, str]:
    """(resource group, name) from ``RG/NAME`` or a full resource ID of ``namespace_type``."""
    value = value.strip()
    if value.startswith("/"):
        m = re.match(rf"^/subscriptions/([^/]+)/resourceGroups/([^/]+)/providers/{re.escape(namespace_type)}/([^/]+)/?$", value, re.IGNORECASE)
        if not m:
            raise ScopeError(flag, f"{value!r} is not a {namespace_type} resource ID; give /subscriptions/<id>/resourceGroups/<rg>/providers/{namespace_type}/<name> or <rg>/<name>")
        if m.group(1).lower() != subscription_id.lower():
            raise ScopeError(flag, f"{value!r} is in subscription {m.group(1)}, not --subscription {subscription_id}")
        return m.group(2), m.group(3)
    parts = value.split("/")
    if len(parts) != 2 or not all(_NAME.match(p) for p in parts) or resource_group_name_problem(parts[0]) is not None:
        raise ScopeError(flag, f"{value!r} is not <resource group>/<name> or a resource ID")
    return parts[0], parts[1]


def resource_ref(flag: str, value: str, namespace_type: str, subscription_id: str) -> str:
    """The resource ID ``value`` names: ``RG/NAME`` in ``subscription_id``, or a full resource ID of ``namespace_type``
    (in that subscription) as given. Raises :class:`ScopeError` naming ``flag`` otherwise (``firestop audit run
    --account`` takes what ``infra --account`` takes)."""
    rg, name = _split(flag, value, namespace_type, subscription_id)
    return value.strip() if value.strip().startswith("/") else \
        f"/subscriptions/{subscription_id}/resourceGroups/{rg}/providers/{namespace_type}/{name}"


def parse(*, subscription: str, resource_groups: list[str], accounts: list[str], key_vault: Optional[str],
          key_secret_name: str, workspace: Optional[str], nsgs: Optional[list[str]] = None,
          defender_resource_groups: Optional[list[str]] = None, sentinel_workspace: Optional[str] = None,
          apim: Optional[list[str]] = None) -> Scopes:
    """The scopes the flags name (format only; :func:`check` asks Azure/the sandbox they exist)."""
    if not _GUID.match(subscription or ""):
        raise ScopeError("--subscription", f"{subscription!r} is not a subscription ID (GUID); see az account show --query id")
    if not resource_groups and not accounts and not nsgs:
        raise ScopeError("--account", "no protected scope given: name each Azure OpenAI account (--account <rg>/<name>) and/or each resource group whose NSGs the playbooks edit (--resource-group <name>)")
    if len(resource_groups) + len(accounts) > MAX_SCOPES:
        raise ScopeError("--account", f"at most {MAX_SCOPES} protected scopes")
    out = Scopes(subscription_id=subscription)
    for rg in resource_groups:
        if resource_group_name_problem(rg) is not None:
            raise ScopeError("--resource-group", f"{rg!r} is not a resource group name (1-90 letters, digits, '-', '_', '.', '(' or ')', not ending in '.')")
        if rg.lower() not in {g.lower() for g in out.resource_groups}:
            out.resource_groups.append(rg)
    for value in accounts:
        rg, name = _split("--account", value, "Microsoft.CognitiveServices/accounts", subscription)
        out.resources.append(Resource(rg, f"Microsoft.CognitiveServices/accounts/{name}"))
    for value in nsgs or []:
        rg, name = _split("--nsg", value, "Microsoft.Network/networkSecurityGroups", subscription)
        out.resources.append(Resource(rg, f"Microsoft.Network/networkSecurityGroups/{name}"))
    if key_vault:
        rg, name = _split("--key-vault", key_vault, "Microsoft.KeyVault/vaults", subscription)
        if not re.match(r"^[A-Za-z0-9-]{1,127}$", key_secret_name or ""):
            raise ScopeError("--key-secret-name", f"{key_secret_name!r} is not a Key Vault secret name")
        out.resources.append(Resource(rg, f"Microsoft.KeyVault/vaults/{name}/secrets/{key_secret_name}"))
        out.key_vault = name
    if workspace:
        rg, name = _split("--workspace", workspace, "Microsoft.OperationalInsights/workspaces", subscription)
        out.workspace = Resource(rg, f"Microsoft.OperationalInsights/workspaces/{name}")
        out.resources.append(out.workspace)
    for rg in defender_resource_groups or []:
        if resource_group_name_problem(rg) is not None:
            raise ScopeError("--defender-resource-group", f"{rg!r} is not a resource group name (1-90 letters, digits, '-', '_', '.', '(' or ')', not ending in '.')")
        if rg.lower() not in {g.lower() for g in out.defender_resource_groups}:
            out.defender_resource_groups.append(rg)
    if not out.defender_resource_groups:  # Defender for Cloud keeps an account's alerts on the account's resource group
        for r in out.resources:
            if r.path.startswith("Microsoft.CognitiveServices/accounts/") and r.resource_group.lower() not in {g.lower() for g in out.defender_resource_groups}:
                out.defender_resource_groups.append(r.resource_group)
    if sentinel_workspace:
        rg, name = _split("--sentinel-workspace", sentinel_workspace, "Microsoft.OperationalInsights/workspaces", subscription)
        out.sentinel_workspace = Resource(rg, f"Microsoft.OperationalInsights/workspaces/{name}")
    if len(apim or []) > MAX_SCOPES:
        raise ScopeError("--apim", f"at most {MAX_SCOPES} API Management services")
    for value in apim or []:
        rg, name = _split("--apim", value, "Microsoft.ApiManagement/service", subscription)
        if not any(r.resource_group == rg and r.path.endswith(f"/{name}") for r in out.apim_services):
            out.apim_services.append(Resource(rg, f"Microsoft.ApiManagement/service/{name}"))
    return out


def check(scopes: Scopes, clients: Any) -> None:
    """Ask ARM (through ``clients``, a :class:`~firestop.azure.clients.ClientFactory`) that each scope exists, and read
    the evidence workspace's ID into ``scopes.workspace_customer_id``.

    Raises ScopeError naming the flag of the first scope that does not exist or cannot be read.
    """
    from azure.core.exceptions import ResourceNotFoundError

    resources = clients.resources(scopes.subscription_id)
    write_back = {rg: "--defender-resource-group" for rg in scopes.defender_resource_groups}
    write_back.update({r.resource_group: "--apim" for r in scopes.apim_services})
    if scopes.sentinel_workspace:
        write_back[scopes.sentinel_workspace.resource_group] = "--sentinel-workspace"
    groups = {r.resource_group for r in scopes.resources} | set(scopes.resource_groups) | set(write_back)
    for rg in sorted(groups, key=str.lower):
        flag = "--resource-group" if rg in scopes.resource_groups else write_back.get(rg) if rg in write_back and not any(
            r.resource_group == rg for r in scopes.resources) else next(
            ({"accounts": "--account", "vaults": "--key-vault", "workspaces": "--workspace", "networkSecurityGroups": "--nsg"}[r.path.split("/")[1]]
             for r in scopes.resources if r.resource_group == rg), "--resource-group")
        try:
            resources.resource_groups.get(rg)
        except ResourceNotFoundError:
            raise ScopeError(flag, f"resource group {rg!r} does not exist in subscription {scopes.subscription_id}") from None
    cognitive = clients.cognitive_services(scopes.subscription_id)
    for r in scopes.resources:
        if r.path.startswith("Microsoft.CognitiveServices/accounts/"):
            name = r.path.split("/")[2]
            try:
                cognitive.accounts.get(r.resource_group, name)
            except ResourceNotFoundError:
                raise ScopeError("--account", f"no Azure OpenAI account {name!r} in resource group {r.resource_group!r}") from None
        if r.path.startswith("Microsoft.Network/networkSecurityGroups/"):
            name = r.path.split("/")[2]
            try:
                clients.network(scopes.subscription_id).network_security_groups.get(r.resource_group, name)
            except ResourceNotFoundError:
                raise ScopeError("--nsg", f"no network security group {name!r} in resource group {r.resource_group!r}") from None
    if scopes.workspace is not None:
        scopes.workspace_customer_id = workspace_customer_id(scopes.workspace.id(scopes.subscription_id), resources)


def workspace_customer_id(workspace_id: str, resources: Any) -> str:
    """The workspace ID (GUID) of the Log Analytics workspace ``workspace_id`` (ARM id), read with ``resources`` (a
    ``ResourceManagementClient``). ScopeError on ``--workspace`` when it does not exist, cannot be read (naming
    ``--log-workspace-id`` as the way round) or ARM answers no GUID; a missing sign-in (``ClientAuthenticationError``)
    propagates."""
    from azure.core.exceptions import ClientAuthenticationError, HttpResponseError, ResourceNotFoundError

    name, rg = workspace_id.rsplit("/", 1)[-1], workspace_id.split("/")[4]
    try:
        body = resources.resources.get_by_id(workspace_id, WORKSPACE_API_VERSION)
    except ResourceNotFoundError:
        raise ScopeError("--workspace", f"no Log Analytics workspace {name!r} in resource group {rg!r}") from None
    except ClientAuthenticationError:
        raise
    except HttpResponseError as exc:
        code = getattr(getattr(exc, "error", None), "code", None) or exc.reason or "error"
        raise ScopeError("--workspace", f"cannot read workspace {name!r} for its workspace ID ({exc.status_code} {code}): "
                         "grant yourself Microsoft.OperationalInsights/workspaces/read on it, or pass --log-workspace-id <GUID> "
                         f"(az monitor log-analytics workspace show -g {rg} -n {name} --query customerId -o tsv)") from None
    props = getattr(body, "properties", None)
    value = props.get("customerId") if isinstance(props, dict) else None
    if not isinstance(value, str) or not _GUID.match(value):
        raise ScopeError("--workspace", f"ARM answered no workspace ID (customerId) for {name!r}; pass --log-workspace-id <GUID>")
    return value
