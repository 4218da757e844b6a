"""The incident view (pure): what the CLI and the HTTP API show for an incident.

The post-incident record once the orchestration completed; otherwise where it
stands::

    {"incident_id", "status": "awaiting_approval" | "running" | "failed" | "terminated",
     "phase", "step", "playbook": {"name"} | null, "pending_approval": {...} | null,
     "received_at", "timeline_so_far": [...] (what already ran: the newest entries the orchestrator's custom status carries),
     "runtime_status", "created_at", "updated_at" (ISO 8601 UTC)}
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


def exit_code(incident: dict[str, Any]) -> int:
    """CLI exit code of an incident view: 0 contained, 3 needs a responder, 4 no playbook, 1 failed."""
    return VIEW_EXIT_CODES.get(incident.get("status") or "", 1)
