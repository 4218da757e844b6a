"""Deployment runbooks: contain one Azure OpenAI deployment instead of the whole account.

Target: the Azure OpenAI account; ``deployment``: the deployment's name (playbooks
take it from the alert, e.g. ``${{ alert.custom_properties.firestop-deployment }}``).
REST API 2025-09-01 through azure-mgmt-cognitiveservices 14.1 (``deployments``
get/list/begin_create_or_update/begin_delete — PUT and DELETE are LROs —,
``rai_policies``, ``rai_blocklists``, ``rai_blocklist_items``); bodies are the ARM
JSON as Azure sent it (``cls=raw_json``), written back whole, so nothing the
runbook does not mean to change is lost.

- ``deployment.throttle`` — ``sku.capacity`` (units of 1,000 tokens per minute for
  Standard/GlobalStandard deployments) to ``capacity`` or ``percent`` of what it
  was; callers above the new rate get 429. Undo restores the capacity.
- ``deployment.content_filter`` — ``policy``: move the deployment to a stricter
  RAI policy (``raiPolicyName``) — refused (``invalid``) unless it is at least as
  strict as the current one in every content filter (threshold, enabled, blocking,
  from the policy or its ``basePolicyName``), in mode, and keeps every custom
  blocklist the current one blocks with (both read with ``raiPolicies`` GET); and/or ``items``: add blocklist items (patterns)
  to ``blocklist``, creating it and attaching it to the deployment's (custom)
  policy when needed. Undo restores ``raiPolicyName`` and removes exactly what it
  added (items, the attachment, a blocklist it created).
- ``deployment.suspend`` — snapshot the deployment (model, version, sku, RAI
  policy, version upgrade option: every writable field) and delete it; undo
  recreates it from the snapshot. Shipped playbooks ask for approval first.

Before-states survive retries and crashes: each apply keeps a marker with the
state it read before its first change (:mod:`runbooks.markers`) and a retry works
from it — a throttle by ``percent`` retried after its PUT cuts from the original
capacity, never from the cut one; a suspend retried after its DELETE still
reports (and undo recreates) the deployment as it was.
"""

from __future__ import annotations

import hashlib
import io
import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from firestop.azure.errors import RunbookError, map_azure_error
from runbooks.arm import READ_ACCOUNT, READ_OPERATION_RESULTS
from runbooks.base import Applied, Change, Check, Plan, RunContext, Runbook, Verification
from runbooks.common import list_raw, raw_json
from runbooks.markers import recall, remember
from runbooks.registry import register
from runbooks.targets import ACCOUNT_TYPE, AccountRef, account_ref

CS = "Microsoft.CognitiveServices/accounts"
READ_DEPLOYMENTS = f"{CS}/deployments/read"
WRITE_DEPLOYMENTS = f"{CS}/deployments/write"
DELETE_DEPLOYMENTS = f"{CS}/deployments/delete"
READ_RAI_POLICIES = f"{CS}/raiPolicies/read"
WRITE_RAI_POLICIES = f"{CS}/raiPolicies/write"
READ_BLOCKLISTS = f"{CS}/raiBlocklists/read"
WRITE_BLOCKLISTS = f"{CS}/raiBlocklists/write"
DELETE_BLOCKLISTS = f"{CS}/raiBlocklists/delete"
READ_ITEMS = f"{CS}/raiBlocklists/raiBlocklistItems/read"
WRITE_ITEMS = f"{CS}/raiBlocklists/raiBlocklistItems/write"
DELETE_ITEMS = f"{CS}/raiBlocklists/raiBlocklistItems/delete"
READ_ROLE_ASSIGNMENTS = "Microsoft.Authorization/roleAssignments/read"
API_VERSION = "2025-09-01"
#: Deployment properties Azure sets itself (never sent back on PUT).
READ_ONLY_PROPS = ("provisioningState", "capabilities", "rateLimits", "callRateLimit", "dynamicThrottlingEnabled")
SYSTEM_POLICIES = ("microsoft.default", "microsoft.defaultv2")
_NAME_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")


def _check_name(value: str, what: str) -> str:
    """``value`` stripped, when it can be one path segment of an ARM URL naming a child of the account; ValueError
    otherwise. ``.`` and ``..`` are refused: the SDK sends them as a segment and the transport (urllib3) resolves it —
    ``…/accounts/a/deployments/..`` is the account itself (RT8-08; the name may come from an alert's logs)."""
    value = str(value).strip()
    if not value or len(value) > 64 or not set(value) <= _NAME_CHARS or set(value) == {"."}:
        raise ValueError(f"{value!r} is not a {what} name (1-64 letters, digits, '-', '_', '.'; not only dots)")
    return value


class _DeploymentParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    deployment: str

    @field_validator("deployment")
    @classmethod
    def _name(cls, value: str) -> str:
        return _check_name(value, "deployment")


class _Deployment:
    """One deployment of one account through the SDK (raw ARM JSON in, raw ARM JSON out)."""

    def __init__(self, ctx: RunContext, target: str, name: str) -> None:
        self.ctx = ctx
        self.ref: AccountRef = account_ref(target)
        self.name = name
        self.client = ctx.clients.cognitive_services(self.ref.subscription_id)

    @property
    def id(self) -> str:
        return f"{self.ref.resource_id}/deployments/{self.name}"

    def get(self) -> dict[str, Any] | None:
        """The deployment's ARM JSON, or None when it does not exist (404)."""
        from azure.core.exceptions import ResourceNotFoundError

        try:
            return self.client.deployments.get(self.ref.resource_group, self.ref.name, self.name, cls=raw_json)
        except ResourceNotFoundError:
            return None
        except Exception as exc:  # noqa: BLE001
            raise map_azure_error(exc, permission=READ_DEPLOYMENTS) from None

    def missing(self) -> RunbookError:
        return RunbookError("not_found", f"deployment {self.name!r} does not exist on {self.ref.name}; "
                                         "give the deployment parameter the name of one of its deployments")

    def need(self) -> dict[str, Any]:
        dep = self.get()
        if dep is None:
            raise self.missing()
        return dep

    def put(self, body: dict[str, Any]) -> None:
        stream = io.BytesIO(json.dumps(body).encode("utf-8"))
        try:
            self.client.deployments.begin_create_or_update(
                self.ref.resource_group, self.ref.name, self.name, stream, content_type="application/json"
            ).result()
        except Exception as exc:  # noqa: BLE001
            raise map_azure_error(exc, permission=WRITE_DEPLOYMENTS) from None

    def delete(self) -> None:
        try:
            self.client.deployments.begin_delete(self.ref.resource_group, self.ref.name, self.name).result()
        except Exception as exc:  # noqa: BLE001
            raise map_azure_error(exc, permission=DELETE_DEPLOYMENTS) from None

    def siblings(self) -> list[str]:
        """Names of the account's other deployments (they keep working)."""
        items = list_raw(self.client, f"{self.ref.resource_id}/deployments", API_VERSION, READ_DEPLOYMENTS)
        return sorted(d["name"] for d in items if d.get("name", "").lower() != self.name.lower())

    def callers(self) -> list[str]:
        """Principals holding a role at or above the account (Entra callers of every deployment on it)."""
        items = list_raw(self.ctx.clients.authorization(self.ref.subscription_id),
                         f"{self.ref.resource_id}/providers/Microsoft.Authorization/roleAssignments", "2022-04-01",
                         READ_ROLE_ASSIGNMENTS, {"$filter": "atScope()"})
        return sorted({f"{a['properties'].get('principalType', 'principal')} {a['properties']['principalId']}" for a in items})


def writable(dep: dict[str, Any]) -> dict[str, Any]:
    """The PUT body that recreates ``dep`` exactly: sku, tags and every writable property."""
    body: dict[str, Any] = {"sku": dict(dep.get("sku") or {}),
                            "properties": {k: v for k, v in (dep.get("properties") or {}).items() if k not in READ_ONLY_PROPS}}
    if dep.get("tags"):
        body["tags"] = dict(dep["tags"])
    return body


def snapshot(dep: dict[str, Any] | None) -> dict[str, Any]:
    """The state a deployment runbook records: ``{"exists", "name", "id", "body"}`` (``body``: :func:`writable`)."""
    if dep is None:
        return {"exists": False}
    return {"exists": True, "name": dep.get("name"), "id": dep.get("id"), "body": writable(dep)}


def _capacity(state: dict[str, Any]) -> int | None:
    return ((state.get("body") or {}).get("sku") or {}).get("capacity")


def _policy_of(state: dict[str, Any]) -> str | None:
    return ((state.get("body") or {}).get("properties") or {}).get("raiPolicyName")


def _radius(d: _Deployment, what: str) -> dict[str, list[str]]:
    return {"deployments": [f"{d.name} ({what})"], "consumers": [f"every caller of deployment {d.name}"],
            "identities": d.callers()}


# deployment.throttle ----------------------------------------------------------------------------------------------
class ThrottleParams(_DeploymentParams):
    """deployment: name; capacity: new ``sku.capacity`` (>= 1), or percent: 1-99 % of the capacity before
    (rounded down, at least 1). Exactly one of capacity and percent."""

    capacity: int | None = Field(default=None, ge=1, le=100_000)
    percent: float | None = Field(default=None, gt=0, lt=100)

    @model_validator(mode="after")
    def _one(self) -> "ThrottleParams":
        if (self.capacity is None) == (self.percent is None):
            raise ValueError("give exactly one of capacity (e.g. 10) and percent (e.g. 10 for 10 % of today's capacity)")
        return self

    def wanted(self, before: int) -> int:
        if self.capacity is not None:
            return self.capacity
        return max(1, int(before * self.percent / 100))


@register
class ThrottleDeployment(Runbook[ThrottleParams]):
    name = "deployment.throttle"
    summary = "Cut one deployment's capacity (sku.capacity, thousands of tokens per minute) to a value or a percentage."
    permissions = (READ_ACCOUNT, READ_DEPLOYMENTS, WRITE_DEPLOYMENTS, READ_OPERATION_RESULTS, READ_ROLE_ASSIGNMENTS)
    target_type = ACCOUNT_TYPE
    Params = ThrottleParams

    def _before(self, ctx: RunContext, target: str, d: _Deployment) -> tuple[dict[str, Any], dict[str, Any], bool]:
        marker = recall(ctx, self.name, d.id)
        now = snapshot(d.need())
        return (marker["before"] if marker else now), now, marker is not None

    def plan(self, ctx: RunContext, target: str, params: ThrottleParams) -> Plan:
        d = _Deployment(ctx, target, params.deployment)
        before, now, _ = self._before(ctx, target, d)
        wanted = params.wanted(_capacity(before) or 1)
        changes = [] if _capacity(now) == wanted else [Change(field=f"deployments/{d.name}.sku.capacity", before=_capacity(now), after=wanted)]
        return Plan(runbook=self.name, target=target, before=now, changes=changes,
                    notes=[f"callers of {d.name} above {wanted}k tokens/min get 429; other deployments keep their capacity"]
                    + ([] if changes else ["already at that capacity"]),
                    blast_radius=_radius(d, f"capacity {_capacity(now)} → {wanted}"))

    def apply(self, ctx: RunContext, target: str, params: ThrottleParams) -> Applied:
        d = _Deployment(ctx, target, params.deployment)
        before, now, _ = self._before(ctx, target, d)
        wanted = params.wanted(_capacity(before) or 1)
        changed = False
        if _capacity(now) != wanted:
            remember(ctx, self.name, d.id, before, {"capacity": wanted})
            body = writable(d.need())
            body["sku"]["capacity"] = wanted
            d.put(body)
            changed = True
        after = snapshot(d.get())
        return Applied(runbook=self.name, target=target, changed=changed, before=before, after=after,
                       summary=(f"throttled deployment {d.name}: capacity {_capacity(before)} → {wanted}" if changed
                                else f"deployment {d.name} already at capacity {wanted}; nothing changed"),
                       artifacts={"deployment": d.name, "capacity": wanted})

    def verify(self, ctx: RunContext, target: str, params: ThrottleParams, applied: Applied) -> Verification:
        d = _Deployment(ctx, target, params.deployment)
        dep = d.get()
        now = _capacity(snapshot(dep))
        wanted = applied.artifacts.get("capacity")
        state = ((dep or {}).get("properties") or {}).get("provisioningState")
        return Verification(runbook=self.name, target=target, checks=[
            Check(name=f"{d.name} capacity is {wanted}", ok=dep is not None and now == wanted, detail=f"sku.capacity = {now}"),
            Check(name=f"{d.name} provisioned", ok=state == "Succeeded", detail=f"provisioningState = {state}"),
        ])

    def undo(self, ctx: RunContext, target: str, params: ThrottleParams, applied: Applied) -> Applied:
        d = _Deployment(ctx, target, params.deployment)
        now = snapshot(d.need())
        if _capacity(now) == _capacity(applied.before):
            return Applied(runbook=self.name, target=target, changed=False, before=now, after=now, summary="capacity already as before; nothing changed")
        if _capacity(now) != _capacity(applied.after):
            raise RunbookError("conflict", f"deployment.throttle undo refused: {d.name}'s capacity changed after the step "
                                           f"({_capacity(applied.after)} → {_capacity(now)}); review it and restore by hand")
        body = writable(d.need())
        body["sku"]["capacity"] = _capacity(applied.before)
        d.put(body)
        after = snapshot(d.get())
        return Applied(runbook=self.name, target=target, changed=True, before=now, after=after,
                       summary=f"restored deployment {d.name}'s capacity to {_capacity(applied.before)}")


# deployment.content_filter ----------------------------------------------------------------------------------------
class ContentFilterParams(_DeploymentParams):
    """deployment: name; policy: RAI policy (content filter) to move the deployment to, e.g. a custom
    policy with Low thresholds; items: patterns to block (at most 50, each 1-1000 characters) in blocklist
    (default ``firestop-blocklist``), regular expressions when is_regex. At least one of policy and items."""

    policy: str | None = None
    items: list[str] = Field(default_factory=list, max_length=50)
    blocklist: str = "firestop-blocklist"
    is_regex: bool = False

    @field_validator("policy", "blocklist")
    @classmethod
    def _names(cls, value: str | None) -> str | None:
        return None if value is None else _check_name(value, "RAI policy or blocklist")

    @field_validator("items")
    @classmethod
    def _items(cls, value: list[str]) -> list[str]:
        out = []
        for item in value:
            if not isinstance(item, str) or not item.strip() or len(item) > 1000:
                raise ValueError("each item is a pattern of 1 to 1000 characters")
            if item not in out:
                out.append(item)
        return out

    @model_validator(mode="after")
    def _something(self) -> "ContentFilterParams":
        if not self.policy and not self.items:
            raise ValueError("give policy (a stricter RAI policy) and/or items (patterns to block)")
        return self


def item_name(pattern: str) -> str:
    """Deterministic blocklist item name for ``pattern``: ``firestop-`` + 16 hex of its SHA-256."""
    return "firestop-" + hashlib.sha256(pattern.encode("utf-8")).hexdigest()[:16]


class _Rai:
    def __init__(self, d: _Deployment) -> None:
        self.d = d
        self.ops = d.client
        self.rg, self.account = d.ref.resource_group, d.ref.name

    def _call(self, permission: str, fn, *args, missing_ok: bool = False, lro: bool = False, **kw):
        from azure.core.exceptions import ResourceNotFoundError

        try:
            if lro:
                return fn(self.rg, self.account, *args, **kw).result()
            return fn(self.rg, self.account, *args, cls=raw_json, **kw)
        except ResourceNotFoundError:
            if missing_ok:
                return None
            raise map_azure_error(ResourceNotFoundError("not found"), permission=permission) from None
        except Exception as exc:  # noqa: BLE001
            raise map_azure_error(exc, permission=permission) from None

    def policy(self, name: str) -> dict[str, Any] | None:
        return self._call(READ_RAI_POLICIES, self.ops.rai_policies.get, name, missing_ok=True)

    def put_policy(self, name: str, policy: dict[str, Any]) -> None:
        body = {"properties": {k: v for k, v in (policy.get("properties") or {}).items() if k != "type"}}
        if policy.get("tags"):
            body["tags"] = policy["tags"]
        self._call(WRITE_RAI_POLICIES, self.ops.rai_policies.create_or_update, name, io.BytesIO(json.dumps(body).encode()),
                   content_type="application/json")

    def blocklist(self, name: str) -> dict[str, Any] | None:
        return self._call(READ_BLOCKLISTS, self.ops.rai_blocklists.get, name, missing_ok=True)

    def put_blocklist(self, name: str, description: str) -> None:
        body = io.BytesIO(json.dumps({"properties": {"description": description}}).encode())
        self._call(WRITE_BLOCKLISTS, self.ops.rai_blocklists.create_or_update, name, body, content_type="application/json")

    def delete_blocklist(self, name: str) -> None:
        self._call(DELETE_BLOCKLISTS, self.ops.rai_blocklists.begin_delete, name, lro=True)

    def items(self, blocklist: str) -> dict[str, dict[str, Any]]:
        items = list_raw(self.ops, f"{self.d.ref.resource_id}/raiBlocklists/{blocklist}/raiBlocklistItems", API_VERSION, READ_ITEMS)
        return {i["name"]: i for i in items}

    def put_item(self, blocklist: str, name: str, pattern: str, is_regex: bool) -> None:
        body = io.BytesIO(json.dumps({"properties": {"pattern": pattern, "isRegex": is_regex}}).encode())
        self._call(WRITE_ITEMS, self.ops.rai_blocklist_items.create_or_update, blocklist, name, body, content_type="application/json")

    def delete_item(self, blocklist: str, name: str) -> None:
        self._call(DELETE_ITEMS, self.ops.rai_blocklist_items.begin_delete, blocklist, name, lro=True)


# How strict a content filter is. severityThreshold is the lowest severity the filter acts on, so Low filters the
# most (low, medium and high) and High the least (Azure OpenAI content filtering: "Configurability" —
# https://learn.microsoft.com/azure/ai-foundry/openai/concepts/content-filter-configurability). A disabled filter
# filters nothing; a filter with blocking false only annotates. Policy mode (RaiPolicyMode, REST 2025-09-01):
# Default/Blocking act before the answer; Deferred/Asynchronous_filter stream first and filter after.
_THRESHOLD_RANK = {"low": 3, "medium": 2, "high": 1}
_MODE_RANK = {"default": 2, "blocking": 2, "deferred": 1, "asynchronous_filter": 1}


def _effective_filters(policy: dict[str, Any], base: dict[str, Any] | None) -> dict[tuple[str, str], dict[str, Any]]:
    """``{(category, source): filter}`` (lower-cased keys) a policy applies: its own ``contentFilters`` over those of
    its ``basePolicyName`` (``base``, the policy it derives from; a category it does not list stays as the base's)."""
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for body in (base, policy):
        for f in ((body or {}).get("properties") or {}).get("contentFilters") or []:
            out[(str(f.get("name", "")).lower(), str(f.get("source", "")).lower())] = f
    return out


def _filter_rank(f: dict[str, Any] | None) -> tuple[int, int, int]:
    """(enabled, blocking, threshold rank) of one content filter; (0, 0, 0) when absent or disabled."""
    if not f or f.get("enabled") is False:
        return (0, 0, 0)
    threshold = f.get("severityThreshold")
    return (1, 0 if f.get("blocking") is False else 1, _THRESHOLD_RANK.get(str(threshold).lower(), 0) if threshold else 3)


def weaker_than(current: dict[str, Any], current_base: dict[str, Any] | None,
                target: dict[str, Any], target_base: dict[str, Any] | None) -> list[str]:
    """How RAI policy ``target`` filters less than ``current`` (raiPolicies GET bodies, each with the body of its
    ``basePolicyName`` or None): one line per content filter whose threshold is higher, that is disabled or only
    annotates, or that is missing; a weaker policy mode; a custom blocklist of ``current`` that ``target`` drops or
    stops blocking with. ``[]`` when ``target`` is at least as strict everywhere."""
    problems = []
    lists = {(str(b.get("blocklistName", "")).lower(), str(b.get("source", "")).lower()): b
             for b in (target.get("properties") or {}).get("customBlocklists") or []}
    for b in (current.get("properties") or {}).get("customBlocklists") or []:
        t = lists.get((str(b.get("blocklistName", "")).lower(), str(b.get("source", "")).lower()))
        if t is None or (b.get("blocking") is not False and t.get("blocking") is False):
            problems.append(f"blocklist {b.get('blocklistName')} ({b.get('source')}): "
                            + ("dropped" if t is None else "no longer blocks"))
    mode_now = str(((current.get("properties") or {}).get("mode")) or "Default")
    mode_then = str(((target.get("properties") or {}).get("mode")) or "Default")
    if _MODE_RANK.get(mode_then.lower(), 0) < _MODE_RANK.get(mode_now.lower(), 0):
        problems.append(f"mode {mode_then} instead of {mode_now}")
    mine, theirs = _effective_filters(current, current_base), _effective_filters(target, target_base)
    for key, f in sorted(mine.items()):
        have, want = _filter_rank(f), _filter_rank(theirs.get(key))
        if any(w < h for h, w in zip(have, want)):
            t = theirs.get(key)
            problems.append(f"{f.get('name')} ({f.get('source')}): "
                            + ("not filtered" if t is None or want[0] == 0 else
                               "annotates only, does not block" if want[1] < have[1] else
                               f"threshold {t.get('severityThreshold')} instead of {f.get('severityThreshold')}"))
    return problems


def _attached(policy: dict[str, Any] | None, blocklist: str) -> bool:
    return any(str(b.get("blocklistName", "")).lower() == blocklist.lower()
               for b in ((policy or {}).get("properties") or {}).get("customBlocklists") or [])


@register
class ContentFilterDeployment(Runbook[ContentFilterParams]):
    name = "deployment.content_filter"
    summary = "Move one deployment to a stricter RAI policy and/or block patterns with blocklist items on its policy."
    permissions = (READ_ACCOUNT, READ_DEPLOYMENTS, WRITE_DEPLOYMENTS, READ_OPERATION_RESULTS, READ_ROLE_ASSIGNMENTS,
                   READ_RAI_POLICIES, WRITE_RAI_POLICIES, READ_BLOCKLISTS, WRITE_BLOCKLISTS, DELETE_BLOCKLISTS,
                   READ_ITEMS, WRITE_ITEMS, DELETE_ITEMS)
    target_type = ACCOUNT_TYPE
    Params = ContentFilterParams

    def _read(self, ctx: RunContext, params: ContentFilterParams, d: _Deployment) -> dict[str, Any]:
        """What the step may change, now: the deployment, the policy it will use, the blocklist, its items."""
        rai = _Rai(d)
        dep = snapshot(d.need())
        policy_name = params.policy or _policy_of(dep)
        target_policy = rai.policy(params.policy) if params.policy else None
        if params.policy and target_policy is None:
            raise RunbookError("invalid", f"params.policy: RAI policy {params.policy!r} does not exist on {d.ref.name}; "
                                          "create it first (Azure AI Foundry > Safety + security > Content filters) or name an existing one")
        current_name = _policy_of(dep)
        if params.policy and str(current_name).lower() != params.policy.lower():
            self._refuse_weaker(rai, d, current_name, params.policy, target_policy)
        state: dict[str, Any] = {"deployment": dep, "policy_name": policy_name}
        if params.items:
            if str(policy_name).lower() in SYSTEM_POLICIES:
                raise RunbookError("invalid", f"params.items: {d.name} uses the system policy {policy_name}, which takes no blocklist; "
                                              "give policy: <a custom RAI policy> as well")
            state["policy"] = rai.policy(policy_name)
            blocklist = rai.blocklist(params.blocklist)
            state["blocklist_exists"] = blocklist is not None
            state["items"] = sorted(rai.items(params.blocklist)) if blocklist is not None else []
        return state

    @staticmethod
    def _refuse_weaker(rai: "_Rai", d: _Deployment, current_name: str | None, target_name: str, target: dict[str, Any]) -> None:
        """RunbookError invalid unless ``target`` filters at least as strictly as the deployment's policy now
        (:func:`weaker_than`, both read from the tenant): containment never loosens a filter."""
        current = rai.policy(current_name) if current_name else None
        if current is None:
            raise RunbookError("invalid", f"params.policy: cannot read {d.name}'s RAI policy {current_name!r} to check that "
                                          f"{target_name} is at least as strict; fix the deployment's policy or move it by hand")

        def base(policy: dict[str, Any]) -> dict[str, Any] | None:
            name = (policy.get("properties") or {}).get("basePolicyName")
            return rai.policy(name) if name else None

        problems = weaker_than(current, base(current), target, base(target))
        if problems:
            raise RunbookError("invalid", f"params.policy: {target_name} is weaker than {d.name}'s RAI policy {current_name} ("
                                          + "; ".join(problems[:8]) + ("; …" if len(problems) > 8 else "")
                                          + "); name a policy at least as strict in every category, or use items to block patterns")

    def plan(self, ctx: RunContext, target: str, params: ContentFilterParams) -> Plan:
        d = _Deployment(ctx, target, params.deployment)
        now = self._read(ctx, params, d)
        changes = []
        if params.policy and str(_policy_of(now["deployment"])).lower() != params.policy.lower():
            changes.append(Change(field=f"deployments/{d.name}.properties.raiPolicyName", before=_policy_of(now["deployment"]), after=params.policy))
        if params.items:
            if not now["blocklist_exists"]:
                changes.append(Change(field=f"raiBlocklists/{params.blocklist}", before=None, after="created"))
            if not _attached(now.get("policy"), params.blocklist):
                changes.append(Change(field=f"raiPolicies/{now['policy_name']}.customBlocklists", before=None, after=params.blocklist))
            for pattern in params.items:
                if item_name(pattern) not in now["items"]:
                    changes.append(Change(field=f"raiBlocklists/{params.blocklist}/raiBlocklistItems/{item_name(pattern)}", before=None,
                                          after={"pattern": pattern, "isRegex": params.is_regex}))
        return Plan(runbook=self.name, target=target, before=now, changes=changes,
                    notes=[f"requests to {d.name} that the stricter filter flags get 400 content_filter; other deployments unchanged"]
                    + ([] if changes else ["already filtered as asked"]),
                    blast_radius=_radius(d, "stricter content filter"))

    def apply(self, ctx: RunContext, target: str, params: ContentFilterParams) -> Applied:
        d = _Deployment(ctx, target, params.deployment)
        rai = _Rai(d)
        now = self._read(ctx, params, d)
        marker = recall(ctx, self.name, d.id)
        before = marker["before"] if marker else now
        changed = False

        def mark() -> None:
            nonlocal changed
            if not changed:
                remember(ctx, self.name, d.id, before)
                changed = True

        if params.items:
            if not now["blocklist_exists"]:
                mark()
                rai.put_blocklist(params.blocklist, f"Firestop incident {ctx.incident_id} step {ctx.step_id}")
            present = rai.items(params.blocklist)
            for pattern in params.items:
                if item_name(pattern) not in present:
                    mark()
                    rai.put_item(params.blocklist, item_name(pattern), pattern, params.is_regex)
            policy = rai.policy(now["policy_name"])
            if not _attached(policy, params.blocklist):
                mark()
                policy = dict(policy or {})
                props = dict(policy.get("properties") or {})
                props["customBlocklists"] = [*(props.get("customBlocklists") or []),
                                             {"blocklistName": params.blocklist, "blocking": True, "source": "Prompt"}]
                rai.put_policy(now["policy_name"], {**policy, "properties": props})
        if params.policy and str(_policy_of(now["deployment"])).lower() != params.policy.lower():
            mark()
            body = writable(d.need())
            body["properties"]["raiPolicyName"] = params.policy
            d.put(body)
        after = self._read(ctx, params, d)
        added = [item_name(p) for p in params.items if item_name(p) not in (before.get("items") or [])]
        return Applied(
            runbook=self.name, target=target, changed=changed, before=before, after=after,
            summary=(f"deployment {d.name}: " + "; ".join(
                ([f"RAI policy {_policy_of(before['deployment'])} → {params.policy}"] if params.policy else [])
                + ([f"{len(params.items)} pattern(s) blocked in {params.blocklist}"] if params.items else []))
                if changed else f"deployment {d.name} already filtered as asked; nothing changed"),
            artifacts={"deployment": d.name, "policy": params.policy, "blocklist": params.blocklist if params.items else None,
                       "items_added": added,
                       "blocklist_created": bool(params.items) and not before.get("blocklist_exists", True),
                       "blocklist_attached": bool(params.items) and not _attached(before.get("policy"), params.blocklist)},
        )

    def verify(self, ctx: RunContext, target: str, params: ContentFilterParams, applied: Applied) -> Verification:
        d = _Deployment(ctx, target, params.deployment)
        now = self._read(ctx, params, d)
        checks = []
        if params.policy:
            checks.append(Check(name=f"{d.name} uses RAI policy {params.policy}",
                                ok=str(_policy_of(now["deployment"])).lower() == params.policy.lower(),
                                detail=f"raiPolicyName = {_policy_of(now['deployment'])}"))
        if params.items:
            missing = [item_name(p) for p in params.items if item_name(p) not in now["items"]]
            checks.append(Check(name=f"every pattern is in blocklist {params.blocklist}", ok=not missing,
                                detail=f"missing {', '.join(missing)}" if missing else f"{len(params.items)} item(s)"))
            checks.append(Check(name=f"policy {now['policy_name']} blocks with {params.blocklist}",
                                ok=_attached(now.get("policy"), params.blocklist), detail=str(now["policy_name"])))
        return Verification(runbook=self.name, target=target, checks=checks)

    def undo(self, ctx: RunContext, target: str, params: ContentFilterParams, applied: Applied) -> Applied:
        d = _Deployment(ctx, target, params.deployment)
        rai = _Rai(d)
        art = applied.artifacts
        dep = d.need()
        changed = False
        before_policy = _policy_of(applied.before.get("deployment") or {})
        if params.policy and str(dep["properties"].get("raiPolicyName")).lower() != str(before_policy).lower():
            if str(dep["properties"].get("raiPolicyName")).lower() != params.policy.lower():
                raise RunbookError("conflict", f"deployment.content_filter undo refused: {d.name}'s RAI policy changed after the step "
                                               f"(now {dep['properties'].get('raiPolicyName')}); review it and restore by hand")
            body = writable(dep)
            body["properties"]["raiPolicyName"] = before_policy
            d.put(body)
            changed = True
        blocklist = art.get("blocklist")
        if blocklist:
            present = rai.items(blocklist) if rai.blocklist(blocklist) is not None else {}
            for name in art.get("items_added") or []:
                if name in present:
                    rai.delete_item(blocklist, name)
                    changed = True
            policy_name = applied.before.get("policy_name")
            if art.get("blocklist_attached"):
                policy = rai.policy(policy_name)
                if _attached(policy, blocklist):
                    props = dict(policy["properties"])
                    props["customBlocklists"] = [b for b in props.get("customBlocklists") or []
                                                 if str(b.get("blocklistName", "")).lower() != blocklist.lower()]
                    rai.put_policy(policy_name, {**policy, "properties": props})
                    changed = True
            if art.get("blocklist_created") and rai.blocklist(blocklist) is not None:
                rai.delete_blocklist(blocklist)
                changed = True
        after = self._read_loose(ctx, params, d)
        return Applied(runbook=self.name, target=target, changed=changed, before=applied.after, after=after,
                       summary="restored the deployment's content filtering as before the step" if changed
                       else "content filtering already as before; nothing changed")

    def _read_loose(self, ctx: RunContext, params: ContentFilterParams, d: _Deployment) -> dict[str, Any]:
        return {"deployment": snapshot(d.get())}


# deployment.suspend -----------------------------------------------------------------------------------------------
class SuspendParams(_DeploymentParams):
    """deployment: name of the deployment to snapshot and delete (undo recreates it from the snapshot)."""


@register
class SuspendDeployment(Runbook[SuspendParams]):
    name = "deployment.suspend"
    summary = "Snapshot one deployment (model, version, sku, RAI policy, upgrade option) and delete it; undo recreates it."
    permissions = (READ_ACCOUNT, READ_DEPLOYMENTS, WRITE_DEPLOYMENTS, DELETE_DEPLOYMENTS, READ_OPERATION_RESULTS, READ_ROLE_ASSIGNMENTS)
    target_type = ACCOUNT_TYPE
    Params = SuspendParams

    def plan(self, ctx: RunContext, target: str, params: SuspendParams) -> Plan:
        d = _Deployment(ctx, target, params.deployment)
        marker = recall(ctx, self.name, d.id)
        now = snapshot(d.get())
        if not now["exists"] and marker is None:
            raise d.missing()
        changes = [Change(field=f"deployments/{d.name}", before=now["body"], after=None)] if now["exists"] else []
        return Plan(runbook=self.name, target=target, before=now, changes=changes,
                    notes=[f"every call to {d.name} fails (404 DeploymentNotFound) until undo recreates it; "
                           f"other deployments keep working: {', '.join(d.siblings()) or 'none'}"]
                    + ([] if changes else ["already suspended by this step"]),
                    blast_radius=_radius(d, "deleted until undo"))

    def apply(self, ctx: RunContext, target: str, params: SuspendParams) -> Applied:
        d = _Deployment(ctx, target, params.deployment)
        marker = recall(ctx, self.name, d.id)
        dep = d.get()
        if dep is None and marker is None:
            raise d.missing()
        before = marker["before"] if marker else snapshot(dep)
        changed = False
        if dep is not None:
            remember(ctx, self.name, d.id, before)
            d.delete()
            changed = True
        after = snapshot(d.get())
        return Applied(runbook=self.name, target=target, changed=changed, before=before, after=after,
                       summary=(f"suspended deployment {d.name} (model {((before.get('body') or {}).get('properties') or {}).get('model', {}).get('name')}, "
                                f"capacity {_capacity(before)}); undo recreates it" if changed
                                else f"deployment {d.name} already suspended by this step; nothing changed"),
                       artifacts={"deployment": d.name, "snapshot": before.get("body")})

    def verify(self, ctx: RunContext, target: str, params: SuspendParams, applied: Applied) -> Verification:
        d = _Deployment(ctx, target, params.deployment)
        dep = d.get()
        return Verification(runbook=self.name, target=target, checks=[
            Check(name=f"{d.name} is gone", ok=dep is None,
                  detail="404" if dep is None else f"still there ({(dep.get('properties') or {}).get('provisioningState')})"),
            Check(name="snapshot kept for undo", ok=bool(applied.before.get("exists") and applied.before.get("body")),
                  detail=f"model {((applied.before.get('body') or {}).get('properties') or {}).get('model')}"),
        ])

    def undo(self, ctx: RunContext, target: str, params: SuspendParams, applied: Applied) -> Applied:
        d = _Deployment(ctx, target, params.deployment)
        dep = d.get()
        wanted = applied.before.get("body")
        if not wanted:
            raise RunbookError("invalid", "deployment.suspend undo: the step's before-state has no snapshot to recreate")
        if dep is not None:
            if writable(dep) == wanted:
                return Applied(runbook=self.name, target=target, changed=False, before=snapshot(dep), after=snapshot(dep),
                               summary=f"deployment {d.name} already as before; nothing changed")
            raise RunbookError("conflict", f"deployment.suspend undo refused: a deployment named {d.name} exists again and differs "
                                           "from the snapshot; review it and restore by hand")
        d.put(wanted)
        after = snapshot(d.get())
        return Applied(runbook=self.name, target=target, changed=True, before={"exists": False}, after=after,
                       summary=f"recreated deployment {d.name} from its snapshot")
