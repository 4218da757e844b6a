"""The runbook contract every action obeys.

A runbook acts on one target (an ARM resource ID) through the Azure SDK
clients of :mod:`firestop.azure.clients`:

- ``plan(ctx, target, params)`` → :class:`Plan`: the current state and the exact
  change it would make. Changes nothing (dry-run).
- ``apply(ctx, target, params)`` → :class:`Applied`: records the state before,
  acts, returns the state after. Idempotent: a second apply (also after a crash
  half-way, or an azure-core retry of a POST) changes nothing more.
- ``verify(ctx, target, params, applied)`` → :class:`Verification`: reads the
  target back and confirms the effect.
- ``undo(ctx, target, params, applied)`` → :class:`Applied`: restores the
  state before, refusing (``RunbookError('conflict' ...)``) when the target
  changed since; runbooks whose effect cannot be reversed (a regenerated key)
  set ``reversible = False`` and refuse with the reason.

States are JSON-able dicts that never hold a secret value: keys appear only as
SHA-256 fingerprints (:func:`fingerprint`).
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any, ClassVar, Generic, TypeVar

from msgspec import Struct, field
from pydantic import BaseModel, ConfigDict, Field, model_validator

from firestop.azure.clients import ClientFactory
from firestop.azure.errors import RunbookError
from firestop.empty import new_dict, new_list
from firestop.settings import Settings


def fingerprint(secret: str) -> str:
    """Short, non-reversible identifier of a secret: ``sha256:`` + 12 hex digits of its SHA-256."""
    return "sha256:" + hashlib.sha256(secret.encode("utf-8")).hexdigest()[:12]


class AlertFacts(BaseModel):
    """What a runbook may know of the alert that started the incident (no payload, no secrets)."""

    model_config = ConfigDict(frozen=True, defer_build=True)  # built on first use (see _DEFERRED below)

    alert_id: str | None = None
    rule_name: str | None = None
    fired_at: datetime | None = None
    window_start: datetime | None = None
    window_end: datetime | None = None
    caller_ips: tuple[str, ...] = ()


class RunContext(Struct):
    """Everything a runbook call may use besides its target and parameters."""

    clients: ClientFactory
    settings: Settings
    incident_id: str = "manual"
    step_id: str = "manual"
    alert: AlertFacts = field(default_factory=AlertFacts)
    _secrets: set[str] = field(default_factory=set)

    def __repr__(self) -> str:  # never the secrets (the dataclass's field(repr=False))
        return (f"RunContext(clients={self.clients!r}, settings={self.settings!r}, incident_id={self.incident_id!r}, "
                f"step_id={self.step_id!r}, alert={self.alert!r})")

    def __rich_repr__(self):  # R17-07: msgspec's own yields every field, _secrets included (rich.pretty, inspect)
        yield "clients", self.clients
        yield "settings", self.settings
        yield "incident_id", self.incident_id
        yield "step_id", self.step_id
        yield "alert", self.alert

    def now(self) -> datetime:
        """Current time (UTC) on the clients' clock — simulated time in the sandbox."""
        return self.clients.clock.now()

    def register_secret(self, value: str) -> None:
        """Declare a secret value this call handled; the dispatcher scrubs it from anything returned."""
        if value:
            self._secrets.add(value)

    @property
    def secrets(self) -> frozenset[str]:
        return frozenset(self._secrets)


class Change(BaseModel):
    """One change a runbook makes: ``field`` of ``target`` from ``before`` to ``after``."""

    model_config = ConfigDict(defer_build=True)
    field: str
    before: Any = None
    after: Any = None


#: Bounds of a plan's blast radius (:func:`bound_blast_radius`): it is read from the tenant (an API Management service's
#: subscriptions, a service principal's assignments: thousands) and rides in dry-run output, the approval (the
#: custom status, 8,192 characters on Azure's Durable backends) and the record.
MAX_BLAST_KEYS = 6
MAX_BLAST_ITEMS = 10
MAX_BLAST_ITEM_CHARS = 160
MAX_BLAST_CHARS = 2000


def bound_blast_radius(value: Any) -> tuple[dict[str, list[str]], dict[str, int]]:
    """``(blast radius, left_out)``: ``value`` (``{what: [item, …]}``; anything else → empty) with at most
    :data:`MAX_BLAST_KEYS` keys (each at most :data:`MAX_BLAST_ITEM_CHARS` characters), at most :data:`MAX_BLAST_ITEMS`
    items per key, each item at most :data:`MAX_BLAST_ITEM_CHARS` characters (cut with ``…``), and at most
    :data:`MAX_BLAST_CHARS` characters of items in all. ``left_out``: ``{what: items not shown}`` (a key left out whole
    counts all its items), and a list that lost items ends with ``"… and N more (left out)"``. Pure; idempotent."""
    if not isinstance(value, dict):
        return {}, {}

    def cut(text: Any) -> str:
        text = str(text)
        return text if len(text) <= MAX_BLAST_ITEM_CHARS else text[:MAX_BLAST_ITEM_CHARS - 1] + "…"

    out: dict[str, list[str]] = {}
    left: dict[str, int] = {}
    used = 0
    for number, (what, items) in enumerate(value.items()):
        items = list(items) if isinstance(items, (list, tuple)) else [items]
        shown = [i for i in items if not (isinstance(i, str) and i.startswith("… and ") and i.endswith(" more (left out)"))]
        carried = len(items) - len(shown)  # an already-bounded list's marker: its count is in the caller's left_out
        key = cut(what)
        if number >= MAX_BLAST_KEYS:
            left[key] = left.get(key, 0) + len(shown)
            continue
        kept: list[str] = []
        for item in shown[:MAX_BLAST_ITEMS]:
            text = cut(item)
            if used + len(text) > MAX_BLAST_CHARS:
                break
            used += len(text)
            kept.append(text)
        if len(kept) < len(shown):
            left[key] = len(shown) - len(kept)
            kept.append(f"… and {left[key]} more (left out)")
        elif carried:
            kept.extend(i for i in items if i not in shown)
        out[key] = kept
    return out, left


class Plan(BaseModel):
    """Dry-run answer: the state now and the changes apply would make (empty: nothing to do).

    ``blast_radius``: what else stops working when apply runs, read from the tenant —
    ``{"deployments": [...], "consumers": [...], "identities": [...]}`` (names or IDs; a key
    absent when the runbook cannot tell), so a responder sees the cost before approving. Bounded
    (:func:`bound_blast_radius`): ``blast_radius_left_out`` counts per key what is not shown.
    """

    model_config = ConfigDict(defer_build=True)
    runbook: str
    target: str
    before: dict[str, Any]
    changes: list[Change] = Field(default_factory=new_list)
    notes: list[str] = Field(default_factory=new_list)
    blast_radius: dict[str, list[str]] = Field(default_factory=new_dict)
    blast_radius_left_out: dict[str, int] = Field(default_factory=new_dict)

    @model_validator(mode="after")
    def _bounded(self) -> "Plan":
        radius, left = bound_blast_radius(self.blast_radius)
        if radius != self.blast_radius or left:
            for what, n in left.items():
                self.blast_radius_left_out[what] = self.blast_radius_left_out.get(what, 0) + n
            self.blast_radius = radius
        return self

    @property
    def no_op(self) -> bool:
        return not self.changes


class Applied(BaseModel):
    """What apply (or undo) did: state before and after, whether anything changed."""

    runbook: str
    target: str
    changed: bool
    before: dict[str, Any]
    after: dict[str, Any]
    summary: str
    artifacts: dict[str, Any] = Field(default_factory=new_dict)


class Check(BaseModel):
    name: str
    ok: bool
    detail: str = ""


class Verification(BaseModel):
    """Read-back of the target: every check must hold for the effect to count."""

    runbook: str
    target: str
    checks: list[Check]

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)


ParamsT = TypeVar("ParamsT", bound=BaseModel)


class NoParams(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)


class Runbook(Generic[ParamsT]):
    """Base class: subclasses set the class attributes and implement the four methods."""

    name: ClassVar[str]
    summary: ClassVar[str]
    #: Exact Azure actions needed (ARM ``Microsoft.X/.../action`` and data actions).
    permissions: ClassVar[tuple[str, ...]] = ()
    #: Microsoft Graph application permissions needed (granted to the app registration, not in an Azure role).
    graph_permissions: ClassVar[tuple[str, ...]] = ()
    #: What ``undo`` needs beyond ``permissions`` that Firestop's role never holds (one of
    #: :data:`runbooks.permissions.FORBIDDEN_ACTIONS`): on Azure a person holding one of ``undo_roles`` undoes it.
    undo_permissions: ClassVar[tuple[str, ...]] = ()
    #: Built-in role definition GUIDs (:mod:`firestop.azure.builtin_roles`), any one of which grants ``undo_permissions``
    #: on the target's scope; what the undo preview and ``firestop permissions`` name.
    undo_roles: ClassVar[tuple[str, ...]] = ()
    #: For a runbook with ``graph_permissions``: the param holding the object ID it acts on (a person's manual run is
    #: bounded by it, :mod:`runbooks.graph_scope`); None otherwise.
    principal_param: ClassVar[str | None] = None
    #: ARM type the target must have (lower case), or None for any/no target.
    target_type: ClassVar[str | None] = None
    Params: ClassVar[type[BaseModel]] = NoParams
    reversible: ClassVar[bool] = True
    #: True for runbooks that change the target (containment); False for read-only ones.
    mutating: ClassVar[bool] = True
    #: True for runbooks that write an incident's own artifacts (its record, notifications, evidence ledger
    #: entries): only the incident's orchestration runs them; the responders' API refuses them (403).
    incident_only: ClassVar[bool] = False
    #: True for runbooks that only keep evidence: the lifecycle records their failure as an evidence gap
    #: and goes on with containment, whatever the step's ``on_failure`` says (evidence never blocks containment).
    collects_evidence: ClassVar[bool] = False
    #: True for runbooks that only write the outcome back to where the signal came from (a Sentinel comment or
    #: close, a Defender alert resolved): they change no protected resource, so an incident whose held steps
    #: are all evidence or write-back ends ``resolved`` ("blocked at source, nothing to contain"), not ``contained``.
    write_back: ClassVar[bool] = False

    @classmethod
    def releasable(cls) -> bool:
        """True when a step of this runbook that changed nothing (it found its state in place: "already locked") can
        be *released* — its undo restores nothing and the incident or manual run stops relying on that state: a
        reversible containment runbook, not evidence and not write-back (:func:`firestop.lifecycle.undo.release_stamp`,
        used by ``incident undo`` and ``runbook undo`` alike)."""
        return bool(cls.reversible and cls.mutating and not cls.collects_evidence and not cls.write_back)

    @classmethod
    def restored_parts(cls, action: dict[str, Any]) -> frozenset[str] | None:
        """The parts of the target's state an undo of ``action`` (a record's action: ``artifacts``, ``before``,
        ``after``) restores, as names compared case-insensitively; None: the target's whole state (the default).
        An undo is relied on by a later incident's step on the same target and runbook only when the parts
        overlap (:func:`firestop.lifecycle.undo.later_reliance`)."""
        return None

    @classmethod
    def relied_parts(cls, action: dict[str, Any]) -> frozenset[str] | None:
        """The parts of the target's state ``action``'s containment relies on (made or found in place), as
        :meth:`restored_parts` names them; None: the target's whole state (the default)."""
        return None

    def parse_params(self, params: dict[str, Any] | None) -> ParamsT:
        return self.Params.model_validate(params or {})  # type: ignore[return-value]

    def plan(self, ctx: RunContext, target: str, params: ParamsT) -> Plan:
        raise NotImplementedError

    def apply(self, ctx: RunContext, target: str, params: ParamsT) -> Applied:
        raise NotImplementedError

    def verify(self, ctx: RunContext, target: str, params: ParamsT, applied: Applied) -> Verification:
        return Verification(runbook=self.name, target=target, checks=[Check(name="applied", ok=True)])

    def undo(self, ctx: RunContext, target: str, params: ParamsT, applied: Applied) -> Applied:
        raise RunbookError("invalid", f"{self.name} cannot be undone")
