"""ARM: Microsoft.CognitiveServices/accounts (+ deployments) on https://management.azure.com.

Operations (swagger ``cognitiveservices.json`` 2024-10-01 excerpt in the corpus;
the SDK azure-mgmt-cognitiveservices 14.1.0 sends api-version 2025-09-01 —
any api-version is accepted and logged):

============================  ======  =======================================================
operation                     method  path (under /subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.CognitiveServices)
============================  ======  =======================================================
accounts.get                  GET     /accounts/{name}
accounts.update               PATCH   /accounts/{name}          (JSON merge-patch; LRO)
accounts.listKeys             POST    /accounts/{name}/listKeys
accounts.regenerateKey        POST    /accounts/{name}/regenerateKey   body {"keyName": "Key1"|"Key2"}
accounts.list                 GET     /accounts  (also subscription-wide)
deployments.list / .get       GET     /accounts/{name}/deployments[/{deployment}]
privateEndpointConnections    GET     /accounts/{name}/privateEndpointConnections[/{connection}]
  .list / .get                        (from the account's read-only ``properties.privateEndpointConnections``)
============================  ======  =======================================================

PATCH behaviour (corpus ``arm/NOTES.md`` and the two recorded azure-cli PATCHes):
a patch touching only ``tags``/``sku`` completes synchronously (200); any
``properties`` change is an LRO: 202 + ``Azure-AsyncOperation`` + ``Location``
(no ``Retry-After``, as recorded), body = the target state with provisioningState
``Accepted``; the stored account shows provisioningState ``Accepted`` with its
*old* properties until the operation completes (``accounts.update.lro``
seconds later), then the new ones with ``Succeeded`` and a new etag.
``tags`` are replaced whole (ARM RPC), other objects merge, arrays replace.
Another PATCH while one is in flight -> 409 ``AnotherOperationInProgress``.
``If-Match`` not matching the etag -> 412 ``PreconditionFailed``.
"""

from __future__ import annotations

import copy

from ..core import lro
from .models import ACCOUNT_TYPE, DEPLOYMENT_TYPE
from .armjson import ANY, BOOL, INT, STR, Arr, BodyError, Enum, IPv4Rule, MapOf, Obj, if_match_failed, merge_patch, validate
from ..core.clock import format_utc
from ..core.errors import arm_bad_content, arm_not_found, error
from ..core.router import RequestContext
from ..core.wire import SandboxResponse
from ..core.armapi import caller_object_id, check_scope, json_body, ok, state_of
from . import room

ARM = "management.azure.com"
BASE = "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.CognitiveServices/accounts"

# Shapes from azure-mgmt-cognitiveservices 14.1.0 models (Account, AccountProperties, NetworkRuleSet ...).
NETWORK_RULE_SET = Obj(
    "NetworkRuleSet",
    {
        "defaultAction": Enum("NetworkRuleAction", ("Allow", "Deny")),
        "bypass": Enum("ByPassSelection", ("None", "AzureServices")),
        "ipRules": Arr(Obj("IpRule", {"value": IPv4Rule()})),
        "virtualNetworkRules": Arr(Obj("VirtualNetworkRule", {"id": STR, "state": STR, "ignoreMissingVnetServiceEndpoint": BOOL})),
    },
)
ACCOUNT_PROPERTIES = Obj(
    "AccountProperties",
    {
        "migrationToken": STR,
        "customSubDomainName": STR,
        "networkAcls": NETWORK_RULE_SET,
        "encryption": ANY,
        "userOwnedStorage": ANY,
        "amlWorkspace": ANY,
        "publicNetworkAccess": Enum("PublicNetworkAccess", ("Enabled", "Disabled")),
        "apiProperties": ANY,
        "dynamicThrottlingEnabled": BOOL,
        "storedCompletionsDisabled": BOOL,
        "restrictOutboundNetworkAccess": BOOL,
        "allowedFqdnList": Arr(STR),
        "disableLocalAuth": BOOL,
        "restore": BOOL,
        "locations": ANY,
        "raiMonitorConfig": ANY,
        "networkInjections": ANY,
        "allowProjectManagement": BOOL,
        "defaultProject": STR,
        "associatedProjects": Arr(STR),
    },
    readonly={
        "provisioningState", "endpoint", "internalId", "capabilities", "isMigrated", "skuChangeInfo",
        "privateEndpointConnections", "dateCreated", "callRateLimit", "quotaLimit", "endpoints",
        "deletionDate", "scheduledPurgeDate", "commitmentPlanAssociations", "abusePenalty",
    },
)
ACCOUNT = Obj(
    "Account",
    {
        "kind": STR,
        "sku": Obj("Sku", {"name": STR, "tier": STR, "size": STR, "family": STR, "capacity": INT}),
        "identity": ANY,
        "tags": MapOf(STR),
        "location": STR,
        "properties": ACCOUNT_PROPERTIES,
    },
    readonly={"id", "name", "type", "systemData", "etag"},
)


def _account_id(ctx: RequestContext) -> str:
    p = ctx.params
    return f"/subscriptions/{p['sub']}/resourceGroups/{p['rg']}/providers/{ACCOUNT_TYPE}/{p['name']}"


def _find_account(ctx: RequestContext) -> tuple[dict | None, SandboxResponse | None]:
    bad = check_scope(ctx)
    if bad:
        return None, bad
    account = state_of(ctx).resource(_account_id(ctx))
    if account is None or account.get("type") != ACCOUNT_TYPE:
        return None, arm_not_found(ACCOUNT_TYPE, ctx.params["name"], ctx.params["rg"])
    return account, None


@room.route("GET", ARM, BASE + "/{name}", "accounts.get")
def get_account(ctx: RequestContext) -> SandboxResponse:
    account, bad = _find_account(ctx)
    if bad:
        return bad
    return ok(copy.deepcopy(account), etag=account.get("etag"))


@room.route("GET", ARM, BASE, "accounts.list")
@room.route("GET", ARM, "/subscriptions/{sub}/providers/Microsoft.CognitiveServices/accounts", "accounts.list")
def list_accounts(ctx: RequestContext) -> SandboxResponse:
    bad = check_scope(ctx)
    if bad:
        return bad
    state = state_of(ctx)
    prefix = f"/subscriptions/{state.subscription_id}/".lower()
    if "rg" in ctx.params:
        prefix += f"resourcegroups/{ctx.params['rg']}/".lower()
    value = [copy.deepcopy(r) for k, r in sorted(state.doc["resources"].items()) if k.startswith(prefix) and r.get("type") == ACCOUNT_TYPE]
    return ok({"value": value})


@room.route("PATCH", ARM, BASE + "/{name}", "accounts.update")
def update_account(ctx: RequestContext) -> SandboxResponse:
    account, bad = _find_account(ctx)
    if bad:
        return bad
    state = state_of(ctx)
    raw, bad = json_body(ctx)
    if bad:
        return bad
    if not isinstance(raw, dict):
        return arm_bad_content("The request body must be a JSON object representing an Account.")
    try:
        patch = validate(raw, ACCOUNT)
    except BodyError as exc:
        return arm_bad_content(str(exc))
    if if_match_failed(ctx.request.header("If-Match"), account.get("etag")):
        return error(412, "PreconditionFailed", "The condition specified using HTTP conditional header(s) is not met.")
    running = lro.in_flight(state, account["id"])
    if running is not None:
        return error(
            409,
            "AnotherOperationInProgress",
            f"Another operation is in progress on the resource '{account['name']}' (operation {running['id']}). "
            "Please retry after the operation completes.",
        )
    for immutable in ("location", "kind"):
        if immutable in patch and str(patch[immutable]).replace(" ", "").lower() != str(account[immutable]).replace(" ", "").lower():
            return error(400, "BadRequest", f"Changing '{immutable}' of an existing account is not supported.")
    sub_domain = (patch.get("properties") or {}).get("customSubDomainName")
    current_sub_domain = account["properties"].get("customSubDomainName")
    if sub_domain and current_sub_domain and sub_domain.lower() != current_sub_domain.lower():
        return error(400, "BadRequest", "customSubDomainName cannot be changed once set.")

    target = merge_patch(account, patch)
    if "tags" in patch:  # ARM RPC: tags are replaced entirely, not merged
        target["tags"] = copy.deepcopy(patch["tags"]) or {}
    now = format_utc(ctx.now)
    target.setdefault("systemData", {}).update(
        {"lastModifiedBy": caller_object_id(ctx), "lastModifiedByType": "Application", "lastModifiedAt": now}
    )

    if not patch.get("properties"):
        # Recorded azure-cli: tags/sku-only PATCH answers 200 synchronously.
        target["etag"] = state.new_etag()
        target["properties"]["provisioningState"] = "Succeeded"
        state.put_resource(target)
        return ok(copy.deepcopy(target), etag=target["etag"])

    account["etag"] = state.new_etag()
    account["properties"]["provisioningState"] = "Accepted"
    op = lro.start(
        state,
        provider="Microsoft.CognitiveServices",
        location=account["location"],
        resource_id=account["id"],
        action="replace",
        result=target,
        now=ctx.now,
        duration_s=state.latency.get("accounts.update.lro", 20.0),
        operation="accounts.update",
    )
    echo = copy.deepcopy(target)
    echo["etag"] = account["etag"]
    echo["properties"]["provisioningState"] = "Accepted"
    headers = {  # recorded: azure-asyncoperation + location, no Retry-After
        "Azure-AsyncOperation": lro.status_url(state, op),
        "Location": lro.location_url(state, op),
    }
    return ok(echo, status=202, etag=account["etag"], headers=headers)


@room.route("POST", ARM, BASE + "/{name}/listKeys", "accounts.listKeys")
def list_keys(ctx: RequestContext) -> SandboxResponse:
    account, bad = _find_account(ctx)
    if bad:
        return bad
    keys = state_of(ctx).doc["account_keys"][account["id"].lower()]
    return ok({"key1": keys["key1"], "key2": keys["key2"]})


@room.route("POST", ARM, BASE + "/{name}/regenerateKey", "accounts.regenerateKey")
def regenerate_key(ctx: RequestContext) -> SandboxResponse:
    account, bad = _find_account(ctx)
    if bad:
        return bad
    raw, bad = json_body(ctx)
    if bad:
        return bad
    key_name = raw.get("keyName") if isinstance(raw, dict) else None
    if not isinstance(key_name, str) or key_name.lower() not in ("key1", "key2"):
        return arm_bad_content(f"Error converting value {key_name!r} to type 'KeyName'. Path 'keyName'")
    state = state_of(ctx)
    keys = state.doc["account_keys"][account["id"].lower()]
    keys[key_name.lower()] = state.issue_key()
    return ok({"key1": keys["key1"], "key2": keys["key2"]})


@room.route("GET", ARM, BASE + "/{name}/deployments", "deployments.list")
def list_deployments(ctx: RequestContext) -> SandboxResponse:
    account, bad = _find_account(ctx)
    if bad:
        return bad
    prefix = account["id"].lower() + "/deployments/"
    value = [copy.deepcopy(r) for k, r in sorted(state_of(ctx).doc["resources"].items()) if k.startswith(prefix) and r.get("type") == DEPLOYMENT_TYPE]
    return ok({"value": value})


@room.route("GET", ARM, BASE + "/{name}/deployments/{deployment}", "deployments.get")
def get_deployment(ctx: RequestContext) -> SandboxResponse:
    account, bad = _find_account(ctx)
    if bad:
        return bad
    dep = state_of(ctx).resource(f"{account['id']}/deployments/{ctx.params['deployment']}")
    if dep is None:
        return arm_not_found(f"{ACCOUNT_TYPE}/{account['name']}/deployments", ctx.params["deployment"], ctx.params["rg"])
    return ok(copy.deepcopy(dep))


def _connections(account: dict) -> list[dict]:
    return account["properties"].get("privateEndpointConnections") or []


@room.route("GET", ARM, BASE + "/{name}/privateEndpointConnections", "privateEndpointConnections.list")
def list_private_endpoint_connections(ctx: RequestContext) -> SandboxResponse:
    """``PrivateEndpointConnections_List``: ``{"value": [...]}`` from the account's ``properties.privateEndpointConnections``."""
    account, bad = _find_account(ctx)
    if bad:
        return bad
    return ok({"value": copy.deepcopy(_connections(account))})


@room.route("GET", ARM, BASE + "/{name}/privateEndpointConnections/{connection}", "privateEndpointConnections.get")
def get_private_endpoint_connection(ctx: RequestContext) -> SandboxResponse:
    """``PrivateEndpointConnections_Get`` (spec example ``GetPrivateEndpointConnection.json``): the connection JSON or 404."""
    account, bad = _find_account(ctx)
    if bad:
        return bad
    wanted = ctx.params["connection"].lower()
    for conn in _connections(account):
        if str(conn.get("name", "")).lower() == wanted:
            return ok(copy.deepcopy(conn), etag=conn.get("etag"))
    return arm_not_found(f"{ACCOUNT_TYPE}/{account['name']}/privateEndpointConnections", ctx.params["connection"], ctx.params["rg"])
