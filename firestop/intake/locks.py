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
from typing import Iterable

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

    def hold(self, keys: Iterable[str]) -> "_Held":
        """Hold the locks of ``keys`` (duplicates ignored) for the ``async with`` body (an async context manager
        object, not a generator one: every webhook holds one or two of these, and ``asynccontextmanager``'s
        generator, helper and ``anext`` round trips were a few microseconds each time)."""
        return _Held(self, keys)


class _Held:
    """``KeyedLocks.hold(keys)``: takes the locks in sorted order on enter; on a failed or cancelled acquire,
    releases what it took (and gives back the one it waited for) and re-raises; releases all on exit."""

    __slots__ = ("_locks", "_keys", "_loop", "_acquired")

    def __init__(self, locks: KeyedLocks, keys: Iterable[str]) -> None:
        self._locks = locks
        self._keys = keys
        self._loop: asyncio.AbstractEventLoop | None = None
        self._acquired: list[tuple[str, asyncio.Lock]] = []

    async def __aenter__(self) -> None:
        locks = self._locks
        loop = self._loop = asyncio.get_running_loop()
        acquired = self._acquired
        try:
            for key in sorted(set(self._keys)):
                lock = locks._take(loop, key)
                try:
                    await lock.acquire()
                except BaseException:
                    locks._drop(loop, key)
                    raise
                acquired.append((key, lock))
        except BaseException:
            self._release()
            raise

    async def __aexit__(self, *exc_info: object) -> None:
        self._release()

    def _release(self) -> None:
        acquired, self._acquired = self._acquired, []
        for key, lock in reversed(acquired):
            lock.release()
            self._locks._drop(self._loop, key)  # type: ignore[arg-type]
