"""Which ``firestop serve`` processes run against a ``FIRESTOP_HOME``: one lock file each, held while it runs.

``serve`` calls :func:`hold` once it listens: it creates ``FIRESTOP_HOME/serve.<pid>.<random>.lock`` holding
``{"pid", "url"}`` and keeps an exclusive ``flock`` on it until the process ends (the kernel drops
the lock when the process dies, however it dies — kill -9 included — so a lock file left behind is
never mistaken for a running server). Several ``serve`` may share one home (each its own file).

Acquisition is atomic: the file is made under a hidden temporary name with ``O_CREAT | O_EXCL`` (never
another's file, even for two servers with one pid — containers each starting as pid 1 on a shared home),
locked and written there, and only then renamed to its ``serve.*.lock`` name (``rename`` keeps the open file and
its lock). So :func:`running` never sees a file that is not yet locked — before, a probe landing between
``open`` and ``flock`` took the lock itself, removed the file as stale and left the new server unlisted (or
made its ``flock`` fail), and a second server with the same pid truncated the first's file.

:func:`running` lists the servers still holding their lock (``[{"pid", "url"}]``) and removes the
files of those that ended. ``sandbox reset`` refuses (exit 2, naming each pid) while the list is
not empty: the tenant would be replaced under a server that holds it open. POSIX ``flock`` only
(the local tools' platform); where ``fcntl`` is missing nothing is held and nothing is refused.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from typing import IO, Any
from firestop.private import private_dirs

try:
    import fcntl
except ImportError:  # pragma: no cover — not POSIX
    fcntl = None  # type: ignore[assignment]

_PREFIX = "serve."
_SUFFIX = ".lock"


def hold(home: Path, *, url: str) -> IO[str] | None:
    """Create and lock this process's file under ``home`` (atomically, module doc); keep the returned handle
    open while serving. Raises OSError when ``home`` cannot be written."""
    if fcntl is None:
        return None
    private_dirs(home)
    name = f"{_PREFIX}{os.getpid()}.{secrets.token_hex(4)}{_SUFFIX}"
    staging = home / f".{name}.tmp"  # not matched by running()'s glob
    fd = os.open(staging, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o600)
    handle = os.fdopen(fd, "w", encoding="utf-8")
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)  # a fresh, private file: nobody else holds it
        handle.write(json.dumps({"pid": os.getpid(), "url": url}))
        handle.flush()
        os.rename(staging, home / name)
    except BaseException:
        handle.close()
        try:
            os.unlink(staging)
        except OSError:
            pass
        raise
    handle.name_on_disk = str(home / name)  # type: ignore[attr-defined]
    return handle


def release(handle: IO[str] | None) -> None:
    """Remove this process's file and drop its lock (the lock also goes when the process ends)."""
    if handle is None:
        return
    try:
        os.unlink(getattr(handle, "name_on_disk", handle.name))
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
                    pid = path.name[len(_PREFIX):-len(_SUFFIX)].split(".", 1)[0]
                    out.append({"pid": int(info.get("pid") or pid) if str(info.get("pid") or pid).isdigit() else pid,
                                "url": info.get("url")})
                    continue
                os.unlink(path)  # its server ended without removing it: nobody holds it
        except OSError:
            continue
    return sorted(out, key=lambda s: str(s["pid"]))
