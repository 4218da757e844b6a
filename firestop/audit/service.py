"""Running an audit: every control on every target in scope, through :class:`~firestop.audit.reader.AuditContext`.

``run_audit(ctx, previous=None, controls=None, params=None) -> Audit`` (keyword-only after ``ctx``):

* targets — each Azure OpenAI / AI Services account in scope (``account`` controls), each Key
  Vault in scope (``vault`` controls), the subscription once (``subscription`` controls);
* one :class:`~firestop.audit.models.Result` per (control, target): ✔/❌ from the control, ``—``
  with the reason when a read failed (a list that could not be read gives one ``—`` result per
  control on the subscription); a control returning None does not apply to that target;
* ``policy`` on each result: the control's built-in definition and, when Azure Policy has a state
  for it on that resource, its compliance and evaluation time;
* the drift against ``previous`` (:func:`firestop.audit.drift.diff`).

``params``: ``{control id: {param: value}}`` over each control's defaults (ValueError naming
the control and field when invalid). The audit id is ``audit-<UTC time of the clients' clock, to the
second>-<4 hex of the scope>``: two audits of one scope in one second are the same audit.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any, Iterable

from pydantic import ValidationError

from firestop.audit.drift import diff
from firestop.audit.models import Audit, Result, Status
from firestop.audit.reader import AuditContext, NotEvaluable
from firestop.audit.registry import Control, NotApplicable, all_controls

log = logging.getLogger("firestop.audit")


def _name(resource_id: str) -> str:
    return resource_id.rstrip("/").rsplit("/", 1)[-1]


def _policy(ctx: AuditContext, control: Control, resource_id: str) -> dict[str, Any] | None:
    if not control.policy:
        return None
    out: dict[str, Any] = {"definition": control.policy}
    state = ctx.policy_state(control.policy, resource_id)
    if state is not None:
        out["compliance"] = state.get("complianceState")
        out["evaluated_at"] = str(state.get("timestamp"))
        out["assignment"] = state.get("policyAssignmentName")
    return out


def _result(ctx: AuditContext, control: Control, target: dict[str, Any], params: Any) -> Result | None:
    resource = target["id"]
    try:
        verdict = control.evaluate(ctx, target, params)
    except NotApplicable:
        return None
    except NotEvaluable as exc:
        return Result(control=control.id, title=control.title, area=control.area, severity=control.severity, resource=resource,
                      resource_name=_name(resource), status=Status.NOT_EVALUABLE, detail=f"not evaluable: {exc}",
                      policy=_policy(ctx, control, resource), playbook=control.playbook)
    except Exception as exc:  # noqa: BLE001 — an unexpected shape in what was read: this control only, said so
        log.warning("audit control %s on %r failed: %s", control.id, resource, type(exc).__name__)
        return Result(control=control.id, title=control.title, area=control.area, severity=control.severity, resource=resource,
                      resource_name=_name(resource), status=Status.NOT_EVALUABLE,
                      detail=f"not evaluable: the control could not read the answer ({type(exc).__name__})",
                      policy=_policy(ctx, control, resource), playbook=control.playbook)
    if verdict is None:
        return None
    failing = verdict.status is Status.FAIL
    return Result(control=control.id, title=control.title, area=control.area, severity=control.severity, resource=resource,
                  resource_name=_name(resource), status=verdict.status, detail=verdict.detail, evidence=verdict.evidence,
                  fix=(verdict.fix or control.fix) if failing else None,
                  runbook=(verdict.runbook or control.runbook) if failing else None,
                  playbook=control.playbook, policy=_policy(ctx, control, resource))


def control_params(controls: Iterable[Control], params: dict[str, dict[str, Any]] | None) -> dict[str, Any]:
    """Each control's validated parameters (defaults + ``params[control id]``); ValueError naming control and field."""
    given = dict(params or {})
    known = {c.id for c in controls}
    unknown = sorted(set(given) - known)
    if unknown:
        raise ValueError(f"params: no control {unknown[0]!r}; see: audit controls")
    out = {}
    for c in controls:
        try:
            out[c.id] = c.params.model_validate(given.get(c.id) or {})
        except ValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(p) for p in first.get("loc", ())) or "$"
            raise ValueError(f"params.{c.id}.{field}: {first.get('msg')}") from None
    return out


def audit_id(at, scope: tuple[str, ...]) -> str:
    digest = hashlib.sha256("\n".join(s.lower() for s in scope).encode()).hexdigest()[:4]
    return f"audit-{at.strftime('%Y%m%dT%H%M%SZ')}-{digest}"


def scope_of(ctx: AuditContext) -> tuple[str, ...]:
    sub = f"/subscriptions/{ctx.subscription}"
    if ctx.accounts:
        return tuple(sorted(ctx.accounts))
    if ctx.resource_groups:
        return tuple(f"{sub}/resourceGroups/{rg}" for rg in ctx.resource_groups)
    return (sub,)


def run_audit(ctx: AuditContext, *, previous: Audit | None = None, controls: list[Control] | None = None,
              params: dict[str, dict[str, Any]] | None = None, unverified: int = 0) -> Audit:
    """Evaluate ``controls`` (default: all) over ``ctx``'s scope; see the module docstring. ``unverified``: audit
    documents not sealed by this app met while looking for ``previous`` (:func:`firestop.audit.store.previous`)."""
    chosen = controls if controls is not None else all_controls()
    validated = control_params(chosen, params)
    scope = scope_of(ctx)
    started = ctx.now()
    sub = {"id": f"/subscriptions/{ctx.subscription}", "name": ctx.subscription}
    results: list[Result] = []
    lists: dict[str, Any] = {}
    for kind, read in (("account", ctx.list_accounts), ("vault", ctx.list_vaults)):
        if any(c.target == kind for c in chosen):
            try:
                lists[kind] = read()
            except NotEvaluable as exc:
                lists[kind] = exc
    for c in chosen:
        if c.target == "subscription":
            targets: list[dict[str, Any]] = [sub]
        else:
            found = lists[c.target]
            if isinstance(found, NotEvaluable):
                results.append(Result(control=c.id, title=c.title, area=c.area, severity=c.severity, resource=sub["id"],
                                      resource_name=ctx.subscription, status=Status.NOT_EVALUABLE,
                                      detail=f"not evaluable: {found}", playbook=c.playbook))
                continue
            targets = found
        for target in targets:
            result = _result(ctx, c, target, validated[c.id])
            if result is not None:
                results.append(result)
    # per area: findings first, the most severe first, then what could not be read, then what passes
    status_order = {Status.FAIL: 0, Status.NOT_EVALUABLE: 1, Status.PASS: 2}
    results.sort(key=lambda r: (r.area.order, status_order[r.status], r.severity.rank, r.resource_name.lower(), r.control))
    return Audit(audit_id=audit_id(started, scope), at=started, scope=scope, sandbox=bool(getattr(ctx.clients, "sandbox", False)),
                 results=tuple(results), drift=diff(previous, results, unverified))
