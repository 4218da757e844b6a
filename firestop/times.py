"""How Firestop's text writes time — one format for every CLI command, the console, the records and the scorecards
(``--json`` and the HTTP API keep ISO 8601 UTC times and numbers of seconds).

* a duration: ``21.2 s`` (:func:`seconds`; one decimal always, whatever its size — an MTTC, a wait, a rule's window);
* an offset from a start (an incident's receipt, an exercise's start): ``+164.0 s`` (:func:`offset`), a negative
  one ``-37.8 s`` (an alert fired before it was received);
* an instant: ``2026-11-29 04:03:21.2 UTC`` (:func:`instant`; a tenth of a second as above; simulated time on the
  sandbox tenant).

Not a number or not an ISO 8601 time: ``—``, or the text as it came (it is escaped where it lands).
Pure and dependency-free: every layer may import it (it was ``firestop.tabletop.times``; the CLI, the records and
the console now write time through it too).
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
    """``+164.0 s`` / ``-37.8 s`` from a start (receipt, the exercise's start); ``—`` when not a number."""
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
