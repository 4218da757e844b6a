"""Where filed post-incident records live, and reading them back.

The records store (:func:`firestop.storage.stores_for`): the ``FIRESTOP_RECORDS_CONTAINER``
blob container when ``FIRESTOP_STORAGE_BLOB_URL`` is set, else ``FIRESTOP_HOME/records``.
Every reader (``incident list/show``, ``incident undo``, the HTTP API) and the writer
(``records.file``) use the same store.

Records are written once (:mod:`runbooks.records`): ``<incident>.json`` and
``.md`` are the first filing; a later filing of the same incident (an undo
done after the orchestration ended) is a *revision* beside it,
``<incident>.rev<N>.json`` / ``.md`` with N = 2, 3, …, each written once too.
Nothing filed is ever replaced; the newest revision is the incident's current
word. The JSON document is :func:`record_json` of the record (what its
SHA-256 is taken over).

Planted names (records16, A13-07): incident ids are predictable, and whoever may write blobs in the records store can
create ``<incident>.json`` (or a revision's name) before Firestop files it. ``records.file`` then files beside it
under a name derived from the app's seal key, which nobody without the key can predict —
``<incident>.r<N>-<16 hex>.json`` / ``.md`` (:func:`keyed_record_name`) — and seals the filing on the incident's ledger
as always (the ``record`` entry also names the object, ``data.name``). With settings and a usable seal key, readers
(:func:`filed_record`, :func:`newest_record_files`) believe only a filing sealed on the ledger
(:func:`believed_filing`: the newest sealed revision, at whichever of its two names holds the sealed bytes); a record
at the plain name that Firestop did not seal is not the incident's word. Without a usable key (nothing can be
believed either way) they read the newest listed revision as before.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

#: The seal purpose of a filing (``runbooks.records``: HMAC under the app's seal key over ``<incident>/<revision>`` and
#: the JSON's SHA-256, kept in the ledger's ``record`` entry as ``seal``); an undo believes only a sealed newest
#: revision (:func:`firestop.lifecycle.undo.still_newest`, RT10-03).
RECORD_SEAL_PURPOSE = "record"
#: The most bytes a filed record (``<incident>.json`` or a revision) is read at (bounds14): the largest the 21 shipped
#: tabletop scenarios file is 29,396 bytes (ai-credential-theft, measured at 2fcae0a); what grows with an incident is
#: capped (at most 100 after-close timeline lines, 2,000 after-close keys, 20 sampled alerts, 2,000 pending starts), so
#: a record stays well under 1 MiB; ×8 margin: 8 MiB. A bigger object at a record's name was planted or overwritten by
#: a Storage Blob Data writer: refused unread (:class:`~firestop.storage.base.TooLarge`, a StoreError naming the object
#: and the bound), handled as a record that cannot be read — never read whole into memory.
RECORD_READ_LIMIT = 8 * 1024 * 1024

_REVISION = re.compile(r"^(?P<incident>.+?)(?:\.rev(?P<n>[2-9]|[1-9]\d+))?\.json$")
#: A filing under a keyed name (:func:`keyed_record_name`): ``<incident>.r<revision>-<16 hex>.json``.
_KEYED = re.compile(r"^(?P<incident>.+?)\.r(?P<n>[1-9]\d*)-(?P<tag>[0-9a-f]{16})\.json$")
#: The seal purpose a keyed record name is derived with (:func:`keyed_record_name`), bound to ``<incident>/<revision>``.
RECORD_NAME_PURPOSE = "record-name"


def record_json(record: dict[str, Any]) -> bytes:
    """The filed JSON bytes of ``record`` (indented, keys sorted, UTF-8)."""
    return json.dumps(record, indent=2, sort_keys=True, default=str).encode("utf-8")


def plain_incident_id(incident_id: str) -> bool:
    """True when ``incident_id`` can name a record file (no path separators, not hidden)."""
    return bool(incident_id) and "/" not in incident_id and "\\" not in incident_id and not incident_id.startswith(".")


def record_name(incident_id: str, revision: int, ext: str) -> str:
    """File/blob name of ``revision`` (1 = the first filing) with extension ``ext`` (``json`` | ``md``)."""
    return f"{incident_id}.{ext}" if revision == 1 else f"{incident_id}.rev{revision}.{ext}"


def keyed_record_name(key: Any, incident_id: str, revision: int, ext: str) -> str:
    """The name ``revision`` of ``incident_id``'s record is filed under when its plain name (:func:`record_name`) is
    taken by an object Firestop did not seal (A13-07): ``<incident>.r<revision>-<tag>.<ext>``, ``tag`` the first 16 hex
    of the SHA-256 of the app's seal (``key``: a :class:`firestop.trust.seal.SealKey`) for
    :data:`RECORD_NAME_PURPOSE` over ``<incident>/<revision>`` — unpredictable without the key, so it cannot be planted
    before the filing. Raises ValueError for a binding the key refuses (a line break)."""
    import hashlib

    seal = key.sign(RECORD_NAME_PURPOSE, f"{incident_id}/{revision}", "0" * 64)
    return f"{incident_id}.r{revision}-{hashlib.sha256(seal.encode('utf-8')).hexdigest()[:16]}.{ext}"


def keyed_record_names(key: Any, incident_id: str, revision: int, ext: str) -> list[str]:
    """:func:`keyed_record_name` under every key of ``key``'s ring (seal17: current first, then the retired ones; at
    most 4): the names a filing of ``revision`` may be found under after a rotation. New filings take the first."""
    from firestop.trust.seal import ring_keys

    return [keyed_record_name(k, incident_id, revision, ext) for k in ring_keys(key)]


def parse_record_name(name: str) -> tuple[str, int, bool] | None:
    """``(incident id, revision, keyed)`` of a JSON record object ``name`` (plain, revision or keyed name), else None."""
    found = _KEYED.match(name)
    if found:
        return found["incident"], int(found["n"]), True
    found = _REVISION.match(name)
    if not found:
        return None
    return found["incident"], int(found["n"]) if found["n"] else 1, False


def revision_of_name(incident_id: str, name: str) -> int | None:
    """The revision number a JSON file/blob ``name`` (plain or keyed) holds for ``incident_id``, None if it is not
    one of its records."""
    found = parse_record_name(name)
    if not found or found[0] != incident_id:
        return None
    return found[1]


def records_store(where: Any) -> Any:
    """The records :class:`~firestop.storage.base.ObjectStore` of ``where``: a store, settings, or a local folder."""
    from firestop.storage import stores_for
    from firestop.storage.local import LocalStore

    if isinstance(where, (str, Path)):
        return LocalStore(Path(where))
    if hasattr(where, "records_container"):  # Settings
        return stores_for(where).records
    return where


def filed_revisions(where: Any, incident_id: str) -> list[tuple[int, str]]:
    """``[(revision, JSON object name)]`` filed for ``incident_id`` in the records store ``where``
    (:func:`records_store`), oldest first.

    Raises:
        StoreError: the store cannot be listed (never "nothing filed" unread: the undo of a finished incident
            starts from its newest filed record).
    """
    if not plain_incident_id(incident_id):
        return []
    try:
        names = records_store(where).names(f"{incident_id}.")
    except ValueError:  # not a store name
        return []
    found = [(parsed[1], parsed[2], name) for name in names
             if (parsed := parse_record_name(name)) is not None and parsed[0] == incident_id]
    # a keyed name is filed only beside a plain one taken at the same revision: it sorts after it
    return [(n, name) for n, _, name in sorted(found)]


def newest_filed(names: list[str]) -> dict[str, str]:
    """``{incident id: JSON object name of its newest revision}`` of one records-store listing (no I/O)."""
    newest: dict[str, tuple[int, bool, str]] = {}
    for name in names:
        found = parse_record_name(name)
        if found:
            incident, revision, keyed = found
            if (revision, keyed) > newest.get(incident, (0, False, ""))[:2]:  # a keyed name over a plain one taken
                newest[incident] = (revision, keyed, name)
    return {incident: name for incident, (_, _, name) in newest.items()}


def listed_revisions(names: list[str]) -> dict[str, set[int]]:
    """``{incident id: {revision numbers}}`` of the JSON records in one records-store listing (no I/O)."""
    found: dict[str, set[int]] = {}
    for name in names:
        parsed = parse_record_name(name)
        if parsed:
            found.setdefault(parsed[0], set()).add(parsed[1])
    return found


def read_filed(where: Any, incident_id: str, name: str) -> dict[str, Any] | None:
    """The record stored as ``name`` when it is ``incident_id``'s; None when there is none by that name, or it is
    not a JSON object of ``incident_id``.

    Raises:
        StoreError: the object exists but cannot be read, is over :data:`RECORD_READ_LIMIT` bytes, or is not JSON (never None for a record left unread: the
            undo's later-incident check would read it as "nobody relies on it", :func:`firestop.lifecycle.undo.later_reliance`).
    """
    from firestop.storage import StoreError

    try:
        data = records_store(where).read(name, limit=RECORD_READ_LIMIT)  # over it: TooLarge, a StoreError
    except ValueError:  # not a store name
        return None
    if data is None:
        return None
    try:
        record = json.loads(data)
    except ValueError:  # UnicodeDecodeError, JSONDecodeError
        raise StoreError("failed", f"records: {name} is not JSON; it cannot be read") from None
    return record if isinstance(record, dict) and record.get("incident_id") == incident_id else None


#: :func:`believed_filing`'s answer when it cannot judge (not settings, or no usable seal key): read as before.
UNCHECKED = "unchecked"


def believed_filing(where: Any, incident_id: str) -> "tuple[int, str, dict[str, Any]] | None | str":
    """The newest filing of ``incident_id``'s record sealed on its ledger (A13-07): ``(revision, JSON object name,
    record)`` — the sealed revision at whichever of its names (:func:`record_name`, :func:`keyed_record_name`) holds
    bytes whose SHA-256 its ``record`` entry seals (``runbooks.records.sealed_filings``); None when nothing sealed is
    in the store (nothing filed, or only objects Firestop did not file); :data:`UNCHECKED` when ``where`` is not
    settings or the app holds no usable seal key. A sealed revision none of whose names is listed (deleted) is passed
    over for the one before it, as a listing's newest was before — the undo's custody check names it
    (:func:`runbooks.records.missing_filings`). One ledger read, one listing, at most two reads: the revision's plain
    name and its keyed name (R16-03: other objects named like a keyed filing were planted, and are not read).

    Raises:
        StoreError: the store or the ledger cannot be read, or the newest sealed revision's names hold other bytes
            than it sealed (not JSON, or changed since filed: never shown as the incident's word, nor an older one).
    """
    from firestop.storage import StoreError

    if not hasattr(where, "records_container"):
        return UNCHECKED
    from firestop.trust.seal import SealKeyError
    from runbooks.records import sealed_filings

    try:
        sealed = sealed_filings(where, incident_id)
    except SealKeyError:
        return UNCHECKED
    except ValueError as exc:
        raise StoreError("failed", f"the ledger of {incident_id} cannot be read ({exc})") from None
    if not sealed or not plain_incident_id(incident_id):
        return None
    import hashlib

    from firestop.trust.seal import load_seal_key

    key = load_seal_key(getattr(where, "home", None))  # (sealed_filings loaded it: usable)
    listed = filed_revisions(where, incident_id)
    for revision in sorted(sealed, reverse=True):
        # only the revision's two names the app can file under (R16-03): a look-alike keyed name is not read
        own = (record_name(incident_id, revision, "json"), *keyed_record_names(key, incident_id, revision, "json"))
        names = [name for n, name in reversed(listed) if n == revision and name in own]
        if not names:
            continue  # deleted: the undo's custody check names it
        for name in names:
            data = records_store(where).read(name, limit=RECORD_READ_LIMIT)
            if data is not None and hashlib.sha256(data).hexdigest() in sealed[revision]:
                record = json.loads(data)
                if isinstance(record, dict) and record.get("incident_id") == incident_id:
                    return revision, name, record
        for name in names:  # what read_filed says of them (not JSON), else why they are not believed
            read_filed(where, incident_id, name)
        raise StoreError("failed", f"records: revision {revision} of the record of {incident_id} ({', '.join(names)}) "
                         "is not what this app filed and sealed on the incident's ledger (changed since); it cannot be read")
    return None


def newest_record_files(where: Any, incident_id: str, files: dict[str, Any], *, believed: Any = None) -> dict[str, Any]:
    """``files`` (a record's ``record_files``: ``{"json_path", "markdown_path", ...}`` of its first filing) pointing
    at the newest revision filed for ``incident_id`` — ``<id>.rev<n>.json`` / ``.md`` after an undo, or the keyed name
    it was filed under (:func:`believed_filing`) — with its ``revision``; ``files`` unchanged when the first filing is
    at its plain name. ``believed``: :func:`believed_filing`'s answer when the caller has it (:func:`filed_view`: not
    read twice). Raises StoreError when the store cannot be listed."""
    if not files:
        return files
    if believed is None:
        believed = believed_filing(where, incident_id)
    if believed is None:
        return files
    if believed == UNCHECKED:
        revisions = filed_revisions(where, incident_id)
        if len(revisions) < 2:
            return files
        revision, name = revisions[-1]
    else:
        revision, name, _ = believed  # type: ignore[misc]
        if name == record_name(incident_id, 1, "json"):
            return files
    store = records_store(where)
    return {**files, "revision": revision, "json_path": store.location(name),
            "markdown_path": store.location(name[: -len(".json")] + ".md")}


def filed_view(where: Any, incident_id: str, files: Any) -> "tuple[dict[str, Any], dict[str, Any]] | None":
    """``(filed record, its record_files)`` of a finished incident's view — :func:`filed_record` and
    :func:`newest_record_files` (``files``: the orchestration output's ``record_files``, else the record's) from one
    :func:`believed_filing` (R16-06: each row of a listing read the ledger and listed the store twice); None when no
    record is filed (or none is believed). Raises StoreError as they do."""
    believed = believed_filing(where, incident_id)
    if believed == UNCHECKED:
        record = filed_record(where, incident_id)
        if record is None:
            return None
        return record, newest_record_files(where, incident_id, files or record.get("record_files") or {})
    if believed is None:
        return None
    record = believed[2]  # type: ignore[index]
    return record, newest_record_files(where, incident_id, files or record.get("record_files") or {}, believed=believed)


def filed_record(where: Any, incident_id: str) -> dict[str, Any] | None:
    """The newest record filed for ``incident_id`` in ``where`` (:func:`records_store`), or None when there is
    none. Raises StoreError when the store cannot be listed or the record cannot be read (:func:`read_filed`).

    The filed record is the newest word on a finished incident: ``incident undo`` files a
    revision after the orchestration has ended, so views prefer it to the orchestration output. With settings and a
    usable seal key only a filing sealed on the incident's ledger is (:func:`believed_filing`, A13-07): an object at
    the record's name that Firestop did not file is no record (None: views show the orchestration's output).
    """
    believed = believed_filing(where, incident_id)
    if believed != UNCHECKED:
        return believed[2] if believed else None  # type: ignore[index]
    revisions = filed_revisions(where, incident_id)
    return read_filed(where, incident_id, revisions[-1][1]) if revisions else None
