"""``incident undo`` helpers: find what a finished incident can undo on the local durable host.

The undo itself (:func:`apply_undo`) and the record helpers live below both entry points in
:mod:`firestop.lifecycle.undo`; they are re-exported here for the CLI.
"""

from __future__ import annotations

from typing import Any

from firestop.lifecycle.undo import (  # noqa: F401  (re-exported)
    UndoRefused, _left_alone, _reversible, _why_not, already_undone, apply_undo, not_undoable)


def undo_candidates(env, incident_id: str, *, step: str | None = None) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(record, actions to undo, newest first). Raises :class:`UndoRefused` when there is nothing to undo."""
    from firestop.runtime import InstanceNotFound

    try:
        status = env.host.get_status(incident_id)
    except InstanceNotFound:
        raise UndoRefused(f"ID: no incident {incident_id!r}; list them with: python -m firestop incident list") from None
    if status.runtime_status != "Completed" or not isinstance(status.output, dict):
        raise UndoRefused(f"ID: incident {incident_id} has not finished ({status.runtime_status}); undo applies to finished incidents")
    from firestop.records.store import filed_record

    # the newest filed record carries undos done after the orchestration ended; else the record as the
    # orchestration filed it (its output without the filing's own outcome)
    record = filed_record(env.settings, incident_id) or {
        k: v for k, v in status.output.items() if k not in ("record_files", "record_error")}
    actions = [a for a in record.get("actions") or [] if a.get("ok") and a.get("changed") and not a.get("undone")
               and _reversible(a)]
    if step is not None:
        mine = [a for a in record.get("actions") or [] if a.get("step_id") == step]
        actions = [a for a in actions if a.get("step_id") == step]
        if not actions:
            known = ", ".join(sorted({a.get("step_id") for a in record.get("actions") or []})) or "none"
            if mine and all(a.get("undone") for a in mine if a.get("ok") and a.get("changed")) and any(a.get("undone") for a in mine):
                raise UndoRefused(f"--step: {step!r} is already undone")
            if any(not _reversible(a) for a in mine):
                raise UndoRefused(f"--step: {step!r} ({mine[0].get('runbook')}) cannot be undone: {_why_not(mine[0])}")
            raise UndoRefused(f"--step: {step!r} changed nothing that can be undone (steps: {known})")
    if not actions:
        raise UndoRefused(f"ID: incident {incident_id} has nothing left to undo" + _left_alone(record))
    return record, list(reversed(actions))


def undo_incident(env, incident_id: str, *, by: str, step: str | None = None) -> dict[str, Any]:
    """``{"incident_id", "undone": [{"step_id", "runbook", "ok", "detail"}]}``. Raises :class:`UndoRefused`."""
    record, actions = undo_candidates(env, incident_id, step=step)
    return apply_undo(env, incident_id, record, actions, by=by)
