"""``incident list --since``'s window, and which clock it counts back from.

Locally the window counts back from the **sandbox clock** (the simulated tenant's virtual time, which the incidents'
times are on); with ``--app`` it counts back from this machine's **wall clock**. The two can be days apart (the
sandbox clock starts at 03:14:40 UTC on 2026-11-29 and moves only as incidents run), so a ``2h`` window can hold an
incident received six days ago by the wall clock: the CLI says which clock it counted from, and both clocks when
they differ by more than :data:`CLOCKS_DIFFER_S`.

:func:`window` → ``{"since": str (as given), "from": ISO 8601 UTC, "counted_from": "sandbox clock" | "wall clock",
"clock_now": ISO 8601 UTC (the clock counted from), "wall_now": ISO 8601 UTC, "clocks_differ_s": float}`` (seconds,
``clock_now - wall_now``: negative when the sandbox clock is behind); :func:`text` is its one line for people.
Pure: the caller reads the clocks.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Any

from firestop.times import instant

#: Clocks further apart than this (seconds) are both named.
CLOCKS_DIFFER_S = 60.0

SANDBOX_CLOCK = "sandbox clock"
WALL_CLOCK = "wall clock"

_RELATIVE = re.compile(r"^(\d+)([smhd])$")


def parse_since(text: str, now: datetime) -> datetime:
    """``2h``/``30m``/``7d``/``45s`` before ``now``, or an ISO 8601 time (UTC if no offset). ValueError otherwise,
    also for a duration reaching past the calendar (R17-05: it was an OverflowError, answered "internal error")."""
    m = _RELATIVE.match(text.strip())
    if m:
        amount, unit = int(m.group(1)), m.group(2)
        try:
            return now - timedelta(**{{"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}[unit]: amount})
        except OverflowError:
            raise ValueError(f"{text.strip()[:40]!r} reaches before the year 1") from None
    value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def window(since: str, clock_now: datetime, wall_now: datetime, counted_from: str) -> dict[str, Any]:
    """The window ``since`` names, counted back from ``clock_now`` (the clock ``counted_from`` names; aware datetimes).
    ValueError for text that is neither a duration nor an ISO 8601 time."""
    start = parse_since(since, clock_now)
    return {
        "since": since,
        "from": start.astimezone(timezone.utc).isoformat(),
        "counted_from": counted_from,
        "clock_now": clock_now.astimezone(timezone.utc).isoformat(),
        "wall_now": wall_now.astimezone(timezone.utc).isoformat(),
        "clocks_differ_s": round((clock_now - wall_now).total_seconds(), 1),
    }


def _apart(seconds: float) -> str:
    """``6 days``, ``3.2 hours``, ``12 minutes`` (absolute)."""
    seconds = abs(seconds)
    if seconds >= 2 * 86400:
        return f"{seconds / 86400:.0f} days"
    if seconds >= 2 * 3600:
        return f"{seconds / 3600:.1f} hours"
    return f"{seconds / 60:.0f} minutes"


def text(w: dict[str, Any]) -> str:
    """``Window: received since 2026-11-29 01:14:40.0 UTC (2h before the sandbox clock, now 2026-11-29 03:14:40.0 UTC;
    the wall clock reads 2026-12-05 07:58:00.0 UTC, 6 days later)``."""
    relative = _RELATIVE.match(str(w["since"]).strip()) is not None
    counted = (f"{w['since']} before the {w['counted_from']}, now {instant(w['clock_now'])}" if relative
               else f"given as a time; the {w['counted_from']} reads {instant(w['clock_now'])}")
    said = f"Window: received since {instant(w['from'])} ({counted}"
    differ = w["clocks_differ_s"]
    if w["counted_from"] != WALL_CLOCK and abs(differ) > CLOCKS_DIFFER_S:
        said += (f"; the wall clock reads {instant(w['wall_now'])}, "
                 f"{_apart(differ)} {'later' if differ < 0 else 'earlier'}")
    return said + ")"
