"""``incident undo`` helpers: find what a finished incident can undo on the local durable host.

The undo itself (:func:`apply_undo`) and the record helpers live below both entry points in
:mod:`firestop.lifecycle.undo`; they are re-exported here for the CLI.
"""

from __future__ import annotations

from typing import Any

from firestop.lifecycle.undo import (  # noqa: F401  (re-exported)
    AlreadyReleased, UndoBusy, UndoRefused, UndoStale, _left_alone, _reversible, _why_not, already_undone, apply_undo,
    not_undoable, outside_step, undo_selection, undo_under_lease)


def undo_candidates(env, incident_id: str, *, step: str | None = None) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(record, actions to undo, newest first). Raises :class:`UndoRefused` when there is nothing to undo."""
    from firestop.runtime import InstanceNotFound

    try:
        status = env.host.get_status(incident_id)
    except InstanceNotFound:
        raise UndoRefused(f"ID: no incident {incident_id!r}; list them with: python -m firestop incident list") from None
    from firestop.records.store import filed_record

    # the newest filed record carries undos done after the orchestration ended; else the record as the
    # orchestration filed it (its output without the filing's own outcome)
    filed = filed_record(env.settings, incident_id) if status.runtime_status == "Completed" else None
    return undo_selection(incident_id, status.runtime_status, status.output, filed, step=step)


def undo_incident(env, incident_id: str, *, by: str, step: str | None = None) -> dict[str, Any]:
    """``{"incident_id", "undone": [{"step_id", "runbook", "ok", "detail"}]}``. Raises :class:`UndoRefused`."""
    record, actions = undo_candidates(env, incident_id, step=step)
    return undo_locally(env, incident_id, record, actions, by=by)


def undo_locally(env, incident_id: str, record: dict[str, Any], actions: list[dict[str, Any]], *, by: str) -> dict[str, Any]:
    """:func:`~firestop.lifecycle.undo.undo_under_lease` on the local durable host (``env.host``): the undo waits
    for, and holds off, containment on the same resources. Raises :class:`UndoBusy`."""
    import asyncio

    from firestop.lifecycle.locks import HostLeasePort

    return asyncio.run(undo_under_lease(HostLeasePort(env.host), env, incident_id, record, actions, by=by))


def reliance_first(env, incident_id: str, record: dict[str, Any], actions: list[dict[str, Any]]) -> None:
    """The record check (:func:`~firestop.lifecycle.undo.still_newest`: the newest revision, sealed by this app's
    ring) and the reliance check (:func:`~firestop.lifecycle.undo.check_reliance`) before the CLI previews and asks to
    confirm, so a refused undo is refused before "Undo these?" and a dry run never offers it (advisory: the same checks
    inside the lease still decide; newuser18: a record sealed under a dropped key was previewed, asked, then refused).
    Raises :class:`~firestop.lifecycle.undo.UndoStale`, :class:`~firestop.lifecycle.undo.UndoReliedOn` (and its kinds:
    ``UndoUnattested`` for a record without this app's seal)."""
    import asyncio

    from firestop.lifecycle.locks import HostLeasePort
    from firestop.lifecycle.undo import check_reliance, still_newest

    still_newest(env.settings, incident_id, record, actions)
    asyncio.run(check_reliance(HostLeasePort(env.host), env.settings, incident_id, record, actions))
