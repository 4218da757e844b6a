"""Find a manual runbook run on its ledger, so ``runbook undo RUN_ID`` can restore what it changed.

A manual run (``runbook run``) is recorded on the ledger of the incident
``manual-<YYYY-MM-DD>`` under its own step id (:func:`runbooks.dispatch.manual_ids`);
its ``action`` entry carries the apply's before/after and, for manual runs, its
params (:func:`runbooks.dispatch._ledger_action`). ``RUN_ID`` is
``manual-<YYYY-MM-DD>/<step id>`` as ``runbook run`` prints it.

Raises :class:`ManualUndoRefused` (bad input: exit 2; 409 on the API) when the id is malformed, the
run is unknown, failed, is already undone, or its runbook has no undo; :class:`ManualRunUnattested` (a kind of it) when
its apply entry carries no valid seal of the app (ledger9: only sealed entries are believed — a planted ``apply`` never
chooses what is restored, a planted ``undo`` never marks a run undone); :class:`ManualAlreadyReleased`
(answered as done: exit 0 / 200) when it was released already.

A run that changed nothing (it found its state in place: "already locked") of a releasable runbook
(:meth:`runbooks.base.Runbook.releasable`) is found with ``changed=False``: undoing it is a *release* — nothing is
restored, no Azure call — recorded on the run's ledger as an ``undo`` entry with ``released: true``
(:func:`firestop.lifecycle.undo.release_manual`), as ``incident undo`` releases an incident's step.

:func:`manual_runs_since` lists the manual runs a later manual or incident undo must not take away: an apply after
the undone change on the same target and runbook relies on it (:func:`firestop.lifecycle.undo.later_reliance`).

Per-target index (:func:`index_manual_run`, :func:`manual_runs_since` with ``targets``): every successful manual apply
on a target is also a line ``{"run_id", "runbook", "target", "at"}`` of ``index/manual-runs/<SHA-256 of the lower-case
target>.jsonl`` in the same ledger store, appended *before* its ledger entry (:func:`runbooks.dispatch._ledger_action`;
when the line cannot be written, neither is the entry): a crash between the two leaves a line pointing at no entry
(skipped), never an entry without its line. An undo reads the index of each of its targets and then only the ledgers
those lines name: bounded by the runs on its own targets since the incident (:data:`MAX_TARGET_RUNS`), not by the days
since — before, ~100 days of anyone's manual runs after an incident refused its undo for good. The ledger stays the
truth: the line only says where to look (ok, undone and released are read there). Lines carry the app's seal
(ledger9, :func:`index_manual_run`); after the sealed-lines marker's time an unsealed line is not followed, so a blob
writer's planted lines neither fill the bound nor name ledgers to read (lines written before seals are still followed).

Migration: ``index/manual-runs/epoch.json`` ``{"day"}`` is created once, before the first line ever written (the day
of that run's ledger). Ledgers up to and including that day were written without lines and are read whole, as before
(at most :data:`MAX_MANUAL_LEDGERS` days; with no epoch every day is such a day); later days through the index only.
A version older than this one still writing manual runs into the same store after the epoch is not seen: upgrade
every writer (the CLI on laptops as well as the Function App) together.
The epoch carries the app's seal over its day (:data:`EPOCH_SEAL_PURPOSE`); one without a valid seal — created first
by a blob writer, who could date it 2000-01-01 and hide every run written before the index (RT11-05) — is not
believed: every ledger is read whole, as with no epoch.


Moved index (R16-07, as records16 moves a ledger): a target's index name is predictable, and an object there that
cannot be appended to (a planted *block* blob: ``InvalidBlobType``, kept by WORM; locally a folder) refused every
line — and so every manual run's ledger entry on that target. With the app's seal key the index goes on at
:func:`moved_index_name` (``<index>.m-<16 hex>.jsonl``), which readers (:func:`_indexed`) read after the plain object.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

#: ``manual-<YYYY-MM-DD>/<via>-run-<HHMMSS>-<4 hex>`` (:func:`runbooks.dispatch.manual_ids`).
RUN_ID_PATTERN = re.compile(r"^(?P<incident>manual-\d{4}-\d{2}-\d{2})/(?P<step>[a-z]+-run-\d{6}-[0-9a-f]{4})$")
_RUN_ID = RUN_ID_PATTERN


class ManualUndoRefused(ValueError):
    """Nothing can be undone for that run id (the message names why and the fix)."""


class ManualAlreadyReleased(ManualUndoRefused):
    """The run changed nothing and was released already: nothing to do. Entry points answer it as done (exit 0 /
    200 with ``already_released``), so a retried release is idempotent. ``run_id``, ``released_by``, ``released_at``."""

    def __init__(self, run_id: str, runbook: str, data: dict[str, Any], at: Any) -> None:
        self.run_id, self.released_by, self.released_at = run_id, data.get("requested_by"), data.get("released_at") or at
        super().__init__(f"RUN_ID: run {run_id} is already released: it no longer relies on {runbook}'s state "
                         f"(released{' by ' + str(self.released_by) if self.released_by else ''}"
                         f"{', at ' + str(self.released_at) if self.released_at else ''}); nothing was restored")


class ManualRunUnattested(ManualUndoRefused):
    """The run's apply entry on its ledger carries no valid seal of the app's key (:meth:`runbooks.ledger.Ledger.sealed`):
    Firestop did not append it as it reads now (planted or altered by whoever can write the ledger blob, or written
    before entries were sealed), so nothing is restored from it (409 on the API, exit 2 locally). ``run_id``, ``seq``
    (the newest such entry's)."""

    def __init__(self, run_id: str, seq: Any, no_key: bool = False) -> None:
        self.run_id, self.seq = run_id, seq
        why = ("the app holds no usable seal key to check it" if no_key else
               "Firestop did not append it as it reads now (planted or altered in the ledger store, written before "
               "ledger entries were sealed, or sealed with a seal key since dropped: python -m firestop seal-key show)")
        super().__init__(f"RUN_ID: the apply of run {run_id} (ledger entry seq {seq}) carries no seal of this app: {why}; "
                         f"nothing was undone — check python -m firestop ledger verify {run_id.split('/')[0]} and restore "
                         "by hand from a state you trust")


@dataclass(frozen=True)
class ManualRun:
    incident_id: str
    step_id: str
    runbook: str
    target: str | None
    params: dict[str, Any]
    applied: dict[str, Any]  # the shape Runbook.undo takes: runbook, target, changed, before, after, summary, artifacts
    #: when the apply finished (its ledger entry's ``at``, ISO 8601 UTC), None when the entry has none
    applied_at: str | None = None
    #: False: the run changed nothing (found its state in place), so its undo is a release (nothing restored)
    changed: bool = True

    @property
    def run_id(self) -> str:
        """``manual-<YYYY-MM-DD>/<step id>``, as ``runbook run`` printed it."""
        return f"{self.incident_id}/{self.step_id}"


def find_manual_run(settings: Any, run_id: str) -> ManualRun:
    """The undoable apply of manual run ``run_id`` (see the module docstring)."""
    from runbooks import get_runbook
    from runbooks.ledger import Ledger

    found = _RUN_ID.match((run_id or "").strip())
    if not found:
        raise ManualUndoRefused(
            f"RUN_ID: {run_id[:80]!r} is not a manual run id; give it as runbook run printed it: manual-<YYYY-MM-DD>/cli-run-<HHMMSS>-<hex>")
    incident, step = found["incident"], found["step"]
    ledger = Ledger.of(settings)
    try:
        entries = ledger.entries(incident)
    except (OSError, ValueError) as exc:
        raise ManualUndoRefused(f"RUN_ID: the ledger of {incident} cannot be read ({exc}); check it with: ledger verify {incident}") from None
    key = ledger.key()
    mine = [e for e in entries if e.get("kind") == "action" and e.get("step_id") == step]
    # only what Firestop appended is believed (ledger9): a blob writer's planted apply (another 'before' to restore)
    # or undo (the run "already undone", hidden from reliance) carries no seal of the app's key
    believed = [e for e in mine if ledger.sealed(e, key, on=incident)]  # and names this ledger (RT13-02)
    applies = [e for e in believed if e.get("action") == "apply"]
    if not applies:
        unsealed = [e for e in mine if e.get("action") == "apply"]
        if unsealed:
            raise ManualRunUnattested(f"{incident}/{step}", unsealed[-1].get("seq"), key is None)
        raise ManualUndoRefused(f"RUN_ID: no run {step} on the ledger of {incident}; check FIRESTOP_HOME (or the storage settings)")
    apply = applies[-1]
    data = apply.get("data") if isinstance(apply.get("data"), dict) else {}
    if not data.get("ok"):
        raise ManualUndoRefused(f"RUN_ID: run {step} failed ({(data.get('error') or {}).get('message') or 'no detail'}); nothing to undo")
    undone = [e for e in believed if e.get("action") == "undo" and isinstance(e.get("data"), dict) and e["data"].get("ok")]
    if undone and undone[-1]["data"].get("released"):
        raise ManualAlreadyReleased(f"{incident}/{step}", str(apply.get("runbook") or ""), undone[-1]["data"], undone[-1].get("at"))
    if undone:
        from firestop.times import instant  # as every command writes a time: 2026-11-29 03:23:40.1 UTC

        when = instant(undone[-1].get("at")) if undone[-1].get("at") else "an earlier time"
        raise ManualUndoRefused(f"RUN_ID: run {step} is already undone (at {when})")
    runbook = str(apply.get("runbook") or "")
    try:
        kind = type(get_runbook(runbook))
    except (KeyError, LookupError):
        raise ManualUndoRefused(f"RUN_ID: run {step} used runbook {runbook!r}, which this version does not know") from None
    if not kind.reversible:
        raise ManualUndoRefused(f"RUN_ID: {runbook} cannot be undone (its change is final, e.g. a revoked key)")
    changed = bool(data.get("changed"))
    if not changed and not kind.releasable():
        raise ManualUndoRefused(f"RUN_ID: run {step} changed nothing; nothing to undo")
    if changed and "params" not in data:
        raise ManualUndoRefused(f"RUN_ID: run {step} was recorded before runs kept their parameters; undo it with the runbook's own tooling")
    target = apply.get("target")
    applied = {"runbook": runbook, "target": target or "", "changed": changed, "before": data.get("before") or {},
               "after": data.get("after") or {}, "summary": data.get("summary") or "",
               # kept since new user 13 (runbooks.dispatch); an older entry has none: a runbook whose undo needs them refuses
               "artifacts": data.get("artifacts") if isinstance(data.get("artifacts"), dict) else {}}
    return ManualRun(incident_id=incident, step_id=step, runbook=runbook, target=target,
                     params=dict(data.get("params") or {}), applied=applied,
                     applied_at=apply.get("at") if isinstance(apply.get("at"), str) and apply.get("at") else None,
                     changed=changed)


#: Manual-run ledgers (one a UTC day with runs) an undo reads to find runs relying on what it restores; past this the
#: undo is refused (:class:`ManualRunsUnread`) rather than reading without bound or skipping one.
MAX_MANUAL_LEDGERS = 100
#: Manual-run ledgers an undo reads whole at most, verifiable or not (bounds14): only a ledger holding an entry the app
#: sealed on it counts toward :data:`MAX_MANUAL_LEDGERS` (a blob writer's backdated ``manual-<day>`` ledgers no longer
#: refuse the undo of an incident more than 100 days old), but each one dated in the window is still read (its
#: unsealed applies still add reliance: fail closed), so this bounds the reads — about 13 months of days.
MAX_WHOLE_LEDGERS = 4 * MAX_MANUAL_LEDGERS

#: A day's manual-run ledger, at its plain name or the one it moved to (:meth:`runbooks.ledger.Ledger.moved_name`,
#: records16: read through the plain name's :class:`~runbooks.ledger.Ledger` either way, a day listed once).
_LEDGER_DAY = re.compile(r"^manual-(?P<day>\d{4}-\d{2}-\d{2})(?:\.m-[0-9a-f]{16})?\.jsonl$")


#: Manual runs on one undo's targets since the incident (index lines) an undo reads; past this it is refused.
MAX_TARGET_RUNS = 1_000
#: The per-target index of manual runs in the ledger store (see the module docstring).
INDEX_PREFIX = "index/manual-runs/"
EPOCH_NAME = INDEX_PREFIX + "epoch.json"


class ManualRunsUnread(ValueError):
    """More manual-run ledgers than :data:`MAX_MANUAL_LEDGERS` (written before the index) or more runs on the undo's
    targets than :data:`MAX_TARGET_RUNS` since the time asked (``count``)."""

    def __init__(self, count: int, limit: int, what: str = "days") -> None:
        text = (f"manual runs were recorded on {count} days since, more than the {limit} an undo reads" if what == "days"
                else f"{count} manual runs were recorded on its targets since, more than the {limit} an undo reads")
        super().__init__(text)
        self.count, self.limit = count, limit


def index_name(target: str) -> str:
    """The index object of ``target`` (an ARM resource ID, keyed by :func:`runbooks.targets.target_key`: case-insensitive
    as Azure compares, in any form a runbook reads as the same resource): ``index/manual-runs/<64 hex>.jsonl``."""
    from runbooks.targets import target_key

    return f"{INDEX_PREFIX}{hashlib.sha256(target_key(target).encode('utf-8')).hexdigest()}.jsonl"


#: The seal purpose of the epoch (HMAC under the app's seal key over its day, bound to :data:`EPOCH_NAME`): an epoch
#: without it is not believed (RT11-05: a blob writer's epoch dated 2000-01-01 hid every run written before the index).
EPOCH_SEAL_PURPOSE = "manual-runs-epoch"


#: The seal purpose of an index line (over :func:`line_digest`, bound to its index object's name) and of the
#: sealed-lines marker (over its ``since``, bound to its name, :func:`sealed_lines_name`).
INDEX_SEAL_PURPOSE = "manual-runs-index"
#: The sealed-lines marker ``{"since", "seal"}`` is ``<prefix><tag>.json``: created once, before the first sealed index
#: line (ledger9), ``since`` that line's ``at``.
SEALED_LINES_PREFIX = INDEX_PREFIX + "sealed-lines-"
#: Read bounds (bounds14; over one the object is refused unread, :class:`firestop.storage.base.TooLarge`, a StoreError
#: naming it — handled as an object that cannot be read, never read whole into memory): the epoch and the sealed-lines
#: marker are ~150 bytes as written (×25: 4 KiB); an index of one target holds a ~250-byte line per run, and more than
#: :data:`MAX_TARGET_RUNS` followed is refused anyway. Indexes are streamed like ledgers (ledger15,
#: :class:`runbooks.ledger.LedgerScan`: whatever a blob writer grows one to, a chunk and a line are held);
#: ``LEDGER_READ_LIMIT`` is kept for callers that import it.
MARKER_READ_LIMIT = 4096
LEDGER_READ_LIMIT = 16 * 1024 * 1024


def sealed_lines_name(key: Any) -> str:
    """The sealed-lines marker's object name for ``key`` (the app's :class:`firestop.trust.seal.SealKey`):
    :data:`SEALED_LINES_PREFIX` + 32 hex of the SHA-256 of the key's seal over a fixed statement + ``.json``. Only the
    key makes the name (RT13-01: under a fixed name a blob writer created the marker first, with any seal, so Firestop
    never wrote its own and every planted line was followed for good — WORM keeps a created blob)."""
    tag = hashlib.sha256(key.sign(INDEX_SEAL_PURPOSE, "sealed-lines-marker", "0" * 64).encode("ascii")).hexdigest()
    return f"{SEALED_LINES_PREFIX}{tag[:32]}.json"


#: The seal purpose an index's moved name is derived with (:func:`moved_index_name`), bound to the index's plain name.
INDEX_NAME_PURPOSE = "manual-runs-index-name"


def moved_index_name(name: str, key: Any) -> str | None:
    """Where the index ``name`` (:func:`index_name`) goes on when its plain object cannot be appended to (R16-07, as a
    ledger moves: :meth:`runbooks.ledger.Ledger.moved_name`) — a *block* blob a blob writer planted at the predictable
    name (Append Block: ``InvalidBlobType``; WORM keeps it), locally a folder: ``<name>.m-<16 hex>.jsonl``, the hex
    from the app's seal (``key``) over the plain name, which nobody without the key can create first. None without
    ``key``."""
    if key is None:
        return None
    tag = hashlib.sha256(key.sign(INDEX_NAME_PURPOSE, name, "0" * 64).encode("ascii")).hexdigest()[:16]
    return f"{name[: -len('.jsonl')]}.m-{tag}.jsonl"


def _moved_index(store: Any, name: str, key: Any) -> str | None:
    """Where the index ``name``'s lines go once it has moved: the moved object a retired key of the ring made, when it
    exists (seal18: lines appended after a rotation went on in a second moved object, the current key's — read, but
    one index in three objects), else the current key's :func:`moved_index_name`. At most 3 one-byte ranged reads,
    only with retired keys. None without ``key``."""
    if key is None:
        return None
    from firestop.trust.seal import ring_keys
    from runbooks.ledger import read_window

    keys = ring_keys(key)
    for one in keys[1:]:
        moved = moved_index_name(name, one)
        if moved is not None and read_window(store, moved, 0, 1) is not None:
            return moved
    return moved_index_name(name, keys[0])


def index_objects(name: str, key: Any) -> list[str]:
    """The objects the index ``name`` is read from, in order: its plain name, then its moved name (with ``key``) under
    each key of the ring (seal17: an index moved under a key since retired is still read; at most 4 names)."""
    if key is None:
        return [name]
    from firestop.trust.seal import ring_keys

    return [name] + [moved_index_name(name, k) for k in ring_keys(key)]


def line_digest(line: dict[str, Any]) -> str:
    """SHA-256 hex of an index line without its ``seal`` (canonical JSON) — what the line's seal is over."""
    from runbooks.ledger import canonical

    return hashlib.sha256(canonical({k: v for k, v in line.items() if k != "seal"})).hexdigest()


def index_manual_run(store: Any, incident_id: str, step_id: str, runbook: str, target: str, at: str,
                     key: Any = None) -> None:
    """Append run ``incident_id/step_id``'s line to ``target``'s index in ``store`` (the ledger store), creating the
    epoch first if there is none, sealed with ``key`` (the app's :class:`firestop.trust.seal.SealKey`; None: unsealed,
    so not believed). With ``key`` the line carries the app's seal too (``"seal"``, :data:`INDEX_SEAL_PURPOSE` over
    :func:`line_digest`, bound to the index object's name), and the sealed-lines marker (:func:`sealed_lines_name`,
    its ``since`` sealed) is created before the first such line: from then on a line without a valid seal is not
    followed (a blob writer's planted lines neither count toward :data:`MAX_TARGET_RUNS` nor name ledgers to read).
    Call it *before* the run's ledger entry. Raises StoreError (an OSError) when the store cannot be written or stays
    contended."""
    from firestop.storage import AlreadyExists, AppendConflict, StoreError
    from runbooks.ledger import MAX_APPEND_ATTEMPTS, LedgerScan, canonical

    if store.read(EPOCH_NAME, limit=MARKER_READ_LIMIT) is None:
        day = incident_id.removeprefix("manual-")
        epoch = {"day": day} | ({"seal": key.sign(EPOCH_SEAL_PURPOSE, EPOCH_NAME, day)} if key is not None else {})
        try:
            store.create(EPOCH_NAME, canonical(epoch), "application/json")
        except AlreadyExists:  # another writer's first line: its day holds
            pass
    name = index_name(target)
    record: dict[str, Any] = {"run_id": f"{incident_id}/{step_id}", "runbook": runbook, "target": target, "at": at}
    if key is not None:
        marker_name = sealed_lines_name(key)
        if _utc(at) is not None and store.read(marker_name, limit=MARKER_READ_LIMIT) is None:
            since = _since_text(store, key) or at  # seal17: a marker a retired key sealed keeps its time
            marker = {"since": since, "seal": key.sign(INDEX_SEAL_PURPOSE, marker_name, since)}
            try:
                store.create(marker_name, canonical(marker), "application/json")
            except AlreadyExists:  # another writer's first sealed line: its time holds
                pass
        record["seal"] = key.sign(INDEX_SEAL_PURPOSE, name, line_digest(record))
    line = canonical(record) + b"\n"
    moved = _moved_index(store, name, key)
    for _ in range(MAX_APPEND_ATTEMPTS):
        # streamed (ledger15, A13-04's sibling: the index name is predictable from the target): only its length and
        # whether it ends a line are needed, whatever a blob writer grew it to. Once the index has moved (R16-07),
        # lines go to the moved object
        scan = LedgerScan(store, moved) if moved else None
        if scan is not None:
            for _line in scan:
                pass
        target = moved if scan is not None and scan.exists else name
        if target == name:
            scan = LedgerScan(store, name)
            for _line in scan:
                pass
        try:  # a tail cut by a crash is ended first, so this line stays whole (the cut one is skipped by readers)
            store.append(target, line if scan.terminated else b"\n" + line, at=scan.size)
            return
        except AppendConflict:
            continue
        except StoreError as exc:
            # R16-07: the plain object cannot be appended to (a planted block blob, a folder): move, with the key
            if exc.kind != "failed" or target != name or moved is None:
                raise
            logging.getLogger("firestop.runbooks").warning("manual-run index %s cannot be appended to (%s); going on "
                                                           "in %s", name, str(exc)[:300], moved)
            try:
                store.append(moved, line, at=0)
                return
            except AppendConflict:
                continue
    raise StoreError("transient", f"manual-run index {name}: {MAX_APPEND_ATTEMPTS} appends in a row lost the race; try again")


def _sealed_since(store: Any, key: Any) -> datetime | None:
    """The time from which index lines carry seals (the marker :func:`sealed_lines_name` of ``key``), None when there
    is no marker, it is not readable as one, or its seal is not the app's (``key``; None: not believed) — then every
    line is followed, as before seals. With retired keys (seal17) each key's marker is read and the earliest believed
    time holds. Raises StoreError when it cannot be read."""
    since = _since_text(store, key)
    return _utc(since) if since is not None else None


def _since_text(store: Any, key: Any) -> str | None:
    """The earliest ``since`` of the sealed-lines markers of the ring's keys (at most 4 reads) that carries a valid
    seal of ``key``; None without one. Raises StoreError when one cannot be read."""
    if key is None:
        return None
    from firestop.trust.seal import ring_keys

    found: list[tuple[datetime, str]] = []
    for one in ring_keys(key):
        name = sealed_lines_name(one)
        raw = store.read(name, limit=MARKER_READ_LIMIT)
        if raw is None:
            continue
        try:
            doc = json.loads(raw)
        except ValueError:
            continue
        since = doc.get("since") if isinstance(doc, dict) else None
        if not isinstance(since, str) or not key.check(INDEX_SEAL_PURPOSE, name, since, doc.get("seal"))[0]:
            continue
        when = _utc(since)
        if when is not None:
            found.append((when, since))
    return min(found)[1] if found else None


def reseal_marker(store: Any, key: Any) -> bool:
    """Seal the sealed-lines marker anew under ``key``'s current key (seal17, ``seal-key rotate``): the earliest time a
    key of the ring sealed is written at the current key's marker name (create-only), so dropping a retired key later
    does not move the time from which unsealed lines are refused. True when written; False when there is nothing to
    carry or the current key's marker exists. Raises StoreError when the store cannot be read or written."""
    from firestop.storage import AlreadyExists
    from runbooks.ledger import canonical

    if key is None:
        return False
    name = sealed_lines_name(key)
    if store.read(name, limit=MARKER_READ_LIMIT) is not None:
        return False
    since = _since_text(store, key)
    if since is None:
        return False
    try:
        store.create(name, canonical({"since": since, "seal": key.sign(INDEX_SEAL_PURPOSE, name, since)}), "application/json")
    except AlreadyExists:
        return False
    return True


def _epoch_day(store: Any, settings: Any = None) -> str | None:
    """The epoch's day (``YYYY-MM-DD``), None when no line was ever written — or when the epoch carries no valid seal
    of the app's key (``settings``' :func:`firestop.trust.seal.load_seal_key`): then every ledger is read whole, as
    before the index (bounded; fail closed past the bound), instead of believing a day a blob writer chose (RT11-05).
    An epoch that is not one (junk a blob writer created before Firestop's first line, leftovers10) is not believed
    either — before, it raised ValueError and every undo was refused."""
    import logging

    from firestop.trust.seal import SealKeyError, load_seal_key

    raw = store.read(EPOCH_NAME, limit=MARKER_READ_LIMIT)
    if raw is None:
        return None
    try:
        doc = json.loads(raw)
    except ValueError:
        doc = None
    day = doc.get("day") if isinstance(doc, dict) else None
    ok = False
    if isinstance(day, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", day):
        try:
            ok = load_seal_key(getattr(settings, "home", None)).check(EPOCH_SEAL_PURPOSE, EPOCH_NAME, day,
                                                                       doc.get("seal"))[0]
        except SealKeyError:
            ok = False
    if not ok:
        logging.getLogger("firestop.runbooks").warning("%s carries no valid seal: every manual-run ledger is read whole",
                                                       EPOCH_NAME)
        return None
    return day


def _indexed(store: Any, targets: Any, since: datetime, key: Any = None) -> dict[str, set[str]]:
    """``{manual ledger: {step ids}}`` of the runs the index lines of ``targets`` name, applied after ``since`` (a line
    whose time cannot be read counts as after). A line that is not JSON was cut by a crash before its ledger entry was
    written and is skipped; so is a line after the sealed-lines marker's time (:func:`_sealed_since`, ``key``: the
    app's seal key) without a valid seal of ``key`` — a blob writer's (ledger9). A run named by several lines counts
    once (copies of a sealed line stay sealed, RT13-05). Raises StoreError when an index cannot be read,
    :class:`ManualRunsUnread` past :data:`MAX_TARGET_RUNS` runs."""
    found: dict[str, set[str]] = {}
    count = 0
    from runbooks.targets import target_key

    from runbooks.ledger import LedgerScan

    sealed_since = _sealed_since(store, key)
    for target in sorted({target_key(t) for t in targets if t}):
        name = index_name(target)
        # streamed (ledger15); a line over MAX_LINE_BYTES is None: not a line. The plain object, then the one the index
        # moved to (R16-07); a line's seal is bound to the plain name wherever it lies
        for text in (t for part in index_objects(name, key) for t in LedgerScan(store, part)):
            if text is None:
                continue
            try:
                line = json.loads(text)
            except ValueError:
                continue
            run = _RUN_ID.match(str(line.get("run_id") or "")) if isinstance(line, dict) else None
            at = _utc(line.get("at")) if run else None
            if run is None or (at is not None and at <= since):
                continue
            if (sealed_since is not None and (at is None or at > sealed_since)
                    and not key.check(INDEX_SEAL_PURPOSE, name, line_digest(line), line.get("seal"))[0]):
                continue  # after seals began, an unsealed line is not Firestop's: it names nothing to read
            if run["step"] in found.get(run["incident"], ()):
                continue  # RT13-05: a run is counted once, however many (copied, still sealed) lines name it
            count += 1
            if count > MAX_TARGET_RUNS:
                raise ManualRunsUnread(count, MAX_TARGET_RUNS, what="runs")
            found.setdefault(run["incident"], set()).add(run["step"])
    return found


def manual_runs_since(settings: Any, since: datetime, *, exclude: str | None = None,
                      targets: Any = None, now: datetime | None = None) -> list[dict[str, Any]]:
    """The manual runs applied (ok) after ``since`` (aware UTC) and neither undone nor released, newest ledger last:
    ``[{"run_id", "step_id", "runbook", "target", "changed", "ok": True, "at"}]`` (a record action's shape, so
    :func:`firestop.lifecycle.undo.later_reliance` compares them as it compares a later incident's steps); ``exclude``:
    a run id left out (the run being undone). ``targets``: the resource IDs the undo restores — the runs on them are
    found through their index (module docstring), and the ledgers of days up to the epoch read whole; None: every
    ledger ``manual-<day>`` of ``settings`` from the day before ``since`` on (a day's slack for clocks) is read whole,
    at most :data:`MAX_MANUAL_LEDGERS` of them (days written before the index: the same slack and bound).

    Only a sealed ``undo`` entry (:meth:`runbooks.ledger.Ledger.sealed`) marks a run undone or released; every ``apply``
    entry counts, sealed or not (ledger9: unsealed entries can only add reliance, never lift it).

    ``now`` (aware UTC, the clock that names run ledgers): a ledger ``manual-<day>`` dated after ``now`` plus a day's
    slack cannot hold a run — a run's ledger is named by the day it ran — so it is a blob writer's: such ledgers are
    skipped and named (a WARNING with their count and first and last names), never read and never counted toward
    :data:`MAX_MANUAL_LEDGERS` (leftovers11: a flood of planted future-dated ledgers refused every undo). Days read whole
    then lie between ``since`` and ``now``; of those, only a ledger holding an entry the app sealed on it (with the
    app's key; without one every day counts, as before) counts toward :data:`MAX_MANUAL_LEDGERS` (bounds14: backdated
    planted ledgers filled it for an incident more than 100 days old), and at most :data:`MAX_WHOLE_LEDGERS` are read.
    None: no such filter.

    Raises :class:`ManualRunsUnread` past a bound; StoreError/OSError when the ledger store cannot be listed, an index
    or a ledger read (never "no run relies on it" unread). A ledger line that is not an entry is skipped
    (:meth:`runbooks.ledger.Ledger.entries`: it can neither add reliance nor lift it; ``ledger verify`` names it)."""
    from runbooks.ledger import Ledger

    ledger = Ledger.of(settings)
    key = ledger.key()
    first = (since - timedelta(days=1)).date().isoformat()
    epoch = _epoch_day(ledger.store, settings) if targets is not None else None
    indexed = _indexed(ledger.store, targets, since, key) if epoch is not None else {}
    whole: list[str] = []  # days read whole: all of them without an index, else those up to the epoch
    if epoch is None or first <= epoch:
        whole = sorted({m["day"] for m in map(_LEDGER_DAY.match, ledger.store.names("manual-"))
                        if m and m["day"] >= first and (epoch is None or m["day"] <= epoch)})
    if now is not None:
        last = (now + timedelta(days=1)).date().isoformat()
        planted = [day for day in whole if day > last]
        if planted:
            import logging

            logging.getLogger("firestop.runbooks").warning(
                "%d manual-run ledger(s) dated after %s (manual-%s … manual-%s): no run can have written them (a run's "
                "ledger is named by the day it ran); skipped, not read — find their writer (the firestop-audit "
                "StorageWrite logs)", len(planted), last, planted[0], planted[-1])
            whole = [day for day in whole if day <= last]
    if len(whole) > MAX_WHOLE_LEDGERS:
        raise ManualRunsUnread(len(whole), MAX_WHOLE_LEDGERS)
    if key is None and len(whole) > MAX_MANUAL_LEDGERS:  # nothing verifiable without the key: every day counts
        raise ManualRunsUnread(len(whole), MAX_MANUAL_LEDGERS)
    days = sorted(set(whole) | {i.removeprefix("manual-") for i in indexed})
    runs: list[dict[str, Any]] = []
    verified = 0  # days read whole that hold an entry the app sealed there (bounds14: only those count to the bound)
    for day in days:
        steps = None if day in whole else indexed.get(f"manual-{day}", set())
        entries = ledger.entries(f"manual-{day}")
        if steps is None and key is not None and any(ledger.sealed(e, key, on=f"manual-{day}") for e in entries):
            verified += 1
            if verified > MAX_MANUAL_LEDGERS:
                raise ManualRunsUnread(verified, MAX_MANUAL_LEDGERS)
        # an undo or release lifts a run's reliance only when Firestop appended it (sealed, ledger9: a blob writer's
        # planted 'undo … ok' hid the run and the earlier incident's undo went through); an apply counts sealed or not
        # (entries written before seals still rely on the state): unsealed entries can only add reliance
        undone = {e.get("step_id") for e in entries if e.get("kind") == "action" and e.get("action") == "undo"
                  and isinstance(e.get("data"), dict) and e["data"].get("ok") and ledger.sealed(e, key, on=f"manual-{day}")}
        for e in entries:
            data = e.get("data") if isinstance(e.get("data"), dict) else {}
            if e.get("kind") != "action" or e.get("action") != "apply" or not data.get("ok") or e.get("step_id") in undone:
                continue
            if steps is not None and e.get("step_id") not in steps:
                continue
            run_id = f"manual-{day}/{e.get('step_id')}"
            at = _utc(e.get("at"))
            if run_id == exclude or (at is not None and at <= since):
                continue
            runs.append({"run_id": run_id, "step_id": e.get("step_id"), "runbook": e.get("runbook"), "target": e.get("target"),
                         "changed": bool(data.get("changed")), "ok": True, "at": e.get("at")})
    return runs


def _utc(value: Any) -> datetime | None:
    """An entry's ISO 8601 time as an aware datetime (naive read as UTC); None when absent or unreadable (such a run
    counts as later: refuse rather than reopen)."""
    if not isinstance(value, str) or not value:
        return None
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)
