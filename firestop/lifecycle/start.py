"""Build the orchestration input for a new incident (pure)."""

from __future__ import annotations

from datetime import datetime
from typing import Any


#: At most this many of each indicator (caller IPs, operations, principals) go into the orchestration input.
MAX_INDICATORS = 100


def incident_input(alert, *, received_at: datetime, sandbox: bool, exercise: bool = False) -> dict[str, Any]:
    """The :class:`~firestop.lifecycle.incident.IncidentInput` JSON for ``alert`` (a parsed ``Alert``).

    The input carries the normalised alert only — never the raw webhook body — so
    nothing the sender put in unexpected fields lands in Durable history.
    """
    summary = alert.model_dump(mode="json", exclude={"context", "essentials"})
    indicators = summary.get("indicators") or {}
    truncated: dict[str, int] = {}
    for key, values in list(indicators.items()):
        if isinstance(values, list) and len(values) > MAX_INDICATORS:
            # a 256 KB log alert can name ~50,000 IPs: orchestration inputs stay small (history is replayed)
            indicators[key] = values[:MAX_INDICATORS]
            truncated[key] = len(values)
    return {
        "indicators_truncated": truncated,
        "incident_id": alert.incident_key,
        "alert": summary,
        "received_at": received_at.isoformat(),
        "sandbox": sandbox,
        "exercise": exercise,
    }
