"""Attack simulation: what the attacker (and the tenant) do over time, turned into sandbox activity.

A scenario's ``attack:`` section (also the file ``firestop sandbox simulate FILE`` reads)::

    attack:
      - at: 0                         # seconds after T0
        kind: requests                # Azure OpenAI data-plane calls, answered by the sandbox
        account: contoso-openai-prod
        from_ip: 203.0.113.77
        key: key1                     # key1 | key2: that key's value when the step starts (a leaked copy);
                                      # wrong: a key the account never had; or principal: <object id> (Entra)
        per_minute: 40                # 1..600
        duration: 600                 # seconds (<= 6 h)
        content_filtered: 0.0         # fraction of prompts the content filter rejects (harmful content), 0..1
        deployment: gpt-4o
        malicious: true               # counted as the attacker's (false: legitimate traffic)
        apim: apim-contoso-ai         # optional, with apim_subscription instead of key/principal: the calls go through
        apim_subscription: partner-acme   # this API Management consumer (sandbox monitor/traffic.py: gateway 401 once
                                      # the subscription is not active; GatewayLogs rows)
        user_agent: sqlmap/1.7.2      # the caller's User-Agent header (default: the OpenAI Python SDK's)
        application: contoso-support-bot   # user_security_context.application_name the app passes
        end_user: 6a5b4c3d-…          # user_security_context.end_user_id (the app's signed-in user)
        prompt_kind: jailbreak        # benign | jailbreak (Prompt Shields: 400 content_filter when the deployment's
                                      # RAI policy blocks jailbreaks, else 200 annotated) | credential_theft (the
                                      # answer carries credentials) | sensitive_data (the answer carries e.g. a card number)
        tokens_per_request: 300       # prompt + completion tokens of one served call (denial-of-wallet), 1..128000
      - {at: 30, kind: list_keys, account: contoso-openai-prod, principal: e7d9a3c1-…}
      - {at: 60, kind: regenerate_key, account: …, principal: …, key_name: Key2}
      - {at: 90, kind: update_account, account: contoso-openai-dev, principal: bob@contoso.com,
         properties: {publicNetworkAccess: Enabled, networkAcls: {defaultAction: Allow, ipRules: []}}}

Data-plane calls happen at their exact simulated times (a clock listener answers every call that
fell due whenever the virtual clock moves, also in the middle of a runbook), so a call made after
the key was rotated gets 401 and one after the network was locked gets 403. ARM actions go through
the real SDK clients with the attacker's own sandbox credential (Activity Log caller = that principal).
Bounds: at most :data:`MAX_CALLS` data-plane calls per scenario, 50 steps.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Callable, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, model_validator

MAX_CALLS = 20_000
MAX_DURATION_S = 6 * 3600.0


class AttackStep(BaseModel):
    """One thing the attacker (or the tenant) does, ``at`` seconds after T0."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    at: float = Field(default=0.0, ge=0, le=30 * 24 * 3600)
    kind: Literal["requests", "list_keys", "regenerate_key", "update_account"]
    account: str = Field(min_length=1, max_length=64)
    from_ip: str = Field(default="203.0.113.77", max_length=45)
    principal: Optional[str] = Field(default=None, max_length=128)
    key: Optional[Literal["key1", "key2", "wrong"]] = None
    per_minute: float = Field(default=40.0, gt=0, le=600)
    duration: float = Field(default=600.0, gt=0, le=MAX_DURATION_S)
    content_filtered: float = Field(default=0.0, ge=0, le=1)
    deployment: str = Field(default="gpt-4o", max_length=64)
    operation: str = Field(default="ChatCompletions_Create", max_length=64)
    key_name: Literal["Key1", "Key2"] = "Key1"
    properties: dict[str, Any] = Field(default_factory=dict)
    malicious: bool = True
    label: Optional[str] = Field(default=None, max_length=80)
    #: calls through API Management: the service's name and the consumer subscription (sid) whose key the caller
    #: sends; the gateway refuses it (401) once the subscription is not active, else forwards with its own identity
    apim: Optional[str] = Field(default=None, min_length=1, max_length=50)
    apim_subscription: Optional[str] = Field(default=None, min_length=1, max_length=256)
    # -- Defender for AI features (firestop.sandbox.security.detector). The user security context an app passes with
    #    each call (Azure OpenAI ``user_security_context``: application_name, end_user_id; the caller's User-Agent
    #    header), what the prompts are, and how many tokens each call burns.
    user_agent: Optional[str] = Field(default=None, min_length=1, max_length=256)
    application: Optional[str] = Field(default=None, min_length=1, max_length=128)
    end_user: Optional[str] = Field(default=None, min_length=1, max_length=128)
    prompt_kind: Literal["benign", "jailbreak", "credential_theft", "sensitive_data"] = "benign"
    tokens_per_request: int = Field(default=300, ge=1, le=128_000)

    @model_validator(mode="after")
    def _shape(self) -> "AttackStep":
        if (self.apim is None) != (self.apim_subscription is None):
            raise ValueError("calls through API Management need both apim (the service's name) and apim_subscription (the consumer's sid)")
        if self.apim is not None:
            if self.kind != "requests":
                raise ValueError("apim applies to requests only")
            if self.key is not None or self.principal is not None:
                raise ValueError("calls through API Management send the consumer's subscription key, not key or principal "
                                 "(the gateway calls the account with its own identity)")
        elif self.kind == "requests" and (self.key is None) == (self.principal is None):
            raise ValueError("requests need exactly one of key (key1, key2, wrong), principal (an Entra object id), "
                             "or apim with apim_subscription (an API Management consumer)")
        if self.kind != "requests" and not self.principal:
            raise ValueError(f"{self.kind} is an ARM call: give the principal (object id or UPN) that makes it")
        if self.kind == "update_account" and not self.properties:
            raise ValueError("update_account needs properties (e.g. {publicNetworkAccess: Enabled})")
        if self.kind != "requests" and (self.prompt_kind != "benign" or self.user_agent or self.application or self.end_user):
            raise ValueError(f"prompt_kind, user_agent, application and end_user describe data-plane calls: use them with kind requests, not {self.kind}")
        return self

    @property
    def name(self) -> str:
        return self.label or f"{self.kind}@{self.at:g}s"

    def calls(self) -> int:
        return int(self.duration * self.per_minute / 60.0) if self.kind == "requests" else 0


def check_bounds(steps: list[AttackStep]) -> None:
    """``ValueError`` when the steps exceed :data:`MAX_CALLS` data-plane calls or 50 steps."""
    if len(steps) > 50:
        raise ValueError(f"at most 50 attack steps (got {len(steps)})")
    total = sum(s.calls() for s in steps)
    if total > MAX_CALLS:
        raise ValueError(f"the attack makes {total} data-plane calls; at most {MAX_CALLS} (lower per_minute or duration)")


@dataclass
class Driver:
    """Plays an attack on a sandbox tenant. ``notify(notification)`` receives every alert state change.

    ``start(t0)`` fixes the timeline; :meth:`on_clock` (a clock listener) answers the data-plane calls
    due and runs the alert rules; :meth:`arm_steps` are the ARM actions for the caller to schedule.
    """

    tenant: Any
    steps: list[AttackStep]
    notify: Callable[[Any], None]
    t0: Optional[datetime] = None
    _calls: list = field(default_factory=list)
    _busy: bool = False
    _keys: dict = field(default_factory=dict)
    first_malicious_at: Optional[datetime] = None
    arm_log: list[dict] = field(default_factory=list)

    def start(self, t0: datetime) -> None:
        self.t0 = t0
        seq = 0
        for index, step in enumerate(self.steps):
            if step.kind != "requests":
                continue
            interval = 60.0 / step.per_minute
            n = step.calls()
            for i in range(n):
                at = t0 + timedelta(seconds=step.at + i * interval)
                filtered = step.content_filtered > 0 and int((i + 1) * step.content_filtered) > int(i * step.content_filtered)
                seq += 1
                self._calls.append((at, seq, index, filtered))
        heapq.heapify(self._calls)
        starts = [t0 + timedelta(seconds=s.at) for s in self.steps if s.malicious]
        self.first_malicious_at = min(starts) if starts else None

    @property
    def end(self) -> datetime:
        assert self.t0 is not None
        return self.t0 + timedelta(seconds=max((s.at + (s.duration if s.kind == "requests" else 0) for s in self.steps), default=0))

    def arm_steps(self) -> list[tuple[datetime, int]]:
        assert self.t0 is not None
        return [(self.t0 + timedelta(seconds=s.at), i) for i, s in enumerate(self.steps) if s.kind != "requests"]

    def _key(self, index: int) -> Optional[str]:
        step = self.steps[index]
        if step.key is None:
            return None
        if index not in self._keys:
            if step.key == "wrong":
                self._keys[index] = "0" * 32
            else:
                account_id = self._account_id(step.account)
                self._keys[index] = self.tenant.account_keys(account_id)[step.key]
        return self._keys[index]

    def _account_id(self, name: str) -> str:
        return next(r["id"] for r in self.tenant._state.doc["resources"].values()  # noqa: SLF001 — the driver is the tenant's
                    if r.get("type", "").lower() == "microsoft.cognitiveservices/accounts" and r.get("name", "").lower() == name.lower())

    def on_clock(self, now: datetime) -> None:
        """Answer every data-plane call due by ``now`` (in time order), then run the alert rules."""
        if self._busy or self.t0 is None:
            return
        self._busy = True
        try:
            while self._calls and self._calls[0][0] <= now:
                at, _, index, filtered = heapq.heappop(self._calls)
                step = self.steps[index]
                key = self._key(index)
                self.tenant.data_plane_call(at=at, account=step.account, ip=step.from_ip, key=key,
                                            principal=step.principal if key is None else None, deployment=step.deployment,
                                            operation=step.operation, content_filtered=filtered,
                                            tag=step.name if step.malicious else None, user_agent=step.user_agent,
                                            application=step.application, end_user=step.end_user,
                                            prompt_kind=step.prompt_kind, tokens=step.tokens_per_request,
                                            **({"apim": step.apim, "apim_subscription": step.apim_subscription} if step.apim else {}))
            for notification in self.tenant.evaluate_alerts():
                self.notify(notification)
        finally:
            self._busy = False

    def pending_activity(self, now: datetime) -> list[datetime]:
        """Times at which Activity Log events written so far become visible, after ``now``."""
        from firestop.sandbox.core.clock import parse_utc

        items = self.tenant._state.doc.get("activity_log", [])  # noqa: SLF001 — the driver is the tenant's
        return sorted({parse_utc(i["visible_at"]) for i in items if parse_utc(i["visible_at"]) > now})

    def run_arm_step(self, index: int) -> dict:
        """Make ARM step ``index`` through the SDK as its principal; returns ``{"step", "at", "status"}``."""
        from azure.core.exceptions import HttpResponseError
        from azure.mgmt.cognitiveservices import CognitiveServicesManagementClient
        from firestop.sandbox import SandboxCredential

        step = self.steps[index]
        account_id = self._account_id(step.account)
        rg = account_id.split("/")[4]
        client = CognitiveServicesManagementClient(SandboxCredential(self.tenant.tenant_id, step.principal), self.tenant.subscription_id,
                                                   transport=self.tenant.transport, polling_interval=0)
        at = self.tenant.clock.now()
        status = 200
        try:
            if step.kind == "list_keys":
                client.accounts.list_keys(rg, step.account)
            elif step.kind == "regenerate_key":
                client.accounts.regenerate_key(rg, step.account, {"key_name": step.key_name})
            else:
                client.accounts.begin_update(rg, step.account, {"properties": step.properties}).result()
        except HttpResponseError as exc:
            status = exc.status_code or 0
        entry = {"step": step.name, "kind": step.kind, "at": at.isoformat(), "status": status, "malicious": step.malicious}
        self.arm_log.append(entry)
        return entry
