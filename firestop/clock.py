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
