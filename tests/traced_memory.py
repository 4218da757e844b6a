"""The peak of Python memory a call takes (tracemalloc), for the tests that bound what a planted object costs."""

from __future__ import annotations

import tracemalloc
from typing import Any, Callable


def peak(call: Callable[[], Any]) -> tuple[Any, int]:
    """(what ``call()`` answered or raised, the peak of memory traced while it ran, bytes)."""
    tracemalloc.start()
    try:
        try:
            answer = call()
        except Exception as exc:  # noqa: BLE001 — returned for the test to look at
            answer = exc
        return answer, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
