"""Analyze phase I/O: read each target's current configuration (read-only).

``describe_targets(target_ids)`` → ``{target_id: facts}`` where facts, for an
Azure OpenAI / Cognitive Services account (ARM ``GET`` of
``Microsoft.CognitiveServices/accounts``, REST API 2025-09-01), are::

    {"type": "microsoft.cognitiveservices/accounts", "kind", "location", "tags": {...},
     "publicNetworkAccess", "disableLocalAuth", "networkDefaultAction", "ipRules": int,
     "privateEndpoints": int, "production": bool}

``production`` (what a playbook's production approval reads, ``target.production``; RT20-09) is Firestop's own
decision, never a tag's alone: False only when an admin listed the account as not production
(``FIRESTOP_NON_PRODUCTION_ACCOUNTS``) *and* its ``environment`` tag does not say production — a tag can only add
approvals (anyone with ``Microsoft.Resources/tags/write`` may rewrite it: Tags REST 2021-04-01, Update At Scope).

and ``{"type": <type>, "error": "..."}`` when the read failed (the incident goes on; the facts are for decisions
such as ``required_if`` and the checklist; with no ``production`` an approval that reads it cannot be decided and asks).
Other resource types: ``{"type": <type>}``.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from firestop.azure.clients import ClientFactory
from firestop.azure.errors import map_azure_error
from firestop.resource_id import type_key

ACCOUNT_TYPE = "microsoft.cognitiveservices/accounts"


def _raw(pipeline_response: Any, deserialized: Any, headers: Any) -> dict[str, Any]:
    return pipeline_response.http_response.json()


def tagged_production(tags: dict[str, Any]) -> bool:
    """Whether ``tags`` (an ARM resource's tags) say production: an ``environment`` (or ``env``) tag, names and values
    compared case-insensitively, equal to ``production`` or ``prod``."""
    for key, value in (tags or {}).items():
        if str(key).strip().lower() in ("environment", "env") and str(value).strip().lower() in ("production", "prod"):
            return True
    return False


def is_production(account_id: str, tags: dict[str, Any], non_production: Collection[str] = ()) -> bool:
    """``account_id`` is production unless it is in ``non_production`` (lower-case ARM ids without a trailing slash,
    :attr:`firestop.settings.Settings.non_production_accounts`) — and even then when its tags say so."""
    listed = account_id.strip().rstrip("/").lower() in non_production
    return tagged_production(tags) or not listed


def account_facts(account: dict[str, Any], non_production: Collection[str] = ()) -> dict[str, Any]:
    """The decision-relevant facts of an account's ARM JSON (pure); ``non_production`` as :func:`is_production`."""
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
        "production": is_production(str(account.get("id") or ""), account.get("tags") or {}, non_production),
    }


def describe_targets(clients: ClientFactory, target_ids: list[str],
                     non_production: Collection[str] = ()) -> dict[str, dict[str, Any]]:
    """Facts per target (see module doc); ``non_production``: the accounts an admin declared not production
    (:func:`is_production`). Never raises for an Azure error: it is reported in the facts."""
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
            out[target] = {**account_facts(account, non_production),
                           # the id asked for, as the incident names it (the read answers the same account)
                           "production": is_production(target, account.get("tags") or {}, non_production)}
        except Exception as exc:  # noqa: BLE001
            out[target] = {"type": kind, "error": map_azure_error(exc, permission="Microsoft.CognitiveServices/accounts/read").message}
    return out
