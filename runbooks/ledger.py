"""A hash-chained ledger per incident: every evidence item and every action, tamper-evident.

One ledger per incident, so incidents never contend and a responder can hand one
file to an auditor. One JSON object per line, appended in order::

    {"seq": 1, "at": "2026-11-29T03:15:02+00:00" (UTC, clients' clock),
     "incident_id", "kind": "evidence" | "action" | "record" | "notification" | "marker" | "move",
     "runbook", "action", "step_id", "target", "data": {...},
     "prev": "<hash of entry seq-1>" ("0"*64 for the first),
     "seal": "<the app's seal, see below>" (absent when appended without a key), "hash": "<sha256 hex>"}

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

Where: one object ``<incident_id>.jsonl`` per incident in the ledger store
(:func:`firestop.storage.stores_for`): an *append blob* in ``FIRESTOP_LEDGER_CONTAINER``
when ``FIRESTOP_STORAGE_BLOB_URL`` is set (WORM with protected appends on Azure), else
``FIRESTOP_HOME/ledger/<incident_id>.jsonl``.

Seal (ledger9): the chain is unkeyed — whoever may append to the blob (Storage Blob Data write, no Firestop role) can
extend it with entries that verify. So a ledger opened for settings (:meth:`Ledger.of`) seals every entry it appends:
``"seal"`` = the app's seal (:mod:`firestop.trust.seal`, purpose :data:`ENTRY_SEAL_PURPOSE`, bound to
``<incident_id>/<seq>``) over :func:`seal_digest` (SHA-256 of the entry without ``hash`` and ``seal``: its seq, prev,
kind, step, target, time and data), inside the hashed entry. :meth:`Ledger.sealed` says whether an entry carries a
valid one. Readers that decide from an entry believe it only when sealed: an unsealed ``undo`` never marks a run
undone or released, an unsealed ``apply`` is never what a manual undo restores (:mod:`runbooks.manual_runs`).
Entries written before seals (or without a usable key: no seal, logged) are kept and chained as before and are not
believed where belief matters (fail closed). The entry's ``seq`` and ``prev`` are in the sealed digest, so a rewritten
ledger (possible only where the store has no immutability policy) loses the seals of every entry after the change.

Unreadable lines (leftovers10): whoever may append to the blob can append a line that is not an entry (not JSON, or
JSON that is not an object), and WORM keeps it. Such a line is skipped by appends (the next entry chains onto the last
entry before it, a torn or unterminated tail is ended first), by every reader (:meth:`Ledger.entries`) and by
:func:`verify_chain`, which names it (``ledger verify`` exits 3; the incident's record and timeline carry it through the
ledger head, :func:`firestop.functions.activities.ledger_head`): it never stops containment or filing, and is never
believed. Any other break (an entry edited, removed, inserted) still refuses appends — with the seal key, a JSON
object out of the chain that the app did not seal for this ledger (planted, a copy of a sealed line, or an entry
edited so that its seal no longer verifies) is skipped and named the same way (RT14-01: a blob writer can append any
object); only a sealed entry out of place is a break. ``ledger verify`` names such a line as out of the sealed chain
(if Firestop wrote it, it was edited), exit 3.

Size (ledger15, A13-04): the ledger's name is predictable and a Storage Blob Data writer can create it before the
incident starts, or append to it, with any amount of junk. No reader holds the ledger whole: appends, ``ledger
verify``, the before-state marker search, undo and the ledger head all read it through :meth:`Ledger.scan` — ranged
reads of :data:`LEDGER_CHUNK` bytes, one line kept at a time, a line over :data:`MAX_LINE_BYTES` dropped as it is read
and skipped like any other line that is not an entry (named, never believed) — so memory is O(chunk + line bound)
whatever the blob's size (bounds14's 16 MiB whole-read bound refused every append past it: the containment stopped).
What a reader keeps is only what it needs: the chain's head, count and owner for an append; the entries for
:meth:`Ledger.entries`. Time is linear in the ledger's size (a 64 MiB plant is read whole by every append, as main read
it whole; bounded by the blob service's own limit on an append blob, 50,000 blocks).

Moved ledgers (records16): whoever may write blobs can create the ledger's predictable name first as an object that
cannot be appended to — a *block* blob (every Append Block answers ``InvalidBlobType``; WORM forbids deleting it), or
locally a folder — or fill an append blob to the service's block limit. An append refused that way (a
:class:`~firestop.storage.base.StoreError` of kind ``failed``) moves the ledger, with the app's seal key, to
``<name>.m-<16 hex>.jsonl`` (:meth:`Ledger.moved_name`: the first 16 hex of the SHA-256 of the app's seal for
:data:`LEDGER_NAME_PURPOSE` over the incident id — nobody without the key can create it first). The move is recorded
as its first entry (kind ``move``: ``data.from``, ``data.to``, ``data.reason``), chained onto the head of what the plain
name held, sealed like any entry, and written in one append with the entry that moved it. Every reader reads the plain
object, then the moved one (:class:`ChainedScan`: one chain over both), appends go to the moved one once it exists, and
:meth:`Ledger.location` names it. Without a usable seal key there is no moved name (the append fails as before).

Concurrency (any number of instances and processes): an append reads the ledger,
checks its chain, builds the next entry on its head and appends it *at the length
it read* (:meth:`firestop.storage.base.ObjectStore.append`: the blob service's
``x-ms-blob-condition-appendpos``, locally ``flock`` + the file size). When another
writer got there first the append is refused whole (``AppendConflict``) and this one
reads again and rebuilds its entry on the new head — so the chain never forks and no
entry is lost. Attempts are bounded (:data:`MAX_APPEND_ATTEMPTS`, with a short random
back-off between them); past that the append fails with ``StoreError('transient')``.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import time
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from msgspec import Struct, field

from firestop.storage import AppendConflict, ObjectStore, StoreError, TooLarge
from firestop.storage.local import LocalStore

GENESIS = "0" * 64
#: The seal purpose of a ledger entry (module docstring): bound to ``<incident_id>/<seq>``.
ENTRY_SEAL_PURPOSE = "ledger-entry"
KINDS = ("evidence", "action", "record", "notification", "marker", "move")
#: The seal purpose a moved ledger's name is derived with (:meth:`Ledger.moved_name`), bound to the incident id.
LEDGER_NAME_PURPOSE = "ledger-name"
MAX_APPEND_ATTEMPTS = 64
#: The most bytes a ledger is read at (bounds14): the largest ledger of the 21 shipped tabletop scenarios is 15,368
#: bytes (narrow-identity, measured at 2fcae0a; an entry is ~0.5-1.5 KB), so 16 MiB holds well over 10,000 entries —
#: more than an incident appends, and more than a day's manual runs (``manual-<day>``) in any use seen. A ledger over
#: it (a Storage Blob Data writer can append junk: WORM with protected appends allows appends) is refused unread
#: (:class:`~firestop.storage.base.TooLarge`, a StoreError naming the ledger and the bound): appends and ``ledger
#: verify`` fail as for a ledger that cannot be read, never by reading gigabytes into memory. Since ledger15 (A13-04)
#: ledgers are streamed (:meth:`Ledger.scan`) and this bound is only that of a store without ranged reads.
LEDGER_READ_LIMIT = 16 * 1024 * 1024
#: How many bytes one ranged read of a ledger fetches (:meth:`Ledger.scan`): 1 MiB.
LEDGER_CHUNK = 1024 * 1024
#: The longest ledger line read (bytes, without its newline): 4 MiB. An entry is ~0.5-1.5 KB (module docstring of
#: bounds14: the largest tabletop ledger is 15,368 bytes whole); a longer line is not one Firestop wrote — it is
#: dropped while read and skipped as a line that is not an entry. :meth:`Ledger.append` refuses to write a longer one.
MAX_LINE_BYTES = 4 * 1024 * 1024
#: How many skipped line numbers a :class:`ChainCheck` keeps (``unreadable``); the rest are counted (``skipped``).
MAX_UNREADABLE_KEPT = 1000
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def canonical(value: Any) -> bytes:
    """Canonical JSON bytes (sorted keys, no spaces, UTF-8) — what hashes are taken over."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode("utf-8")


def entry_hash(entry: dict[str, Any]) -> str:
    """SHA-256 hex of ``entry`` without its ``hash`` field."""
    return hashlib.sha256(canonical({k: v for k, v in entry.items() if k != "hash"})).hexdigest()


def seal_digest(entry: dict[str, Any]) -> str:
    """SHA-256 hex of ``entry`` without ``hash`` and ``seal`` (canonical JSON) — what an entry's seal is over."""
    return hashlib.sha256(canonical({k: v for k, v in entry.items() if k not in ("hash", "seal")})).hexdigest()


def entry_binding(entry: dict[str, Any]) -> str:
    """``<incident_id>/<seq>`` of ``entry``: the seal's binding (an entry sealed at one place of one ledger is not
    Firestop's anywhere else)."""
    return f"{entry.get('incident_id')}/{entry.get('seq')}"


def entry_sealed(entry: Any, key: Any) -> bool:
    """True when ``entry`` (a ledger entry dict) carries a valid seal of ``key`` (a
    :class:`firestop.trust.seal.SealKey`; None: nothing is believed) — see the module docstring. Never raises."""
    if key is None or not isinstance(entry, dict):
        return False
    try:
        return bool(key.check(ENTRY_SEAL_PURPOSE, entry_binding(entry), seal_digest(entry), entry.get("seal"))[0])
    except (TypeError, ValueError):
        return False


#: How many unsealed entries :meth:`Ledger.verify` names by ``seq`` (the rest are counted).
MAX_UNSEALED_NAMED = 10


class ChainCheck(Struct):
    """Result of :func:`verify_chain`: ``ok``, entry count, head hash, and what is wrong (first problem first)."""

    ok: bool
    entries: int
    head: str
    problems: list[str] = field(default_factory=list)
    #: line numbers (1-based) of lines that are not a ledger entry (not JSON, not a JSON object, over
    #: :data:`MAX_LINE_BYTES`): skipped by the chain, by appends and by every reader, never believed, and each a problem
    #: (so ``ok`` is False) — the first :data:`MAX_UNREADABLE_KEPT`; ``skipped`` counts them all
    unreadable: list[int] = field(default_factory=list)
    #: how many lines were skipped (``unreadable`` keeps the first line numbers only)
    skipped: int = 0

    #: something other than unreadable lines is wrong (an entry edited, removed, inserted or reordered, or evidence
    #: gone): appending would hide that, so :meth:`Ledger.append` refuses
    broken: bool = False
    #: entries that verified: all of ``entries`` when not ``broken``, else those before the entry that broke the chain
    #: (``ledger verify``'s "BROKEN after N entries")
    verified: int = 0
    #: of the skipped lines (``unreadable``): entry-shaped objects out of the chain the app did not seal here (RT14-01);
    #: the rest are not entries at all (not JSON, or JSON of another shape)
    out_of_chain: int = 0
    #: :meth:`Ledger.verify` with a key: entries that chain but carry no valid seal of the app's key (written without a
    #: seal key, under another key, or planted); None when seals were not checked (a bare ledger, or no usable key)
    unsealed: int | None = None
    #: :meth:`Ledger.verify` of a sealing ledger with no usable seal key: nothing on it can be believed
    unchecked: bool = False

    @property
    def verdict(self) -> str:
        """What the check says, for wording it (``ledger verify``, the API's ``verdict``) by field, never by its text:
        ``broken`` (an entry removed, inserted, reordered or edited, or evidence gone), ``unchecked`` (no seal key),
        ``out_of_chain`` (an entry-shaped line skipped: if Firestop wrote it, it was edited), ``unsealed`` (entries that
        chain without this app's seal: none believed), ``junk`` (only lines that are not entries, skipped) or
        ``intact``. The most serious first."""
        if self.broken:
            return "broken"
        if self.unchecked:
            return "unchecked"
        if self.out_of_chain:
            return "out_of_chain"
        if self.unsealed:
            return "unsealed"
        if self.unreadable or self.skipped:
            return "junk"
        return "intact" if self.ok else "broken"

    @property
    def sealed(self) -> int | None:
        """Entries that verified and carry the app's seal here (what Firestop believes), None when seals were not
        checked."""
        return None if self.unsealed is None else self.verified - self.unsealed


#: How many unreadable lines :func:`verify_chain` names one by one (the rest are counted in one more problem).
MAX_UNREADABLE_NAMED = 10


def _entry(line: str) -> dict[str, Any] | None:
    """The ledger entry a line holds: a JSON object, else None (not JSON, torn, or JSON of another shape)."""
    try:
        entry = json.loads(line)
    except ValueError:
        return None
    return entry if isinstance(entry, dict) else None


def entries_of(lines: list[str]) -> list[dict[str, Any]]:
    """The entries among a ledger's ``lines`` (JSON objects), oldest first; other lines are skipped (:func:`verify_chain`
    names them)."""
    return [entry for line in lines if line.strip() and (entry := _entry(line)) is not None]


def _shown(value: Any, limit: int = 20) -> str:
    """A ledger line's own value (``seq``, an evidence path) as a problem names it: ``repr`` (control characters
    escaped unless the text is printable), cut to ``limit`` characters — a planted line's fields are an outsider's, of any size."""
    if isinstance(value, int) and not isinstance(value, bool):
        text = str(value)
    else:
        text = value if isinstance(value, str) and value.isprintable() else repr(value)
    return text if len(text) <= limit else text[:limit] + "…"


def verify_chain(lines: Iterable[str | None], *, evidence_folder: Path | None = None,
                 evidence: Callable[[str], bytes | None] | None = None,
                 believed: Callable[[dict[str, Any]], bool] | None = None,
                 kept: Callable[[dict[str, Any]], None] | None = None) -> ChainCheck:
    """Check a ledger's lines: each hash recomputes, each ``prev`` is the previous hash, ``seq`` counts 1, 2, …

    lines: the ledger's lines, oldest first, any iterable (:meth:`Ledger.scan` streams them); ``None`` stands for a
    line over :data:`MAX_LINE_BYTES` that was not read.

    A line that is not a ledger entry (not JSON — torn or planted —, JSON that is not an object, or a line too long to
    be one) is a problem named by its line number (the first :data:`MAX_UNREADABLE_NAMED`, the rest counted) and is
    skipped: the chain runs over it and the check goes on, so one junk line neither hides what follows nor is
    ``broken`` (appends go on). Any other problem ends the check there (``broken``).

    believed: when given (:meth:`Ledger.check`: "the app sealed it for this ledger"), an entry that does not chain
    (``seq``, ``prev`` or hash wrong) is skipped the same way when it is not believed, or is a copy of an earlier
    entry (a ``seq`` already passed): a blob writer can append any JSON object — ``{}``, an entry-shaped object, a
    copy of a sealed line — and only an entry the app sealed here, out of place, is a break (RT14-01). Without it
    every such object is a break (a bare ledger, or no seal key: nothing can tell the app's entries from planted ones).

    kept: called with every entry that was not skipped, oldest first — past a break too (every JSON object there: what
    :meth:`Ledger.readable` gives), so a streaming reader keeps only what it needs.

    evidence: when given, ``evidence(data.path)`` → the bytes of every ``evidence`` entry's
    item (None when missing), which must still hash to ``data.sha256``;
    evidence_folder: the same for items that are files in a folder.
    """
    if evidence is None and evidence_folder is not None:
        folder = Path(evidence_folder)
        evidence = lambda rel: (folder / rel).read_bytes() if (folder / rel).is_file() else None  # noqa: E731
    problems: list[str] = []
    unreadable: list[int] = []
    broken = False
    prev, count, out_of_chain, skipped, last_skipped = GENESIS, 0, 0, 0, 0
    numbered = enumerate(lines, start=1)

    def skip(number: int) -> None:
        nonlocal skipped, last_skipped
        skipped += 1
        last_skipped = number
        if len(unreadable) < MAX_UNREADABLE_KEPT:
            unreadable.append(number)

    for number, line in numbered:
        if line is not None and not line.strip():
            continue
        entry = None if line is None else _entry(line)
        if entry is None:  # skipped: the chain runs over it (a blob writer's junk must not stop Firestop appending)
            skip(number)
            if skipped <= MAX_UNREADABLE_NAMED:
                what = (f"over {MAX_LINE_BYTES} bytes, not read" if line is None
                        else "JSON but not a ledger entry" if _is_json(line) else "not JSON")
                problems.append(f"line {number}: {what} (torn, edited or planted); skipped, never believed")
            continue
        count += 1
        chain: list[str] = []
        if entry.get("seq") != count:
            chain.append(f"line {number}: seq {_shown(entry.get('seq'))} where {count} was expected (entry removed or inserted)")
        if entry.get("prev") != prev:
            chain.append(f"line {number} (seq {_shown(entry.get('seq'))}): prev does not match the previous entry's hash")
        if entry_hash(entry) != entry.get("hash"):
            chain.append(f"line {number} (seq {_shown(entry.get('seq'))}): content does not match its hash (entry edited)")
        if chain and believed is not None and _planted(entry, count, believed):
            count -= 1  # skipped like a line that is not JSON: the chain runs over it (RT14-01)
            out_of_chain += 1
            skip(number)
            if skipped <= MAX_UNREADABLE_NAMED:
                problems.append(f"line {number} (seq {_shown(entry.get('seq'))}): an entry out of the chain without "
                                "the app's seal here (planted, copied, or edited); skipped, never believed")
            continue
        problems.extend(chain)
        if evidence is not None and entry.get("kind") == "evidence":
            data = entry.get("data") or {}
            item = evidence(str(data.get("path", "")))
            if item is None:
                problems.append(f"line {number}: evidence file {_shown(data.get('path'), 200)} is missing")
            elif hashlib.sha256(item).hexdigest() != data.get("sha256"):
                problems.append(f"line {number}: evidence file {_shown(data.get('path'), 200)} no longer matches its SHA-256")
        if kept is not None:
            kept(entry)
        prev = str(entry.get("hash"))
        if len(problems) > min(skipped, MAX_UNREADABLE_NAMED):
            broken = True
            break
    if broken and kept is not None:  # what follows a break is not checked; readers still see its JSON objects
        for _number, line in numbered:
            if line is not None and line.strip() and (entry := _entry(line)) is not None:
                kept(entry)
    if skipped > MAX_UNREADABLE_NAMED:
        problems.append(f"{skipped - MAX_UNREADABLE_NAMED} more unreadable lines (up to line {last_skipped}); "
                        "skipped, never believed")
    return ChainCheck(ok=not problems, entries=count, head=prev, problems=problems, unreadable=unreadable,
                      skipped=skipped, broken=broken, verified=count - 1 if broken else count, out_of_chain=out_of_chain)


def _planted(entry: dict[str, Any], expected: int, believed: Callable[[dict[str, Any]], bool]) -> bool:
    """Whether an entry that does not chain at ``expected`` is not the app's here: not believed, or a copy (the seal
    binds ``seq``: a sealed entry whose ``seq`` was already passed is a replayed line). Never raises."""
    seq = entry.get("seq")
    if isinstance(seq, int) and not isinstance(seq, bool) and seq < expected:
        return True
    try:
        return not believed(entry)
    except Exception:  # noqa: BLE001 - a seal that cannot be checked is not the app's
        return True


def _is_json(line: str) -> bool:
    try:
        json.loads(line)
    except ValueError:
        return False
    return True


class Ledger:
    """The ledgers in ``store`` (an :class:`~firestop.storage.base.ObjectStore`, e.g. ``stores_for(settings).ledger``;
    a folder path means a :class:`~firestop.storage.local.LocalStore` there)."""

    def __init__(self, store: "ObjectStore | Path | str", *, seal_home: Any = None, sealing: bool = False) -> None:
        """``sealing``: seal appended entries and check seals with the app's key (:func:`firestop.trust.seal.load_seal_key`
        of ``seal_home``, FIRESTOP_HOME); without it (a bare store) nothing is sealed and :meth:`sealed` is False."""
        self.store: ObjectStore = LocalStore(Path(store)) if isinstance(store, (str, Path)) else store
        self._sealing, self._seal_home = sealing, seal_home

    @classmethod
    def of(cls, settings: Any) -> "Ledger":
        """The ledgers of ``settings`` (Blob Storage or ``FIRESTOP_HOME/ledger``, :func:`firestop.storage.stores_for`),
        sealing what it appends with the app's key (module docstring)."""
        from firestop.storage import stores_for

        return cls(stores_for(settings).ledger, seal_home=getattr(settings, "home", None), sealing=True)

    def key(self) -> Any:
        """The app's seal key (:class:`firestop.trust.seal.SealKey`), None when this ledger does not seal or the app
        holds no usable key (then nothing is sealed, nor believed)."""
        if not self._sealing:
            return None
        from firestop.trust.seal import SealKeyError, load_seal_key

        try:
            return load_seal_key(self._seal_home)
        except SealKeyError:
            return None

    def sealed(self, entry: Any, key: Any = None, *, on: str) -> bool:
        """True when ``entry`` names the ledger it was read from (``on``: that ledger's incident id, e.g.
        ``inc-…`` or ``manual-<day>``) and carries a valid seal of the app's key (``key``, or :meth:`key`): Firestop
        appended it there. Both are needed: a sealed entry copied from another ledger keeps naming its own incident,
        and its seal stays valid (RT13-02). Never raises."""
        return (isinstance(entry, dict) and entry.get("incident_id") == on
                and entry_sealed(entry, key if key is not None else self.key()))

    def name(self, incident_id: str) -> str:
        """The store object of the incident's ledger: ``<incident_id>.jsonl`` (unsafe characters as ``-``)."""
        return f"{_SAFE.sub('-', incident_id).strip('-.') or 'incident'}.jsonl"

    def path(self, incident_id: str) -> Path:
        """The incident's ledger file — a local store only (ValueError for Blob Storage)."""
        if not isinstance(self.store, LocalStore):
            raise ValueError("the ledger is in Blob Storage, not in a file; read it with Ledger.entries")
        return self.store.path(self.name(incident_id))

    def moved_name(self, incident_id: str, key: Any = None) -> str | None:
        """The object the incident's ledger moves to when its plain name (:meth:`name`) cannot be appended to (module
        docstring, records16): ``<incident>.m-<16 hex>.jsonl``, the hex from the app's seal (``key``, or :meth:`key`)
        for :data:`LEDGER_NAME_PURPOSE` over the incident id. None without a usable seal key. With retired keys in the
        ring (seal17) the name one of them made, when that object exists, else the current key's."""
        key = key if key is not None else self.key()
        if key is None:
            return None
        from firestop.trust.seal import ring_keys

        base = self.name(incident_id)[: -len(".jsonl")]
        names = [f"{base}.m-{hashlib.sha256(k.sign(LEDGER_NAME_PURPOSE, base, '0' * 64).encode('utf-8')).hexdigest()[:16]}.jsonl"
                 for k in ring_keys(key)]
        # seal17: a ledger moved under a key since retired stays where it went (its name is looked up under each
        # retired key: one ranged read each, at most 3); a ledger that moves now goes under the current key's name
        return next((name for name in names[1:] if self._range(name, 0, 1) is not None), names[0])

    def names(self, incident_id: str, key: Any = None) -> list[str]:
        """The objects the incident's ledger is read from, in chain order: its plain name, then its moved name (with a
        usable seal key)."""
        moved = self.moved_name(incident_id, key)
        return [self.name(incident_id)] + ([moved] if moved else [])

    def location(self, incident_id: str) -> str:
        """Where the ledger is, for people (a path or a blob URL without credentials): its moved object once it has
        moved (module docstring), else its plain one."""
        moved = self.moved_name(incident_id)
        if moved is not None and self._range(moved, 0, 1) is not None:
            return self.store.location(moved)
        return self.store.location(self.name(incident_id))

    def exists(self, incident_id: str) -> bool:
        return any(self._range(name, 0, 1) is not None for name in self.names(incident_id))

    def _range(self, name: str, offset: int, length: int) -> bytes | None:
        return read_window(self.store, name, offset, length)

    def scan(self, incident_id: str, key: Any = None) -> "ChainedScan":
        """The ledger's lines streamed over its objects (:meth:`names`, :class:`ChainedScan`: iterate it once; then
        ``name``, ``size`` and ``terminated`` of the object appends go to)."""
        return ChainedScan(self.store, self.names(incident_id, key))

    def lines(self, incident_id: str) -> list[str]:
        """The ledger's lines as stored (UTF-8, undecodable bytes replaced), a line over :data:`MAX_LINE_BYTES` as
        ``None``; [] when there is none. Holds them all: for tests and small ledgers — readers use :meth:`scan`."""
        return list(self.scan(incident_id))

    _lines = lines

    def believer(self, incident_id: str, key: Any = None) -> Callable[[dict[str, Any]], bool] | None:
        """``verify_chain``'s ``believed`` for this ledger (:meth:`sealed` on ``incident_id``), None without a usable
        seal key (then nothing tells the app's entries from planted ones)."""
        key = key if key is not None else self.key()
        if key is None:
            return None
        return lambda entry: self.sealed(entry, key, on=incident_id)

    def check(self, incident_id: str, lines: Iterable[str | None] | None = None, *, key: Any = None,
              kept: Callable[[dict[str, Any]], None] | None = None, **evidence: Any) -> ChainCheck:
        """:func:`verify_chain` of the ledger's ``lines`` (streamed when None, :meth:`scan`) with :meth:`believer`: a
        planted JSON object out of the chain is skipped and named, not a break (RT14-01). ``kept``: verify_chain's."""
        lines = self.scan(incident_id) if lines is None else lines
        return verify_chain(lines, believed=self.believer(incident_id, key), kept=kept, **evidence)

    def readable(self, lines: list[str | None], check: ChainCheck) -> list[dict[str, Any]]:
        """The entries among ``lines`` that ``check`` did not skip, oldest first (a check of at most
        :data:`MAX_UNREADABLE_KEPT` skipped lines; streaming readers use ``kept`` instead)."""
        skipped = set(check.unreadable)
        return [entry for number, line in enumerate(lines, start=1)
                if number not in skipped and line is not None and line.strip() and (entry := _entry(line)) is not None]

    def entries(self, incident_id: str) -> list[dict[str, Any]]:
        """Every entry (a JSON object), oldest first. Lines that are not one (torn, too long, or a blob writer's junk)
        are skipped, and so are objects out of the chain the app did not seal here (:meth:`check`): they say nothing
        Firestop believes, and :meth:`verify` names them. The ledger is streamed (:meth:`scan`): only entries are held."""
        found: list[dict[str, Any]] = []
        if not self._sealing:
            found.extend(e for line in self.scan(incident_id)
                         if line is not None and line.strip() and (e := _entry(line)) is not None)
            return found
        self.check(incident_id, kept=found.append)
        return found

    def head(self, incident_id: str) -> str:
        """Hash of the newest entry (``GENESIS`` when the ledger is empty)."""
        entries = self.entries(incident_id)
        return entries[-1]["hash"] if entries else GENESIS

    def verify(self, incident_id: str, *, evidence_folder: Path | None = None,
               evidence: Callable[[str], bytes | None] | None = None) -> ChainCheck:
        """:func:`verify_chain` over the incident's ledger (streamed, :meth:`scan`), and, for a sealing ledger
        (:meth:`of`), every entry's seal.

        An entry without a valid seal of the app's key (written before sealing began, under another key, or planted
        by someone who can write the store) is a problem: nothing in Firestop believes it (undo, the reliance check,
        the runbooks' markers ignore or refuse it), so a check that called it intact would reassure falsely. Up to
        :data:`MAX_UNSEALED_NAMED` such entries are named by ``seq``, the rest counted. With no usable seal key the
        seals cannot be checked, which is a problem too (never "intact" unchecked)."""
        if not self._sealing:
            return verify_chain(self.scan(incident_id), evidence_folder=evidence_folder, evidence=evidence)
        key = self.key()
        # what appends and readers do (Ledger.check, RT14-01): an out-of-chain entry the app did not seal here —
        # planted, copied, or one of ours edited since (its seal no longer verifies) — is skipped and named, and
        # ``ledger verify`` words it as such (firestop.cli.runbook_cmd); a made-up seal fails nothing that acts on
        # ``broken`` (the evidence verification)
        unsealed_at: list[tuple[int, Any]] = []  # (place among kept entries, seq) of the entries without the seal
        place = 0

        def kept(entry: dict[str, Any]) -> None:
            nonlocal place
            if key is not None and not self.sealed(entry, key, on=incident_id):
                unsealed_at.append((place, entry.get("seq")))
            place += 1

        check = self.check(incident_id, key=key, kept=kept, evidence_folder=evidence_folder, evidence=evidence)
        if key is None:
            check.problems.append("seals not checked: the app holds no usable seal key (FIRESTOP_SEAL_KEY); "
                                  "nothing on this ledger is believed until it does")
            check.ok = False
            check.unchecked = True
            return check
        # (what verify_chain skipped it named; past a break nothing was checked, so nothing there is counted)
        unsealed = [seq for at, seq in unsealed_at if at < check.verified]
        check.unsealed = len(unsealed)
        if unsealed:
            named = ", ".join(str(seq) for seq in unsealed[:MAX_UNSEALED_NAMED])
            more = f" and {len(unsealed) - MAX_UNSEALED_NAMED} more" if len(unsealed) > MAX_UNSEALED_NAMED else ""
            check.problems.append(f"{len(unsealed)} entr{'y' if len(unsealed) == 1 else 'ies'} without this app's seal "
                                  f"(seq {named}{more}): written before sealing began, under another key, or planted "
                                  "in the store; Firestop acts on none of them")
            check.ok = False
        return check

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
        """Append one entry and return it (with ``seq``, ``prev`` and ``hash``); safe from any number of writers.

        Raises ValueError for an unknown ``kind`` or when the existing chain is broken
        (:attr:`ChainCheck.broken`: appending would hide the break; lines that are not entries are skipped, not a break), :class:`~firestop.storage.base.StoreError` (an
        OSError) when the store cannot be written or stays contended.
        """
        if kind not in KINDS:
            raise ValueError(f"ledger kind must be one of {KINDS}, got {kind!r}")
        if not incident_id or _SAFE.search(incident_id) or incident_id.startswith("."):
            raise ValueError(f"ledger: incident ID {incident_id!r} is not a plain name ([A-Za-z0-9._-]); not appending")
        name = self.name(incident_id)
        at_time, target_ = at, target  # (``at`` and ``target`` below: where the bytes land)
        payload = json.loads(canonical(data))
        key = self.key()
        if key is None and self._sealing:
            import logging

            logging.getLogger("firestop.runbooks").warning("ledger %s: no usable seal key; the entry is appended "
                                                           "unsealed and will not be believed", name)
        moving: str | None = None  # why the plain object cannot be appended to, once an append there was refused
        attempt, budget = -1, MAX_APPEND_ATTEMPTS  # a move starts a budget of its own
        while attempt < budget - 1:
            attempt += 1
            # streamed (ledger15, A13-04): only the chain's head, count and owner are kept, whatever the ledger's size
            # the owner is the first entry the app sealed here (with a key; else the first entry): a blob writer's
            # chain-valid unsealed first entry naming another incident must not refuse every append (RT14-01)
            believed = self.believer(incident_id, key) if key is not None else (lambda entry: True)
            owners: list[Any] = []

            def kept(entry: dict[str, Any]) -> None:
                if not owners and believed(entry):
                    owners.append(entry.get("incident_id"))

            scan = self.scan(incident_id, key)
            check = verify_chain(scan, believed=self.believer(incident_id, key) if key is not None else None, kept=kept)
            target, at = scan.name, scan.size
            move = moving is not None and target == name
            if not move and scan.size and not scan.terminated and attempt < budget - 1:
                # read while another writer's line was half-written (a reader takes no lock): read again; a line
                # still unterminated after every attempt is a torn ledger and is refused below
                time.sleep(random.uniform(0, min(0.05, 0.001 * (2 ** min(attempt, 6)))))
                continue
            if check.broken:
                cause = next(p for p in check.problems if not p.endswith("never believed"))
                raise ValueError(f"ledger {name} is broken, not appending: {cause}")
            if check.skipped:  # named by verify_chain and ledger verify; the entry chains over them
                import logging

                logging.getLogger("firestop.runbooks").warning(
                    "ledger %s: %d unreadable line(s) (first: line %d) skipped; the entry chains over them", name,
                    check.skipped, check.unreadable[0])
            owner = owners[0] if owners else incident_id
            if owner != incident_id:
                raise ValueError(f"ledger {name} belongs to incident {owner!r}; not appending for {incident_id!r}")
            seq, prev, lines = check.entries + 1, check.head, []
            if move:  # the move, recorded first (module docstring): chained onto what the plain object held
                target, at = self.moved_name(incident_id, key), 0
                moved = self._entry(incident_id, key, seq, prev, kind="move", runbook="ledger", action="move",
                                    step_id="ledger-move", target=None, at_time=at_time,
                                    data={"from": name, "to": target, "reason": moving})
                lines.append(canonical(moved))
                seq, prev = seq + 1, moved["hash"]
            entry = self._entry(incident_id, key, seq, prev, kind=kind, runbook=runbook, action=action,
                                step_id=step_id, target=target_, at_time=at_time, data=payload)
            line = canonical(entry)
            if len(line) > MAX_LINE_BYTES:  # no reader would read it (MAX_LINE_BYTES): refused, never written
                raise ValueError(f"ledger {name}: a {len(line)}-byte entry is over the {MAX_LINE_BYTES}-byte line bound; "
                                 "not appending")
            lines.append(line)
            # a tail still unterminated after every read (torn by a crash, or planted without a newline) is ended
            # first, so this entry stays a line of its own
            tail = b"" if not at or scan.terminated else b"\n"
            try:
                self.store.append(target, tail + b"".join(part + b"\n" for part in lines), at=at)
                return entry
            except AppendConflict:  # another writer appended first: rebuild on the new head
                time.sleep(random.uniform(0, min(0.05, 0.001 * (2 ** min(attempt, 6)))))
            except StoreError as exc:
                # the plain object cannot be appended to (a block blob planted at its name: InvalidBlobType; a folder;
                # the service's block limit): move, with the app's key, once (records16)
                if exc.kind != "failed" or target != name or key is None or moving is not None:
                    raise
                import logging

                moving, budget = str(exc)[:500], attempt + 1 + MAX_APPEND_ATTEMPTS
                logging.getLogger("firestop.runbooks").warning(
                    "ledger %s cannot be appended to (%s); moving it to %s", name, moving, self.moved_name(incident_id, key))
        raise StoreError("transient", f"ledger {name}: {MAX_APPEND_ATTEMPTS} appends in a row lost the race to other writers; try again")

    @staticmethod
    def _entry(incident_id: str, key: Any, seq: int, prev: str, *, kind: str, runbook: str, action: str,
               step_id: str, target: str | None, at_time: str, data: dict[str, Any]) -> dict[str, Any]:
        """One entry at ``seq`` on ``prev``, sealed with ``key`` (None: unsealed), with its ``hash``."""
        entry: dict[str, Any] = {
            "seq": seq,
            "at": at_time,
            "incident_id": incident_id,
            "kind": kind,
            "runbook": runbook,
            "action": action,
            "step_id": step_id,
            "target": target,
            "data": data,
            "prev": prev,
        }
        if key is not None:
            entry["seal"] = key.sign(ENTRY_SEAL_PURPOSE, entry_binding(entry), seal_digest(entry))
        entry["hash"] = entry_hash(entry)
        return entry


def read_window(store: Any, name: str, offset: int, length: int) -> bytes | None:
    """``length`` bytes of ``name`` in ``store`` from ``offset`` (``store.read_range``); a store without ranged reads (a
    test's stand-in) is read with :data:`LEDGER_READ_LIMIT` and sliced."""
    read_range = getattr(store, "read_range", None)
    if read_range is not None:
        return read_range(name, offset, length)
    raw = store.read(name, limit=LEDGER_READ_LIMIT)
    return None if raw is None else raw[offset:offset + length]


class LedgerScan:
    """One streamed read of a ledger object (:meth:`Ledger.scan`; also the manual-run indexes, appended the same way,
    :mod:`runbooks.manual_runs`): iterating yields its lines oldest first (split at
    ``\\n``, decoded UTF-8 with undecodable bytes replaced; a line over :data:`MAX_LINE_BYTES` as ``None``, its bytes
    dropped as they are read), fetching :data:`LEDGER_CHUNK` bytes per ranged read until a short read. Memory:
    one chunk and one line. After the iteration: ``size`` (bytes read: the offset an append lands at), ``terminated``
    (the last byte read was ``\\n``, or nothing was read). Raises StoreError when the store cannot be read."""

    def __init__(self, store: Any, name: str) -> None:
        self._store, self.name = store, name
        self.size, self.terminated, self.exists = 0, True, False

    def __iter__(self) -> Iterator[str | None]:
        pending: list[bytes] = []  # the current line's pieces (at most MAX_LINE_BYTES + a chunk)
        held, overlong = 0, False
        while True:
            chunk = read_window(self._store, self.name, self.size, LEDGER_CHUNK)
            self.exists = self.exists or chunk is not None
            if not chunk:
                break
            self.size += len(chunk)
            self.terminated = chunk.endswith(b"\n")
            start = 0
            while True:
                end = chunk.find(b"\n", start)
                piece = chunk[start:] if end < 0 else chunk[start:end]
                if not overlong:
                    pending.append(piece)
                    held += len(piece)
                    if held > MAX_LINE_BYTES:
                        pending, held, overlong = [], 0, True
                if end < 0:
                    break
                yield None if overlong else b"".join(pending).decode("utf-8", errors="replace")
                pending, held, overlong = [], 0, False
                start = end + 1
            if len(chunk) < LEDGER_CHUNK:
                break
        if overlong:
            yield None
        elif held:
            yield b"".join(pending).decode("utf-8", errors="replace")


class ChainedScan:
    """One streamed read of a ledger over its objects (:meth:`Ledger.names`: the plain one, then the one it moved to):
    iterating yields the lines of each in turn (:class:`LedgerScan`; an object that does not exist yields nothing), so
    one chain runs over both. After the iteration ``name``, ``size`` and ``terminated`` are those of the last object that
    exists (the first one's name, 0 and True when none does): where, and at which offset, an append lands."""

    def __init__(self, store: Any, names: list[str]) -> None:
        self._store, self.names = store, names
        self.name, self.size, self.terminated = names[0], 0, True

    def __iter__(self) -> Iterator[str | None]:
        for name in self.names:
            part = LedgerScan(self._store, name)
            yield from part
            if part.exists:
                self.name, self.size, self.terminated = name, part.size, part.terminated
