"""ARM: Azure OpenAI deployment writes, RAI policies and blocklists, private endpoint connection updates.

Paths under ``/subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.CognitiveServices/accounts/{name}``
(REST API 2025-09-01 as azure-mgmt-cognitiveservices 14.1.0 sends it; shapes from the
azure-rest-api-specs examples ``PutDeployment.json``, ``DeleteDeployment.json``,
``PutRaiPolicy.json``, ``ListRaiPolicies.json``, ``PutRaiBlocklist.json``,
``PutRaiBlocklistItem.json``, ``DeleteRaiBlocklistItem.json``,
``PutPrivateEndpointConnection.json`` of Microsoft.CognitiveServices stable 2024-10-01+):

==================================  ======  ==============================================================
operation                           method  path (under the account)
==================================  ======  ==============================================================
deployments.createOrUpdate          PUT     /deployments/{d}     LRO: 201 (new) / 200 + Azure-AsyncOperation;
                                                                 the body is the target with provisioningState
                                                                 Creating/Updating, visible when the LRO ends
deployments.delete                  DELETE  /deployments/{d}     LRO: 202 + Azure-AsyncOperation + Location
                                                                 (204 when absent)
raiPolicies.list / .get             GET     /raiPolicies[/{p}]   the two system policies ``Microsoft.Default``,
                                                                 ``Microsoft.DefaultV2`` (type SystemManaged) are
                                                                 always there; custom ones are UserManaged
raiPolicies.createOrUpdate          PUT     /raiPolicies/{p}     synchronous 200/201; system policies: 400
raiPolicies.delete                  DELETE  /raiPolicies/{p}     204 (the spec allows 202/204); 409 while a
                                                                 deployment uses it
raiBlocklists.list/.get/.createOrUpdate/.delete                  /raiBlocklists[/{b}] (synchronous)
raiBlocklistItems.list/.get/.createOrUpdate/.delete              /raiBlocklists/{b}/raiBlocklistItems[/{i}]
privateEndpointConnections.createOrUpdate  PUT /privateEndpointConnections/{c}
                                                                 LRO (200 + Azure-AsyncOperation); only
                                                                 ``privateLinkServiceConnectionState`` changes
==================================  ======  ==============================================================

A deployment PUT names its RAI policy (``properties.raiPolicyName``); an unknown
policy is 400 ``InvalidResourceProperties`` (as Azure answers); a missing
``properties.model`` on create is 400. ``sku.capacity`` must be an integer >= 1.
Another write while a deployment's LRO runs is 409 ``AnotherOperationInProgress``.
"""

from __future__ import annotations

import copy

from ..core import lro
from ..core.armapi import caller_object_id, json_body, ok, state_of
from ..core.clock import format_utc
from ..core.errors import arm_bad_content, arm_not_found, error
from ..core.router import RequestContext
from ..core.wire import SandboxResponse
from . import room
from .armjson import ANY, BOOL, INT, STR, Arr, BodyError, Enum, MapOf, Obj, validate
from .cognitive import ARM, BASE, _find_account
from .models import (
    ACCOUNT_TYPE,
    BLOCKLIST_ITEM_TYPE,
    BLOCKLIST_TYPE,
    DEPLOYMENT_TYPE,
    RAI_POLICY_TYPE,
    SYSTEM_RAI_POLICIES,
    system_data,
    system_rai_policy,
)

ACCOUNT = BASE + "/{name}"

DEPLOYMENT = Obj(
    "Deployment",
    {
        "sku": Obj("Sku", {"name": STR, "tier": STR, "size": STR, "family": STR, "capacity": INT}),
        "tags": MapOf(STR),
        "properties": Obj(
            "DeploymentProperties",
            {
                "model": Obj("DeploymentModel", {"format": STR, "name": STR, "version": STR, "publisher": STR, "source": STR,
                                                 "sourceAccount": STR}),
                "scaleSettings": ANY,
                "raiPolicyName": STR,
                "versionUpgradeOption": Enum("DeploymentModelVersionUpgradeOption", (
                    "OnceNewDefaultVersionAvailable", "OnceCurrentVersionExpired", "NoAutoUpgrade")),
                "currentCapacity": INT,
                "capacitySettings": ANY,
                "parentDeploymentName": STR,
                "deploymentState": STR,
                "spilloverDeploymentName": STR,
            },
            readonly={"provisioningState", "capabilities", "rateLimits", "callRateLimit", "dynamicThrottlingEnabled"},
        ),
    },
    readonly={"id", "name", "type", "systemData", "etag"},
)
RAI_POLICY = Obj(
    "RaiPolicy",
    {
        "tags": MapOf(STR),
        "properties": Obj(
            "RaiPolicyProperties",
            {
                "mode": Enum("RaiPolicyMode", ("Default", "Deferred", "Blocking", "Asynchronous_filter")),
                "basePolicyName": STR,
                "contentFilters": Arr(Obj("RaiPolicyContentFilter", {
                    "name": STR, "enabled": BOOL, "severityThreshold": Enum("ContentLevel", ("Low", "Medium", "High")),
                    "blocking": BOOL, "source": Enum("RaiPolicyContentSource", ("Prompt", "Completion"))})),
                "customBlocklists": Arr(Obj("CustomBlocklistConfig", {
                    "blocklistName": STR, "blocking": BOOL, "source": Enum("RaiPolicyContentSource", ("Prompt", "Completion"))})),
                "customTopics": ANY,
            },
            readonly={"type"},
        ),
    },
    readonly={"id", "name", "type", "systemData", "etag"},
)
BLOCKLIST = Obj("RaiBlocklist", {"tags": MapOf(STR), "properties": Obj("RaiBlocklistProperties", {"description": STR})},
                readonly={"id", "name", "type", "systemData", "etag"})
BLOCKLIST_ITEM = Obj(
    "RaiBlocklistItem",
    {"tags": MapOf(STR), "properties": Obj("RaiBlocklistItemProperties", {"pattern": STR, "isRegex": BOOL})},
    readonly={"id", "name", "type", "systemData", "etag"},
)
PEC_STATUS = ("Pending", "Approved", "Rejected", "Disconnected")


def _stamp(ctx: RequestContext, body: dict, existing: dict | None) -> None:
    now = ctx.now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ctx.now.microsecond:06d}0Z"
    who = caller_object_id(ctx)
    body["systemData"] = copy.deepcopy(existing["systemData"]) if existing and "systemData" in existing else system_data(who, now)
    body["systemData"].update({"lastModifiedBy": who, "lastModifiedByType": "Application", "lastModifiedAt": now})
    if existing is None:
        body["systemData"]["createdByType"] = "Application"


def _body(ctx: RequestContext, shape: Obj) -> tuple[dict | None, SandboxResponse | None]:
    raw, bad = json_body(ctx)
    if bad:
        return None, bad
    if not isinstance(raw, dict):
        return None, arm_bad_content(f"The request body must be a JSON object representing a {shape.name}.")
    try:
        return validate(raw, shape), None
    except BodyError as exc:
        return None, arm_bad_content(str(exc))


def policy_names(state, account: dict) -> set[str]:
    """Lower-case names of the RAI policies ``account`` has (system + custom)."""
    prefix = account["id"].lower() + "/raipolicies/"
    custom = {r["name"].lower() for k, r in state.doc["resources"].items() if k.startswith(prefix) and r.get("type") == RAI_POLICY_TYPE}
    return custom | {p.lower() for p in SYSTEM_RAI_POLICIES}


# deployments ------------------------------------------------------------------------------------------------------
@room.route("PUT", ARM, ACCOUNT + "/deployments/{deployment}", "deployments.createOrUpdate")
def put_deployment(ctx: RequestContext) -> SandboxResponse:
    account, bad = _find_account(ctx)
    if bad:
        return bad
    state = state_of(ctx)
    body, bad = _body(ctx, DEPLOYMENT)
    if bad:
        return bad
    dep_id = f"{account['id']}/deployments/{ctx.params['deployment']}"
    existing = state.resource(dep_id)
    running = lro.in_flight(state, dep_id)
    if running is not None:
        return error(409, "AnotherOperationInProgress",
                     f"Another operation is in progress on the deployment '{ctx.params['deployment']}'. Please retry after it completes.")
    props = body.get("properties") or {}
    if existing is None and not (props.get("model") or {}).get("name"):
        return error(400, "InvalidResourceProperties", "The 'model' property is required to create a deployment.")
    sku = body.get("sku") or {}
    if not sku.get("name") or not isinstance(sku.get("capacity", 1), int) or sku.get("capacity", 1) < 1:
        return error(400, "InvalidResourceProperties", "The deployment sku needs a name and a capacity of at least 1.")
    policy = props.get("raiPolicyName")
    if policy and policy.lower() not in policy_names(state, account):
        return error(400, "InvalidResourceProperties", f"The specified RAI policy '{policy}' does not exist on the account.")
    target = {
        "id": (existing or {}).get("id", dep_id),
        "type": DEPLOYMENT_TYPE,
        "name": (existing or {}).get("name", ctx.params["deployment"]),
        "sku": copy.deepcopy(sku),
        "properties": {**copy.deepcopy(props), "provisioningState": "Succeeded"},
    }
    if body.get("tags"):
        target["tags"] = copy.deepcopy(body["tags"])
    if "raiPolicyName" not in target["properties"]:
        target["properties"]["raiPolicyName"] = "Microsoft.DefaultV2"
    _stamp(ctx, target, existing)
    op = lro.start(state, provider="Microsoft.CognitiveServices", location=account["location"], resource_id=dep_id,
                   action="replace", result=copy.deepcopy(target), now=ctx.now,
                   duration_s=state.latency.get("deployments.createOrUpdate.lro", 5.0), operation="deployments.createOrUpdate")
    shown = copy.deepcopy(existing) if existing is not None else copy.deepcopy(target)
    shown["properties"]["provisioningState"] = "Updating" if existing is not None else "Creating"
    state.put_resource(shown)
    echo = copy.deepcopy(target)
    echo["properties"]["provisioningState"] = shown["properties"]["provisioningState"]
    headers = {"Azure-AsyncOperation": lro.status_url(state, op)}
    return ok(echo, status=200 if existing is not None else 201, headers=headers)


@room.route("DELETE", ARM, ACCOUNT + "/deployments/{deployment}", "deployments.delete")
def delete_deployment(ctx: RequestContext) -> SandboxResponse:
    account, bad = _find_account(ctx)
    if bad:
        return bad
    state = state_of(ctx)
    dep_id = f"{account['id']}/deployments/{ctx.params['deployment']}"
    existing = state.resource(dep_id)
    if existing is None:
        return SandboxResponse(204, None, {})
    if lro.in_flight(state, dep_id) is not None:
        return error(409, "AnotherOperationInProgress",
                     f"Another operation is in progress on the deployment '{ctx.params['deployment']}'. Please retry after it completes.")
    op = lro.start(state, provider="Microsoft.CognitiveServices", location=account["location"], resource_id=dep_id,
                   action="delete", result=None, now=ctx.now,
                   duration_s=state.latency.get("deployments.delete.lro", 5.0), operation="deployments.delete")
    existing["properties"]["provisioningState"] = "Deleting"
    return SandboxResponse(202, None, {"Azure-AsyncOperation": lro.status_url(state, op), "Location": lro.location_url(state, op)})


# RAI policies -----------------------------------------------------------------------------------------------------
def _children(state, parent_id: str, segment: str, type_: str) -> list[dict]:
    prefix = parent_id.lower() + f"/{segment.lower()}/"
    return [copy.deepcopy(r) for k, r in sorted(state.doc["resources"].items())
            if k.startswith(prefix) and "/" not in k[len(prefix):] and r.get("type") == type_]


@room.route("GET", ARM, ACCOUNT + "/raiPolicies", "raiPolicies.list")
def list_rai_policies(ctx: RequestContext) -> SandboxResponse:
    account, bad = _find_account(ctx)
    if bad:
        return bad
    system = [system_rai_policy(account, name) for name in SYSTEM_RAI_POLICIES]
    return ok({"value": system + _children(state_of(ctx), account["id"], "raiPolicies", RAI_POLICY_TYPE)})


@room.route("GET", ARM, ACCOUNT + "/raiPolicies/{policy}", "raiPolicies.get")
def get_rai_policy(ctx: RequestContext) -> SandboxResponse:
    account, bad = _find_account(ctx)
    if bad:
        return bad
    for name in SYSTEM_RAI_POLICIES:
        if name.lower() == ctx.params["policy"].lower():
            return ok(system_rai_policy(account, name))
    found = state_of(ctx).resource(f"{account['id']}/raiPolicies/{ctx.params['policy']}")
    if found is None:
        return arm_not_found(f"{ACCOUNT_TYPE}/raiPolicies", ctx.params["policy"], ctx.params["rg"])
    return ok(copy.deepcopy(found), etag=found.get("etag"))


@room.route("PUT", ARM, ACCOUNT + "/raiPolicies/{policy}", "raiPolicies.createOrUpdate")
def put_rai_policy(ctx: RequestContext) -> SandboxResponse:
    account, bad = _find_account(ctx)
    if bad:
        return bad
    state = state_of(ctx)
    if ctx.params["policy"].lower() in {p.lower() for p in SYSTEM_RAI_POLICIES}:
        return error(400, "InvalidResourceProperties", f"The system RAI policy '{ctx.params['policy']}' cannot be changed.")
    body, bad = _body(ctx, RAI_POLICY)
    if bad:
        return bad
    props = body.get("properties") or {}
    blocklists = {b["name"].lower() for b in _children(state, account["id"], "raiBlocklists", BLOCKLIST_TYPE)}
    for entry in props.get("customBlocklists") or []:
        if str(entry.get("blocklistName", "")).lower() not in blocklists:
            return error(400, "InvalidResourceProperties", f"The RAI blocklist '{entry.get('blocklistName')}' does not exist on the account.")
    pid = f"{account['id']}/raiPolicies/{ctx.params['policy']}"
    existing = state.resource(pid)
    target = {
        "id": (existing or {}).get("id", pid),
        "type": RAI_POLICY_TYPE,
        "name": (existing or {}).get("name", ctx.params["policy"]),
        "etag": state.new_etag(),
        "properties": {"mode": "Default", **copy.deepcopy(props), "type": "UserManaged"},
    }
    if body.get("tags"):
        target["tags"] = copy.deepcopy(body["tags"])
    _stamp(ctx, target, existing)
    state.put_resource(target)
    return ok(copy.deepcopy(target), status=200 if existing else 201, etag=target["etag"])


def _deployments_using(state, account: dict, policy: str) -> list[str]:
    prefix = account["id"].lower() + "/deployments/"
    return [r["name"] for k, r in sorted(state.doc["resources"].items())
            if k.startswith(prefix) and r.get("type") == DEPLOYMENT_TYPE
            and str((r.get("properties") or {}).get("raiPolicyName", "")).lower() == policy.lower()]


@room.route("DELETE", ARM, ACCOUNT + "/raiPolicies/{policy}", "raiPolicies.delete")
def delete_rai_policy(ctx: RequestContext) -> SandboxResponse:
    account, bad = _find_account(ctx)
    if bad:
        return bad
    state = state_of(ctx)
    pid = f"{account['id']}/raiPolicies/{ctx.params['policy']}"
    if state.resource(pid) is None:
        return SandboxResponse(204, None, {})
    users = _deployments_using(state, account, ctx.params["policy"])
    if users:
        return error(409, "Conflict", f"The RAI policy '{ctx.params['policy']}' is used by deployment(s) {', '.join(users)}.")
    state.delete_resource(pid)
    return SandboxResponse(204, None, {})  # spec: 202 (async) or 204


# RAI blocklists and their items ----------------------------------------------------------------------------------
@room.route("GET", ARM, ACCOUNT + "/raiBlocklists", "raiBlocklists.list")
def list_blocklists(ctx: RequestContext) -> SandboxResponse:
    account, bad = _find_account(ctx)
    if bad:
        return bad
    return ok({"value": _children(state_of(ctx), account["id"], "raiBlocklists", BLOCKLIST_TYPE)})


@room.route("GET", ARM, ACCOUNT + "/raiBlocklists/{blocklist}", "raiBlocklists.get")
def get_blocklist(ctx: RequestContext) -> SandboxResponse:
    account, bad = _find_account(ctx)
    if bad:
        return bad
    found = state_of(ctx).resource(f"{account['id']}/raiBlocklists/{ctx.params['blocklist']}")
    if found is None:
        return arm_not_found(f"{ACCOUNT_TYPE}/raiBlocklists", ctx.params["blocklist"], ctx.params["rg"])
    return ok(copy.deepcopy(found), etag=found.get("etag"))


@room.route("PUT", ARM, ACCOUNT + "/raiBlocklists/{blocklist}", "raiBlocklists.createOrUpdate")
def put_blocklist(ctx: RequestContext) -> SandboxResponse:
    account, bad = _find_account(ctx)
    if bad:
        return bad
    state = state_of(ctx)
    body, bad = _body(ctx, BLOCKLIST)
    if bad:
        return bad
    bid = f"{account['id']}/raiBlocklists/{ctx.params['blocklist']}"
    existing = state.resource(bid)
    target = {"id": (existing or {}).get("id", bid), "type": BLOCKLIST_TYPE,
              "name": (existing or {}).get("name", ctx.params["blocklist"]), "etag": state.new_etag(),
              "properties": copy.deepcopy(body.get("properties") or {})}
    if body.get("tags"):
        target["tags"] = copy.deepcopy(body["tags"])
    _stamp(ctx, target, existing)
    state.put_resource(target)
    return ok(copy.deepcopy(target), status=200 if existing else 201, etag=target["etag"])


@room.route("DELETE", ARM, ACCOUNT + "/raiBlocklists/{blocklist}", "raiBlocklists.delete")
def delete_blocklist(ctx: RequestContext) -> SandboxResponse:
    account, bad = _find_account(ctx)
    if bad:
        return bad
    state = state_of(ctx)
    bid = f"{account['id']}/raiBlocklists/{ctx.params['blocklist']}"
    if state.resource(bid) is None:
        return SandboxResponse(204, None, {})
    for policy in _children(state, account["id"], "raiPolicies", RAI_POLICY_TYPE):
        if any(str(b.get("blocklistName", "")).lower() == ctx.params["blocklist"].lower()
               for b in policy["properties"].get("customBlocklists") or []):
            return error(409, "Conflict", f"The RAI blocklist '{ctx.params['blocklist']}' is used by RAI policy '{policy['name']}'.")
    for item in _children(state, bid, "raiBlocklistItems", BLOCKLIST_ITEM_TYPE):
        state.delete_resource(item["id"])
    state.delete_resource(bid)
    return SandboxResponse(204, None, {})


def _blocklist(ctx: RequestContext) -> tuple[dict | None, SandboxResponse | None]:
    account, bad = _find_account(ctx)
    if bad:
        return None, bad
    found = state_of(ctx).resource(f"{account['id']}/raiBlocklists/{ctx.params['blocklist']}")
    if found is None:
        return None, arm_not_found(f"{ACCOUNT_TYPE}/raiBlocklists", ctx.params["blocklist"], ctx.params["rg"])
    return found, None


@room.route("GET", ARM, ACCOUNT + "/raiBlocklists/{blocklist}/raiBlocklistItems", "raiBlocklistItems.list")
def list_blocklist_items(ctx: RequestContext) -> SandboxResponse:
    blocklist, bad = _blocklist(ctx)
    if bad:
        return bad
    return ok({"value": _children(state_of(ctx), blocklist["id"], "raiBlocklistItems", BLOCKLIST_ITEM_TYPE)})


@room.route("GET", ARM, ACCOUNT + "/raiBlocklists/{blocklist}/raiBlocklistItems/{item}", "raiBlocklistItems.get")
def get_blocklist_item(ctx: RequestContext) -> SandboxResponse:
    blocklist, bad = _blocklist(ctx)
    if bad:
        return bad
    found = state_of(ctx).resource(f"{blocklist['id']}/raiBlocklistItems/{ctx.params['item']}")
    if found is None:
        return arm_not_found(f"{ACCOUNT_TYPE}/raiBlocklists/raiBlocklistItems", ctx.params["item"], ctx.params["rg"])
    return ok(copy.deepcopy(found), etag=found.get("etag"))


@room.route("PUT", ARM, ACCOUNT + "/raiBlocklists/{blocklist}/raiBlocklistItems/{item}", "raiBlocklistItems.createOrUpdate")
def put_blocklist_item(ctx: RequestContext) -> SandboxResponse:
    blocklist, bad = _blocklist(ctx)
    if bad:
        return bad
    state = state_of(ctx)
    body, bad = _body(ctx, BLOCKLIST_ITEM)
    if bad:
        return bad
    props = body.get("properties") or {}
    if not isinstance(props.get("pattern"), str) or not props["pattern"] or len(props["pattern"]) > 1000:
        return error(400, "InvalidResourceProperties", "A blocklist item needs a pattern of 1 to 1000 characters.")
    iid = f"{blocklist['id']}/raiBlocklistItems/{ctx.params['item']}"
    existing = state.resource(iid)
    target = {"id": (existing or {}).get("id", iid), "type": BLOCKLIST_ITEM_TYPE,
              "name": (existing or {}).get("name", ctx.params["item"]), "etag": state.new_etag(),
              "properties": {"pattern": props["pattern"], "isRegex": bool(props.get("isRegex", False))}}
    _stamp(ctx, target, existing)
    state.put_resource(target)
    return ok(copy.deepcopy(target), status=200 if existing else 201, etag=target["etag"])


@room.route("DELETE", ARM, ACCOUNT + "/raiBlocklists/{blocklist}/raiBlocklistItems/{item}", "raiBlocklistItems.delete")
def delete_blocklist_item(ctx: RequestContext) -> SandboxResponse:
    blocklist, bad = _blocklist(ctx)
    if bad:
        return bad
    state = state_of(ctx)
    iid = f"{blocklist['id']}/raiBlocklistItems/{ctx.params['item']}"
    if state.resource(iid) is None:
        return SandboxResponse(204, None, {})
    state.delete_resource(iid)
    return SandboxResponse(204, None, {})


# private endpoint connections -----------------------------------------------------------------------------------
@room.route("PUT", ARM, ACCOUNT + "/privateEndpointConnections/{connection}", "privateEndpointConnections.createOrUpdate")
def put_private_endpoint_connection(ctx: RequestContext) -> SandboxResponse:
    """Approve/reject an existing connection (``privateLinkServiceConnectionState.status``); 404 when absent.

    LRO: 200 + ``Azure-AsyncOperation``; the account carries the new state (and a new etag) when it ends.
    """
    account, bad = _find_account(ctx)
    if bad:
        return bad
    state = state_of(ctx)
    raw, bad = json_body(ctx)
    if bad:
        return bad
    conns = account["properties"].get("privateEndpointConnections") or []
    index = next((i for i, c in enumerate(conns) if str(c.get("name", "")).lower() == ctx.params["connection"].lower()), None)
    if index is None:
        return arm_not_found(f"{ACCOUNT_TYPE}/{account['name']}/privateEndpointConnections", ctx.params["connection"], ctx.params["rg"])
    wanted = ((raw or {}).get("properties") or {}).get("privateLinkServiceConnectionState") if isinstance(raw, dict) else None
    if not isinstance(wanted, dict) or str(wanted.get("status", "")) not in PEC_STATUS:
        return arm_bad_content("properties.privateLinkServiceConnectionState.status must be one of " + ", ".join(PEC_STATUS) + ".")
    if lro.in_flight(state, account["id"]) is not None:
        return error(409, "AnotherOperationInProgress", f"Another operation is in progress on the resource '{account['name']}'.")
    target_account = copy.deepcopy(account)
    conn = target_account["properties"]["privateEndpointConnections"][index]
    conn.setdefault("properties", {})["privateLinkServiceConnectionState"] = {
        "status": wanted["status"], "description": str(wanted.get("description", ""))[:1000],
        "actionsRequired": str(wanted.get("actionsRequired", "None")),
    }
    conn["properties"]["provisioningState"] = "Succeeded"
    conn["etag"] = state.new_etag()
    target_account["systemData"]["lastModifiedAt"] = format_utc(ctx.now)
    op = lro.start(state, provider="Microsoft.CognitiveServices", location=account["location"], resource_id=account["id"],
                   action="replace", result=target_account, now=ctx.now,
                   duration_s=state.latency.get("privateEndpointConnections.createOrUpdate.lro", 5.0),
                   operation="privateEndpointConnections.createOrUpdate")
    echo = copy.deepcopy(conn)
    echo["properties"]["provisioningState"] = "Updating"
    return ok(echo, status=200, headers={"Azure-AsyncOperation": lro.status_url(state, op)})
