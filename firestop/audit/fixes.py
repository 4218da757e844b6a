"""``--fix``: the runbook plan (dry run) of each finding a runbook can fix, through the normal runbook path.

``plan_fixes(audit, clients, settings) -> [{"control", "resource", "runbook", "params", "plan" | "error", "apply"}]``:
each plan is :func:`runbooks.dispatch.execute` with ``action: plan`` (changes nothing; incident
``manual``, step ``audit-fix``). ``apply`` is the command that applies it through the normal runbook
path — ``runbook run`` shows the plan again, asks, applies, verifies and writes the manual ledger — so
an audit never changes the tenant by itself. A finding whose runbook is not registered says so.
"""

from __future__ import annotations

import json
import shlex
from typing import Any

from firestop.audit.models import Audit


def apply_command(runbook: str, target: str, params: dict[str, Any]) -> str:
    parts = ["python", "-m", "firestop", "runbook", "run", runbook, "--target", target]
    for key, value in params.items():
        parts += ["--param", f"{key}={value if isinstance(value, str) else json.dumps(value)}"]
    return " ".join(shlex.quote(p) for p in parts)


def plan_fixes(audit: Audit, *, clients: Any, settings: Any) -> list[dict[str, Any]]:
    from runbooks import runbook_names
    from runbooks.dispatch import execute

    known = set(runbook_names())
    out = []
    for r in audit.findings:
        if r.runbook is None:
            continue
        entry: dict[str, Any] = {"control": r.control, "resource": r.resource, "resource_name": r.resource_name,
                                 "runbook": r.runbook.runbook, "params": dict(r.runbook.params)}
        if r.runbook.runbook not in known:
            entry["error"] = f"runbook {r.runbook.runbook} is not available in this version"
            out.append(entry)
            continue
        answer = execute({"runbook": r.runbook.runbook, "action": "plan", "target": r.resource, "params": dict(r.runbook.params),
                          "incident_id": "manual", "step_id": "audit-fix"}, clients=clients, settings=settings)
        if answer.get("ok"):
            entry["plan"] = answer["result"]
            entry["apply"] = apply_command(r.runbook.runbook, r.resource, dict(r.runbook.params))
        else:
            entry["error"] = f"{(answer.get('error') or {}).get('kind')}: {(answer.get('error') or {}).get('message')}"
        out.append(entry)
    return out
