"""Which ``firestop serve`` processes run against a ``FIRESTOP_HOME``: one lock file each, held while it runs.

``serve`` calls :func:`hold` once it listens: it creates ``FIRESTOP_HOME/serve.<pid>.lock`` holding
``{"pid", "url"}`` and keeps an exclusive ``flock`` on it until the process ends (the kernel drops
the lock when the process dies, however it dies — kill -9 included — so a lock file left behind is
never mistaken for a running server). Several ``serve`` may share one home (each its own file).

:func:`running` lists the servers still holding their lock (``[{"pid", "url"}]``) and removes the
files of those that ended. ``sandbox reset`` refuses (exit 2, naming each pid) while the list is
not empty: the tenant would be replaced under a server that holds it open. POSIX ``flock`` only
(the local tools' platform); where ``fcntl`` is missing nothing is held and nothing is refused.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import IO, Any

try:
    import fcntl
except ImportError:  # pragma: no cover — not POSIX
    fcntl = None  # type: ignore[assignment]

_PREFIX = "serve."
_SUFFIX = ".lock"


def hold(home: Path, *, url: str) -> IO[str] | None:
    """Create and lock this process's file under ``home``; keep the returned handle open while serving."""
    if fcntl is None:
        return None
    home.mkdir(parents=True, exist_ok=True)
    path = home / f"{_PREFIX}{os.getpid()}{_SUFFIX}"
    handle = open(path, "w", encoding="utf-8")
    fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    handle.write(json.dumps({"pid": os.getpid(), "url": url}))
    handle.flush()
    return handle


def release(handle: IO[str] | None) -> None:
    """Remove this process's file and drop its lock (the lock also goes when the process ends)."""
    if handle is None:
        return
    try:
        os.unlink(handle.name)
    except OSError:
        pass
    handle.close()


def running(home: Path) -> list[dict[str, Any]]:
    """The servers whose lock under ``home`` is held now, oldest pid first; stale files are removed."""
    if fcntl is None or not home.is_dir():
        return []
    out = []
    for path in sorted(home.glob(f"{_PREFIX}*{_SUFFIX}")):
        try:
            with open(path, "r+", encoding="utf-8") as probe:
                try:
                    fcntl.flock(probe.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    try:
                        info = json.loads(probe.read(4096) or "{}")
                    except ValueError:
                        info = {}
                    pid = path.name[len(_PREFIX):-len(_SUFFIX)]
                    out.append({"pid": int(info.get("pid") or pid) if str(info.get("pid") or pid).isdigit() else pid,
                                "url": info.get("url")})
                    continue
                os.unlink(path)  # its server ended without removing it: nobody holds it
        except OSError:
            continue
    return sorted(out, key=lambda s: str(s["pid"]))
