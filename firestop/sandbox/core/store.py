"""Persistence of a tenant's state document: a snapshot plus an append-only journal of changes.

Files in the state directory::

    tenant.json      the whole document at some point (+ ``"_journal": token``), replaced atomically
    tenant.journal   line 1 ``{"journal": token}``, then one JSON line per committed change
    tenant.lock      the inter-process lock (see :mod:`firestop.sandbox.tenant`)

A commit (after every request that changed something, and every clock move
outside a request) appends *one* line holding only what changed since the
previous commit, found without a deep compare:

* only the sections (top-level keys) looked at since the last commit are
  considered (:class:`Sections` notes them); each is JSON-encoded with the C
  encoder and compared with its last committed text. A mapping of items
  (``resources``, ``account_keys``, ``vaults``, ...) is compared item by item
  (only the items looked at) and written as changed items (``"item"``) and
  removed ones (``"drop"``); any other section is written whole (``"set"``),
  a removed one by name (``"del"``);
* the append-only lists (:data:`APPEND_ONLY`: the request log, the Activity Log,
  issued keys, fired faults, log table rows — together ~95 % of the bytes) are
  left out of that text and written as their new tail (``"ext"``), or whole
  (``"put"``) when the list object was replaced or shrank. Items already
  committed must never be changed in place (nothing in the sandbox does).

Readers (other instances, other processes) replay the lines they have not
seen; an instance that finds a new snapshot reloads it. When the journal grows
past :data:`COMPACT_BYTES` and twice the snapshot, the writer compacts: a new
snapshot with a fresh token, then a journal holding only the new token's
header (lines of an old token are ignored, so a crash between the two steps
loses nothing and applies nothing twice).

Crash safety (a process killed at any instant, e.g. ``kill -9``): snapshots
and journal resets are written to ``*.tmp`` and ``os.replace``-d; a journal
line is one ``write`` of an ``O_APPEND`` descriptor, and a torn last line (no
newline) is ignored by readers and cut off by the next writer. The one fixed
temp name per file is reused, and :func:`remove_stale_temp_files` (called
when a tenant opens) deletes what a killed writer left. Nothing is
``fsync``-ed: a killed process loses nothing the kernel accepted; a power cut
may lose the last commits (this is a simulator's state, not a database). Callers hold the state directory's lock around
every method here.
"""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path
from typing import Any, Iterator, Optional

import orjson

STATE_FILE = "tenant.json"
JOURNAL_FILE = "tenant.journal"
#: Snapshot key naming the journal generation (not part of the document).
TOKEN_KEY = "_journal"
#: Compact when the journal is larger than this many bytes and than ``COMPACT_RATIO`` x the snapshot.
COMPACT_BYTES = 4 * 1024 * 1024
COMPACT_RATIO = 2

#: Paths of lists that only ever grow by appending ("*" = every key of a mapping).
APPEND_ONLY: tuple[tuple[str, ...], ...] = (
    ("requests",),
    ("unrouted",),
    ("activity_log",),
    ("issued_keys",),
    ("faults", "fired"),
    ("workspaces", "*", "tables", "*", "rows"),
    ("workspaces", "*", "tables", "*", "pending"),  # replaced (a new list) when rows are released
)
_PURE_LISTS = frozenset(p[0] for p in APPEND_ONLY if len(p) == 1)
_NESTED: dict[str, list[tuple[str, ...]]] = {}
for _pattern in APPEND_ONLY:
    if len(_pattern) > 1:
        _NESTED.setdefault(_pattern[0], []).append(_pattern[1:])

_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode  # the C encoder


#: ``bytes.translate`` table mapping every digit to ``0`` (for :func:`exact_loads`' long-number test)
_DIGITS_AS_ZERO = bytes(0x30 if 0x30 <= i <= 0x39 else i for i in range(256))
_LONG_DIGITS = b"0" * 19  # (R12-05: a negative integer leaves orjson's i64 at 19 digits)
#: Bytes that may come right before a digit of a JSON number: its sign, decimal point or exponent, or what precedes a
#: value (whitespace, ``[``, ``,``, ``:``). A run of digits after any other byte is inside a string.
_BEFORE_NUMBER_DIGITS = frozenset(b"-+.eE \t\r\n[,:")


def _may_hold_long_integer(raw: bytes) -> bool:
    """False when no run of 19 or more digits in ``raw`` can be part of a JSON number (every such run follows a byte a
    number's digits never follow, so it is inside a string: the seed tenant's Defender alert names,
    ``2516935104399999999_…``); True otherwise (conservative: a run after ``:`` inside a string also says True)."""
    zeros = raw.translate(_DIGITS_AS_ZERO)
    at = zeros.find(_LONG_DIGITS)
    while at >= 0:  # ``at`` starts its run (find answers the leftmost window), so zeros[at - 1] is not a digit
        if at == 0 or zeros[at - 1] in _BEFORE_NUMBER_DIGITS:
            return True
        end = at + len(_LONG_DIGITS)
        while end < len(zeros) and zeros[end] == 0x30:
            end += 1
        at = zeros.find(_LONG_DIGITS, end)
    return False


def exact_loads(raw: bytes) -> Any:
    """``json.loads(raw)``, the same value and the same ValueError: by orjson (0.89 MB snapshot: 6.5 -> 4.5 ms of
    CPU with the test below; every tenant open reads one) unless ``raw`` may hold an integer of 19 digits or more
    (:func:`_may_hold_long_integer`), by the standard library then and for whatever orjson refuses (``NaN``, a lone
    surrogate escape, not UTF-8). orjson reads an integer past 64 bits as a float where the standard library keeps it
    exact: past u64 at 20 digits, below i64's -2**63 at 19 (R12-05). A run of digits inside a string (the seed
    tenant's alert names) no longer sends the whole text to the standard library: the fresh tenant's seed, 0.89 MB,
    was read by it on every fresh FIRESTOP_HOME (13 -> 4 ms of wall per read, measured side by side)."""
    if not _may_hold_long_integer(raw):
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:
            pass
    return json.loads(raw)


class Sections(dict):
    """The state document as a dict that notes which sections (top-level keys) were looked at.

    A section nobody read or wrote since the last commit cannot have changed, so
    :meth:`Store.commit` skips encoding it. Reads count (a handler may mutate
    what it read); iterating keys alone does not.
    """

    __slots__ = ("touched",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.touched: Optional[set] = None  # None = everything (not tracked yet)

    def _touch(self, key: Any) -> None:
        if self.touched is not None:
            self.touched.add(key)

    def __getitem__(self, key: Any) -> Any:
        self._touch(key)
        return dict.__getitem__(self, key)

    def get(self, key: Any, default: Any = None) -> Any:
        self._touch(key)
        return dict.get(self, key, default)

    def setdefault(self, key: Any, default: Any = None) -> Any:
        self._touch(key)
        return dict.setdefault(self, key, default)

    def __setitem__(self, key: Any, value: Any) -> None:
        self._touch(key)
        dict.__setitem__(self, key, value)

    def __delitem__(self, key: Any) -> None:
        self._touch(key)
        dict.__delitem__(self, key)

    def pop(self, key: Any, *default: Any) -> Any:
        self._touch(key)
        return dict.pop(self, key, *default)

    def values(self):  # type: ignore[override]
        self.touched = None
        return dict.values(self)

    def items(self):  # type: ignore[override]
        self.touched = None
        return dict.items(self)

    def update(self, *args: Any, **kwargs: Any) -> None:
        self.touched = None
        dict.update(self, *args, **kwargs)

    def popitem(self) -> Any:
        self.touched = None
        return dict.popitem(self)

    def clear(self) -> None:
        self.touched = None
        dict.clear(self)


def private_mkdir(path: Path) -> None:
    """Create folder ``path`` and each missing parent 0700 (``mkdir(parents=True)`` gives the parents the umask's mode:
    a new ``FIRESTOP_HOME`` would be 0755); an existing folder is left as it is."""
    missing = []
    for folder in (Path(path), *Path(path).parents):
        if folder.is_dir():
            break
        missing.append(folder)
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=0o700)
        except FileExistsError:
            pass


def _skeleton(value: Any, pattern: tuple[str, ...]) -> Any:
    """``value`` with the list at ``pattern`` left out (shallow copies along the path only)."""
    if not isinstance(value, dict):
        return value
    head, rest = pattern[0], pattern[1:]
    if not rest:
        return {k: v for k, v in value.items() if k != head} if head in value else value
    if head == "*":
        return {k: _skeleton(v, rest) for k, v in value.items()}
    if head not in value:
        return value
    return {**value, head: _skeleton(value[head], rest)}


def _lists(doc: dict, sections: Optional[set] = None) -> Iterator[tuple[tuple[str, ...], list]]:
    """Every append-only list in ``doc`` as (concrete path, list); only those in ``sections`` (top-level keys) when given."""

    def walk(node: Any, pattern: tuple[str, ...], path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], list]]:
        if not pattern:
            if isinstance(node, list):
                yield path, node
            return
        if not isinstance(node, dict):
            return
        head, rest = pattern[0], pattern[1:]
        keys = list(dict.keys(node)) if head == "*" else ([head] if dict.__contains__(node, head) else [])
        for key in keys:
            yield from walk(dict.__getitem__(node, key), rest, path + (key,))

    for pattern in APPEND_ONLY:
        if sections is None or pattern[0] in sections:
            yield from walk(doc, pattern, ())


def _graft(new: Any, old: Any, pattern: tuple[str, ...]) -> None:
    """Put ``old``'s lists at ``pattern`` into ``new`` where ``new`` lacks them (a "set" carries skeletons)."""
    if not isinstance(new, dict) or not isinstance(old, dict):
        return
    head, rest = pattern[0], pattern[1:]
    keys = [k for k in new if k in old] if head == "*" else ([head] if head in old else [])
    for key in keys:
        if not rest:
            if key not in new:
                new[key] = old[key]
        elif key in new:
            _graft(new[key], old[key], rest)


def _at(doc: dict, path: list[str]) -> dict:
    node = doc
    for key in path:
        node = dict.__getitem__(node, key)
    return node


def _itemized(key: str, value: Any) -> bool:
    """Whether section ``key`` is committed item by item (a mapping without append-only lists inside)."""
    return isinstance(value, dict) and key not in _NESTED and key not in _PURE_LISTS


def signature(path: Path) -> Optional[tuple[int, int, int]]:
    """(mtime_ns, size, inode) of ``path``, or ``None`` if missing."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


def _replace(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically through ``path.tmp`` + ``os.replace``."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    finally:
        os.close(fd)
    os.replace(tmp, path)


def remove_stale_temp_files(state_dir: Path) -> None:
    """Delete temp files a killed writer left in ``state_dir`` (this module's and older versions')."""
    for pattern in (f"{STATE_FILE}.tmp", f"{JOURNAL_FILE}.tmp", ".tenant-*.tmp"):
        for stale in state_dir.glob(pattern):
            try:
                stale.unlink()
            except OSError:
                pass


def read_document(state_dir: Path) -> dict:
    """The current document in ``state_dir`` (snapshot + journal), without binding a store to it."""
    store = Store(state_dir)
    return store.load()


class Store:
    """The snapshot + journal of one state directory, as seen by one tenant instance.

    Not thread-safe and not process-safe by itself: the tenant holds its
    thread lock and the directory's file lock around every call.
    """

    def __init__(self, state_dir: os.PathLike | str) -> None:
        self.state_dir = Path(state_dir)
        self.snapshot_path = self.state_dir / STATE_FILE
        self.journal_path = self.state_dir / JOURNAL_FILE
        self._token: Optional[str] = None
        self._snapshot_sig: Optional[tuple[int, int, int]] = None
        self._snapshot_size = 0
        self._offset = 0  # bytes of the journal applied (always at a line end)
        self._whole: dict[str, str] = {}  # section -> JSON text (skeleton) last committed/loaded
        self._items: dict[str, dict[str, str]] = {}  # mapping section -> {item key -> JSON text}
        self._tracked: dict[tuple[str, ...], tuple[list, int]] = {}  # append-only list -> (object, length committed)
        #: Journal lines written / snapshots written by this instance (for benchmarks and tests).
        self.commits = 0
        self.snapshots = 0

    # ------------------------------------------------------------------ reading
    def exists(self) -> bool:
        return self.snapshot_path.exists()

    def load(self) -> dict:
        """Read snapshot + journal; the returned document is what later commits are compared with."""
        raw = self.snapshot_path.read_bytes()
        self._snapshot_sig = signature(self.snapshot_path)
        self._snapshot_size = len(raw)
        doc = Sections(exact_loads(raw))
        self._token = doc.pop(TOKEN_KEY, None)
        self._offset = 0
        self._remember(doc)
        self._replay(doc, from_start=True)
        return doc

    def refresh(self, doc: dict) -> Optional[dict]:
        """Bring ``doc`` up to date with other writers.

        Returns a new document when another instance wrote a new snapshot (the
        caller replaces its state), else ``None`` (``doc`` was updated in place,
        possibly not at all).
        """
        sig = signature(self.snapshot_path)
        if sig is None:
            return None
        if sig != self._snapshot_sig:
            return self.load()
        try:
            size = os.stat(self.journal_path).st_size
        except FileNotFoundError:
            return None
        if size > self._offset:
            self._replay(doc, from_start=False)
        return None

    def _replay(self, doc: dict, *, from_start: bool) -> None:
        """Apply the journal lines after ``self._offset`` (all of them when ``from_start``)."""
        try:
            with open(self.journal_path, "rb") as fh:
                if from_start:
                    header = fh.readline()
                    if not header.endswith(b"\n"):
                        return
                    if exact_loads(header).get("journal") != self._token:
                        self._offset = -1  # a journal of another snapshot: ignore it (and reset it on commit)
                        return
                    self._offset = fh.tell()
                elif self._offset < 0:
                    return
                else:
                    fh.seek(self._offset)
                data = fh.read()
        except FileNotFoundError:
            self._offset = -1
            return
        end = data.rfind(b"\n") + 1  # a torn last line (no newline yet / killed writer) is not applied
        applied = False
        for line in data[:end].splitlines():
            if line:
                self._apply(doc, exact_loads(line))
                applied = True
        self._offset += end
        if applied:
            self._tracked = {path: (items, len(items)) for path, items in _lists(doc)}

    def _apply(self, doc: dict, change: dict) -> None:
        """Apply one journal line to ``doc`` and to what this store remembers as committed."""
        for key in change.get("del", ()):
            dict.pop(doc, key, None)
            self._whole.pop(key, None)
            self._items.pop(key, None)
        for key, value in change.get("set", {}).items():
            for nested in _NESTED.get(key, ()):
                _graft(value, dict.get(doc, key), nested)
            dict.__setitem__(doc, key, value)
            self._note_section(doc, key)
        for section, key, value in change.get("item", ()):
            dict.__setitem__(dict.__getitem__(doc, section), key, value)
            self._items.setdefault(section, {})[key] = _dumps(value)
        for section, key in change.get("drop", ()):
            dict.pop(dict.__getitem__(doc, section), key, None)
            self._items.get(section, {}).pop(key, None)
        for path, items in change.get("ext", ()):
            dict.__getitem__(_at(doc, path[:-1]), path[-1]).extend(items)
        for path, items in change.get("put", ()):
            dict.__setitem__(_at(doc, path[:-1]), path[-1], items)

    def _note_section(self, doc: dict, key: str) -> None:
        """Remember section ``key`` of ``doc`` as committed (item by item for a mapping of items)."""
        value = dict.__getitem__(doc, key)
        if key in _PURE_LISTS:
            return
        if _itemized(key, value):
            if not isinstance(value, Sections):
                value = Sections(value)
                dict.__setitem__(doc, key, value)
            self._items[key] = {k: _dumps(v) for k, v in dict.items(value)}
            value.touched = set()
            self._whole.pop(key, None)
        else:
            self._whole[key] = _dumps(self._section(doc, key))
            self._items.pop(key, None)

    def _remember(self, doc: dict) -> None:
        """Record all of ``doc`` as committed: section/item texts and append-only list lengths."""
        self._whole, self._items = {}, {}
        for key in list(dict.keys(doc)):
            self._note_section(doc, key)
        self._tracked = {path: (items, len(items)) for path, items in _lists(doc)}
        if isinstance(doc, Sections):
            doc.touched = set()

    @staticmethod
    def _section(doc: dict, key: str) -> Any:
        """Section ``key`` without its append-only lists (what a "set" carries)."""
        value = dict.__getitem__(doc, key)
        for nested in _NESTED.get(key, ()):
            value = _skeleton(value, nested)
        return value

    # ------------------------------------------------------------------ writing
    def write_snapshot(self, doc: dict) -> None:
        """Write ``doc`` whole (new token) and reset the journal to its header."""
        private_mkdir(self.state_dir)  # state is the operator's alone (0600 files)
        token = uuid.uuid4().hex
        data = _dumps({**doc, TOKEN_KEY: token}).encode("utf-8")
        _replace(self.snapshot_path, data)
        header = _dumps({"journal": token}).encode("utf-8") + b"\n"
        _replace(self.journal_path, header)
        self._token = token
        self._snapshot_sig = signature(self.snapshot_path)
        self._snapshot_size = len(data)
        self._offset = len(header)
        self._remember(doc)
        self.snapshots += 1

    def commit(self, doc: dict) -> bool:
        """Append what changed in ``doc`` since the last commit/load (nothing if nothing did). True if written."""
        if self._offset < 0 or self._token is None:
            self.write_snapshot(doc)  # no journal for this snapshot yet
            return True
        parts = []
        known = set(self._whole) | set(self._items) | {path[0] for path in self._tracked if len(path) == 1}
        removed = sorted(key for key in known if not dict.__contains__(doc, key))
        if removed:
            parts.append('"del":' + _dumps(removed))
        for key in removed:
            self._whole.pop(key, None)
            self._items.pop(key, None)
        sets, item_sets, drops = [], [], []
        touched = doc.touched if isinstance(doc, Sections) else None
        keys = list(dict.keys(doc)) if touched is None else [k for k in touched if dict.__contains__(doc, k)]
        for key in keys:
            if key in _PURE_LISTS:
                continue
            value = dict.__getitem__(doc, key)
            old = self._items.get(key)
            if _itemized(key, value) and old is not None:
                inner = value.touched if isinstance(value, Sections) else None
                for item in list(dict.keys(value)) if inner is None else list(inner):
                    if dict.__contains__(value, item):
                        text = _dumps(dict.__getitem__(value, item))
                        if old.get(item) != text:
                            item_sets.append("[" + _dumps(key) + "," + _dumps(item) + "," + text + "]")
                            old[item] = text
                    elif item in old:
                        drops.append(_dumps([key, item]))
                        del old[item]
                if inner is None:
                    for item in [i for i in old if not dict.__contains__(value, i)]:
                        drops.append(_dumps([key, item]))
                        del old[item]
                if isinstance(value, Sections):
                    value.touched = set()
                else:
                    dict.__setitem__(doc, key, Sections(value))
                continue
            text = _dumps(self._section(doc, key))
            if old is not None or self._whole.get(key) != text:
                sets.append(_dumps(key) + ":" + text)
                self._note_section(doc, key)
        if sets:
            parts.append('"set":{' + ",".join(sets) + "}")
        if item_sets:
            parts.append('"item":[' + ",".join(item_sets) + "]")
        if drops:
            parts.append('"drop":[' + ",".join(drops) + "]")
        # Lists of sections nobody looked at since the last commit cannot have grown or been replaced: only the touched
        # sections' lists are walked (a clock move touches none; every append-only list of the document was ~55 steps
        # of a walk in each of the ~110 commits of ``alert handle``, a third of a commit's time), the others keep their
        # committed lengths.
        heads = None if touched is None else set(touched) | set(removed)
        ext, put = [], []
        tracked = {} if heads is None else {p: seen for p, seen in self._tracked.items() if p[0] not in heads}
        for path, items in _lists(doc, heads):
            seen = self._tracked.get(path)
            if seen is not None and seen[0] is items and len(items) >= seen[1]:
                if len(items) > seen[1]:
                    ext.append(_dumps([list(path), items[seen[1]:]]))
            else:
                put.append(_dumps([list(path), items]))
            tracked[path] = (items, len(items))
        self._tracked = tracked
        if isinstance(doc, Sections):
            doc.touched = set()
        if ext:
            parts.append('"ext":[' + ",".join(ext) + "]")
        if put:
            parts.append('"put":[' + ",".join(put) + "]")
        if not parts:
            return False
        line = ("{" + ",".join(parts) + "}\n").encode("utf-8")
        fd = os.open(self.journal_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            size = os.fstat(fd).st_size
            if size != self._offset:  # a torn line of a killed writer after the last good one: cut it off
                os.ftruncate(fd, self._offset)
            view = memoryview(line)
            while view:
                view = view[os.write(fd, view):]
        finally:
            os.close(fd)
        self._offset += len(line)
        self.commits += 1
        if self._offset > max(COMPACT_BYTES, COMPACT_RATIO * self._snapshot_size):
            self.write_snapshot(doc)
        return True
