"""API Management runbooks: contain one consumer of Azure OpenAI behind APIM, not every caller.

Target: the API Management service (``Microsoft.ApiManagement/service``); ``subscription``: the
subscription's ID (``sid``). ``apim.suspend_subscription`` also takes ``subscriptions`` (a list, at most
:data:`MAX_SUBSCRIPTIONS`): playbooks pass the consumers the alert names
(``${{ alert.indicators.apim_subscriptions }}`` — the ``ApimSubscriptionId`` dimension or search-result
column of a rule over ``ApiManagementGatewayLogs``) and/or a hand-written alert's
``${{ alert.custom_properties.firestop-apim-subscription }}``; the two are merged, de-duplicated. REST API 2024-05-01 through
azure-mgmt-apimanagement 5.0.0 (``subscription.get`` / ``update`` (PATCH, ``If-Match``) /
``regenerate_primary_key`` / ``regenerate_secondary_key`` / ``list_secrets``):

- ``apim.suspend_subscription`` — ``state: suspended`` (with a ``stateComment`` naming the
  incident): that consumer's calls get 401 at the gateway; every other subscription keeps
  working. Undo sets ``state`` and ``stateComment`` back (``active``).
- ``apim.regenerate_subscription_key`` — regenerate the primary and/or secondary key: a leaked
  subscription key stops working, the consumer fetches the new one from the developer portal or
  its secret store. No undo (a key cannot be set back). Each key is regenerated at most once per
  step: the marker holds the keys' SHA-256 fingerprints before, and a retry regenerates only a key
  whose fingerprint is still the marked one. Key values are registered as secrets (scrubbed) and
  never leave as anything but fingerprints.
"""

from __future__ import annotations

import io
import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from firestop.azure.errors import RunbookError, map_azure_error
from runbooks.base import Applied, Change, Check, Plan, RunContext, Runbook, Verification, fingerprint
from runbooks.common import list_raw, raw_json
from runbooks.markers import recall, remember
from runbooks.registry import register
from runbooks.targets import APIM_TYPE, apim_ref

SUBS = "Microsoft.ApiManagement/service/subscriptions"
READ = f"{SUBS}/read"
WRITE = f"{SUBS}/write"
REGEN_PRIMARY = f"{SUBS}/regeneratePrimaryKey/action"
REGEN_SECONDARY = f"{SUBS}/regenerateSecondaryKey/action"
LIST_SECRETS = f"{SUBS}/listSecrets/action"
API_VERSION = "2024-05-01"


class SubscriptionParams(BaseModel):
    """subscription: the APIM subscription's ID (sid, the last segment of its resource ID)."""

    model_config = ConfigDict(extra="forbid")

    subscription: str = Field(min_length=1, max_length=256)

    @field_validator("subscription")
    @classmethod
    def _sid(cls, value: str) -> str:
        return _clean_sid(value)


#: at most this many consumers suspended by one step (an alert split by consumer names one; more is refused, not cut)
MAX_SUBSCRIPTIONS = 10


def _clean_sid(value: str) -> str:
    """``value`` stripped, when it can be the last segment of the subscription's ARM URL; ValueError otherwise: a path
    (``/``), or only dots — ``…/service/apim/subscriptions/..`` is the API Management service itself once the
    transport resolves the dot segment (RT8-08; the sid may come from the alert's logs)."""
    value = value.strip()
    if "/" in value or "\\" in value or not value or set(value) == {"."}:
        raise ValueError("give the subscription's ID (sid), e.g. chatbot-web, not a path")
    return value


class SuspendParams(BaseModel):
    """subscription: one sid; subscriptions: sids (e.g. from the alert's indicators); at least one in all,
    at most :data:`MAX_SUBSCRIPTIONS` different ones. ``None`` values (an alert property it lacks) are ignored."""

    model_config = ConfigDict(extra="forbid")

    subscription: str | None = Field(default=None, max_length=256)
    subscriptions: list[str] | None = Field(default=None, max_length=100)

    @field_validator("subscription")
    @classmethod
    def _one(cls, value: str | None) -> str | None:
        return None if value is None or not value.strip() else _clean_sid(value)

    @field_validator("subscriptions")
    @classmethod
    def _many(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        for item in value:
            if not isinstance(item, str) or len(item) > 256:
                raise ValueError("each entry is a subscription's ID (sid) of at most 256 characters")
        return [_clean_sid(v) for v in value]

    def sids(self) -> list[str]:
        """The subscriptions to act on, first occurrence first, de-duplicated case-insensitively
        (``RunbookError`` "invalid" when there is none: the playbook's templates may both render empty)."""
        seen: dict[str, str] = {}
        for sid in [*(self.subscriptions or []), *([self.subscription] if self.subscription else [])]:
            seen.setdefault(sid.lower(), sid)
        return list(seen.values())

    def required_sids(self) -> list[str]:
        sids = self.sids()
        if not sids:
            raise RunbookError("invalid", "params.subscription: give the APIM subscription's ID (sid), or subscriptions (a list of them)")
        return sids

    @model_validator(mode="after")
    def _bounded(self) -> "SuspendParams":
        n = len(self.sids())
        if n > MAX_SUBSCRIPTIONS:
            raise ValueError(f"subscriptions: {n} consumers; at most {MAX_SUBSCRIPTIONS} per step (suspend the rest in another step)")
        return self


class _Sub:
    def __init__(self, ctx: RunContext, target: str, sid: str) -> None:
        self.ctx = ctx
        self.ref = apim_ref(target)
        self.sid = sid
        self.client = ctx.clients.api_management(self.ref.subscription_id)

    def get(self) -> tuple[dict[str, Any], str]:
        """(the subscription's ARM JSON, its ETag)."""
        from azure.core.exceptions import ResourceNotFoundError

        def both(pipeline_response, deserialized, headers):
            return raw_json(pipeline_response, deserialized, headers), pipeline_response.http_response.headers.get("ETag", "*")

        try:
            return self.client.subscription.get(self.ref.resource_group, self.ref.name, self.sid, cls=both)
        except ResourceNotFoundError:
            raise RunbookError("not_found", f"params.subscription: {self.ref.name} has no subscription {self.sid!r}; "
                                            "give the sid of one of its subscriptions") from None
        except Exception as exc:  # noqa: BLE001
            raise map_azure_error(exc, permission=READ) from None

    def update(self, etag: str, properties: dict[str, Any]) -> None:
        body = io.BytesIO(json.dumps({"properties": properties}).encode())
        try:
            self.client.subscription.update(self.ref.resource_group, self.ref.name, self.sid, etag, body,
                                            content_type="application/json", cls=raw_json)
        except Exception as exc:  # noqa: BLE001
            raise map_azure_error(exc, permission=WRITE) from None

    def others(self) -> list[str]:
        items = list_raw(self.client, f"{self.ref.resource_id}/subscriptions", API_VERSION, READ)
        return sorted(f"{i['name']} ({(i.get('properties') or {}).get('displayName')})" for i in items if i["name"] != self.sid)

    def key_fingerprints(self) -> dict[str, str]:
        try:
            keys = self.client.subscription.list_secrets(self.ref.resource_group, self.ref.name, self.sid, cls=raw_json)
        except Exception as exc:  # noqa: BLE001
            raise map_azure_error(exc, permission=LIST_SECRETS) from None
        out = {}
        for which in ("primaryKey", "secondaryKey"):
            value = str(keys.get(which) or "")
            self.ctx.register_secret(value)
            out[which] = fingerprint(value) if value else ""
        return out

    def regenerate(self, which: str) -> None:
        call = self.client.subscription.regenerate_primary_key if which == "primaryKey" else self.client.subscription.regenerate_secondary_key
        try:
            call(self.ref.resource_group, self.ref.name, self.sid)
        except Exception as exc:  # noqa: BLE001
            raise map_azure_error(exc, permission=REGEN_PRIMARY if which == "primaryKey" else REGEN_SECONDARY) from None


def _state(sub: dict[str, Any]) -> dict[str, Any]:
    props = sub.get("properties") or {}
    return {"subscription": sub.get("name"), "displayName": props.get("displayName"), "scope": props.get("scope"),
            "ownerId": props.get("ownerId"), "state": props.get("state"), "stateComment": props.get("stateComment")}


def _radius(s: _Sub, now: dict[str, Any]) -> dict[str, list[str]]:
    return {"consumers": [f"APIM subscription {now['subscription']} ({now['displayName']}) on {now['scope']}"],
            "identities": [now["ownerId"]] if now.get("ownerId") else []}


def _each(applied_state: dict[str, Any], sids: list[str]) -> dict[str, dict[str, Any]]:
    """sid -> state from a before/after of one (a state) or several subscriptions (``{"subscriptions": [state, ...]}``)."""
    states = applied_state.get("subscriptions") if len(sids) > 1 else [applied_state]
    by = {str((st or {}).get("subscription") or "").lower(): st for st in states or []}
    return {sid: by.get(sid.lower(), {}) for sid in sids}


def _joined(states: list[dict[str, Any]]) -> dict[str, Any]:
    """The before/after of a step: one subscription's state, or ``{"subscriptions": [...]}`` for several."""
    return states[0] if len(states) == 1 else {"subscriptions": states}


@register
class SuspendSubscription(Runbook[SuspendParams]):
    name = "apim.suspend_subscription"
    summary = "Suspend API Management subscriptions (consumers of Azure OpenAI behind APIM, one or a few); undo resumes them."
    permissions = (READ, WRITE)
    target_type = APIM_TYPE
    Params = SuspendParams

    def plan(self, ctx: RunContext, target: str, params: SuspendParams) -> Plan:
        states, changes, notes, consumers, identities = [], [], [], [], []
        sids = params.required_sids()
        others: list[str] = []
        for sid in sids:
            s = _Sub(ctx, target, sid)
            now = _state(s.get()[0])
            states.append(now)
            field = "properties.state" if len(sids) == 1 else f"subscriptions/{sid}.properties.state"
            if now["state"] != "suspended":
                changes.append(Change(field=field, before=now["state"], after="suspended"))
            else:
                notes.append("already suspended" if len(sids) == 1 else f"{sid} already suspended")
            radius = _radius(s, now)
            consumers += radius["consumers"]
            identities += radius["identities"]
            others = others or s.others()
        keep = [o for o in others if o.split(" (", 1)[0].lower() not in {x.lower() for x in sids}]
        notes.append(f"other subscriptions keep working: {', '.join(keep) or 'none'}")
        return Plan(runbook=self.name, target=target, before=_joined(states), changes=changes, notes=notes,
                    blast_radius={"consumers": consumers, "identities": identities})

    def apply(self, ctx: RunContext, target: str, params: SuspendParams) -> Applied:
        befores, afters, done = [], [], []
        for sid in params.required_sids():
            s = _Sub(ctx, target, sid)
            key = f"{target}/subscriptions/{sid}"
            marker = recall(ctx, self.name, key)
            body, etag = s.get()
            now = _state(body)
            before = marker["before"] if marker else now
            if now["state"] != "suspended":
                remember(ctx, self.name, key, before)
                s.update(etag, {"state": "suspended", "stateComment": f"Suspended by Firestop, incident {ctx.incident_id} step {ctx.step_id}"})
                done.append(f"{sid} ({before['displayName']})")
            befores.append(before)
            afters.append(_state(s.get()[0]))
        names = ", ".join(params.sids())
        return Applied(runbook=self.name, target=target, changed=bool(done), before=_joined(befores), after=_joined(afters),
                       summary=(f"suspended APIM subscription {', '.join(done)}" if done
                                else f"APIM subscription {names} already suspended; nothing changed"))

    def verify(self, ctx: RunContext, target: str, params: SuspendParams, applied: Applied) -> Verification:
        checks = []
        for sid in params.required_sids():
            now = _state(_Sub(ctx, target, sid).get()[0])
            checks.append(Check(name=f"{sid} is suspended", ok=now["state"] == "suspended", detail=f"state = {now['state']}"))
        return Verification(runbook=self.name, target=target, checks=checks)

    def undo(self, ctx: RunContext, target: str, params: SuspendParams, applied: Applied) -> Applied:
        sids = params.required_sids()
        before_of = _each(applied.before, sids)
        nows, afters, changed = [], [], []
        for sid in sids:  # refuse before changing anything: one consumer changed since means review them all
            s = _Sub(ctx, target, sid)
            body, etag = s.get()
            now = _state(body)
            nows.append((s, now, etag))
            was = before_of[sid]
            if (now["state"], now["stateComment"]) != (was.get("state"), was.get("stateComment")) and now["state"] != "suspended":
                raise RunbookError("conflict", f"apim.suspend_subscription undo refused: {sid} is {now['state']} now; review it")
        for (s, now, etag), sid in zip(nows, sids):
            was = before_of[sid]
            if (now["state"], now["stateComment"]) == (was.get("state"), was.get("stateComment")):
                afters.append(now)
                continue
            s.update(etag, {"state": was.get("state"), "stateComment": was.get("stateComment")})
            after = _state(s.get()[0])
            afters.append(after)
            changed.append(f"{sid} {after['state']}")
        return Applied(runbook=self.name, target=target, changed=bool(changed), before=_joined([n for _, n, _ in nows]),
                       after=_joined(afters),
                       summary=(f"APIM subscription {', '.join(changed)} again" if changed else "already as before; nothing changed"))


class RegenerateParams(SubscriptionParams):
    """subscription: sid; key: ``primary``, ``secondary`` or ``both`` (default)."""

    key: Literal["primary", "secondary", "both"] = "both"

    def which(self) -> list[str]:
        return {"primary": ["primaryKey"], "secondary": ["secondaryKey"], "both": ["primaryKey", "secondaryKey"]}[self.key]


@register
class RegenerateSubscriptionKey(Runbook[RegenerateParams]):
    name = "apim.regenerate_subscription_key"
    summary = "Regenerate one APIM subscription's key(s): a leaked subscription key stops working (no undo)."
    permissions = (READ, LIST_SECRETS, REGEN_PRIMARY, REGEN_SECONDARY)
    target_type = APIM_TYPE
    Params = RegenerateParams
    reversible = False

    def plan(self, ctx: RunContext, target: str, params: RegenerateParams) -> Plan:
        s = _Sub(ctx, target, params.subscription)
        now = {**_state(s.get()[0]), **s.key_fingerprints()}
        return Plan(runbook=self.name, target=target, before=now,
                    changes=[Change(field=which, before=now[which], after="regenerated") for which in params.which()],
                    notes=["the consumer must read the new key (developer portal or its secret store)"],
                    blast_radius=_radius(s, now))

    def apply(self, ctx: RunContext, target: str, params: RegenerateParams) -> Applied:
        s = _Sub(ctx, target, params.subscription)
        key = f"{target}/subscriptions/{params.subscription}"
        marker = recall(ctx, self.name, key)
        now = {**_state(s.get()[0]), **s.key_fingerprints()}
        before = marker["before"] if marker else now
        todo = [w for w in params.which() if now[w] == before[w]]
        if todo:
            remember(ctx, self.name, key, before)
            for which in todo:
                s.regenerate(which)
        after = {**_state(s.get()[0]), **s.key_fingerprints()}
        return Applied(runbook=self.name, target=target, changed=bool(todo), before=before, after=after,
                       summary=(f"regenerated {', '.join(todo)} of APIM subscription {params.subscription}" if todo
                                else f"keys of {params.subscription} already regenerated by this step; nothing changed"),
                       artifacts={"keys": params.which()})

    def verify(self, ctx: RunContext, target: str, params: RegenerateParams, applied: Applied) -> Verification:
        now = _Sub(ctx, target, params.subscription).key_fingerprints()
        return Verification(runbook=self.name, target=target, checks=[
            Check(name=f"old {which} revoked", ok=bool(now[which]) and now[which] != applied.before.get(which),
                  detail=f"{applied.before.get(which)} → {now[which]}") for which in params.which()])

    def undo(self, ctx: RunContext, target: str, params: RegenerateParams, applied: Applied) -> Applied:
        raise RunbookError("invalid", "apim.regenerate_subscription_key cannot be undone: a subscription key cannot be set back, "
                                      "and the old one is compromised")
