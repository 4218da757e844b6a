"""A hash-chained ledger per incident: every evidence item and every action, tamper-evident.

Where: ``FIRESTOP_HOME/ledger/<incident_id>.jsonl`` (``Settings.ledger_dir``),
one file per incident so incidents never contend and a responder can hand one
file to an auditor. One JSON object per line, appended in order::

    {"seq": 1, "at": "2026-11-29T03:15:02+00:00" (UTC, clients' clock),
     "incident_id", "kind": "evidence" | "action" | "record" | "notification" | "marker",
     "runbook", "action", "step_id", "target", "data": {...},
     "prev": "<hash of entry seq-1>" ("0"*64 for the first), "hash": "<sha256 hex>"}

``hash`` = SHA-256 of the entry without ``hash``, serialised as canonical JSON
(keys sorted, separators ``,`` ``:``, UTF-8). Changing, removing, inserting or
reordering any entry breaks the chain at that point, which :func:`verify_chain`
reports. Cutting entries off the *end* leaves a valid shorter chain: compare
the head (:meth:`Ledger.head`) with a copy kept elsewhere — ``records.file``
puts it in the record and the orchestration history.

Who writes: :func:`runbooks.dispatch.execute` appends an ``action`` entry for
every ``apply``/``undo`` of a mutating runbook (success or mapped error, from
the scrubbed answer, so no secret value enters); ``evidence.*`` append an
``evidence`` entry per item (its SHA-256, size, path and source);
``records.file`` a ``record`` entry; ``notify.webhook`` a ``notification``; a mutating runbook
a ``marker`` with the before-state it saw, before its first change (:mod:`runbooks.markers`).

Ownership: a ledger belongs to the incident whose ID it was started for. An
append names its incident; it is refused (ValueError) when that is not a plain
name (``[A-Za-z0-9._-]``, so two IDs can never share a file) or when the
file's first entry is another incident's. Who may name an incident is the
dispatcher's rule (:mod:`runbooks.dispatch`): an orchestration its own, a
person's manual run only ``manual-<date>``.

Concurrency: appends are serialised by a per-file thread lock and an
``fcntl`` lock on ``<incident>.jsonl.lock`` (POSIX), and each line is written
with one ``write`` and ``fsync``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

try:  # POSIX only
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None  # type: ignore[assignment]

GENESIS = "0" * 64
KINDS = ("evidence", "action", "record", "notification", "marker")
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")
_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


def canonical(value: Any) -> bytes:
    """Canonical JSON bytes (sorted keys, no spaces, UTF-8) — what hashes are taken over."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode("utf-8")


def entry_hash(entry: dict[str, Any]) -> str:
    """SHA-256 hex of ``entry`` without its ``hash`` field."""
    return hashlib.sha256(canonical({k: v for k, v in entry.items() if k != "hash"})).hexdigest()


@dataclass
class ChainCheck:
    """Result of :func:`verify_chain`: ``ok``, entry count, head hash, and what is wrong (first problem first)."""

    ok: bool
    entries: int
    head: str
    problems: list[str] = field(default_factory=list)


def verify_chain(lines: list[str], *, evidence_folder: Path | None = None) -> ChainCheck:
    """Check a ledger's lines: each hash recomputes, each ``prev`` is the previous hash, ``seq`` counts 1, 2, …

    evidence_folder: when given, every ``evidence`` entry's file (``data.path`` in
    that folder) must still hash to ``data.sha256``.
    """
    problems: list[str] = []
    prev, count = GENESIS, 0
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except ValueError:
            problems.append(f"line {number}: not JSON (torn or edited)")
            break
        count += 1
        if entry.get("seq") != count:
            problems.append(f"line {number}: seq {entry.get('seq')} where {count} was expected (entry removed or inserted)")
        if entry.get("prev") != prev:
            problems.append(f"line {number} (seq {entry.get('seq')}): prev does not match the previous entry's hash")
        if entry_hash(entry) != entry.get("hash"):
            problems.append(f"line {number} (seq {entry.get('seq')}): content does not match its hash (entry edited)")
        if evidence_folder is not None and entry.get("kind") == "evidence":
            data = entry.get("data") or {}
            path = evidence_folder / str(data.get("path", ""))
            if not path.is_file():
                problems.append(f"line {number}: evidence file {data.get('path')} is missing")
            elif hashlib.sha256(path.read_bytes()).hexdigest() != data.get("sha256"):
                problems.append(f"line {number}: evidence file {data.get('path')} no longer matches its SHA-256")
        prev = str(entry.get("hash"))
        if problems:
            break
    return ChainCheck(ok=not problems, entries=count, head=prev, problems=problems)


def _thread_lock(path: Path) -> threading.Lock:
    key = str(path.resolve())
    with _locks_guard:
        return _locks.setdefault(key, threading.Lock())


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    with _thread_lock(path):
        if fcntl is None:  # pragma: no cover
            yield
            return
        with open(str(path) + ".lock", "a+") as fh:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


class Ledger:
    """The ledgers under ``root`` (``Settings.ledger_dir``)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path(self, incident_id: str) -> Path:
        name = _SAFE.sub("-", incident_id).strip("-.") or "incident"
        return self.root / f"{name}.jsonl"

    def _lines(self, incident_id: str) -> list[str]:
        path = self.path(incident_id)
        return path.read_text("utf-8").splitlines() if path.exists() else []

    def entries(self, incident_id: str) -> list[dict[str, Any]]:
        """Every entry, oldest first (ValueError on a line that is not JSON)."""
        return [json.loads(line) for line in self._lines(incident_id) if line.strip()]

    def head(self, incident_id: str) -> str:
        """Hash of the newest entry (``GENESIS`` when the ledger is empty)."""
        entries = self.entries(incident_id)
        return entries[-1]["hash"] if entries else GENESIS

    def verify(self, incident_id: str, *, evidence_folder: Path | None = None) -> ChainCheck:
        """:func:`verify_chain` over the incident's ledger."""
        return verify_chain(self._lines(incident_id), evidence_folder=evidence_folder)

    def append(
        self,
        incident_id: str,
        *,
        kind: str,
        runbook: str,
        action: str,
        step_id: str,
        target: str | None,
        at: str,
        data: dict[str, Any],
    ) -> dict[str, Any]:
        """Append one entry and return it (with ``seq``, ``prev`` and ``hash``).

        Raises ValueError for an unknown ``kind`` or when the existing chain is
        broken (appending would hide the break), OSError when the file cannot be written.
        """
        if kind not in KINDS:
            raise ValueError(f"ledger kind must be one of {KINDS}, got {kind!r}")
        if not incident_id or _SAFE.search(incident_id) or incident_id.startswith("."):
            raise ValueError(f"ledger: incident ID {incident_id!r} is not a plain name ([A-Za-z0-9._-]); not appending")
        path = self.path(incident_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        with _locked(path):
            lines = self._lines(incident_id)
            check = verify_chain(lines)
            if not check.ok:
                raise ValueError(f"ledger {path.name} is broken, not appending: {check.problems[0]}")
            owner = next((json.loads(line).get("incident_id") for line in lines if line.strip()), incident_id)
            if owner != incident_id:
                raise ValueError(f"ledger {path.name} belongs to incident {owner!r}; not appending for {incident_id!r}")
            entry: dict[str, Any] = {
                "seq": check.entries + 1,
                "at": at,
                "incident_id": incident_id,
                "kind": kind,
                "runbook": runbook,
                "action": action,
                "step_id": step_id,
                "target": target,
                "data": json.loads(canonical(data)),
                "prev": check.head,
            }
            entry["hash"] = entry_hash(entry)
            line = canonical(entry) + b"\n"
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(fd, line)
                os.fsync(fd)
            finally:
                os.close(fd)
            return entry
