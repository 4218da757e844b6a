"""The control registry (Cloud Custodian style): each control registers itself with ``@control``.

A control is one line of the security guide's checklist, evaluated on one kind of target::

    @control("network.public-access", area=Area.NETWORK, severity=Severity.HIGH, target="account",
             title="Public network access restricted", policy="037eea7a-bd0a-46c5-9a66-03aea78705d3",
             fix="…", runbook=RunbookFix(runbook="network.lock", params={"mode": "deny_by_default"}),
             playbook="public-network-exposure")
    def public_access(ctx: AuditContext, account: dict, params: NoParams) -> Verdict: ...

``target`` is ``account`` (each Azure OpenAI / AI Services account in scope, its ARM JSON),
``vault`` (each Key Vault in scope) or ``subscription`` (once per subscription). ``params`` is the
control's own pydantic model (its *schema*: ``audit controls --json`` prints it) with defaults.
``evaluate`` returns a :class:`Verdict`, returns None (or raises :class:`NotApplicable` saying
why: ``audit fix`` shows the reason when it no longer offers a fix) when the control does not apply
to that target, or raises :class:`~firestop.audit.reader.NotEvaluable` (the result is ``—`` with the reason).
``policy`` is the Azure Policy built-in definition GUID where one exists (checked against the
definitions in github.com/Azure/azure-policy, ``built-in-policies/policyDefinitions/``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Literal

from pydantic import BaseModel, ConfigDict

from firestop.audit.models import Area, Evidence, RunbookFix, Severity, Status

Target = Literal["account", "vault", "subscription"]


class NotApplicable(Exception):
    """The control does not apply to this target; ``str(exc)`` says why (e.g. "local auth is disabled")."""


class NoParams(BaseModel):
    """A control without parameters."""

    model_config = ConfigDict(extra="forbid")


@dataclass(frozen=True)
class Verdict:
    """A control's answer: status, one-sentence detail, the evidence read; ``fix`` overrides the control's fix text."""

    status: Status
    detail: str
    evidence: tuple[Evidence, ...] = ()
    fix: str | None = None
    runbook: RunbookFix | None = None


def passed(detail: str, *evidence: Evidence) -> Verdict:
    return Verdict(Status.PASS, detail, tuple(evidence))


def failed(detail: str, *evidence: Evidence, fix: str | None = None) -> Verdict:
    return Verdict(Status.FAIL, detail, tuple(evidence), fix=fix)


@dataclass(frozen=True)
class Control:
    id: str
    title: str
    area: Area
    severity: Severity
    target: Target
    fix: str
    evaluate: Callable[..., Verdict | None]
    params: type[BaseModel] = NoParams
    policy: str | None = None
    runbook: RunbookFix | None = None
    playbook: str | None = None
    reads: tuple[str, ...] = field(default=())

    def describe(self) -> dict[str, Any]:
        """The control as ``audit controls --json`` lists it."""
        return {
            "id": self.id, "title": self.title, "area": self.area.value, "severity": self.severity.value,
            "target": self.target, "policy_definition": self.policy, "fix": self.fix,
            "runbook": self.runbook.model_dump() if self.runbook else None, "playbook": self.playbook,
            "reads": list(self.reads), "schema": self.params.model_json_schema(),
        }


_CONTROLS: dict[str, Control] = {}


def control(id: str, *, title: str, area: Area, severity: Severity, target: Target, fix: str,
            params: type[BaseModel] = NoParams, policy: str | None = None, runbook: RunbookFix | None = None,
            playbook: str | None = None, reads: tuple[str, ...] = ()) -> Callable[[Callable[..., Verdict | None]], Callable[..., Verdict | None]]:
    """Decorator: register ``evaluate(ctx, target_json, params) -> Verdict | None`` as control ``id``."""

    def register(fn: Callable[..., Verdict | None]) -> Callable[..., Verdict | None]:
        if id in _CONTROLS:
            raise ValueError(f"audit control {id!r} registered twice")
        _CONTROLS[id] = Control(id, title, area, severity, target, fix, fn, params, policy, runbook, playbook, reads)
        return fn

    return register


def all_controls() -> list[Control]:
    """Every registered control, by area then id."""
    import firestop.audit.controls  # noqa: F401  (registers them)

    return sorted(_CONTROLS.values(), key=lambda c: (c.area.order, c.id))


def get_control(control_id: str) -> Control:
    """The control ``control_id``; KeyError naming the known ones."""
    for c in all_controls():
        if c.id == control_id:
            return c
    raise KeyError(f"no audit control {control_id!r}; known: {', '.join(c.id for c in all_controls())}")
