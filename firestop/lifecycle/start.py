"""Build the orchestration input for a new incident (pure)."""

from __future__ import annotations

from datetime import datetime
from typing import Any


def incident_input(alert, *, received_at: datetime, sandbox: bool, exercise: bool = False) -> dict[str, Any]:
    """The :class:`~firestop.lifecycle.incident.IncidentInput` JSON for ``alert`` (a parsed ``Alert``).

    The input carries the normalised alert only — never the raw webhook body — so
    nothing the sender put in unexpected fields lands in Durable history.
    """
    return {
        "incident_id": alert.incident_key,
        "alert": alert.model_dump(mode="json", exclude={"context", "essentials"}),
        "received_at": received_at.isoformat(),
        "sandbox": sandbox,
        "exercise": exercise,
    }
