"""The platform description azure-core puts in every client's User-Agent, looked up while the CLI still imports.

Why: each Azure SDK client builds a ``UserAgentPolicy``, whose ``__init__`` calls ``platform.platform()``; on
Linux (CPython 3.9+) that reads ``platform.uname().processor``, which runs ``uname -p`` in a child process
once per process (``platform._Processor.from_subprocess``; the answer is then cached). In ``alert handle`` the
first client is built after ~1 s of imports, and the fork + exec + wait of that child cost 37-52 ms of wall time
(``time.perf_counter`` around ``platform.platform()`` and cProfile of a fresh-home run, load 4-7), on the path.

How: :func:`warm` asks for the same value on a daemon thread at the command's start, so the child runs while
the main thread imports (the thread waits on the child's pipe with the GIL released). The value and its cache
are the standard library's own; when the SDK asks before the thread is done, ``functools.cached_property``'s
lock makes it wait for the same lookup (or it does its own: the answer is the same). Nothing else changes: the
User-Agent header is the one azure-core builds.
"""

from __future__ import annotations

import threading

_started: threading.Thread | None = None
_lock = threading.Lock()


def _look_up() -> None:
    import platform

    try:
        platform.platform()  # uname() and its processor (uname -p), cached by the platform module
    except Exception:  # noqa: BLE001 - the SDK asks again on the path and meets the same error there
        pass


def warm() -> threading.Thread:
    """Start (once per process) the platform lookup on a daemon thread; the thread (for tests to join)."""
    global _started
    with _lock:
        if _started is None:
            _started = threading.Thread(target=_look_up, name="firestop-platform-warm", daemon=True)
            _started.start()
        return _started
