"""Files under one folder, with the store contract of :mod:`firestop.storage.base`.

``create`` writes a temporary file beside the target, ``fsync``s it and hard-links it
to its name (``link`` fails on an existing name, so nothing is ever replaced, even
between processes). ``append`` takes an exclusive ``flock`` on the file, checks its
size against the offset given and writes the bytes with one ``write`` + ``fsync``:
processes on this machine append as they would to an append blob. Files are created 0600 (``mkstemp``, and
:data:`firestop.private.FILE_MODE` for appends), folders 0700 (:func:`firestop.private.private_dirs`). (A file lock
works on one machine only — on Azure the blob backend is used.)
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from firestop.private import FILE_MODE, private_dirs
from firestop.storage.base import DEFAULT_READ_LIMIT, AlreadyExists, AppendConflict, StoreError, TooLarge, check_name

try:  # POSIX only
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None  # type: ignore[assignment]


class LocalStore:
    """Objects as files under ``root`` (created on first write). ``label``: how messages name the folder."""

    def __init__(self, root: Path, label: str | None = None) -> None:
        self.root = Path(root)
        self.where = label or str(self.root)

    def path(self, name: str) -> Path:
        """The file of object ``name`` (ValueError for a name that is not a store name)."""
        return self.root / check_name(name)

    def read(self, name: str, limit: int | None = None) -> bytes | None:
        bound = DEFAULT_READ_LIMIT if limit is None else max(0, int(limit))
        try:
            with self.path(name).open("rb") as fh:
                size = os.fstat(fh.fileno()).st_size
                if size > bound:  # refused before any byte is read
                    raise TooLarge(self.where, name, bound)
                # the size read, + 1 (FileIO.read(n) allocates n bytes first: never the bound for a small file); a file
                # grown since the fstat is read at most to bound + 1 bytes and refused below
                data = fh.read(size + 1)
                if len(data) > size:
                    data += fh.read(bound + 1 - len(data))
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return None
        except StoreError:
            raise
        except OSError as exc:
            raise StoreError("failed", f"{self.where}: cannot read {name} ({exc.strerror})") from None
        if len(data) > bound:
            raise TooLarge(self.where, name, bound)
        return data

    def read_range(self, name: str, offset: int, length: int) -> bytes | None:
        """At most ``length`` (> 0) bytes from byte ``offset`` (``seek`` + ``read``; ``b""`` at or past the end), None
        when there is no such file (the store contract, :mod:`firestop.storage.base`)."""
        if offset < 0 or length < 1:
            raise ValueError(f"read_range: offset {offset} and length {length} must be >= 0 and >= 1")
        try:
            with self.path(name).open("rb") as fh:
                fh.seek(offset)
                return fh.read(length)
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return None
        except OSError as exc:
            raise StoreError("failed", f"{self.where}: cannot read {name} ({exc.strerror})") from None

    def names(self, prefix: str = "") -> list[str]:
        folder = prefix.rpartition("/")[0]
        base = self.root / folder if folder else self.root
        found: list[str] = []
        for dirpath, dirnames, filenames in os.walk(base, onerror=self._unlisted):
            dirnames[:] = [d for d in dirnames if not d.startswith(".")]
            rel = os.path.relpath(dirpath, self.root)
            for filename in filenames:
                if filename.startswith("."):
                    continue
                name = filename if rel == "." else f"{rel}/{filename}".replace(os.sep, "/")
                if name.startswith(prefix):
                    found.append(name)
        return sorted(found)

    def _unlisted(self, exc: OSError) -> None:
        """``os.walk``'s ``onerror``: a folder that is absent (no object under it yet, or removed while listed) lists
        nothing; any other error (a folder that cannot be read) raises StoreError — ``names`` never answers a
        listing with the folders it could not read left out silently (os.walk's default)."""
        if isinstance(exc, (FileNotFoundError, NotADirectoryError)):
            return
        where = os.path.relpath(exc.filename, self.root) if isinstance(exc.filename, str) else "."
        raise StoreError("failed", f"{self.where}: cannot list {where} ({exc.strerror})") from None

    def create(self, name: str, data: bytes, content_type: str = "application/octet-stream") -> bool:
        path = self.path(name)
        try:
            private_dirs(path.parent)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        except OSError as exc:
            raise StoreError("failed", f"{self.where}: cannot write {name} ({exc.strerror})") from None
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            try:
                os.link(tmp, path)  # atomic create-if-absent
                return True
            except FileExistsError:
                pass
        except OSError as exc:
            raise StoreError("failed", f"{self.where}: cannot write {name} ({exc.strerror})") from None
        finally:
            try:
                os.unlink(tmp)
            except OSError:
                pass
        # the same bytes (a retry) or not: compared by size first, so a planted object of any size is never read whole
        # (bounds14); else read at most its expected size (+1)
        try:
            existing = self.read(name, limit=len(data))
        except TooLarge:
            existing = None
        if existing is not None and hashlib.sha256(existing).digest() == hashlib.sha256(data).digest():
            return False
        raise AlreadyExists(f"{self.where}: {name} already exists with other content; it is never overwritten")

    def append(self, name: str, data: bytes, at: int) -> None:
        path = self.path(name)
        try:
            private_dirs(path.parent)
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | (os.O_CREAT if at == 0 else 0), FILE_MODE)
        except FileNotFoundError:
            raise AppendConflict(f"{self.where}: {name} does not exist (expected {at} bytes); read it again") from None
        except OSError as exc:
            raise StoreError("failed", f"{self.where}: cannot append to {name} ({exc.strerror})") from None
        try:
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_EX)  # released when fd is closed
            size = os.fstat(fd).st_size
            if size != at:
                raise AppendConflict(f"{self.where}: {name} is {size} bytes, not {at}; read it again")
            os.write(fd, data)
            os.fsync(fd)
        except OSError as exc:
            if isinstance(exc, StoreError):
                raise
            raise StoreError("failed", f"{self.where}: cannot append to {name} ({exc.strerror})") from None
        finally:
            os.close(fd)

    def location(self, name: str) -> str:
        return str(self.path(name))
