"""ARM: Microsoft.Network network security groups and their security rules.

Shapes: corpus ``arm/network/spec-examples/*`` (2024-05-01) and
``swagger-networkSecurityGroup-2024-05-01-excerpt.json``; azure-mgmt-network
33.1.0 sends api-version 2026-03-01 (any accepted and logged).

============================  ======  ==============================================================
operation                     method  path (under .../resourceGroups/{rg}/providers/Microsoft.Network)
============================  ======  ==============================================================
nsg.get                       GET     /networkSecurityGroups/{nsg}
securityRules.list            GET     /networkSecurityGroups/{nsg}/securityRules
securityRules.get             GET     /networkSecurityGroups/{nsg}/securityRules/{rule}
securityRules.createOrUpdate  PUT     /networkSecurityGroups/{nsg}/securityRules/{rule}   (LRO)
securityRules.delete          DELETE  /networkSecurityGroups/{nsg}/securityRules/{rule}   (LRO)
============================  ======  ==============================================================

LRO shape as recorded for Microsoft.Network (``recorded/azure-cli-microsoft-network-put-lro.json``):
PUT answers 201 (new) / 200 (replace) with provisioningState ``Updating`` and
``Azure-AsyncOperation: .../providers/Microsoft.Network/locations/{loc}/operations/{id}``
(no Location, no Retry-After), the status URL answers ``{"status": ...}``
(no Retry-After either, so clients poll at their own ``polling_interval``).
DELETE answers 202 + ``Azure-AsyncOperation`` (204 if the rule does not
exist). Changes become visible at completion (``*.lro`` latency keys); NSG and
rule etags (``W/"guid"``) change then.

Validation (swagger): ``protocol`` Tcp|Udp|Icmp|Esp|*|Ah, ``access`` Allow|Deny,
``direction`` Inbound|Outbound and ``priority`` 100-4096 are required;
priority+direction must be unique in the NSG (400 ``SecurityRuleConflict``).
A write while another write on the same NSG is in flight answers 429
``AnotherOperationInProgress`` with ``Retry-After: 10`` (sandbox approximation
of NRP's per-NSG serialisation; azure-core retries it).
"""

from __future__ import annotations

import copy

from ..core import lro
from .models import NSG_TYPE, RULE_TYPE
from .armjson import ANY, INT, STR, Arr, BodyError, Enum, Obj, if_match_failed, validate
from ..core.errors import arm_not_found, error
from ..core.router import RequestContext
from ..core.wire import SandboxResponse
from ..core.armapi import check_scope, json_body, ok, state_of
from . import room

ARM = "management.azure.com"
BASE = "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Network/networkSecurityGroups/{nsg}"

RULE_PROPERTIES = Obj(
    "SecurityRulePropertiesFormat",
    {
        "description": STR,
        "protocol": Enum("SecurityRuleProtocol", ("Tcp", "Udp", "Icmp", "Esp", "*", "Ah")),
        "sourcePortRange": STR,
        "destinationPortRange": STR,
        "sourceAddressPrefix": STR,
        "sourceAddressPrefixes": Arr(STR),
        "sourceApplicationSecurityGroups": ANY,
        "destinationAddressPrefix": STR,
        "destinationAddressPrefixes": Arr(STR),
        "destinationApplicationSecurityGroups": ANY,
        "sourcePortRanges": Arr(STR),
        "destinationPortRanges": Arr(STR),
        "access": Enum("SecurityRuleAccess", ("Allow", "Deny")),
        "priority": INT,
        "direction": Enum("SecurityRuleDirection", ("Inbound", "Outbound")),
    },
    readonly={"provisioningState"},
)
RULE = Obj("SecurityRule", {"properties": RULE_PROPERTIES, "name": STR, "type": STR}, readonly={"id", "etag"})
REQUIRED = ("protocol", "access", "priority", "direction")


def _nsg(ctx: RequestContext) -> tuple[dict | None, SandboxResponse | None]:
    bad = check_scope(ctx)
    if bad:
        return None, bad
    p = ctx.params
    nsg = state_of(ctx).resource(f"/subscriptions/{p['sub']}/resourceGroups/{p['rg']}/providers/{NSG_TYPE}/{p['nsg']}")
    if nsg is None or nsg.get("type") != NSG_TYPE:
        return None, arm_not_found(NSG_TYPE, p["nsg"], p["rg"])
    return nsg, None


def _find_rule(nsg: dict, name: str) -> dict | None:
    for rule in nsg["properties"].get("securityRules", []):
        if rule["name"].lower() == name.lower():
            return rule
    return None


def _busy(ctx: RequestContext, nsg: dict) -> SandboxResponse | None:
    for op in state_of(ctx).doc["operations"].values():
        if op["status"] == "InProgress" and op.get("parent_id", "").lower() == nsg["id"].lower():
            return error(
                429,
                "AnotherOperationInProgress",
                f"Another operation on this or dependent resource is in progress. To retrieve status of the operation use uri: "
                f"{lro.status_url(state_of(ctx), op)}.",
                headers={"Retry-After": str(lro.RETRY_AFTER_S)},
            )
    return None


@room.route("GET", ARM, BASE, "nsg.get")
def get_nsg(ctx: RequestContext) -> SandboxResponse:
    nsg, bad = _nsg(ctx)
    if bad:
        return bad
    return ok(copy.deepcopy(nsg), etag=nsg.get("etag"))


@room.route("GET", ARM, BASE + "/securityRules", "securityRules.list")
def list_rules(ctx: RequestContext) -> SandboxResponse:
    nsg, bad = _nsg(ctx)
    if bad:
        return bad
    return ok({"value": copy.deepcopy(nsg["properties"].get("securityRules", []))})


@room.route("GET", ARM, BASE + "/securityRules/{rule}", "securityRules.get")
def get_rule(ctx: RequestContext) -> SandboxResponse:
    nsg, bad = _nsg(ctx)
    if bad:
        return bad
    rule = _find_rule(nsg, ctx.params["rule"])
    if rule is None:
        return arm_not_found(f"{NSG_TYPE}/{nsg['name']}/securityRules", ctx.params["rule"], ctx.params["rg"])
    return ok(copy.deepcopy(rule), etag=rule.get("etag"))


@room.route("PUT", ARM, BASE + "/securityRules/{rule}", "securityRules.createOrUpdate")
def put_rule(ctx: RequestContext) -> SandboxResponse:
    nsg, bad = _nsg(ctx)
    if bad:
        return bad
    raw, bad = json_body(ctx)
    if bad:
        return bad
    try:
        body = validate(raw if isinstance(raw, dict) else None, RULE) or {}
    except BodyError as exc:
        return error(400, "InvalidRequestFormat", f"Cannot parse the request. {exc}")
    props = body.get("properties") or {}
    missing = [f for f in REQUIRED if props.get(f) is None]
    if missing:
        return error(400, "InvalidRequestFormat", f"Cannot parse the request. Missing required properties: {', '.join(missing)}.")
    if not 100 <= props["priority"] <= 4096:
        return error(400, "SecurityRuleInvalidPriority", f"Security rule has invalid Priority {props['priority']}. Value provided: {props['priority']} Allowed range 100-4096.")
    name = ctx.params["rule"]
    existing = _find_rule(nsg, name)
    if if_match_failed(ctx.request.header("If-Match"), existing.get("etag") if existing else None) or (
        ctx.request.header("If-Match") and existing is None
    ):
        return error(412, "PreconditionFailed", "The condition specified using HTTP conditional header(s) is not met.")
    for other in nsg["properties"].get("securityRules", []):
        op = other["properties"]
        if other["name"].lower() != name.lower() and op["priority"] == props["priority"] and op["direction"] == props["direction"]:
            return error(
                400,
                "SecurityRuleConflict",
                f"Security rule {name} conflicts with rule {other['name']}. Rules cannot have the same Priority and Direction. "
                "To learn more, see aka.ms/nsgrules.",
            )
    busy = _busy(ctx, nsg)
    if busy:
        return busy
    state = state_of(ctx)
    rule_id = f"{nsg['id']}/securityRules/{existing['name'] if existing else name}"
    target = {
        "name": existing["name"] if existing else name,
        "id": rule_id,
        "etag": existing["etag"] if existing else nsg["etag"],
        "type": RULE_TYPE,
        "properties": {**props, "provisioningState": "Succeeded"},
    }
    op = lro.start(
        state, provider="Microsoft.Network", location=nsg["location"], resource_id=rule_id, action="replace",
        result=target, now=ctx.now, duration_s=state.latency.get("securityRules.createOrUpdate.lro", 10.0), operation="securityRules.createOrUpdate",
        apply="child", parent_id=nsg["id"], collection="securityRules", etag_style="network",
        api_version=ctx.request.api_version or "2024-05-01",
    )
    echo = copy.deepcopy(target)
    echo["properties"]["provisioningState"] = "Updating"
    return ok(echo, status=200 if existing else 201, headers={"Azure-AsyncOperation": lro.status_url(state, op), "Azure-AsyncNotification": "Enabled"})


@room.route("DELETE", ARM, BASE + "/securityRules/{rule}", "securityRules.delete")
def delete_rule(ctx: RequestContext) -> SandboxResponse:
    nsg, bad = _nsg(ctx)
    if bad:
        return bad
    existing = _find_rule(nsg, ctx.params["rule"])
    if existing is None:
        return SandboxResponse(204)
    busy = _busy(ctx, nsg)
    if busy:
        return busy
    state = state_of(ctx)
    op = lro.start(
        state, provider="Microsoft.Network", location=nsg["location"], resource_id=existing["id"], action="delete",
        result=None, now=ctx.now, duration_s=state.latency.get("securityRules.delete.lro", 10.0), operation="securityRules.delete",
        apply="child", parent_id=nsg["id"], collection="securityRules", etag_style="network",
        api_version=ctx.request.api_version or "2024-05-01",
    )
    existing["properties"]["provisioningState"] = "Deleting"
    return SandboxResponse(202, None, {"Azure-AsyncOperation": lro.status_url(state, op)})
