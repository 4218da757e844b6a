"""Audits kept with the records: ``audits/<audit id>.json`` + ``.md`` + ``.html`` in the records store, each written once.

The records store (:func:`firestop.storage.stores_for`): the ``FIRESTOP_RECORDS_CONTAINER`` blob container when
``FIRESTOP_STORAGE_BLOB_URL`` is set (on Azure: the weekly audit timer keeps nothing on an instance's disk), else
``FIRESTOP_HOME/records/audits``. Every function takes ``where``: the settings, a store, or a local records folder.

Every audit is kept (drift needs the previous one); :func:`latest` finds the newest audit of the
same scope. An object that exists is never replaced: saving an audit whose id is taken (two audits of
one scope in the same second) files it as ``<audit id>-2``, ``-3``, … (the id inside changes with it).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from firestop.audit.models import Audit
from firestop.audit.render import render_html, render_markdown

_ID = re.compile(r"^audit-[0-9]{8}T[0-9]{6}Z-[0-9a-f]{4}(-[0-9]+)?$")
#: At most this many stored audits are read to find the previous one (newest first by name).
MAX_SCANNED = 500


PREFIX = "audits/"
#: At most this many ids are tried for one second's audits of one scope.
MAX_SAME_SECOND = 100


def audits_dir(records_dir: Path) -> Path:
    """The local folder of audits under a records folder."""
    return Path(records_dir) / "audits"


def described(where: Any) -> str:
    """Where the audits of ``where`` are, for messages (a folder, or a container and prefix)."""
    return f"{_store(where).where}/audits"


def valid_audit_id(audit_id: str) -> bool:
    return bool(_ID.match(audit_id or ""))


def _store(where: Any) -> Any:
    from firestop.records.store import records_store

    return records_store(where)


def save(audit: Audit, where: Any) -> tuple[Audit, dict[str, str]]:
    """File ``audit`` (JSON, Markdown, HTML) once; returns (the audit as filed, ``{"json", "markdown", "html"}`` locations).
    Raises :class:`firestop.storage.StoreError` (an OSError) when the store cannot be written."""
    from firestop.storage import AlreadyExists

    store = _store(where)
    base = audit.audit_id
    for n in range(1, MAX_SAME_SECOND + 1):
        candidate = audit if n == 1 else audit.model_copy(update={"audit_id": f"{base}-{n}"})
        data = json.dumps(candidate.model_dump(mode="json"), indent=1, sort_keys=True, ensure_ascii=False).encode("utf-8")
        name = f"{PREFIX}{candidate.audit_id}.json"
        try:
            store.create(name, data, "application/json")  # False: this very audit was filed already (a retry)
            break
        except AlreadyExists:
            continue
    else:
        raise AlreadyExists(f"{store.where}: {MAX_SAME_SECOND} audits of {base} already filed")
    files = {"json": store.location(name)}
    for ext, text, kind in (("md", render_markdown(candidate), "text/markdown; charset=utf-8"), ("html", render_html(candidate), "text/html; charset=utf-8")):
        target = f"{PREFIX}{candidate.audit_id}.{ext}"
        try:
            store.create(target, text.encode("utf-8"), kind)
        except AlreadyExists:
            pass  # filed by an earlier try; the JSON is the audit
        files["markdown" if ext == "md" else "html"] = store.location(target)
    return candidate, files


def load(where: Any, audit_id: str) -> Audit | None:
    """The stored audit ``audit_id``, or None (unknown, malformed id, unreadable)."""
    from firestop.storage import StoreError

    if not valid_audit_id(audit_id):
        return None
    try:
        data = _store(where).read(f"{PREFIX}{audit_id}.json")
        return Audit.model_validate_json(data) if data is not None else None
    except (StoreError, ValueError):
        return None


def stored_ids(where: Any) -> list[str]:
    """Stored audit ids, newest first."""
    from firestop.storage import StoreError

    try:
        names = [n[len(PREFIX):] for n in _store(where).names(PREFIX)]
    except (StoreError, ValueError):
        return []
    ids = [n[:-5] for n in names if n.endswith(".json") and valid_audit_id(n[:-5])]
    return sorted(ids, key=lambda i: (i[6:22], int(i.rsplit("-", 1)[1]) if i.count("-") > 2 else 1), reverse=True)


def latest(where: Any, scope: tuple[str, ...] | None = None) -> Audit | None:
    """The newest stored audit (of ``scope`` when given), or None."""
    wanted = tuple(s.lower() for s in scope) if scope is not None else None
    for audit_id in stored_ids(where)[:MAX_SCANNED]:
        audit = load(where, audit_id)
        if audit is not None and (wanted is None or tuple(s.lower() for s in audit.scope) == wanted):
            return audit
    return None
