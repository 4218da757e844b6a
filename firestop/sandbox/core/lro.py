"""ARM long-running operations (Azure-AsyncOperation + Location pattern).

Source: Azure/azure-resource-manager-rpc ``v1.0/async-api-reference.md`` (via
corpus ``arm/NOTES.md``) and the recorded PATCH in ``arm/cognitiveservices/
recorded/azure-cli-network-rules-patch-lro.json``:

* the 202/201 answer carries ``Azure-AsyncOperation`` (status URL) and, for
  Cognitive Services, ``Location`` (same URL + ``&operationResultResponseType=Location``);
* the status URL answers 200 ``{"id","name","status","startTime"[,"endTime"]}`` with
  ``status`` ``InProgress`` until done, then ``Succeeded``;
* the Location URL answers 202 (no body) while running, then the final
  resource (200) or 204 for deletes.

An operation record (in ``state.doc["operations"]``)::

    {"id", "provider", "location", "resource_id", "action": "replace"|"delete",
     "result": ARM JSON or None, "start", "due" (ISO UTC), "status",
     "outcome": "Succeeded"|"Failed"|"Canceled", "error": {"code", "message"} | None}

Changes become visible when the clock passes ``due`` (``settle``), which runs
lazily at the start of every request and tenant accessor, so external clock
moves (the durable host's ``set``/``advance``) are honoured too.

An injected LRO fault (:func:`firestop.sandbox.core.faults.take_lro`) changes
``due`` (slow operation) and/or ``outcome``. An operation that ends
``Failed``/``Canceled`` applies nothing: the resource keeps its old body with
``provisioningState`` = the outcome (ARM RPC terminal states) and a new etag
(a child that did not exist yet is simply not created); the status URL answers
``{"status": "Failed", "error": {"code", "message"}}`` and the Location URL
answers :data:`FAILED_LOCATION_STATUS` with the same ``error`` body.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Optional

from . import faults as F
from .clock import format_utc, parse_utc
from .state import TenantState

#: Operation-status api-version ARM hands out for Cognitive Services (recorded value).
COGNITIVE_STATUS_API_VERSION = "2017-04-18"
#: ``Retry-After`` (integer seconds, ARM RPC min 10) of throttling answers such as Microsoft.Network's
#: 429 ``AnotherOperationInProgress``. LRO answers (the 202/201 and the status polls) carry **no**
#: ``Retry-After``, as in the recorded azure-cli traffic (corpus ``arm/NOTES.md``: "no Retry-After"),
#: so clients poll at their own ``polling_interval`` (azure-mgmt default 30 s; Firestop's factory 2 s).
RETRY_AFTER_S = 10
#: HTTP status the Location URL answers for a Failed/Canceled operation (ARM RPC: "4xx or 5xx with the error").
FAILED_LOCATION_STATUS = 500


def start(
    state: TenantState,
    *,
    provider: str,
    location: str,
    resource_id: str,
    action: str,
    result: Optional[dict],
    now: datetime,
    duration_s: float,
    operation: Optional[str] = None,
    **extra: object,
) -> dict:
    """Record a new in-flight operation and return it.

    ``operation`` (the route's operation name, e.g. ``accounts.update``) lets an
    injected LRO fault change the duration (seconds) and the outcome.
    """
    outcome, op_error = "Succeeded", None
    if operation is not None:
        rule = F.take_lro(state.doc["faults"], operation, now)
        if rule is not None:
            if rule["seconds"] is not None:
                duration_s = rule["seconds"]
            outcome = rule["outcome"]
            if outcome != "Succeeded":
                op_error = {
                    "code": rule["code"],
                    "message": rule["message"] or f"Injected fault (sandbox): the {operation} operation ended {outcome}.",
                }
    op_id = state.new_guid("operation")
    op = {
        "id": op_id,
        "provider": provider,
        "location": location.replace(" ", "").lower(),
        "resource_id": resource_id,
        "action": action,
        "result": result,
        "start": format_utc(now),
        "due": format_utc(now + timedelta(seconds=duration_s)),
        "status": "InProgress",
        "outcome": outcome,
        "error": op_error,
        **extra,
    }
    state.doc["operations"][op_id] = op
    return op


def in_flight(state: TenantState, resource_id: str) -> Optional[dict]:
    """The running operation on ``resource_id`` (case-insensitive), if any."""
    rid = resource_id.lower()
    for op in state.doc["operations"].values():
        if op["status"] == "InProgress" and op["resource_id"].lower() == rid:
            return op
    return None


def settle(state: TenantState, now: datetime) -> None:
    """Complete every operation whose ``due`` time has passed (applies its result)."""
    for op in sorted(state.doc["operations"].values(), key=lambda o: o["due"]):
        if op["status"] != "InProgress" or parse_utc(op["due"]) > now:
            continue
        outcome = op.get("outcome", "Succeeded")
        if outcome != "Succeeded":
            _mark_unsuccessful(state, op, outcome)
            op["status"] = outcome
            op["end"] = op["due"]
            op["result"] = None
            continue
        if op["action"] == "replace" and op["result"] is not None:
            result = op["result"]
            result.setdefault("properties", {})["provisioningState"] = "Succeeded"
            if "systemData" in result:
                result["systemData"]["lastModifiedAt"] = op["due"]
            if op.get("etag_style") == "network":
                result["etag"] = f'W/"{state.new_guid("nsg-etag")}"'
            elif "etag" in result:
                result["etag"] = state.new_etag()
            apply = op.get("apply", "resource")
            if apply == "resource":
                state.put_resource(result)
            elif apply == "child":
                _put_child(state, op["parent_id"], op["collection"], result)
        elif op["action"] == "delete":
            if op.get("apply") == "child":
                _delete_child(state, op["parent_id"], op["collection"], op["resource_id"])
            else:
                state.delete_resource(op["resource_id"])
        op["status"] = "Succeeded"
        op["end"] = op["due"]
        op["result"] = None if op["action"] == "delete" else op["result"]


def _mark_unsuccessful(state: TenantState, op: dict, outcome: str) -> None:
    """A Failed/Canceled operation: the existing resource shows ``provisioningState`` = outcome, nothing else changes."""
    if op.get("apply") == "child":
        parent = state.resource(op["parent_id"])
        if parent is None:
            return
        for child in parent["properties"].get(op["collection"], []):
            if child["id"].lower() == op["resource_id"].lower():
                child["properties"]["provisioningState"] = outcome
                _restamp(parent, f'W/"{state.new_guid("nsg-etag")}"')
        return
    resource = state.resource(op["resource_id"])
    if resource is not None:
        resource.setdefault("properties", {})["provisioningState"] = outcome
        if "etag" in resource:
            resource["etag"] = state.new_etag()


def _put_child(state: TenantState, parent_id: str, collection: str, child: dict) -> None:
    parent = state.resource(parent_id)
    if parent is None:
        return
    items = parent["properties"].setdefault(collection, [])
    for i, item in enumerate(items):
        if item["id"].lower() == child["id"].lower():
            items[i] = child
            break
    else:
        items.append(child)
    _restamp(parent, child.get("etag"))


def _delete_child(state: TenantState, parent_id: str, collection: str, child_id: str) -> None:
    parent = state.resource(parent_id)
    if parent is None:
        return
    items = parent["properties"].setdefault(collection, [])
    items[:] = [c for c in items if c["id"].lower() != child_id.lower()]
    _restamp(parent, f'W/"{state.new_guid("nsg-etag")}"')


def _restamp(parent: dict, etag: str | None) -> None:
    """Microsoft.Network: a write to a child re-stamps the parent and all its children with one etag."""
    if not etag:
        return
    parent["etag"] = etag
    for key in ("securityRules", "defaultSecurityRules"):
        for child in parent["properties"].get(key, []):
            child["etag"] = etag


def status_url(state: TenantState, op: dict) -> str:
    """The ``Azure-AsyncOperation`` URL for ``op``."""
    if op["provider"].lower() == "microsoft.network":
        return (
            f"https://management.azure.com/subscriptions/{state.subscription_id}/providers/Microsoft.Network/"
            f"locations/{op['location']}/operations/{op['id']}?api-version={op.get('api_version', '2024-05-01')}"
        )
    return (
        f"https://management.azure.com/subscriptions/{state.subscription_id}/providers/{op['provider']}/"
        f"locations/{op['location']}/operationResults/{op['id']}?api-version={COGNITIVE_STATUS_API_VERSION}"
    )


def location_url(state: TenantState, op: dict) -> str:
    """The ``Location`` URL for ``op`` (Cognitive Services style)."""
    return status_url(state, op) + "&operationResultResponseType=Location"


def status_body(state: TenantState, op: dict) -> dict:
    """Azure-AsyncOperation status body (Cognitive Services shape; Network uses just ``status``)."""
    failure = {"error": op["error"]} if op["status"] in ("Failed", "Canceled") and op.get("error") else {}
    if op["provider"].lower() == "microsoft.network":
        return {"status": op["status"], **failure}
    body = {
        "id": f"/subscriptions/{state.subscription_id}/providers/{op['provider']}/locations/{op['location']}/operationResults/{op['id']}",
        "name": op["id"],
        "status": op["status"],
        "startTime": op["start"],
    }
    if op["status"] != "InProgress":
        body["endTime"] = op.get("end", op["due"])
    body.update(failure)
    return body
