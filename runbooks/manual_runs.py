"""Find a manual runbook run on its ledger, so ``runbook undo RUN_ID`` can restore what it changed.

A manual run (``runbook run``) is recorded on the ledger of the incident
``manual-<YYYY-MM-DD>`` under its own step id (:func:`runbooks.dispatch.manual_ids`);
its ``action`` entry carries the apply's before/after and, for manual runs, its
params (:func:`runbooks.dispatch._ledger_action`). ``RUN_ID`` is
``manual-<YYYY-MM-DD>/<step id>`` as ``runbook run`` prints it.

Raises :class:`ManualUndoRefused` (bad input: exit 2) when the id is malformed, the
run is unknown, changed nothing, failed, is already undone, or its runbook has no undo.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

#: ``manual-<YYYY-MM-DD>/<via>-run-<HHMMSS>-<4 hex>`` (:func:`runbooks.dispatch.manual_ids`).
RUN_ID_PATTERN = re.compile(r"^(?P<incident>manual-\d{4}-\d{2}-\d{2})/(?P<step>[a-z]+-run-\d{6}-[0-9a-f]{4})$")
_RUN_ID = RUN_ID_PATTERN


class ManualUndoRefused(ValueError):
    """Nothing can be undone for that run id (the message names why and the fix)."""


@dataclass(frozen=True)
class ManualRun:
    incident_id: str
    step_id: str
    runbook: str
    target: str | None
    params: dict[str, Any]
    applied: dict[str, Any]  # the shape Runbook.undo takes: runbook, target, changed, before, after, summary, artifacts
    #: when the apply finished (its ledger entry's ``at``, ISO 8601 UTC), None when the entry has none
    applied_at: str | None = None


def find_manual_run(settings: Any, run_id: str) -> ManualRun:
    """The undoable apply of manual run ``run_id`` (see the module docstring)."""
    from runbooks import get_runbook
    from runbooks.ledger import Ledger

    found = _RUN_ID.match((run_id or "").strip())
    if not found:
        raise ManualUndoRefused(
            f"RUN_ID: {run_id[:80]!r} is not a manual run id; give it as runbook run printed it: manual-<YYYY-MM-DD>/cli-run-<HHMMSS>-<hex>")
    incident, step = found["incident"], found["step"]
    try:
        entries = Ledger.of(settings).entries(incident)
    except (OSError, ValueError) as exc:
        raise ManualUndoRefused(f"RUN_ID: the ledger of {incident} cannot be read ({exc}); check it with: ledger verify {incident}") from None
    mine = [e for e in entries if e.get("kind") == "action" and e.get("step_id") == step]
    applies = [e for e in mine if e.get("action") == "apply"]
    if not applies:
        raise ManualUndoRefused(f"RUN_ID: no run {step} on the ledger of {incident}; check FIRESTOP_HOME (or the storage settings)")
    apply = applies[-1]
    data = apply.get("data") if isinstance(apply.get("data"), dict) else {}
    if not data.get("ok"):
        raise ManualUndoRefused(f"RUN_ID: run {step} failed ({(data.get('error') or {}).get('message') or 'no detail'}); nothing to undo")
    if not data.get("changed"):
        raise ManualUndoRefused(f"RUN_ID: run {step} changed nothing; nothing to undo")
    undone = [e for e in mine if e.get("action") == "undo" and isinstance(e.get("data"), dict) and e["data"].get("ok")]
    if undone:
        from firestop.times import instant  # as every command writes a time: 2026-11-29 03:23:40.1 UTC

        when = instant(undone[-1].get("at")) if undone[-1].get("at") else "an earlier time"
        raise ManualUndoRefused(f"RUN_ID: run {step} is already undone (at {when})")
    runbook = str(apply.get("runbook") or "")
    try:
        reversible = type(get_runbook(runbook)).reversible
    except (KeyError, LookupError):
        raise ManualUndoRefused(f"RUN_ID: run {step} used runbook {runbook!r}, which this version does not know") from None
    if not reversible:
        raise ManualUndoRefused(f"RUN_ID: {runbook} cannot be undone (its change is final, e.g. a revoked key)")
    if "params" not in data:
        raise ManualUndoRefused(f"RUN_ID: run {step} was recorded before runs kept their parameters; undo it with the runbook's own tooling")
    target = apply.get("target")
    applied = {"runbook": runbook, "target": target or "", "changed": True, "before": data.get("before") or {},
               "after": data.get("after") or {}, "summary": data.get("summary") or "", "artifacts": {}}
    return ManualRun(incident_id=incident, step_id=step, runbook=runbook, target=target,
                     params=dict(data.get("params") or {}), applied=applied,
                     applied_at=apply.get("at") if isinstance(apply.get("at"), str) and apply.get("at") else None)
