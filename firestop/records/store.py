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


def record_json(record: dict[str, Any]) -> bytes:
    """The filed JSON bytes of ``record`` (indented, keys sorted, UTF-8)."""
    return json.dumps(record, indent=2, sort_keys=True, default=str).encode("utf-8")


def plain_incident_id(incident_id: str) -> bool:
    """True when ``incident_id`` can name a record file (no path separators, not hidden)."""
    return bool(incident_id) and "/" not in incident_id and "\\" not in incident_id and not incident_id.startswith(".")


def record_name(incident_id: str, revision: int, ext: str) -> str:
    """File/blob name of ``revision`` (1 = the first filing) with extension ``ext`` (``json`` | ``md``)."""
    return f"{incident_id}.{ext}" if revision == 1 else f"{incident_id}.rev{revision}.{ext}"


def revision_of_name(incident_id: str, name: str) -> int | None:
    """The revision number a JSON file/blob ``name`` holds for ``incident_id``, None if it is not one of its records."""
    found = _REVISION.match(name)
    if not found or found["incident"] != incident_id:
        return None
    return int(found["n"]) if found["n"] else 1


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
    found = [(revision_of_name(incident_id, n), n) for n in names]
    return sorted((n, name) for n, name in found if n is not None)


def newest_filed(names: list[str]) -> dict[str, str]:
    """``{incident id: JSON object name of its newest revision}`` of one records-store listing (no I/O)."""
    newest: dict[str, tuple[int, str]] = {}
    for name in names:
        found = _REVISION.match(name)
        if found:
            revision = int(found["n"]) if found["n"] else 1
            if revision > newest.get(found["incident"], (0, ""))[0]:
                newest[found["incident"]] = (revision, name)
    return {incident: name for incident, (_, name) in newest.items()}


def listed_revisions(names: list[str]) -> dict[str, set[int]]:
    """``{incident id: {revision numbers}}`` of the JSON records in one records-store listing (no I/O)."""
    found: dict[str, set[int]] = {}
    for name in names:
        match = _REVISION.match(name)
        if match:
            found.setdefault(match["incident"], set()).add(int(match["n"]) if match["n"] else 1)
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


def newest_record_files(where: Any, incident_id: str, files: dict[str, Any]) -> dict[str, Any]:
    """``files`` (a record's ``record_files``: ``{"json_path", "markdown_path", ...}`` of its first filing) pointing
    at the newest revision filed for ``incident_id`` — ``<id>.rev<n>.json`` / ``.md`` after an undo — with its
    ``revision``; ``files`` unchanged when only the first is filed. Raises StoreError when the store cannot be listed."""
    revisions = filed_revisions(where, incident_id)
    if len(revisions) < 2 or not files:
        return files
    revision, name = revisions[-1]
    store = records_store(where)
    return {**files, "revision": revision, "json_path": store.location(name),
            "markdown_path": store.location(name[: -len(".json")] + ".md")}


def filed_record(where: Any, incident_id: str) -> dict[str, Any] | None:
    """The newest record filed for ``incident_id`` in ``where`` (:func:`records_store`), or None when there is
    none. Raises StoreError when the store cannot be listed or the record cannot be read (:func:`read_filed`).

    The filed record is the newest word on a finished incident: ``incident undo`` files a
    revision after the orchestration has ended, so views prefer it to the orchestration output.
    """
    revisions = filed_revisions(where, incident_id)
    return read_filed(where, incident_id, revisions[-1][1]) if revisions else None
