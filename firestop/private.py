"""Local state is the operator's alone: files 0600, folders 0700 under ``FIRESTOP_HOME`` (pure standard library).

What ``FIRESTOP_HOME`` holds (README "Where state is written"): the durable host's SQLite database, the sandbox
tenant's state, records, evidence, ledgers, notification copies, tabletop runs, and the seal, function and system
keys. The keys were created 0600 already; the rest followed the umask (typically 0644 files, 0755 folders), so any
other local user could read records and evidence and the durable history. Writers now create folders with
:func:`private_dirs` and files with :data:`FILE_MODE`; ``doctor`` names a home made before (:func:`loose`) with the fix
``chmod -R go-rwx <home>``.
"""

from __future__ import annotations

import os
from pathlib import Path

FILE_MODE = 0o600
DIR_MODE = 0o700
#: How many entries :func:`loose` looks at (a home holds a file per record, item and ledger: bounded).
MAX_CHECKED = 20000


def private_dirs(path: "str | Path") -> Path:
    """Create folder ``path`` and its missing parents, each new one 0700 (as ``mkdir -p -m 0700`` would the leaf, for
    every level); an existing folder is left as it is. Returns ``path``. Raises OSError as ``mkdir`` does."""
    path = Path(path)
    missing = []
    for folder in (path, *path.parents):
        if folder.is_dir():
            break
        missing.append(folder)
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=DIR_MODE)
        except FileExistsError:
            if not folder.is_dir():
                raise
    return path


def create_private(path: "str | Path") -> None:
    """Create the empty file ``path`` 0600 when it does not exist yet (for files a library then opens itself, e.g. a
    SQLite database: SQLite gives its -wal and -shm files the database file's mode)."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
    except FileExistsError:
        pass


def write_private_text(path: "str | Path", text: str) -> None:
    """Write ``text`` (UTF-8) to file ``path``, created 0600 when new (``Path.write_text`` follows the umask: 0644 under
    the usual 022); an existing file is truncated and keeps its mode. Raises OSError as ``open`` does."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    with open(fd, "w", encoding="utf-8") as handle:
        handle.write(text)


def loose(home: "str | Path", limit: int = MAX_CHECKED) -> tuple[list[str], int]:
    """``(first few paths relative to home, count)`` of the entries under ``home`` (itself included) that other users
    may read, write or enter (any group/other permission bit); at most ``limit`` entries are looked at. Symbolic links
    are not followed. Never raises (an entry that cannot be read is skipped)."""
    home = Path(home)
    found: list[str] = []
    count = seen = 0

    def mark(path: Path) -> None:
        nonlocal count
        try:
            mode = path.lstat().st_mode
        except OSError:
            return
        if mode & 0o077 and not os.path.islink(path):
            count += 1
            if len(found) < 5:
                found.append(str(path.relative_to(home)) if path != home else ".")

    mark(home)
    for dirpath, dirnames, filenames in os.walk(home):
        for name in (*dirnames, *filenames):
            seen += 1
            if seen > limit:
                return found, count
            mark(Path(dirpath) / name)
    return found, count
