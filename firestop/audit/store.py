"""Audits kept with the records: ``<records dir>/audits/<audit id>.json`` + ``.md`` + ``.html``, each written once.

Every audit is kept (drift needs the previous one); :func:`latest` finds the newest audit of the
same scope. A file that exists is never replaced: saving an audit whose id is taken (two audits of
one scope in the same second) files it as ``<audit id>-2``, ``-3``, … (the id inside changes with it).
Locally under ``FIRESTOP_HOME/records/audits``; the Blob Storage records destination
(``FIRESTOP_RECORDS_CONNECTION``) is not used for audits yet.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from firestop.audit.models import Audit
from firestop.audit.render import render_html, render_markdown

_ID = re.compile(r"^audit-[0-9]{8}T[0-9]{6}Z-[0-9a-f]{4}(-[0-9]+)?$")
#: At most this many stored audits are read to find the previous one (newest first by name).
MAX_SCANNED = 500


def audits_dir(records_dir: Path) -> Path:
    return Path(records_dir) / "audits"


def valid_audit_id(audit_id: str) -> bool:
    return bool(_ID.match(audit_id or ""))


def _create(path: Path, data: bytes) -> bool:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        return False
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    return True


def save(audit: Audit, records_dir: Path) -> tuple[Audit, dict[str, str]]:
    """File ``audit`` (JSON, Markdown, HTML); returns (the audit as filed, ``{"json", "markdown", "html"}`` paths)."""
    folder = audits_dir(records_dir)
    folder.mkdir(parents=True, exist_ok=True)
    base, n = audit.audit_id, 1
    while True:
        candidate = audit if n == 1 else audit.model_copy(update={"audit_id": f"{base}-{n}"})
        path = folder / f"{candidate.audit_id}.json"
        data = json.dumps(candidate.model_dump(mode="json"), indent=1, sort_keys=True, ensure_ascii=False).encode("utf-8")
        if _create(path, data):
            break
        n += 1
    files = {"json": str(path)}
    for ext, text in (("md", render_markdown(candidate)), ("html", render_html(candidate))):
        target = folder / f"{candidate.audit_id}.{ext}"
        _create(target, text.encode("utf-8"))
        files["markdown" if ext == "md" else "html"] = str(target)
    return candidate, files


def load(records_dir: Path, audit_id: str) -> Audit | None:
    """The stored audit ``audit_id``, or None (unknown, malformed id, unreadable)."""
    if not valid_audit_id(audit_id):
        return None
    try:
        return Audit.model_validate_json((audits_dir(records_dir) / f"{audit_id}.json").read_bytes())
    except (OSError, ValueError):
        return None


def stored_ids(records_dir: Path) -> list[str]:
    """Stored audit ids, newest first."""
    try:
        names = os.listdir(audits_dir(records_dir))
    except OSError:
        return []
    ids = [n[:-5] for n in names if n.endswith(".json") and valid_audit_id(n[:-5])]
    return sorted(ids, key=lambda i: (i[6:22], int(i.rsplit("-", 1)[1]) if i.count("-") > 2 else 1), reverse=True)


def latest(records_dir: Path, scope: tuple[str, ...] | None = None) -> Audit | None:
    """The newest stored audit (of ``scope`` when given), or None."""
    wanted = tuple(s.lower() for s in scope) if scope is not None else None
    for audit_id in stored_ids(records_dir)[:MAX_SCANNED]:
        audit = load(records_dir, audit_id)
        if audit is not None and (wanted is None or tuple(s.lower() for s in audit.scope) == wanted):
            return audit
    return None
