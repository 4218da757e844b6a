"""In-process mutual exclusion by key, for the webhook's check-then-act steps.

The Functions Python worker runs ``async`` functions on one event loop per
worker process, so concurrent webhook calls interleave at ``await`` points.
:class:`KeyedLocks` serialises the calls that share a key (an alert's dedupe
key, a correlation key) *within one process*; it is no substitute for the
durable store's own atomicity across processes or instances.
"""

from __future__ import annotations

import asyncio
import threading
from contextlib import asynccontextmanager
from typing import AsyncIterator, Iterable

__all__ = ["KeyedLocks"]


class KeyedLocks:
    """``async with locks.hold(keys):`` holds one ``asyncio.Lock`` per key.

    Keys are taken in sorted order (no deadlock between callers with
    overlapping key sets); locks are per event loop and dropped once nobody
    holds or waits for them, so memory stays bounded by the calls in flight.
    """

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[tuple[int, str], list] = {}  # (id(loop), key) -> [lock, users]

    def _take(self, loop: asyncio.AbstractEventLoop, key: str) -> asyncio.Lock:
        with self._guard:
            entry = self._locks.get((id(loop), key))
            if entry is None:
                entry = self._locks[(id(loop), key)] = [asyncio.Lock(), 0]
            entry[1] += 1
            return entry[0]

    def _drop(self, loop: asyncio.AbstractEventLoop, key: str) -> None:
        with self._guard:
            entry = self._locks[(id(loop), key)]
            entry[1] -= 1
            if entry[1] == 0:
                del self._locks[(id(loop), key)]

    def __len__(self) -> int:
        """Number of keys currently held or waited for (all loops)."""
        with self._guard:
            return len(self._locks)

    @asynccontextmanager
    async def hold(self, keys: Iterable[str]) -> AsyncIterator[None]:
        """Hold the locks of ``keys`` (duplicates ignored) for the ``async with`` body."""
        loop = asyncio.get_running_loop()
        ordered = sorted(set(keys))
        acquired: list[tuple[str, asyncio.Lock]] = []
        try:
            for key in ordered:
                lock = self._take(loop, key)
                try:
                    await lock.acquire()
                except BaseException:
                    self._drop(loop, key)
                    raise
                acquired.append((key, lock))
            yield
        finally:
            for key, lock in reversed(acquired):
                lock.release()
                self._drop(loop, key)
