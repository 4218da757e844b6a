"""The one bounded read of a small JSON blob the app sealed in the records store (a check's verdict, a Defender
receipt, a pending join): what it holds is believed only once its seal is checked, by the caller."""

from __future__ import annotations

import json
import logging
from typing import Any


def read_object(store: Any, name: str, limit: int, *, planted: str | None = None) -> dict | None:
    """The JSON object at ``name`` in ``store`` (a :mod:`firestop.storage` store), read at most ``limit`` bytes; None
    when there is none, it is empty, over ``limit`` bytes (bounds14: never one the app wrote; with ``planted``, said as
    a warning on the ``firestop.records`` logger: "``planted``: <the store's TooLarge>"), not JSON (R12-03: a planted
    blob of nested "[" included), or not a JSON object. Raises the store's other errors (a read that fails)."""
    from firestop.storage.base import TooLarge

    try:
        raw = store.read(name, limit=limit)
    except TooLarge as exc:
        if planted is not None:
            logging.getLogger("firestop.records").warning("%s: %s", planted, exc)
        return None
    try:
        doc = json.loads(raw) if raw else None
    except (ValueError, RecursionError):
        return None
    return doc if isinstance(doc, dict) else None
