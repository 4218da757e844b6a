"""Simulated time for the sandbox tenant.

The sandbox never sleeps: whatever the Azure SDK would wait for (retry
back-off, ``Retry-After``, LRO polling intervals) and whatever the simulated
service "takes" (the latency model in :mod:`firestop.sandbox.core.latency`) moves
this clock forward instead. All values are aware UTC datetimes; durations are
seconds (float).

It satisfies :class:`firestop.clock.VirtualClockLike` (``now``/``set``/
``advance``), so the local durable host can share it with the tenant.
"""

from __future__ import annotations

import functools
import math
import threading
from datetime import datetime, timedelta, timezone
from typing import Callable

#: Start of the built-in incident scenario (see ``default_tenant.yaml``).
DEFAULT_START = datetime(2026, 11, 29, 3, 14, 40, tzinfo=timezone.utc)


def to_utc(when: datetime) -> datetime:
    """Return ``when`` as an aware UTC datetime; naive datetimes are rejected."""
    if not isinstance(when, datetime):
        raise TypeError(f"expected a datetime, got {type(when).__name__}")
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError("naive datetime: the sandbox clock only accepts aware (UTC) datetimes")
    return when.astimezone(timezone.utc)


def format_utc(when: datetime) -> str:
    """ISO-8601 UTC text with a ``Z`` suffix, e.g. ``2026-11-29T03:14:40Z``.

    Fractional seconds are kept (microseconds) only when non-zero. Raises TypeError (not a datetime) or
    ValueError (naive). A datetime whose tzinfo is ``timezone.utc`` (what the sandbox holds) has its text kept
    (LRU, 4,096): two such datetimes are equal exactly when their fields are, so a kept text is the text. Other
    zones are formatted each time (equality there ignores ``fold``, which can name another instant). A tabletop
    scenario formats ~8,200 times ~1,500 distinct instants.
    """
    if type(when) is datetime and when.tzinfo is timezone.utc:
        return _format_utc_kept(when)
    return _format_utc(when)


@functools.lru_cache(maxsize=4096)
def _format_utc_kept(when: datetime) -> str:
    return _format_utc(when)


def _format_utc(when: datetime) -> str:
    when = to_utc(when)
    text = when.strftime("%Y-%m-%dT%H:%M:%S")
    if when.microsecond:
        text += f".{when.microsecond:06d}"
    return text + "Z"


@functools.lru_cache(maxsize=4096)
def parse_utc(text: str) -> datetime:
    """Parse ISO-8601 text (``Z`` or offset; up to 7 fractional digits as .NET writes) to aware UTC.

    ``text`` is a str; raises ValueError when it is not ISO-8601 or its offset carries it past the calendar in UTC
    (year 1 .. 9999). Pure, and its answer (a datetime) is immutable,
    so answers are kept per text (LRU, 4,096 texts): the sandbox parses the same stored timestamps again and again
    (a tabletop scenario: ~27,000 calls on ~1,500 distinct texts). Errors are not kept.
    """
    raw = text.strip()
    if raw.endswith(("Z", "z")):
        raw = raw[:-1] + "+00:00"
    # .NET writes 7 fractional digits; Python accepts at most 6.
    if "." in raw:
        head, _, rest = raw.partition(".")
        digits = ""
        while rest and rest[0].isdigit():
            digits, rest = digits + rest[0], rest[1:]
        raw = f"{head}.{(digits + '000000')[:6]}{rest}"
    parsed = datetime.fromisoformat(raw)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    try:
        return parsed.astimezone(timezone.utc)
    except OverflowError:  # (an offset carrying 0001-01-01 / 9999-12-31 past the calendar: attack19 A19-02)
        raise ValueError(f"{text[:60]!r} is past the calendar in UTC") from None


class VirtualClock:
    """A thread-safe, settable clock (aware UTC).

    ``now()`` -> current simulated time; ``set(dt)`` jumps (also backwards, which
    the durable host uses to give parallel activities a shared start);
    ``advance(seconds)`` and its alias ``sleep(seconds)`` move forward
    (``seconds >= 0``).
    """

    def __init__(self, start: datetime | None = None) -> None:
        self._lock = threading.Lock()
        self._now = to_utc(start) if start is not None else DEFAULT_START
        self._listeners: list[Callable[[datetime], None]] = []

    def subscribe(self, callback: Callable[[datetime], None]) -> None:
        """Call ``callback(new_now)`` after every ``set``/``advance`` (outside the clock's lock).

        The persisted tenant uses this to save the clock when something else (the
        durable host) moves it between requests.
        """
        self._listeners.append(callback)

    def _notify(self, now: datetime) -> None:
        for callback in list(self._listeners):
            callback(now)

    def now(self) -> datetime:
        """Current simulated time (aware UTC)."""
        with self._lock:
            return self._now

    def set(self, when: datetime) -> None:
        """Jump to ``when`` (aware datetime; converted to UTC)."""
        when = to_utc(when)
        with self._lock:
            self._now = when
        self._notify(when)

    def advance(self, seconds: float) -> None:
        """Move forward by ``seconds`` (>= 0)."""
        seconds = float(seconds)
        if seconds < 0:
            raise ValueError(f"cannot advance by a negative duration ({seconds} s); use set()")
        with self._lock:
            self._now = self._now + timedelta(seconds=seconds)
            now = self._now
        self._notify(now)

    def sleep(self, seconds: float) -> None:
        """Simulated sleep: same as :meth:`advance`; returns immediately."""
        self.advance(seconds)

    def __repr__(self) -> str:
        return f"VirtualClock({format_utc(self.now())})"


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def due_times(last: datetime, now: datetime, period_s: float, *, cap: int) -> list[datetime]:
    """Evaluation times in ``(last, now]`` on whole multiples of ``period_s`` seconds since the Unix epoch (as Azure
    Monitor's scheduled evaluations and the sandbox's detectors run), oldest first, at most ``cap`` of them."""
    epoch = _EPOCH
    k = math.floor((last - epoch).total_seconds() / period_s) + 1
    if now.tzinfo is not None and k * period_s > now.timestamp() + 0.001:  # nothing due: ~1 µs, not ~6 (a ms clear of rounding)
        return []
    out: list[datetime] = []
    while len(out) < cap:
        t = epoch + timedelta(seconds=k * period_s)
        if t > now:
            break
        out.append(t)
        k += 1
    return out
