"""The store contract: named byte objects, written once or appended at a stated offset, never overwritten.

Firestop keeps an incident's records, evidence, ledger and notification copies in
*stores* (:func:`firestop.storage.stores_for`). A store is a flat namespace of
objects named ``part/part/…`` (each part ``[A-Za-z0-9._-]``, not starting with
``.``), with two backends that keep the same contract:

- :class:`firestop.storage.local.LocalStore` — files under a folder of
  ``FIRESTOP_HOME`` (the sandbox, tabletop runs, a laptop);
- :class:`firestop.storage.blob.BlobStore` — one Azure Blob Storage container
  (``FIRESTOP_STORAGE_BLOB_URL``; the managed identity on Azure, Azurite locally).

Operations (every store):

``read(name, limit=None) -> bytes | None``
    the object's bytes, None when it does not exist; :class:`TooLarge` when it holds more than ``limit``
    bytes (default :data:`DEFAULT_READ_LIMIT`) — nothing past ``limit + 1`` bytes is ever fetched (blob: a
    ranged Get Blob; file: ``fstat`` then a read of ``limit + 1``). Each reader passes the bound of the
    kind of object it reads (a verdict, a once-marker, a pending join, a record, a ledger: the bound is
    stated where that kind is defined): a Storage Blob Data writer can plant a blob of any size at a
    name Firestop reads, and a read that returned it whole would exhaust the instance's memory.
``read_range(name, offset, length) -> bytes | None``
    at most ``length`` bytes of the object from byte ``offset`` (fewer at its end, ``b""`` at or past it), None when
    it does not exist (blob: a ranged Get Blob, ``x-ms-range: bytes=<offset>-<offset+length-1>``; file: ``seek`` +
    ``read``). For readers that stream an object whatever its size in bounded chunks (the ledger, ledger15).
``names(prefix) -> list[str]``
    the names starting with ``prefix``, sorted.
``create(name, data, content_type) -> bool``
    write once: True when created, False when the object already holds exactly
    ``data`` (a retry); :class:`AlreadyExists` when it holds anything else. Never
    replaces an object (blob: ``If-None-Match: *``; file: a hard link, which fails
    on an existing name).
``append(name, data, at) -> None``
    conditional append: ``data`` lands at byte offset ``at`` only if the object's
    length is exactly ``at`` (``at == 0`` also creates it); else
    :class:`AppendConflict` and nothing is written (blob: an append blob and
    ``x-ms-blob-condition-appendpos``; file: an exclusive ``flock`` and the file's
    size). A writer that read the object, computed its next line and appends at
    the length it read cannot fork what others appended meanwhile.
``location(name) -> str``
    where the object is, for people (a path, or a blob URL without credentials).

Errors are :class:`StoreError` (an ``OSError``) with ``kind`` — ``transient`` (no
answer, 5xx: retry), ``forbidden`` (the identity lacks a data role), ``failed`` (:class:`TooLarge`
among them: readers that treat a damaged object as absent catch it and treat it so).
Messages name the store and the object, never a credential.
"""

from __future__ import annotations

import re
from typing import Protocol

_PART = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9._-]{0,199}$")


class StoreError(OSError):
    """A store could not do what was asked. ``kind``: transient | forbidden | failed | conflict."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message

    def __str__(self) -> str:
        return self.message


class AlreadyExists(StoreError):
    """``create``: the name holds other bytes; a written object is never replaced."""

    def __init__(self, message: str) -> None:
        super().__init__("conflict", message)


class AppendConflict(StoreError):
    """``append``: the object's length is not the offset given (someone appended first); nothing written."""

    def __init__(self, message: str) -> None:
        super().__init__("conflict", message)


#: The bound of a read whose caller names none (bytes): 64 MiB, a backstop — no reader should rely on it. Every
#: object Firestop writes itself is far smaller (an evidence item is cut to its query's own bound, see
#: ``runbooks/evidence.py``); the kinds with bounds of their own pass them.
DEFAULT_READ_LIMIT = 64 * 1024 * 1024


class TooLarge(StoreError):
    """``read``: the object holds more than the reader's bound (``limit`` bytes); its bytes were not fetched.
    Kind ``failed``: a reader handles it as an object at that name that cannot be read."""

    def __init__(self, where: str, name: str, limit: int) -> None:
        super().__init__("failed", f"{where}: {name} is over {limit} bytes (the bound for this kind of object); "
                                   "refused unread")
        self.name = name
        self.limit = limit


def check_name(name: str) -> str:
    """``name`` if it is a store name (parts of ``[A-Za-z0-9._-]``, none starting with ``.``), else ValueError."""
    parts = name.split("/")
    if not name or len(name) > 1024 or not all(_PART.match(p) for p in parts):
        raise ValueError(f"not a store object name (parts of [A-Za-z0-9._-], none hidden): {name!r}")
    return name


class ObjectStore(Protocol):
    """See the module docstring."""

    where: str  # "FIRESTOP_HOME/ledger" / "blob container firestop-ledger": for messages, no secret

    def read(self, name: str, limit: int | None = None) -> bytes | None: ...

    def read_range(self, name: str, offset: int, length: int) -> bytes | None: ...

    def names(self, prefix: str = "") -> list[str]: ...

    def create(self, name: str, data: bytes, content_type: str = "application/octet-stream") -> bool: ...

    def append(self, name: str, data: bytes, at: int) -> None: ...

    def location(self, name: str) -> str: ...
