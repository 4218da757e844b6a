"""Evidence store: ``<root>/<incident_id>/`` holds evidence files and ``manifest.json``.

Each manifest entry records what was collected, by which runbook and step,
when (UTC), from where (query, workspace, window), and the file's SHA-256 and
size in bytes, so anyone can re-hash the file and see it is what was taken.
Writes are atomic (temporary file + ``os.replace``); re-collecting the same
item (same step and name) replaces its entry, so a retried step does not
duplicate evidence.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any, Iterable

from pydantic import BaseModel, Field

_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def _safe(name: str) -> str:
    cleaned = _SAFE.sub("-", name).strip("-.")
    return cleaned or "item"


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 16), b""):
            digest.update(chunk)
    return digest.hexdigest()


class EvidenceItem(BaseModel):
    """One manifest entry. ``path`` is relative to the incident's evidence folder."""

    name: str
    path: str
    sha256: str
    size_bytes: int
    collected_at: str
    collected_by: str
    step_id: str
    rows: int | None = None
    source: dict[str, Any] = Field(default_factory=dict)


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


class EvidenceStore:
    """Evidence folders under ``root`` (``FIRESTOP_HOME/evidence`` by default)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def folder(self, incident_id: str) -> Path:
        return self.root / _safe(incident_id)

    def manifest(self, incident_id: str) -> list[EvidenceItem]:
        path = self.folder(incident_id) / "manifest.json"
        if not path.exists():
            return []
        return [EvidenceItem.model_validate(e) for e in json.loads(path.read_text("utf-8"))["items"]]

    def write_jsonl(
        self,
        incident_id: str,
        *,
        name: str,
        rows: Iterable[dict[str, Any]],
        step_id: str,
        collected_by: str,
        collected_at: str,
        source: dict[str, Any],
    ) -> EvidenceItem:
        """Write ``rows`` as JSON Lines and record them in the manifest; returns the entry."""
        lines = [json.dumps(r, sort_keys=True, default=str) for r in rows]
        data = ("\n".join(lines) + ("\n" if lines else "")).encode("utf-8")
        filename = f"{_safe(step_id)}-{_safe(name)}.jsonl"
        folder = self.folder(incident_id)
        _atomic_write(folder / filename, data)
        item = EvidenceItem(
            name=name,
            path=filename,
            sha256=hashlib.sha256(data).hexdigest(),
            size_bytes=len(data),
            collected_at=collected_at,
            collected_by=collected_by,
            step_id=step_id,
            rows=len(lines),
            source=source,
        )
        self._record(incident_id, item)
        return item

    def _record(self, incident_id: str, item: EvidenceItem) -> None:
        items = [e for e in self.manifest(incident_id) if not (e.step_id == item.step_id and e.name == item.name)]
        items.append(item)
        body = {"incident_id": incident_id, "items": [e.model_dump(mode="json") for e in items]}
        _atomic_write(self.folder(incident_id) / "manifest.json", json.dumps(body, indent=2).encode("utf-8"))

    def check(self, incident_id: str, item: EvidenceItem) -> bool:
        """True if the file on disk still hashes to the manifest's SHA-256."""
        path = self.folder(incident_id) / item.path
        return path.exists() and sha256_file(path) == item.sha256
