"""Read back a filed post-incident record (local FIRESTOP_HOME/records only)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def filed_record(records_dir: Path, incident_id: str) -> dict[str, Any] | None:
    """The record filed for ``incident_id``, or None when there is none (or it cannot be read).

    The filed record is the newest word on a finished incident: ``incident undo`` appends
    to it after the orchestration has ended, so views prefer it to the orchestration output.
    """
    if not incident_id or "/" in incident_id or incident_id.startswith("."):
        return None
    path = Path(records_dir) / f"{incident_id}.json"
    try:
        record = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) and record.get("incident_id") == incident_id else None
