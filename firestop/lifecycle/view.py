"""The incident view (pure): what the CLI and the HTTP API show for an incident.

The post-incident record once the orchestration completed; otherwise where it
stands::

    {"incident_id", "status": "awaiting_approval" | "running" | "failed" | "terminated",
     "phase", "step", "playbook": {"name"} | null, "pending_approval": {...} | null,
     "received_at", "timeline_so_far": [...] (what already ran: the newest entries the orchestrator's custom status carries),
     "runtime_status", "created_at", "updated_at" (ISO 8601 UTC)}

A finished incident whose containment was undone afterwards (``incident undo``, the console's Undo, the API) keeps
the ``status`` it ended with (``contained``: exit codes and ``--status`` filters mean the outcome); what holds now
is :func:`containment_state` — ``undone`` or ``partly undone`` — which every surface reads from here: the views'
``containment`` field (:func:`with_containment`; ``--json`` and the HTTP API) and :func:`status_label` (the text
of ``incident list``/``show`` and the console).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from firestop.lifecycle.outcome import EXIT_CODES

AWAITING_APPROVAL = "awaiting_approval"

#: Exit codes of views that are not records: waiting on a human or stopped → a responder is needed.
#: A Resolved alert with no open incident opens none: nothing to contain is "done" (0), not "no playbook".
NOTHING_TO_CONTAIN = "nothing_to_contain"
VIEW_EXIT_CODES = {**EXIT_CODES, AWAITING_APPROVAL: 3, "running": 3, "terminated": 3, "failed": 1, NOTHING_TO_CONTAIN: 0}


def incident_view(
    instance_id: str,
    runtime_status: str | None,
    custom_status: Any,
    output: Any,
    created_time: datetime | None = None,
    last_updated_time: datetime | None = None,
) -> dict[str, Any]:
    if runtime_status == "Completed" and isinstance(output, dict):
        return output
    custom = custom_status if isinstance(custom_status, dict) else {}
    base = {
        "incident_id": instance_id,
        "runtime_status": runtime_status,
        "phase": custom.get("phase"),
        "step": custom.get("step"),
        "playbook": {"name": custom.get("playbook")} if custom.get("playbook") else None,
        "pending_approval": custom.get("pending_approval"),
        "rule_name": custom.get("rule_name"),
        "received_at": custom.get("received_at"),
        "timeline_so_far": custom.get("timeline") if isinstance(custom.get("timeline"), list) else [],
        # whole seconds: the Durable HTTP API's status times carry no fraction, so a remote view (the CLI's --app,
        # through the Functions host) and a local one read the same
        "created_at": created_time.replace(microsecond=0).isoformat() if created_time else None,
        "updated_at": last_updated_time.replace(microsecond=0).isoformat() if last_updated_time else None,
    }
    if runtime_status == "Failed":
        return {**base, "status": "failed", "error": str(output)}
    if runtime_status == "Terminated":
        return {**base, "status": "terminated", "reason": str(output)}
    return {**base, "status": AWAITING_APPROVAL if custom.get("pending_approval") else "running"}


#: What :func:`containment_state` answers: every change the containment made was undone / some of them were.
UNDONE = "undone"
PARTLY_UNDONE = "partly undone"


def containment_state(record: dict[str, Any]) -> str | None:
    """:data:`UNDONE` when every containment action that changed the tenant (``ok`` and ``changed`` in the record's
    ``actions``) is marked ``undone``, :data:`PARTLY_UNDONE` when some are, None when none is (or nothing changed).
    Actions that changed nothing (an evidence snapshot) do not count; one that cannot be undone (a key rotation)
    keeps a full undo ``partly undone``: that change still holds."""
    actions = record.get("actions") if isinstance(record, dict) else None
    changed = [a for a in actions or [] if isinstance(a, dict) and a.get("ok") and a.get("changed")]
    undone = sum(1 for a in changed if a.get("undone") is True)
    if not undone:
        return None
    return UNDONE if undone == len(changed) else PARTLY_UNDONE


def with_containment(view: dict[str, Any]) -> dict[str, Any]:
    """``view`` with ``"containment": "undone" | "partly undone" | None`` (:func:`containment_state`)."""
    return {**view, "containment": containment_state(view)}


#: Keys a view adds to a filed record (where it was filed, the filing's error, :func:`with_containment`): never part of
#: the record itself — an undo's revision names the record it revises by the hash of exactly what was filed.
VIEW_ONLY_KEYS = frozenset({"record_files", "record_error", "containment"})


def record_of(view: dict[str, Any]) -> dict[str, Any]:
    """The record inside a finished incident's view: ``view`` without :data:`VIEW_ONLY_KEYS`."""
    return {k: v for k, v in view.items() if k not in VIEW_ONLY_KEYS}


#: ``status`` of a list row whose incident's filed record cannot be read (:func:`unreadable_row`).
UNREADABLE = "unreadable"


def unreadable_row(incident_id: str, created_at: Any, reason: str) -> dict[str, Any]:
    """The row a list *for display* (``incident list``, ``GET /api/incidents``, the console's front page) shows for an
    incident whose filed record cannot be read (``StoreError`` of :func:`firestop.records.store.filed_record`), instead
    of failing the whole list: ``{"incident_id", "status": "unreadable", "unreadable": True, "reason", "created_at"}``
    (``created_at``: the orchestration's, ISO 8601, for ordering). ``reason``: what people may read (the API answers a
    fixed sentence; the local CLI the store's message). Never used where safety is decided: an undo's reliance checks
    refuse on an unreadable record (:class:`firestop.lifecycle.undo.UndoUnchecked`)."""
    when = created_at.isoformat() if isinstance(created_at, datetime) else created_at
    return {"incident_id": incident_id, "status": UNREADABLE, "unreadable": True, "reason": reason, "created_at": when}


def status_label(view: dict[str, Any]) -> str:
    """An incident's status as people read it: its ``status`` (``contained``, ``needs_responder``: the words
    ``--status`` takes); after an undo what holds now and what it ended as — ``partly undone (was contained)``,
    ``undone (was contained)``. Reads the view's ``containment`` (:func:`with_containment`; a summary row of
    ``incident list`` carries only that), else the view's actions."""
    status = str(view.get("status") or "unknown")
    if status == UNREADABLE:
        return "record unreadable"
    state = view.get("containment") if "containment" in view else containment_state(view)
    state = state if state in (UNDONE, PARTLY_UNDONE) else None  # a view from elsewhere (--app) names no other word
    return f"{state} (was {status})" if state else status


def exit_code(incident: dict[str, Any]) -> int:
    """CLI exit code of an incident view: 0 contained, 3 needs a responder, 4 no playbook, 1 failed."""
    return VIEW_EXIT_CODES.get(incident.get("status") or "", 1)
