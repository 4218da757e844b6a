"""Clocks: the one notion of "now" the local durable host and runbooks share.

A clock is any object with ``now() -> datetime`` returning an aware UTC
datetime. A *virtual* clock additionally has ``set(dt)`` and
``advance(seconds)``; the sandbox tenant's clock is one, and the local durable
host uses those methods to give parallel activities a shared start time
(their simulated durations overlap instead of adding up).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Protocol, runtime_checkable


@runtime_checkable
class Clock(Protocol):
    """Anything that tells the current time (aware, UTC)."""

    def now(self) -> datetime: ...


@runtime_checkable
class VirtualClockLike(Clock, Protocol):
    """A clock that can be moved: simulated time."""

    def set(self, when: datetime) -> None: ...

    def advance(self, seconds: float) -> None: ...


class SystemClock:
    """Wall-clock time in UTC."""

    def now(self) -> datetime:
        return datetime.now(timezone.utc)


def is_virtual(clock: object) -> bool:
    """True if ``clock`` can be set and advanced (simulated time)."""
    return isinstance(clock, VirtualClockLike)


def utc_text(value: object) -> str | None:
    """An ISO-8601 time as ``YYYY-MM-DD HH:MM:SS`` in UTC (what a responder reads), or None when ``value`` is not one.

    Naive times are taken as UTC (Firestop writes aware UTC times everywhere)."""
    if not isinstance(value, str):
        return None
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is not None:
        when = when.astimezone(timezone.utc)
    return when.strftime("%Y-%m-%d %H:%M:%S")
