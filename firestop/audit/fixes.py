"""Which findings a runbook can fix *now*, and the plan (dry run) of each, through the normal runbook path.

A fix is **offered** only when its runbook applies to the resource as it is now; otherwise it is
**not offered** and ``reason`` says why (``audit run --fix`` and ``audit fix`` print it):

1. the runbook is registered in this version;
2. (``recheck``, ``audit fix``: the audit is stored, the tenant may have moved on — an earlier fix of
   the same run may have changed it) the control, evaluated again on the resource as it is now,
   still fails: a control that no longer applies (:class:`~firestop.audit.registry.NotApplicable`,
   e.g. ``secrets.key-age`` on an account whose local auth is now disabled) or now passes is not
   offered;
3. the runbook's plan (``action: plan``, changes nothing; incident ``manual``, step ``audit-fix``)
   succeeds — a refused precondition (e.g. ``keys.rotate``: the consumers' secret is not this
   account's) is the reason — and has at least one change.

``check_fix(finding, clients=, settings=, ctx=None) -> {"control", "resource", "resource_name",
"runbook", "params", "offered": bool, "plan" (offered), "apply" (offered), "reason" (not offered)}``;
``ctx``: an :class:`~firestop.audit.reader.AuditContext` to re-check the control with (None: step 2
is skipped, as right after the audit that found it). ``plan_fixes(audit, …)``: one per fixable
finding. ``apply`` is the command that applies it through the normal runbook path — ``runbook run``
shows the plan again, asks, applies, verifies and writes the manual ledger — so an audit never
changes the tenant by itself.
"""

from __future__ import annotations

import json
import shlex
from typing import Any

from firestop.audit.models import Audit, Result, Status
from firestop.audit.reader import AuditContext, NotEvaluable
from firestop.audit.registry import NotApplicable, get_control


def apply_command(runbook: str, target: str, params: dict[str, Any]) -> str:
    parts = ["python", "-m", "firestop", "runbook", "run", runbook, "--target", target]
    for key, value in params.items():
        parts += ["--param", f"{key}={value if isinstance(value, str) else json.dumps(value)}"]
    return " ".join(shlex.quote(p) for p in parts)


def recheck(ctx: AuditContext, finding: Result) -> str | None:
    """None while ``finding``'s control still fails on its resource as it is now; else why not (one sentence)."""
    from firestop.audit.service import control_params

    try:
        control = get_control(finding.control)
    except KeyError:
        return f"control {finding.control} is not in this version"
    params = control_params([control], None)[control.id]
    try:
        if control.target == "subscription":
            target: dict[str, Any] | None = {"id": f"/subscriptions/{ctx.subscription}", "name": ctx.subscription}
        else:
            listed = ctx.list_accounts() if control.target == "account" else ctx.list_vaults()
            target = next((t for t in listed if str(t.get("id", "")).lower() == finding.resource.lower()), None)
        if target is None:
            return "the resource is no longer there"
        verdict = control.evaluate(ctx, target, params)
    except NotApplicable as exc:
        return f"{control.id} no longer applies: {exc}"
    except NotEvaluable as exc:
        return f"{control.id} could not be checked again: {exc}"
    if verdict is None:
        return f"{control.id} no longer applies to it"
    if verdict.status is Status.PASS:
        return f"already fixed: {verdict.detail}"
    return None


def check_fix(finding: Result, *, clients: Any, settings: Any, ctx: AuditContext | None = None) -> dict[str, Any]:
    """Whether ``finding``'s fix is offered now, with its plan or the reason (module doc)."""
    from runbooks import runbook_names
    from runbooks.dispatch import execute

    if finding.runbook is None:
        raise ValueError(f"{finding.control} on {finding.resource_name}: no runbook fixes this finding")
    name, params = finding.runbook.runbook, dict(finding.runbook.params)
    entry: dict[str, Any] = {"control": finding.control, "resource": finding.resource, "resource_name": finding.resource_name,
                             "runbook": name, "params": params, "offered": False}
    if name not in set(runbook_names()):
        return {**entry, "reason": f"runbook {name} is not available in this version"}
    if ctx is not None:
        why = recheck(ctx, finding)
        if why is not None:
            return {**entry, "reason": why}
    answer = execute({"runbook": name, "action": "plan", "target": finding.resource, "params": params,
                      "incident_id": "manual", "step_id": "audit-fix"}, clients=clients, settings=settings)
    if not answer.get("ok"):
        error = answer.get("error") or {}
        return {**entry, "reason": f"{name} cannot apply ({error.get('kind')}): {error.get('message')}"}
    plan = answer["result"]
    if not plan.get("changes"):
        return {**entry, "plan": plan, "reason": f"{name} has nothing to change there"}
    return {**entry, "offered": True, "plan": plan, "apply": apply_command(name, finding.resource, params)}


def plan_fixes(audit: Audit, *, clients: Any, settings: Any) -> list[dict[str, Any]]:
    """:func:`check_fix` of every finding that names a runbook, right after ``audit`` read the tenant."""
    return [check_fix(r, clients=clients, settings=settings) for r in audit.findings if r.runbook is not None]
