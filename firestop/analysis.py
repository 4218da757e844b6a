"""Analyze phase I/O: read each target's current configuration (read-only).

``describe_targets(target_ids)`` → ``{target_id: facts}`` where facts, for an
Azure OpenAI / Cognitive Services account (ARM ``GET`` of
``Microsoft.CognitiveServices/accounts``, REST API 2025-09-01), are::

    {"type": "microsoft.cognitiveservices/accounts", "kind", "location", "tags": {...},
     "publicNetworkAccess", "disableLocalAuth", "networkDefaultAction", "ipRules": int,
     "privateEndpoints": int}

and ``{"type": <type>, "error": "..."}`` when the read failed (the incident
goes on; the facts are for decisions such as ``required_if`` and the checklist).
Other resource types: ``{"type": <type>}``.
"""

from __future__ import annotations

from typing import Any

from firestop.azure.clients import ClientFactory
from firestop.azure.errors import map_azure_error
from firestop.resource_id import type_key

ACCOUNT_TYPE = "microsoft.cognitiveservices/accounts"


def _raw(pipeline_response: Any, deserialized: Any, headers: Any) -> dict[str, Any]:
    return pipeline_response.http_response.json()


def account_facts(account: dict[str, Any]) -> dict[str, Any]:
    """The decision-relevant facts of an account's ARM JSON (pure)."""
    props = account.get("properties") or {}
    acls = props.get("networkAcls") or {}
    return {
        "type": ACCOUNT_TYPE,
        "kind": account.get("kind"),
        "location": account.get("location"),
        "tags": dict(account.get("tags") or {}),
        "publicNetworkAccess": props.get("publicNetworkAccess"),
        "disableLocalAuth": bool(props.get("disableLocalAuth")),
        "networkDefaultAction": acls.get("defaultAction"),
        "ipRules": len(acls.get("ipRules") or []),
        "privateEndpoints": len(props.get("privateEndpointConnections") or []),
    }


def describe_targets(clients: ClientFactory, target_ids: list[str]) -> dict[str, dict[str, Any]]:
    """Facts per target (see module doc). Never raises for an Azure error: it is reported in the facts."""
    from firestop.resource_id import parse

    out: dict[str, dict[str, Any]] = {}
    for target in target_ids:
        kind = type_key(target)
        if kind != ACCOUNT_TYPE:
            out[target] = {"type": kind}
            continue
        ref = parse(target)
        try:
            account = clients.cognitive_services(ref.subscription).accounts.get(ref.resource_group, ref.name, cls=_raw)
            out[target] = account_facts(account)
        except Exception as exc:  # noqa: BLE001
            out[target] = {"type": kind, "error": map_azure_error(exc, permission="Microsoft.CognitiveServices/accounts/read").message}
    return out
