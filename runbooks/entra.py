"""Identity runbooks on Microsoft Entra ID (Microsoft Graph v1.0 through msgraph-sdk 1.65).

With key authentication off — as the Azure OpenAI security baseline recommends —
the remaining threat is a stolen Entra token; these act on the identity, not the account:

- ``identity.disable_service_principal`` — ``PATCH /servicePrincipals/{id}``
  ``{"accountEnabled": false}``: the application can get no new token (tokens already
  issued live until they expire, about an hour). Undo sets ``accountEnabled`` back.
  Graph application permission ``Application.ReadWrite.All``
  (https://learn.microsoft.com/graph/api/serviceprincipal-update).
- ``identity.revoke_sessions`` — ``POST /users/{id}/revokeSignInSessions``: refresh tokens
  and session cookies issued before now stop working (``signInSessionsValidFromDateTime``
  moves to now). No undo: revoked sessions cannot be restored (the user signs in again).
  ``User.RevokeSessions.All`` + ``User.Read.All`` to read the user back
  (https://learn.microsoft.com/graph/api/user-revokesigninsessions).
- ``identity.confirm_compromised`` — ``POST /identityProtection/riskyServicePrincipals/confirmCompromised``
  ``{"servicePrincipalIds": [id]}``: Entra ID Protection sets risk high, so risk-based
  Conditional Access for workload identities blocks it. No undo here: ``dismiss`` sets
  ``riskState: dismissed``, not the state before, so a person dismisses it in Entra ID
  Protection. ``IdentityRiskyServicePrincipal.ReadWrite.All`` (Workload Identities Premium)
  (https://learn.microsoft.com/graph/api/riskyserviceprincipal-confirmcompromised).

Target: none for an incident's step (Graph objects are not ARM resources); the object ID comes in the
parameters, from the alert (``${{ alert.indicators.principal_ids.0 }}``). A person's manual run by a responder
names the Azure OpenAI account the principal acts on as target, and the principal must hold a role assignment on it
(:mod:`runbooks.graph_scope`, RT18-02); an admin's may act on any principal. Firestop's own
identity (``FIRESTOP_AUTOMATION_PRINCIPAL_ID`` or the clients' ``oid``) is refused before
anything is read. Each apply keeps a marker with the state before its change
(:mod:`runbooks.markers`), so a retry after any fault or crash reports — and undo restores —
the original, and ``revokeSignInSessions`` runs once per step.

Why msgraph-sdk (and where it fits less well): it is Microsoft's Graph SDK and builds the
requests, auth and retries as in production, but it is async-only and speaks httpx, so
calls go through :meth:`firestop.azure.clients.ClientFactory.graph` (``asyncio.run`` per
call; the sandbox plugs in at httpx's transport; kiota's retry handler is replaced by one
that waits on the factory's clock).
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator

from firestop.azure.errors import RunbookError
from runbooks.base import Applied, Change, Check, Plan, RunContext, Runbook, Verification
from runbooks.markers import recall, remember
from runbooks.registry import register

SP_WRITE = "Application.ReadWrite.All"
USER_READ = "User.Read.All"
REVOKE = "User.RevokeSessions.All"
RISKY_SP = "IdentityRiskyServicePrincipal.ReadWrite.All"
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def _guid(value: str, what: str) -> str:
    value = str(value).strip()
    if not _GUID.match(value):
        raise ValueError(f"must be the {what}'s object ID, a GUID (Microsoft Entra ID > {what}s > Object ID)")
    return value.lower()


def _not_self(ctx: RunContext, object_id: str, runbook: str) -> None:
    protected = {p.lower() for p in (ctx.settings.automation_principal_id, ctx.clients.caller_object_id()) if p}
    if object_id in protected:
        raise RunbookError("invalid", f"params: {object_id} is Firestop's own identity (FIRESTOP_AUTOMATION_PRINCIPAL_ID or the "
                                      f"identity these clients act as); {runbook} never acts on it")


def _graph(ctx: RunContext, permission: str, call) -> Any:
    from firestop.azure.graph import map_graph_error

    try:
        return ctx.clients.graph(call)
    except Exception as exc:  # noqa: BLE001
        raise map_graph_error(exc, permission=permission) from None


class SpParams(BaseModel):
    """service_principal_id: object ID (GUID) of the service principal (Enterprise applications > Object ID)."""

    model_config = ConfigDict(extra="forbid")

    service_principal_id: str

    @field_validator("service_principal_id")
    @classmethod
    def _id(cls, value: str) -> str:
        return _guid(value, "service principal")


class UserParams(BaseModel):
    """user_id: object ID (GUID) of the user whose sign-in sessions to revoke."""

    model_config = ConfigDict(extra="forbid")

    user_id: str

    @field_validator("user_id")
    @classmethod
    def _id(cls, value: str) -> str:
        return _guid(value, "user")


def _sp_state(ctx: RunContext, sp_id: str) -> dict[str, Any]:
    from firestop.azure.graph import field, get_json

    async def get(client):
        return await get_json(client.service_principals.by_service_principal_id(sp_id))

    sp = _graph(ctx, SP_WRITE, get)
    return {"id": field(sp, "id", "str"), "appId": field(sp, "appId", "str"), "displayName": field(sp, "displayName", "str"),
            "accountEnabled": field(sp, "accountEnabled", "bool")}


def _set_enabled(ctx: RunContext, sp_id: str, enabled: bool) -> None:
    from msgraph.generated.models.service_principal import ServicePrincipal

    async def patch(client):
        return await client.service_principals.by_service_principal_id(sp_id).patch(ServicePrincipal(account_enabled=enabled))

    _graph(ctx, SP_WRITE, patch)


def _sp_radius(state: dict[str, Any]) -> dict[str, list[str]]:
    return {"identities": [f"service principal {state['displayName']} ({state['id']}, appId {state['appId']})"],
            "consumers": [f"every workload signing in as appId {state['appId']} (new tokens refused; issued ones live ≤ 1 h)"]}


@register
class DisableServicePrincipal(Runbook[SpParams]):
    name = "identity.disable_service_principal"
    summary = "Disable a service principal (accountEnabled=false): the application gets no new Entra tokens."
    graph_permissions = (SP_WRITE,)
    principal_param = "service_principal_id"
    Params = SpParams

    def plan(self, ctx: RunContext, target: str, params: SpParams) -> Plan:
        _not_self(ctx, params.service_principal_id, self.name)
        now = _sp_state(ctx, params.service_principal_id)
        changes = [Change(field="accountEnabled", before=True, after=False)] if now["accountEnabled"] else []
        return Plan(runbook=self.name, target=target or "", before=now, changes=changes,
                    notes=[] if changes else ["already disabled"], blast_radius=_sp_radius(now))

    def apply(self, ctx: RunContext, target: str, params: SpParams) -> Applied:
        _not_self(ctx, params.service_principal_id, self.name)
        key = f"servicePrincipals/{params.service_principal_id}"
        marker = recall(ctx, self.name, key)
        now = _sp_state(ctx, params.service_principal_id)
        before = marker["before"] if marker else now
        changed = False
        if now["accountEnabled"] is not False:
            remember(ctx, self.name, key, before)
            _set_enabled(ctx, params.service_principal_id, False)
            changed = True
        after = _sp_state(ctx, params.service_principal_id)
        return Applied(runbook=self.name, target=target or "", changed=changed, before=before, after=after,
                       summary=(f"disabled service principal {before['displayName']} (appId {before['appId']})" if changed
                                else f"service principal {before['displayName']} already disabled; nothing changed"))

    def verify(self, ctx: RunContext, target: str, params: SpParams, applied: Applied) -> Verification:
        now = _sp_state(ctx, params.service_principal_id)
        return Verification(runbook=self.name, target=target or "", checks=[
            Check(name=f"{now['displayName']} is disabled", ok=now["accountEnabled"] is False, detail=f"accountEnabled = {now['accountEnabled']}")])

    def undo(self, ctx: RunContext, target: str, params: SpParams, applied: Applied) -> Applied:
        now = _sp_state(ctx, params.service_principal_id)
        was = applied.before.get("accountEnabled")
        if now["accountEnabled"] == was:
            return Applied(runbook=self.name, target=target or "", changed=False, before=now, after=now, summary="already as before; nothing changed")
        if now["accountEnabled"] != applied.after.get("accountEnabled"):
            raise RunbookError("conflict", "identity.disable_service_principal undo refused: accountEnabled changed after the step; review it")
        _set_enabled(ctx, params.service_principal_id, bool(was))
        after = _sp_state(ctx, params.service_principal_id)
        return Applied(runbook=self.name, target=target or "", changed=True, before=now, after=after,
                       summary=f"enabled service principal {now['displayName']} again")


def _user_state(ctx: RunContext, user_id: str) -> dict[str, Any]:
    from firestop.azure.graph import field, get_json

    async def get(client):
        from kiota_abstractions.base_request_configuration import RequestConfiguration
        from msgraph.generated.users.item.user_item_request_builder import UserItemRequestBuilder

        query = UserItemRequestBuilder.UserItemRequestBuilderGetQueryParameters(
            select=["id", "displayName", "userPrincipalName", "accountEnabled", "signInSessionsValidFromDateTime"])
        return await get_json(client.users.by_user_id(user_id), RequestConfiguration(query_parameters=query))

    user = _graph(ctx, USER_READ, get)
    valid_from = field(user, "signInSessionsValidFromDateTime", "datetime")
    return {"id": field(user, "id", "str"), "userPrincipalName": field(user, "userPrincipalName", "str"),
            "displayName": field(user, "displayName", "str"),
            "signInSessionsValidFromDateTime": valid_from.isoformat() if valid_from else None}


@register
class RevokeSessions(Runbook[UserParams]):
    name = "identity.revoke_sessions"
    summary = "Revoke a user's sign-in sessions (refresh tokens and session cookies issued before now stop working)."
    graph_permissions = (REVOKE, USER_READ)
    principal_param = "user_id"
    Params = UserParams
    reversible = False

    def plan(self, ctx: RunContext, target: str, params: UserParams) -> Plan:
        _not_self(ctx, params.user_id, self.name)
        now = _user_state(ctx, params.user_id)
        return Plan(runbook=self.name, target=target or "", before=now,
                    changes=[Change(field="signInSessionsValidFromDateTime", before=now["signInSessionsValidFromDateTime"], after="now")],
                    notes=["the user signs in again everywhere; access tokens already issued live until they expire (≤ 1 h)"],
                    blast_radius={"identities": [f"user {now['userPrincipalName']}"],
                                  "consumers": [f"every session of {now['userPrincipalName']}"]})

    def apply(self, ctx: RunContext, target: str, params: UserParams) -> Applied:
        _not_self(ctx, params.user_id, self.name)
        key = f"users/{params.user_id}"
        marker = recall(ctx, self.name, key)
        now = _user_state(ctx, params.user_id)
        before = marker["before"] if marker else now
        changed = False
        if now["signInSessionsValidFromDateTime"] == before["signInSessionsValidFromDateTime"]:
            remember(ctx, self.name, key, before)

            async def revoke(client):
                return await client.users.by_user_id(params.user_id).revoke_sign_in_sessions.post()

            _graph(ctx, REVOKE, revoke)
            changed = True
        after = _user_state(ctx, params.user_id)
        return Applied(runbook=self.name, target=target or "", changed=changed, before=before, after=after,
                       summary=(f"revoked the sign-in sessions of {before['userPrincipalName']}" if changed
                                else f"sessions of {before['userPrincipalName']} already revoked by this step; nothing changed"))

    def verify(self, ctx: RunContext, target: str, params: UserParams, applied: Applied) -> Verification:
        now = _user_state(ctx, params.user_id)
        was, is_ = applied.before.get("signInSessionsValidFromDateTime"), now["signInSessionsValidFromDateTime"]
        return Verification(runbook=self.name, target=target or "", checks=[
            Check(name=f"sessions of {now['userPrincipalName']} revoked", ok=bool(is_) and (was is None or is_ > was),
                  detail=f"signInSessionsValidFromDateTime {was} → {is_}")])

    def undo(self, ctx: RunContext, target: str, params: UserParams, applied: Applied) -> Applied:
        raise RunbookError("invalid", "identity.revoke_sessions cannot be undone: revoked sessions cannot be restored; the user signs in again")


def _risk_state(ctx: RunContext, sp_id: str) -> dict[str, Any]:
    from msgraph.generated.models.risk_detail import RiskDetail
    from msgraph.generated.models.risk_level import RiskLevel
    from msgraph.generated.models.risk_state import RiskState

    from firestop.azure.graph import field, get_json

    async def get(client):
        return await get_json(client.identity_protection.risky_service_principals.by_risky_service_principal_id(sp_id))

    risky = _graph(ctx, RISKY_SP, get)
    value = lambda v: getattr(v, "value", v)  # noqa: E731  (msgraph enums)
    return {"id": field(risky, "id", "str"), "appId": field(risky, "appId", "str"), "displayName": field(risky, "displayName", "str"),
            "riskState": value(field(risky, "riskState", "enum", RiskState)),
            "riskLevel": value(field(risky, "riskLevel", "enum", RiskLevel)),
            "riskDetail": value(field(risky, "riskDetail", "enum", RiskDetail))}


@register
class ConfirmCompromised(Runbook[SpParams]):
    name = "identity.confirm_compromised"
    summary = "Confirm a service principal compromised in Entra ID Protection (risk high: risk-based Conditional Access blocks it)."
    graph_permissions = (RISKY_SP,)
    principal_param = "service_principal_id"
    Params = SpParams
    reversible = False

    def plan(self, ctx: RunContext, target: str, params: SpParams) -> Plan:
        _not_self(ctx, params.service_principal_id, self.name)
        now = _risk_state(ctx, params.service_principal_id)
        done = now["riskState"] == "confirmedCompromised"
        return Plan(runbook=self.name, target=target or "", before=now,
                    changes=[] if done else [Change(field="riskState", before=now["riskState"], after="confirmedCompromised")],
                    notes=(["already confirmed compromised"] if done else [])
                    + ["blocks the application only where a risk-based Conditional Access policy for workload identities applies"],
                    blast_radius={"identities": [f"service principal {now['displayName']} ({now['id']})"],
                                  "consumers": [f"workloads signing in as appId {now['appId']} under risk-based Conditional Access"]})

    def apply(self, ctx: RunContext, target: str, params: SpParams) -> Applied:
        _not_self(ctx, params.service_principal_id, self.name)
        key = f"riskyServicePrincipals/{params.service_principal_id}"
        marker = recall(ctx, self.name, key)
        now = _risk_state(ctx, params.service_principal_id)
        before = marker["before"] if marker else now
        changed = False
        if now["riskState"] != "confirmedCompromised":
            remember(ctx, self.name, key, before)
            from msgraph.generated.identity_protection.risky_service_principals.confirm_compromised.confirm_compromised_post_request_body import (
                ConfirmCompromisedPostRequestBody,
            )

            async def confirm(client):
                body = ConfirmCompromisedPostRequestBody(service_principal_ids=[params.service_principal_id])
                return await client.identity_protection.risky_service_principals.confirm_compromised.post(body)

            _graph(ctx, RISKY_SP, confirm)
            changed = True
        after = _risk_state(ctx, params.service_principal_id)
        return Applied(runbook=self.name, target=target or "", changed=changed, before=before, after=after,
                       summary=(f"confirmed service principal {before['displayName']} compromised (risk {before['riskLevel']} → high)"
                                if changed else f"{before['displayName']} already confirmed compromised; nothing changed"))

    def verify(self, ctx: RunContext, target: str, params: SpParams, applied: Applied) -> Verification:
        now = _risk_state(ctx, params.service_principal_id)
        return Verification(runbook=self.name, target=target or "", checks=[
            Check(name=f"{now['displayName']} confirmed compromised", ok=now["riskState"] == "confirmedCompromised",
                  detail=f"riskState {now['riskState']}, riskLevel {now['riskLevel']}")])

    def undo(self, ctx: RunContext, target: str, params: SpParams, applied: Applied) -> Applied:
        raise RunbookError("invalid", "identity.confirm_compromised cannot be undone exactly: Graph's dismiss sets riskState "
                                      "dismissed, not the state before; dismiss the risk in Entra ID Protection if it was a false positive")
