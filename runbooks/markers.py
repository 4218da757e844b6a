"""Progress markers: the before-state a runbook saw, kept before its first change, so a retried apply never loses it.

A runbook that changes Azure in more than one call (or whose change cannot be
read back as "what it was before" once made: a deleted deployment, a moved
policy, a disabled service principal) calls :func:`remember` with the state it
read *before* its first change, and starts every apply with :func:`recall`.
A retry — after a fault, a crash, a ``kill -9`` between two calls, an
azure-core re-send — finds the marker and works from the state it holds, not
from the half-changed target, so the ``before`` it reports (and undo restores)
is always the original.

Where: the incident's hash-chained ledger (:mod:`runbooks.ledger`), one entry of
kind ``marker`` per (incident, step, runbook, target), appended with ``fsync``
before the change (``data``: ``{"before": {...}, "plan": {...}}``). Only the
first marker of a key counts; :func:`remember` writes none when one exists. A marker is believed only when it
carries the app's seal (:meth:`runbooks.ledger.Ledger.sealed`) and names the incident whose ledger holds it (RT13-02:
a blob writer's planted marker, or a sealed one copied from an earlier incident's ledger, chose the ``before`` an undo
writes back); any other is ignored and logged, and the apply keeps its own.
States are the runbooks' own JSON (never a secret value: fingerprints only).
The ledger is wherever :meth:`runbooks.ledger.Ledger.of` keeps it — an append blob in
Blob Storage when ``FIRESTOP_STORAGE_BLOB_URL`` is set (shared by every instance of the
Function App), else ``FIRESTOP_HOME/ledger`` — so every retry of a step reads the same markers.

Errors: :func:`remember` raises ``RunbookError('failed')`` when the marker
cannot be written — the runbook must not act without it.
"""

from __future__ import annotations

from typing import Any

from firestop.azure.errors import RunbookError
from runbooks.base import RunContext

KIND = "marker"


def _same_target(a: str | None, b: str | None) -> bool:
    return (a or "").rstrip("/").lower() == (b or "").rstrip("/").lower()


def recall(ctx: RunContext, runbook: str, target: str | None) -> dict[str, Any] | None:
    """The first believed marker's data (``{"before", "plan"}``) of this incident, step, runbook and target; None if
    none. Believed: sealed by the app's key and naming ``ctx.incident_id`` (module docstring); others are skipped."""
    from runbooks.ledger import Ledger

    ledger = Ledger.of(ctx.settings)
    try:
        entries = ledger.entries(ctx.incident_id)
    except (OSError, ValueError):
        return None
    key = None
    for entry in entries:
        if (entry.get("kind"), entry.get("runbook"), entry.get("step_id")) == (KIND, runbook, ctx.step_id) and _same_target(
            entry.get("target"), target
        ):
            key = key or ledger.key()
            if not ledger.sealed(entry, key, on=ctx.incident_id):
                import logging

                logging.getLogger("firestop.runbooks").warning(
                    "ledger %s: a %s marker of step %s (seq %s) carries no seal of this app for this incident; "
                    "not believed (planted or copied in the ledger store?)", ledger.name(ctx.incident_id), runbook,
                    ctx.step_id, str(entry.get("seq"))[:20])
                continue
            data = entry.get("data")
            return data if isinstance(data, dict) else None
    return None


def remember(ctx: RunContext, runbook: str, target: str | None, before: dict[str, Any], plan: dict[str, Any] | None = None) -> dict[str, Any]:
    """Keep ``before`` (and what the runbook is about to do, ``plan``) unless a marker exists; returns the marker's data."""
    from runbooks.ledger import Ledger

    earlier = recall(ctx, runbook, target)
    if earlier is not None:
        return earlier
    data = {"before": before, "plan": plan or {}}
    try:
        Ledger.of(ctx.settings).append(
            ctx.incident_id, kind=KIND, runbook=runbook, action="apply", step_id=ctx.step_id,
            target=target, at=ctx.now().isoformat(), data=data,
        )
    except (OSError, ValueError) as exc:
        raise RunbookError("failed", f"{runbook}: could not keep the before-state marker, not acting: {exc}") from None
    return data
