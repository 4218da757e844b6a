"""How a scorecard's text writes time — one format throughout (``--json`` keeps numbers, in seconds).

* a duration: ``21.2 s`` (:func:`seconds`; one decimal always, whatever its size — an MTTC, a wait, a rule's window);
* an offset from the exercise's start: ``+164.0 s`` (:func:`offset`; the records' timeline writes ``+21.2 s`` too,
  :func:`firestop.records.render._offset`), a negative one ``-37.8 s``;
* an instant: ``2026-11-29 04:03:21.2 UTC`` (:func:`instant`; simulated time, a tenth of a second as above).

Not a number or not an ISO 8601 time: ``—``, or the text as it came (it is escaped where it lands).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any


def seconds(value: Any) -> str:
    """``21.2 s``; ``—`` for None or anything that is not a number."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return "—"
    return f"{value:.1f} s"


def offset(value: Any) -> str:
    """``+164.0 s`` / ``-37.8 s`` from the exercise's start; ``—`` when not a number."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return "—"
    return f"{value:+.1f} s"


def instant(value: Any) -> str:
    """``YYYY-MM-DD HH:MM:SS.s UTC`` of an ISO 8601 time (naive: UTC); ``—`` for None; other text as it is."""
    if value is None or value == "":
        return "—"
    if isinstance(value, datetime):
        when = value
    else:
        try:
            when = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            return str(value)
    when = when.astimezone(timezone.utc) if when.tzinfo else when
    return when.strftime("%Y-%m-%d %H:%M:%S") + f".{when.microsecond // 100_000} UTC"
