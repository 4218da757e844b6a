"""Tabletop scorecards the console shows: ``FIRESTOP_HOME/tabletop/<run id>/scorecard.json``, newest first.

Bounded: at most :data:`MAX_CARDS` runs are read, each file at most :data:`MAX_CARD_BYTES`; a run id must
match :data:`RUN_ID` (the runner's ``<UTC timestamp>-<scenario>-<hex>``), so a route parameter never names a
path outside the folder. Unreadable files are skipped, never raised.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

MAX_CARDS = 30
MAX_CARD_BYTES = 2 * 1024 * 1024
RUN_ID = re.compile(r"[0-9]{8}T[0-9]{6}Z-[A-Za-z0-9_.-]{1,100}")


def _read(path: Path) -> dict[str, Any] | None:
    try:
        if path.stat().st_size > MAX_CARD_BYTES:
            return None
        card = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError, RecursionError):
        return None
    return card if isinstance(card, dict) else None


def latest(home: Path) -> list[dict[str, Any]]:
    """The newest scorecards (at most :data:`MAX_CARDS`)."""
    root = Path(home) / "tabletop"
    try:
        runs = sorted((p for p in root.iterdir() if RUN_ID.fullmatch(p.name)), key=lambda p: p.name, reverse=True)
    except OSError:
        return []
    cards = []
    for run in runs[:MAX_CARDS]:
        card = _read(run / "scorecard.json")
        if card is not None:
            cards.append({**card, "run_id": run.name})
    return cards


def one(home: Path, run_id: str) -> dict[str, Any] | None:
    """The scorecard of ``run_id``, None when the id is malformed or there is none."""
    if not isinstance(run_id, str) or not RUN_ID.fullmatch(run_id):
        return None
    card = _read(Path(home) / "tabletop" / run_id / "scorecard.json")
    return {**card, "run_id": run_id} if card is not None else None
