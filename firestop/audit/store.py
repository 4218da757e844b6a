"""Audits kept with the records: ``audits/<audit id>.json`` + ``.md`` + ``.html`` in the records store, each written once.

The records store is :func:`firestop.storage.stores_for` ``(settings).records``: Blob Storage
(``FIRESTOP_STORAGE_BLOB_URL``, container ``FIRESTOP_RECORDS_CONTAINER``) on Azure, else
``FIRESTOP_HOME/records``. Every audit is kept (drift needs the previous one); :func:`latest` finds
the newest audit of a scope. Every function takes the store, or a records folder (a path: the local store).
An object is never replaced: saving an audit whose id is taken by
other content (two audits of one scope in the same second) files it as ``<audit id>-2``, ``-3``, …
(the id inside changes with it).

**Sealed** (RT17-02): the JSON document carries ``"seal"`` — HMAC-SHA256 with the app's seal key
(:mod:`firestop.trust.seal`, purpose ``audit``, bound to the audit id) over the rest of the document. :func:`load` and
:func:`latest` believe only a document whose seal holds for the id its name gives: anyone with write on the records
container (no Firestop role, no seal key) could otherwise file the "newest" audit of a scope — one whose findings
already include the account re-opened to the Internet, so that drift is never new and no incident opens — or show
readers any audit they like. A planted or altered document is skipped as unreadable ones are (and counts toward
:data:`MAX_SCANNED`: :func:`previous` says when they crowded the previous audit out). Audits filed before seals are
not believed either: the first audit after the upgrade is a baseline (no drift, no incident). Errors: :class:`firestop.trust.seal.SealKeyError` (no usable seal key) from :func:`save`, :func:`load`
and :func:`latest` when no ``key`` is given.
"""

from __future__ import annotations

import json
import logging
import os
import re
from pathlib import Path
from typing import Any

from firestop.audit.models import Audit
from firestop.audit.render import render_html, render_markdown

log = logging.getLogger(__name__)

PREFIX = "audits/"
_ID = re.compile(r"^audit-[0-9]{8}T[0-9]{6}Z-[0-9a-f]{4}(-[0-9]{1,4})?$")
#: At most this many stored audits are read to find the previous one of a scope (newest first).
MAX_SCANNED = 500
#: The most bytes an audit document is read at (A13-03): a sandbox audit of 30 results is 31,112 bytes (~1 KB a
#: result), so 16 MiB holds ~16,000 results — hundreds of accounts. A bigger document was planted (Storage Blob Data
#: write): refused unread (:class:`~firestop.storage.base.TooLarge`) and not believed, like an unsealed one — never an
#: error that stops the scan (one such blob named as the newest audit failed every audit: no drift, no incident).
AUDIT_READ_LIMIT = 16 * 1024 * 1024
#: The sealed-since markers (R13-01, seal18): whether a key of the app's ring has ever sealed an audit here — so that
#: unsealed documents in the way of :func:`previous` may have crowded a sealed audit out (RT17-03: fail closed), or
#: not (audits filed before seals, or only under a key since dropped, whose audits are not believed either: a
#: baseline). Each key marks for itself (seal18): ``audits/sealed-since-<32 hex>.json`` (:func:`marker_name`, the hex
#: from the key's seal over a fixed statement, so nobody without the key can create it first), ``{"first": <audit id>,
#: "seal"}`` sealed for its name, filed by the first audit that key seals (create-if-absent, before the audit itself).
#: Before seal18 one marker at the fixed name :data:`SEALED_SINCE` (``{"first", "seal"}`` bound to ``"sealed-since"``)
#: served every key: after ``seal-key retire`` dropped the key that sealed it, every audit warned that it was "not the
#: marker Firestop seals (planted?)". It is still read (stores of earlier versions) and still filed by a store's first
#: audit (earlier versions' instances read it during a deployment).
SEALED_SINCE = f"{PREFIX}sealed-since.json"
_MARKER_BINDING = "sealed-since"
#: The per-key markers' names start so (they are no audit ids: :func:`stored_ids` leaves them out).
KEY_MARKER_PREFIX = f"{PREFIX}sealed-since-"
#: Most bytes of a marker read (one holds ~150).
MARKER_READ_LIMIT = 4096
#: trust16: a zero-byte object ``audits/filed/<audit id>.<seal>`` filed after each audit document, the seal (purpose
#: ``audit``, bound to ``filed/<audit id>``) in its *name*: the views (:func:`latest_view`) find the newest audit this
#: app filed from the names alone, and read no document that has none — a records-store writer's junk, however large
#: or many, is skipped unread (it cannot name a seal without the key).
FILED_PREFIX = f"{PREFIX}filed/"
_FILED_DIGEST = "firestop-audit-filed"
#: The most audit documents a view reads (at most :data:`AUDIT_READ_LIMIT` bytes each): marked ones first, then —
#: only when no marked one could be read (audits filed before markers) — the newest names, within
#: :data:`VIEW_READ_BUDGET` bytes in all.
MAX_VIEW_LOADS = 4
#: The most bytes a view reads in all (4 documents at the read limit).
VIEW_READ_BUDGET = MAX_VIEW_LOADS * AUDIT_READ_LIMIT


def records_store(settings: Any) -> Any:
    """The records :class:`~firestop.storage.ObjectStore` of ``settings``."""
    from firestop.storage import stores_for

    return stores_for(settings).records


def _store(where: Any) -> Any:
    """An ObjectStore as given, or the local records store of a records folder (a ``Path``/``str``: FIRESTOP_HOME/records)."""
    if isinstance(where, (str, os.PathLike)):
        from firestop.storage.local import LocalStore

        return LocalStore(Path(where), "FIRESTOP_HOME/records")
    return where


def valid_audit_id(audit_id: str) -> bool:
    return bool(_ID.match(audit_id or ""))


def _key(key: Any) -> Any:
    """``key`` (a :class:`firestop.trust.seal.SealKey`), else the app's (:func:`~firestop.trust.seal.load_seal_key`)."""
    if key is not None:
        return key
    from firestop.trust.seal import load_seal_key

    return load_seal_key()


def _document(audit: Audit, key: Any) -> bytes:
    """The audit's JSON document, sealed with ``key`` for its id (module docstring)."""
    from firestop.trust.seal import Purpose, seal

    document = seal(Purpose.AUDIT, audit.model_dump(mode="json"), binding=audit.audit_id, key=key)
    return json.dumps(document, indent=1, sort_keys=True, ensure_ascii=False).encode("utf-8")


def save(audit: Audit, store: Any, key: Any = None) -> tuple[Audit, dict[str, str]]:
    """File ``audit`` (JSON, Markdown, HTML), sealed (``key``: the app's seal key by default); (the audit as filed,
    ``{"json", "markdown", "html"}`` locations)."""
    from firestop.storage import AlreadyExists

    store = _store(store)
    key = _key(key)
    _mark_sealed(store, audit.audit_id, key)
    base, n = audit.audit_id, 1
    while True:
        candidate = audit if n == 1 else audit.model_copy(update={"audit_id": f"{base}-{n}"})
        try:
            store.create(f"{PREFIX}{candidate.audit_id}.json", _document(candidate, key), "application/json")
            break
        except AlreadyExists:
            n += 1
            if n > 999:
                raise
    _mark_filed(store, candidate.audit_id, key)
    files = {"json": store.location(f"{PREFIX}{candidate.audit_id}.json")}
    for key, ext, text, mime in (("markdown", "md", render_markdown(candidate), "text/markdown; charset=utf-8"),
                                 ("html", "html", render_html(candidate), "text/html; charset=utf-8")):
        name = f"{PREFIX}{candidate.audit_id}.{ext}"
        store.create(name, text.encode("utf-8"), mime)
        files[key] = store.location(name)
    return candidate, files


def marker_name(key: Any) -> str:
    """The sealed-since marker's name of ``key`` (a :class:`~firestop.trust.seal.SealKey`; a ring: its current key):
    :data:`KEY_MARKER_PREFIX` + 32 hex of the SHA-256 of the key's seal over a fixed statement + ``.json``."""
    import hashlib

    from firestop.trust.seal import Purpose, ring_keys

    one = ring_keys(key)[0]
    tag = hashlib.sha256(one.sign(Purpose.AUDIT, "sealed-since-marker", "0" * 64).encode("ascii")).hexdigest()
    return f"{KEY_MARKER_PREFIX}{tag[:32]}.json"


def _marker(store: Any, name: str, binding: str, key: Any) -> tuple[bool, bool, str | None, str]:
    """``(present, believed, key id, why not)`` of the marker at ``name``: an object is there; it is a JSON object whose
    seal ``key`` (the ring) believes for ``binding``; the key id its seal names (None when it has no seal-shaped
    ``"seal"``). Raises the store's errors (a read that fails) other than an object over :data:`MARKER_READ_LIMIT`
    bytes (present, not believed)."""
    from firestop.storage import TooLarge
    from firestop.trust.seal import MAX_SEAL_LENGTH, Purpose, verify

    try:
        data = store.read(name, limit=MARKER_READ_LIMIT)
    except TooLarge:
        return True, False, None, f"over {MARKER_READ_LIMIT} bytes"
    if data is None:
        return False, False, None, "absent"
    try:
        document = json.loads(data)
    except (ValueError, RecursionError):
        return True, False, None, "not JSON"
    if not isinstance(document, dict):
        return True, False, None, "not a JSON object"
    found = document.get("seal")
    kid = (found.split(".")[1] if isinstance(found, str) and len(found) <= MAX_SEAL_LENGTH and found.count(".") == 2
           else None)
    ok, why = verify(Purpose.AUDIT, document, binding=binding, key=key)
    return True, ok, kid, why


def _mark_sealed(store: Any, audit_id: str, key: Any) -> None:
    """File the current key's sealed-since marker (:func:`marker_name`) unless it is there — before the audit: a
    crash between the two leaves the marker, the side that fails closed — and, in a store where no marker is
    believed, :data:`SEALED_SINCE` too (create-if-absent: for earlier versions). One read when the marker is there
    (every audit but a key's first)."""
    from firestop.storage import AlreadyExists
    from firestop.trust.seal import Purpose, seal

    own = marker_name(key)
    if _marker(store, own, own, key)[1]:
        return
    documents = [(own, seal(Purpose.AUDIT, {"first": audit_id}, binding=own, key=key))]
    if not sealed_before(store, key):
        documents.insert(0, (SEALED_SINCE, seal(Purpose.AUDIT, {"first": audit_id}, binding=_MARKER_BINDING, key=key)))
    for name, document in documents:
        try:
            store.create(name, json.dumps(document, sort_keys=True).encode("utf-8"), "application/json")
        except AlreadyExists:  # another audit filed it first (or, at the fixed name, someone else's object)
            pass


def _filed_name(audit_id: str, key: Any) -> str:
    """The name of ``audit_id``'s filed-marker (:data:`FILED_PREFIX`): ``<prefix><audit id>.<seal>``."""
    from firestop.trust.seal import Purpose

    return f"{FILED_PREFIX}{audit_id}.{key.sign(Purpose.AUDIT, f'filed/{audit_id}', _FILED_DIGEST)}"


def _mark_filed(store: Any, audit_id: str, key: Any) -> None:
    """File ``audit_id``'s filed-marker (zero bytes; after its document, so a marker names a document that was
    written). A crash between the two leaves an audit without one: the views show the one before it."""
    from firestop.storage import AlreadyExists

    try:
        store.create(_filed_name(audit_id, key), b"", "application/octet-stream")
    except AlreadyExists:
        pass


def filed_ids(store: Any, key: Any = None) -> list[str]:
    """The audit ids whose filed-marker name carries this app's seal, newest first (names only: nothing is read)."""
    from firestop.trust.seal import Purpose

    key = _key(key)
    found = []
    for name in _store(store).names(FILED_PREFIX):
        audit_id, _, mark = name[len(FILED_PREFIX):].partition(".")
        if valid_audit_id(audit_id) and key.check(Purpose.AUDIT, f"filed/{audit_id}", _FILED_DIGEST, mark)[0]:
            found.append(audit_id)
    return sorted(set(found), key=_order, reverse=True)


def _order(audit_id: str) -> tuple[str, int]:
    """Sort key of an audit id: its time, then its ``-n`` suffix (``stored_ids``' order)."""
    return audit_id[6:22], int(audit_id.rsplit("-", 1)[1]) if audit_id.count("-") > 2 else 1


def sealed_before(store: Any, key: Any = None) -> bool:
    """Whether a key of the app's ring (``key``) may have sealed an audit in ``store`` before, so that unsealed documents
    in the way of :func:`previous` may have crowded a sealed audit out (RT17-03: fail closed). True when a
    sealed-since marker is believed: a key of the ring's own (:func:`marker_name`, current first), or the one at
    :data:`SEALED_SINCE` (earlier versions'). Also True — logged as a warning, the side that fails closed, as before
    seal18 — for an object at :data:`SEALED_SINCE` that is no sealed marker (planted by a records-store writer, who
    cannot remove it again on Azure's WORM container, nor can anyone): a planted marker can never turn the drift off.
    Not counted: a marker sealed by a key the ring no longer holds (seal18: dropped by ``seal-key retire``; the audits
    it sealed are not believed either, so none can be crowded out: the drift check's scan is a baseline, as for the
    audits filed before seals, until the ring's first audit files its own marker). False when nothing is counted: no
    key of the ring ever sealed an audit here (R13-01's upgrade). At most 1 + 3 + 1 reads, one once the current key
    has sealed an audit. Errors: the store's ``StoreError`` (a read that fails) other than an object over
    :data:`MARKER_READ_LIMIT` bytes."""
    from firestop.trust.seal import ring_keys

    store = _store(store)
    key = _key(key)
    for one in ring_keys(key):
        name = marker_name(one)
        if _marker(store, name, name, key)[1]:
            return True
    present, believed, kid, why = _marker(store, SEALED_SINCE, _MARKER_BINDING, key)
    if believed:
        return True
    if present and kid is not None and kid not in {one.kid for one in ring_keys(key)}:
        log.info("%s in the records store was sealed by seal key %s, which this app no longer holds: not counted (the "
                 "audits that key sealed are not believed either)", SEALED_SINCE, kid[:8])
        return False
    if present:
        log.warning("%s in the records store is not the marker Firestop seals (planted? %s): audits are taken as "
                    "sealed before, so unsealed documents crowding the previous audit out make every finding new",
                    SEALED_SINCE, why)
    return present


def load(store: Any, audit_id: str, key: Any = None) -> Audit | None:
    """The stored audit ``audit_id``, or None (unknown, malformed id, unreadable, over :data:`AUDIT_READ_LIMIT` bytes
    (A13-03), or not sealed by this app for that id: planted or altered, RT17-02). Raises the store's other errors."""
    if not valid_audit_id(audit_id):
        return None
    from firestop.storage.base import TooLarge

    try:
        data = _store(store).read(f"{PREFIX}{audit_id}.json", limit=AUDIT_READ_LIMIT)
    except TooLarge as exc:  # A13-03: planted; not an audit (load's answer for any document it does not believe)
        log.warning("audit %s in the records store is not believed: %s", audit_id, exc)
        return None
    return _believed(data, audit_id, key)


def _believed(data: bytes | None, audit_id: str, key: Any) -> Audit | None:
    """The audit ``data`` holds when it is ``audit_id``'s document sealed by this app (:func:`load`), else None."""
    from firestop.trust.seal import Purpose, verify

    if data is None:
        return None
    try:
        document = json.loads(data)
    except (ValueError, RecursionError):
        return None
    if not isinstance(document, dict) or document.get("audit_id") != audit_id:
        return None
    ok, why = verify(Purpose.AUDIT, document, binding=audit_id, key=_key(key))
    if not ok:
        log.warning("audit %s in the records store is not believed: %s", audit_id, why)
        return None
    try:
        return Audit.model_validate(document)
    except ValueError:
        return None


def stored_ids(store: Any) -> list[str]:
    """Stored audit ids, newest first."""
    names = [n[len(PREFIX):-5] for n in _store(store).names(PREFIX) if n.endswith(".json")]
    ids = [i for i in names if valid_audit_id(i)]
    return sorted(ids, key=_order, reverse=True)


def latest(store: Any, scope: tuple[str, ...] | None = None, key: Any = None) -> Audit | None:
    """The newest stored sealed audit (of ``scope`` when given), or None. Without a scope (what the views show):
    :func:`latest_view`."""
    if scope is None:
        return latest_view(store, key)[0]
    return previous(store, scope, key)[0]


def latest_view(store: Any, key: Any = None) -> tuple[Audit | None, int]:
    """(the newest audit this app filed and sealed, or None; how many audit documents named newer than it — or, with
    None, in all — were skipped: not marked as filed by this app, so not read, or read and not believed). For the
    views (``GET /api/audits/latest``, the console, ``audit show``), trust16: names first — the filed-markers
    (:func:`filed_ids`) — then at most :data:`MAX_VIEW_LOADS` documents read, :data:`VIEW_READ_BUDGET` bytes in all,
    whatever the records container holds (before: up to :data:`MAX_SCANNED` documents of up to
    :data:`AUDIT_READ_LIMIT` bytes each, and 500 planted ones hid the latest audit). Only when no marked audit can be
    read (every audit was filed before markers) are the newest names read, within the same budget. The drift check
    (:func:`previous`) is not this: it fails closed. Raises the store's errors (a listing or read that fails) and
    :class:`~firestop.trust.seal.SealKeyError`."""
    from firestop.storage.base import TooLarge

    store = _store(store)
    key = _key(key)
    ids = stored_ids(store)
    position = {audit_id: n for n, audit_id in enumerate(ids)}
    marked = filed_ids(store, key)
    for audit_id in marked[:MAX_VIEW_LOADS]:
        audit = load(store, audit_id, key)
        if audit is not None:
            return audit, position.get(audit_id, 0)
    budget, loads = VIEW_READ_BUDGET, 0
    for n, audit_id in enumerate(ids):  # no marked audit readable: audits filed before markers (bounded)
        if audit_id in marked[:MAX_VIEW_LOADS]:
            continue
        if loads >= MAX_SCANNED or budget <= 0:
            break
        loads += 1
        limit = min(AUDIT_READ_LIMIT, budget)
        try:
            data = store.read(f"{PREFIX}{audit_id}.json", limit=limit)
        except TooLarge:
            budget -= limit + 1
            continue
        budget -= len(data or b"") + 1
        audit = _believed(data, audit_id, key)
        if audit is not None:
            return audit, n
    return None, len(ids)


#: The most filed-marked audit documents (:func:`filed_ids`, newest first) the drift check reads looking for the
#: previous audit of its scope before it falls back to the scan of :data:`MAX_SCANNED` names (trust17): one scope
#: audited weekly finds it in the first; a few scopes audited in turn within the first few.
MAX_DRIFT_LOADS = 4


def previous(store: Any, scope: tuple[str, ...] | None = None, key: Any = None) -> tuple[Audit | None, int]:
    """(the newest stored sealed audit of ``scope`` — any scope when None — or None; how many documents named newer
    than it were not audits this app filed and sealed).

    trust17: names first, as the views (:func:`latest_view`): the audits whose filed-marker carries this app's seal
    (:func:`filed_ids`, names only) are read newest first, at most :data:`MAX_DRIFT_LOADS`; the first of the scope that
    verifies is the previous audit, and the stored names newer than it without a marker are counted (not read: a
    records-store writer's junk, or an audit whose marker a crash left unfiled). Before, up to :data:`MAX_SCANNED`
    documents were read, newest first, and 500 junk blobs named newer crowded the previous audit out (RT17-03 made
    that fail closed: every finding new, A13-08 held for a responder) — they are now stepped over unread.

    Only when no marked audit of the scope is among those read (audits filed before markers, or more scopes audited
    since than :data:`MAX_DRIFT_LOADS`) is the old scan made: at most :data:`MAX_SCANNED` documents read, newest
    first. None with a count > 0 then means the bound cut the scan short while unsealed documents stood in the way,
    which the drift takes as "every finding is new" (:func:`firestop.audit.drift.diff`, RT17-03). A scan that read every
    stored name and found no sealed audit of the scope answers ``(None, 0)``: a first audit, or the first since audits
    are sealed — a baseline, as before; so does a scan cut short before this app ever sealed an audit (nothing at
    :data:`SEALED_SINCE`: more legacy audits than the scan reads, R13-01)."""
    wanted = tuple(s.lower() for s in scope) if scope is not None else None
    store = _store(store)
    key = _key(key)
    ids = stored_ids(store)
    marked = filed_ids(store, key)
    read: set[str] = set()
    for audit_id in marked[:MAX_DRIFT_LOADS]:
        read.add(audit_id)
        audit = load(store, audit_id, key)
        if audit is not None and (wanted is None or tuple(s.lower() for s in audit.scope) == wanted):
            newer = _order(audit_id)
            filed = set(marked)
            return audit, sum(1 for i in ids if _order(i) > newer and i not in filed)
    unverified = 0
    for audit_id in ids[:MAX_SCANNED]:
        audit = None if audit_id in read else load(store, audit_id, key)  # (a marked one read above: not of the scope)
        if audit is None:
            unverified += audit_id not in read
        elif wanted is None or tuple(s.lower() for s in audit.scope) == wanted:
            return audit, unverified
    if len(ids) <= MAX_SCANNED or not unverified:
        return None, 0
    # cut short with unsealed documents in the way: crowding only if a sealed audit exists to be crowded out — else
    # they are the audits filed before seals (more than the scan reads), and this is the upgrade's baseline (R13-01)
    # (an audit the ring filed is marked — trust16 — whatever the sealed-since markers say)
    return None, (unverified if marked or sealed_before(store, key) else 0)
