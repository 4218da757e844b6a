"""Narrow network runbooks on an Azure OpenAI account: one private endpoint; outbound traffic only.

- ``network.reject_private_endpoint`` — set one private endpoint connection's
  ``privateLinkServiceConnectionState.status`` to ``Rejected`` (PUT
  ``…/accounts/{a}/privateEndpointConnections/{c}``, an LRO; REST 2025-09-01 via
  ``private_endpoint_connections.begin_create_or_update``, spec example
  ``PutPrivateEndpointConnection.json``): the network behind that endpoint loses the
  account, every other endpoint and network rule stays. Undo sets the state it had
  (``Approved``) back. (Azure Private Link documents that a rejected connection may have
  to be recreated by its owner before it can be approved again; the sandbox allows it.)
- ``network.restrict_outbound`` — account PATCH ``restrictOutboundNetworkAccess: true``
  with ``allowedFqdnList`` (AccountProperties, 2024-10-01 swagger): the account's own
  outbound calls — "on your data" sources, tools, storage — reach only the listed hosts,
  against exfiltration through them. Undo restores both properties as they were.

Both keep the state before their change in a marker first (:mod:`runbooks.markers`).
"""

from __future__ import annotations

import io
import json
import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from firestop.azure.errors import RunbookError, map_azure_error
from runbooks.arm import READ_ACCOUNT, READ_OPERATION_RESULTS, WRITE_ACCOUNT, get_account, patch_account
from runbooks.base import Applied, Change, Check, Plan, RunContext, Runbook, Verification
from runbooks.common import raw_json
from runbooks.markers import recall, remember
from runbooks.registry import register
from runbooks.targets import ACCOUNT_TYPE, account_ref

CS = "Microsoft.CognitiveServices/accounts"
PEC_READ = f"{CS}/privateEndpointConnections/read"
PEC_WRITE = f"{CS}/privateEndpointConnections/write"
_FQDN = re.compile(r"^(?=.{1,253}$)(\*\.)?([A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$")


class RejectParams(BaseModel):
    """connection: name of the private endpoint connection (``az cognitiveservices account show`` →
    properties.privateEndpointConnections[].name); description: why (shown to the endpoint's owner)."""

    model_config = ConfigDict(extra="forbid")

    connection: str = Field(min_length=1, max_length=200)
    description: str = Field(default="Rejected by Firestop during an incident", max_length=500)

    @field_validator("connection")
    @classmethod
    def _plain(cls, value: str) -> str:
        if "/" in value or not value.strip():
            raise ValueError("give the connection's name (the last segment of its ID), not a path")
        return value.strip()


def _connection(ctx: RunContext, target: str, name: str) -> dict[str, Any]:
    from azure.core.exceptions import ResourceNotFoundError

    ref = account_ref(target)
    client = ctx.clients.cognitive_services(ref.subscription_id)
    try:
        return client.private_endpoint_connections.get(ref.resource_group, ref.name, name, cls=raw_json)
    except ResourceNotFoundError:
        raise RunbookError("not_found", f"params.connection: {ref.name} has no private endpoint connection {name!r}; "
                                        "list them with az network private-endpoint-connection list --id <account id>") from None
    except Exception as exc:  # noqa: BLE001
        raise map_azure_error(exc, permission=PEC_READ) from None


def _set_status(ctx: RunContext, target: str, name: str, state: dict[str, Any]) -> None:
    ref = account_ref(target)
    client = ctx.clients.cognitive_services(ref.subscription_id)
    body = io.BytesIO(json.dumps({"properties": {"privateLinkServiceConnectionState": state}}).encode())
    try:
        client.private_endpoint_connections.begin_create_or_update(
            ref.resource_group, ref.name, name, body, content_type="application/json").result()
    except Exception as exc:  # noqa: BLE001
        raise map_azure_error(exc, permission=PEC_WRITE) from None


def _pec_state(conn: dict[str, Any]) -> dict[str, Any]:
    props = conn.get("properties") or {}
    return {"connection": conn.get("name"), "privateEndpoint": (props.get("privateEndpoint") or {}).get("id"),
            "privateLinkServiceConnectionState": props.get("privateLinkServiceConnectionState") or {}}


def _status(state: dict[str, Any]) -> str | None:
    return (state.get("privateLinkServiceConnectionState") or {}).get("status")


@register
class RejectPrivateEndpoint(Runbook[RejectParams]):
    name = "network.reject_private_endpoint"
    summary = "Reject one private endpoint connection of the account (the network behind it loses access); undo approves it again."
    permissions = (PEC_READ, PEC_WRITE, READ_OPERATION_RESULTS)
    target_type = ACCOUNT_TYPE
    Params = RejectParams

    def plan(self, ctx: RunContext, target: str, params: RejectParams) -> Plan:
        now = _pec_state(_connection(ctx, target, params.connection))
        others = [c.get("name") for c in (get_account(ctx, account_ref(target)).get("properties") or {}).get("privateEndpointConnections") or []
                  if c.get("name") != params.connection]
        changes = [] if _status(now) == "Rejected" else [Change(field=f"privateEndpointConnections/{params.connection}.status",
                                                                 before=_status(now), after="Rejected")]
        return Plan(runbook=self.name, target=target, before=now, changes=changes,
                    notes=([] if changes else ["already rejected"]) + [f"other private endpoints keep working: {', '.join(others) or 'none'}"],
                    blast_radius={"consumers": [f"every client reaching the account through private endpoint {now['privateEndpoint']}"]},
                    )

    def apply(self, ctx: RunContext, target: str, params: RejectParams) -> Applied:
        key = f"{target}/privateEndpointConnections/{params.connection}"
        marker = recall(ctx, self.name, key)
        now = _pec_state(_connection(ctx, target, params.connection))
        before = marker["before"] if marker else now
        changed = False
        if _status(now) != "Rejected":
            remember(ctx, self.name, key, before)
            _set_status(ctx, target, params.connection, {"status": "Rejected", "description": params.description, "actionsRequired": "None"})
            changed = True
        after = _pec_state(_connection(ctx, target, params.connection))
        return Applied(runbook=self.name, target=target, changed=changed, before=before, after=after,
                       summary=(f"rejected private endpoint connection {params.connection} (was {_status(before)})" if changed
                                else f"private endpoint connection {params.connection} already rejected; nothing changed"))

    def verify(self, ctx: RunContext, target: str, params: RejectParams, applied: Applied) -> Verification:
        now = _pec_state(_connection(ctx, target, params.connection))
        return Verification(runbook=self.name, target=target, checks=[
            Check(name=f"{params.connection} is Rejected", ok=_status(now) == "Rejected", detail=f"status = {_status(now)}")])

    def undo(self, ctx: RunContext, target: str, params: RejectParams, applied: Applied) -> Applied:
        now = _pec_state(_connection(ctx, target, params.connection))
        if now["privateLinkServiceConnectionState"] == applied.before.get("privateLinkServiceConnectionState"):
            return Applied(runbook=self.name, target=target, changed=False, before=now, after=now, summary="already as before; nothing changed")
        if _status(now) != "Rejected":
            raise RunbookError("conflict", f"network.reject_private_endpoint undo refused: {params.connection} changed after the step "
                                           f"(status {_status(now)}); review it")
        _set_status(ctx, target, params.connection, dict(applied.before.get("privateLinkServiceConnectionState") or {"status": "Approved"}))
        after = _pec_state(_connection(ctx, target, params.connection))
        return Applied(runbook=self.name, target=target, changed=True, before=now, after=after,
                       summary=f"set private endpoint connection {params.connection} back to {_status(after)}")


class OutboundParams(BaseModel):
    """allowed_fqdns: host names the account may still call (e.g. mysearch.search.windows.net), at most 100;
    None keeps the account's current allowedFqdnList (empty: no outbound call at all)."""

    model_config = ConfigDict(extra="forbid")

    allowed_fqdns: list[str] | None = Field(default=None, max_length=100)

    @field_validator("allowed_fqdns")
    @classmethod
    def _fqdns(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        out = []
        for item in value:
            host = str(item).strip().lower().rstrip(".")
            if not _FQDN.match(host):
                raise ValueError(f"{item!r} is not a host name (e.g. mysearch.search.windows.net)")
            if host not in out:
                out.append(host)
        return out


def _outbound(account: dict[str, Any]) -> dict[str, Any]:
    props = account.get("properties") or {}
    return {"restrictOutboundNetworkAccess": props.get("restrictOutboundNetworkAccess"),
            "allowedFqdnList": props.get("allowedFqdnList"), "etag": account.get("etag")}


@register
class RestrictOutbound(Runbook[OutboundParams]):
    name = "network.restrict_outbound"
    summary = "Restrict the account's outbound calls (restrictOutboundNetworkAccess) to an allowed FQDN list, against exfiltration."
    permissions = (READ_ACCOUNT, WRITE_ACCOUNT, READ_OPERATION_RESULTS)
    target_type = ACCOUNT_TYPE
    Params = OutboundParams

    def _wanted(self, before: dict[str, Any], params: OutboundParams) -> dict[str, Any]:
        allowed = params.allowed_fqdns if params.allowed_fqdns is not None else list(before.get("allowedFqdnList") or [])
        return {"restrictOutboundNetworkAccess": True, "allowedFqdnList": allowed}

    def plan(self, ctx: RunContext, target: str, params: OutboundParams) -> Plan:
        now = _outbound(get_account(ctx, account_ref(target)))
        wanted = self._wanted(now, params)
        changes = [Change(field=f"properties.{k}", before=now[k], after=v) for k, v in wanted.items() if now[k] != v]
        return Plan(runbook=self.name, target=target, before=now, changes=changes, notes=[] if changes else ["already restricted"],
                    blast_radius={"consumers": ["the account's own outbound calls (on-your-data sources, tools) to hosts other than "
                                                + (", ".join(wanted["allowedFqdnList"]) or "none")]})

    def apply(self, ctx: RunContext, target: str, params: OutboundParams) -> Applied:
        ref = account_ref(target)
        marker = recall(ctx, self.name, target)
        now = _outbound(get_account(ctx, ref))
        before = marker["before"] if marker else now
        wanted = self._wanted(before, params)
        changed = False
        if any(now[k] != v for k, v in wanted.items()):
            remember(ctx, self.name, target, before)
            patch_account(ctx, ref, wanted, etag=now["etag"])
            changed = True
        after = _outbound(get_account(ctx, ref))
        return Applied(runbook=self.name, target=target, changed=changed, before=before, after=after,
                       summary=(f"restricted outbound access to {', '.join(wanted['allowedFqdnList']) or 'no host'}" if changed
                                else "outbound access already restricted as asked; nothing changed"),
                       artifacts={"allowedFqdnList": wanted["allowedFqdnList"]})

    def verify(self, ctx: RunContext, target: str, params: OutboundParams, applied: Applied) -> Verification:
        now = _outbound(get_account(ctx, account_ref(target)))
        wanted = applied.artifacts.get("allowedFqdnList") or []
        return Verification(runbook=self.name, target=target, checks=[
            Check(name="restrictOutboundNetworkAccess is true", ok=now["restrictOutboundNetworkAccess"] is True,
                  detail=f"restrictOutboundNetworkAccess = {now['restrictOutboundNetworkAccess']}"),
            Check(name="allowedFqdnList as applied", ok=sorted(now["allowedFqdnList"] or []) == sorted(wanted),
                  detail=", ".join(now["allowedFqdnList"] or []) or "(none)"),
        ])

    def undo(self, ctx: RunContext, target: str, params: OutboundParams, applied: Applied) -> Applied:
        ref = account_ref(target)
        now = _outbound(get_account(ctx, ref))
        fields = ("restrictOutboundNetworkAccess", "allowedFqdnList")
        if all(now[f] == applied.before.get(f) for f in fields):
            return Applied(runbook=self.name, target=target, changed=False, before=now, after=now, summary="already as before; nothing changed")
        if any(now[f] != applied.after.get(f) for f in fields):
            raise RunbookError("conflict", "network.restrict_outbound undo refused: the outbound settings changed after the step; review them")
        patch_account(ctx, ref, {f: applied.before.get(f) for f in fields}, etag=now["etag"])
        after = _outbound(get_account(ctx, ref))
        return Applied(runbook=self.name, target=target, changed=True, before=now, after=after,
                       summary="restored the account's outbound network settings")
