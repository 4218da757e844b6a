"""ARM JSON builders for the resource types the sandbox hosts.

Shapes follow the corpus: Cognitive Services accounts per the recorded
azure-cli kind=OpenAI account (``arm/cognitiveservices/recorded/
azure-cli-openai-account-create-get.json``) and the 2024-10-01 swagger
excerpt; network security groups per ``arm/network/spec-examples/
NetworkSecurityGroupGet.2024-05-01.json``. (Vault and workspace bodies live in
their rooms: :mod:`firestop.sandbox.keyvault.models`, :mod:`firestop.sandbox.logs.models`.)
"""

from __future__ import annotations

from typing import Any, Optional

from ..core.state import TenantState

ACCOUNT_TYPE = "Microsoft.CognitiveServices/accounts"
DEPLOYMENT_TYPE = "Microsoft.CognitiveServices/accounts/deployments"
RAI_POLICY_TYPE = "Microsoft.CognitiveServices/accounts/raiPolicies"
BLOCKLIST_TYPE = "Microsoft.CognitiveServices/accounts/raiBlocklists"
BLOCKLIST_ITEM_TYPE = "Microsoft.CognitiveServices/accounts/raiBlocklists/raiBlocklistItems"
#: The system-managed content filter policies every Azure OpenAI account has
#: (https://learn.microsoft.com/azure/ai-services/openai/concepts/default-safety-policies).
SYSTEM_RAI_POLICIES = ("Microsoft.Default", "Microsoft.DefaultV2")
#: Harm categories of a content filter policy, each for ``Prompt`` and ``Completion`` (spec example ``PutRaiPolicy.json``).
HARM_CATEGORIES = ("Hate", "Sexual", "Selfharm", "Violence")
NSG_TYPE = "Microsoft.Network/networkSecurityGroups"
RULE_TYPE = "Microsoft.Network/networkSecurityGroups/securityRules"


def system_data(created_by: str, created_at: str, modified_at: Optional[str] = None) -> dict:
    return {
        "createdBy": created_by,
        "createdByType": "User",
        "createdAt": created_at,
        "lastModifiedBy": created_by,
        "lastModifiedByType": "User",
        "lastModifiedAt": modified_at or created_at,
    }


def openai_account(
    state: TenantState,
    *,
    resource_group: str,
    name: str,
    location: str,
    created_at: str,
    created_by: str,
    kind: str = "OpenAI",
    sku: str = "S0",
    tags: Optional[dict] = None,
    properties: Optional[dict] = None,
    identity: Optional[dict] = None,
) -> dict:
    """A ``Microsoft.CognitiveServices/accounts`` body, provisioningState Succeeded.

    ``identity``: the account's managed identity (``{"type": "SystemAssigned", "principalId", "tenantId"}``
    as ARM returns it); absent when None, as for an account created without one."""
    endpoint = f"https://{name}.openai.azure.com/"
    props: dict[str, Any] = {
        "endpoint": endpoint,
        "internalId": state.new_hex("internal-id", 32),
        "dateCreated": created_at,
        "callRateLimit": {
            "rules": [
                {
                    "key": "openai",
                    "renewalPeriod": 1,
                    "count": 30,
                    "dynamicThrottlingEnabled": False,
                    "matchPatterns": [{"path": "openai/*", "method": "*"}],
                },
                {
                    "key": "default",
                    "renewalPeriod": 1,
                    "count": 30,
                    "dynamicThrottlingEnabled": False,
                    "matchPatterns": [{"path": "*", "method": "*"}],
                },
            ]
        },
        "isMigrated": False,
        "customSubDomainName": name,
        "networkAcls": {"defaultAction": "Allow", "ipRules": [], "virtualNetworkRules": []},
        "privateEndpointConnections": [],
        "publicNetworkAccess": "Enabled",
        "disableLocalAuth": False,
        "capabilities": [
            {"name": "VirtualNetworks"},
            {"name": "CustomerManagedKey"},
            {"name": "MaxFineTuneCount", "value": "100"},
        ],
        "endpoints": {
            "OpenAI Language Model Instance API": endpoint,
            "OpenAI Dall-E API": endpoint,
        },
        "provisioningState": "Succeeded",
    }
    props.update(properties or {})
    body = {
        "id": state.arm_id(resource_group, f"{ACCOUNT_TYPE}/{name}"),
        "name": name,
        "type": ACCOUNT_TYPE,
        "etag": state.new_etag(),
        "location": location,
        "sku": {"name": sku},
        "kind": kind,
        "tags": dict(tags or {}),
        "systemData": system_data(created_by, created_at),
        "properties": props,
    }
    if identity:
        body["identity"] = dict(identity)
    return body


def deployment(account: dict, *, name: str, model: str, version: str, sku: str, capacity: int, created_at: str, created_by: str,
               rai_policy: str = "Microsoft.DefaultV2") -> dict:
    """A ``.../accounts/{a}/deployments/{d}`` body (model format OpenAI)."""
    return {
        "id": f"{account['id']}/deployments/{name}",
        "type": DEPLOYMENT_TYPE,
        "name": name,
        "sku": {"name": sku, "capacity": capacity},
        "properties": {
            "model": {"format": "OpenAI", "name": model, "version": version},
            "versionUpgradeOption": "OnceNewDefaultVersionAvailable",
            "raiPolicyName": rai_policy,
            "provisioningState": "Succeeded",
        },
        "systemData": system_data(created_by, created_at),
    }


def system_rai_policy(account: dict, name: str) -> dict:
    """A system RAI policy (``type: SystemManaged``) of ``account``: Medium thresholds, blocking, both sources."""
    filters = [
        {"name": c, "blocking": True, "enabled": True, "severityThreshold": "Medium", "source": s}
        for s in ("Prompt", "Completion") for c in HARM_CATEGORIES
    ]
    if name == "Microsoft.DefaultV2":
        filters += [{"name": "Jailbreak", "blocking": True, "enabled": True, "source": "Prompt"},
                    {"name": "Protected Material Text", "blocking": True, "enabled": True, "source": "Completion"},
                    {"name": "Protected Material Code", "blocking": False, "enabled": True, "source": "Completion"}]
    return {
        "id": f"{account['id']}/raiPolicies/{name}",
        "type": RAI_POLICY_TYPE,
        "name": name,
        "properties": {"type": "SystemManaged", "mode": "Blocking", "contentFilters": filters},
    }


def rai_policy(account: dict, *, name: str, base: str, threshold: str, blocklists: list[str], created_at: str, created_by: str) -> dict:
    """A user-managed RAI policy body: every harm category at ``threshold``, blocking, plus ``blocklists``."""
    import hashlib

    return {
        "id": f"{account['id']}/raiPolicies/{name}",
        "type": RAI_POLICY_TYPE,
        "name": name,
        "etag": '"' + hashlib.sha256(f"{account['id']}/{name}".encode()).hexdigest()[:32] + '"',
        "properties": {
            "mode": "Blocking",
            "basePolicyName": base,
            "contentFilters": [
                {"name": c, "blocking": True, "enabled": True, "severityThreshold": threshold, "source": s}
                for s in ("Prompt", "Completion") for c in HARM_CATEGORIES
            ],
            "customBlocklists": [{"blocklistName": b, "blocking": True, "source": "Prompt"} for b in blocklists],
            "type": "UserManaged",
        },
        "systemData": system_data(created_by, created_at),
    }


def rai_blocklist(account: dict, *, name: str, description: str, created_at: str, created_by: str) -> dict:
    import hashlib

    return {
        "id": f"{account['id']}/raiBlocklists/{name}",
        "type": BLOCKLIST_TYPE,
        "name": name,
        "etag": '"' + hashlib.sha256(f"{account['id']}/bl/{name}".encode()).hexdigest()[:32] + '"',
        "properties": {"description": description},
        "systemData": system_data(created_by, created_at),
    }


_DEFAULT_RULES = [
    ("AllowVnetInBound", "Allow inbound traffic from all VMs in VNET", "VirtualNetwork", "VirtualNetwork", "Allow", 65000, "Inbound"),
    ("AllowAzureLoadBalancerInBound", "Allow inbound traffic from azure load balancer", "AzureLoadBalancer", "*", "Allow", 65001, "Inbound"),
    ("DenyAllInBound", "Deny all inbound traffic", "*", "*", "Deny", 65500, "Inbound"),
    ("AllowVnetOutBound", "Allow outbound traffic from all VMs to all VMs in VNET", "VirtualNetwork", "VirtualNetwork", "Allow", 65000, "Outbound"),
    ("AllowInternetOutBound", "Allow outbound traffic from all VMs to Internet", "*", "Internet", "Allow", 65001, "Outbound"),
    ("DenyAllOutBound", "Deny all outbound traffic", "*", "*", "Deny", 65500, "Outbound"),
]


def security_rule(nsg_id: str, name: str, properties: dict, etag: str) -> dict:
    """A securityRules child body (provisioningState Succeeded)."""
    props = {"provisioningState": "Succeeded", **properties}
    props["provisioningState"] = "Succeeded"
    return {"name": name, "id": f"{nsg_id}/securityRules/{name}", "etag": etag, "type": RULE_TYPE, "properties": props}


def network_security_group(state: TenantState, *, resource_group: str, name: str, location: str, rules: list[dict]) -> dict:
    """An NSG with the six platform ``defaultSecurityRules`` and the given custom rules.

    ``rules`` items: ``{"name": ..., "properties": {...}}``.
    """
    nsg_id = state.arm_id(resource_group, f"{NSG_TYPE}/{name}")
    etag = f'W/"{state.new_guid("nsg-etag")}"'
    defaults = []
    for rule_name, desc, src, dst, access, priority, direction in _DEFAULT_RULES:
        defaults.append(
            {
                "name": rule_name,
                "id": f"{nsg_id}/defaultSecurityRules/{rule_name}",
                "etag": etag,
                "type": "Microsoft.Network/networkSecurityGroups/defaultSecurityRules",
                "properties": {
                    "provisioningState": "Succeeded",
                    "description": desc,
                    "protocol": "*",
                    "sourcePortRange": "*",
                    "destinationPortRange": "*",
                    "sourceAddressPrefix": src,
                    "destinationAddressPrefix": dst,
                    "access": access,
                    "priority": priority,
                    "direction": direction,
                },
            }
        )
    return {
        "name": name,
        "id": nsg_id,
        "etag": etag,
        "type": NSG_TYPE,
        "location": location,
        "properties": {
            "provisioningState": "Succeeded",
            "resourceGuid": state.new_guid("resource-guid"),
            "securityRules": [security_rule(nsg_id, r["name"], r["properties"], etag) for r in rules],
            "defaultSecurityRules": defaults,
        },
    }


def account_by_name(state: TenantState, name: str) -> dict:
    """The live body of the Cognitive Services account called ``name`` (case-insensitive). KeyError if none."""
    for body in state.doc["resources"].values():
        if body.get("type", "").lower() == ACCOUNT_TYPE.lower() and body.get("name", "").lower() == str(name).lower():
            return body
    raise KeyError(name)
