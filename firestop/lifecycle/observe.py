"""What the incident orchestrator tells the outside while it runs: a ``decision`` log line per timeline entry, an
``incident`` line and the OpenTelemetry metrics and trace per outcome, a count per failed runbook answer
(:mod:`firestop.telemetry` lists the fields and instruments).

Replay-safe: the orchestrator's code runs again on every replay (and the local host's sessions run it once), so
everything here happens only while ``context.is_replaying`` is False — the first time the orchestrator reaches
that point. An episode that is not committed (a crashed worker) runs again: a line or a count may then repeat;
nothing here changes what the orchestrator decides.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

from firestop.telemetry.logs import event

log = logging.getLogger("firestop.incident")


def _otel() -> Any:
    """:mod:`firestop.telemetry.otel` when something may listen (whoever configured telemetry imported it), else
    None — so ``alert handle`` imports nothing more (its start-up cost stays what it was)."""
    otel = sys.modules.get("firestop.telemetry.otel")
    return otel if otel is not None and otel.active() else None


def live(context: Any) -> bool:
    """True when the orchestrator runs this code for the first time (not a replay)."""
    return not getattr(context, "is_replaying", False)


def decision(context: Any, incident_id: str, entry: dict[str, Any], caller: str | None = None) -> None:
    """One ``decision`` line for a timeline entry (``IncidentDoc.event``'s dict); ``caller``: who decided or stopped."""
    if not live(context):
        return
    duration = entry.get("duration_s")
    event(log, "decision", {
        "incident_id": incident_id, "phase": entry.get("phase"), "step": entry.get("step"),
        "outcome": entry.get("outcome"), "caller": caller, "runbook": entry.get("runbook"),
        "duration_ms": round(duration * 1000, 1) if isinstance(duration, (int, float)) else None,
        "target": entry.get("target"), "detail": entry.get("detail") or None,
    })


def runbook_answer(context: Any, runbook: str, action: str, answer: dict[str, Any] | None) -> None:
    """Count a failed runbook answer (``action``: apply, verify or undo) by its error kind."""
    otel = _otel()
    if otel is None or not answer or answer.get("ok") or answer.get("skipped") or not live(context):
        return
    otel.runbook_failure(runbook, str((answer.get("error") or {}).get("kind") or ("not_verified" if action == "verify" else "failed")), action)


def outcome(context: Any, record: dict[str, Any]) -> None:
    """The incident's outcome: an ``incident`` line, the outcome counter, MTTD/MTTC, and its trace."""
    if not live(context):
        return
    metrics = record.get("metrics") or {}
    event(log, "incident", {
        "incident_id": record.get("incident_id"), "outcome": record.get("status"),
        "playbook": (record.get("playbook") or {}).get("name"), "mttd_s": metrics.get("mttd_s"),
        "mttc_s": metrics.get("mttc_s"), "detail": record.get("reason") or None,
    })
    otel = _otel()
    if otel is None:
        return
    try:
        otel.incident_outcome(record)
    except Exception:  # noqa: BLE001 - telemetry never changes an incident's course
        log.warning("telemetry of incident %r failed", record.get("incident_id"), exc_info=True)
