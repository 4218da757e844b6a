"""Evidence store: per incident, evidence items (JSON Lines) and a manifest entry for each, all written once.

Layout in the evidence store (:func:`firestop.storage.stores_for`: the
``FIRESTOP_EVIDENCE_CONTAINER`` blob container, or ``FIRESTOP_HOME/evidence``)::

    <incident>/<step>-<name>.jsonl                   the item's bytes
    <incident>/manifest/<step>-<name>.jsonl.json     its manifest entry (EvidenceItem JSON)

Each manifest entry records what was collected, by which runbook and step,
when (UTC), from where (query, workspace, window), and the item's SHA-256 and
size in bytes, so anyone can re-hash the item and see it is what was taken.
The manifest is the set of entries (:meth:`EvidenceStore.manifest`), so no
object is ever rewritten: both the item and its entry are created once
(``If-None-Match: *`` on Blob Storage, where the container also carries a WORM
policy). Collecting the same item again (same step and name, e.g. a retried
step) keeps what was collected first — evidence of the state *before*
containment is never replaced by a later state: an item that already exists
is described as it is, and an entry that already exists is returned as filed.
"""

# No `from __future__ import annotations` here: pydantic would turn each field's annotation string back into
# a type (typing.ForwardRef: compile + eval) when the models are built at start-up (bench/startup_parts.py).
import hashlib
import json
import re
from pathlib import Path
from typing import Any, Callable, Iterable

from pydantic import BaseModel, Field

from firestop.empty import new_dict
from firestop.storage import AlreadyExists, ObjectStore, StoreError, TooLarge
from firestop.storage.local import LocalStore

_SAFE = re.compile(r"[^A-Za-z0-9._-]+")
MANIFEST = "manifest"
#: Read bounds (bounds14): a manifest entry as written is ~600 bytes (×100: 64 KiB); an evidence item is what its
#: collection kept — ``evidence.snapshot_logs`` up to 500,000 rows in up to 48 page queries, each answer under the query
#: API's 64 MB (runbooks/evidence.py), so no smaller bound is sound: 1 GiB, which still refuses a planted blob of many
#: GB (:class:`~firestop.storage.base.TooLarge`, a StoreError naming it: an item that cannot be read).
MANIFEST_READ_LIMIT = 64 * 1024
ITEM_READ_LIMIT = 1024 * 1024 * 1024


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
    source: dict[str, Any] = Field(default_factory=new_dict)


class EvidenceStore:
    """The evidence in ``store`` (an :class:`~firestop.storage.base.ObjectStore`; a folder path means a local store there)."""

    def __init__(self, store: "ObjectStore | Path | str") -> None:
        self.store: ObjectStore = LocalStore(Path(store)) if isinstance(store, (str, Path)) else store

    @classmethod
    def of(cls, settings: Any) -> "EvidenceStore":
        """The evidence of ``settings`` (Blob Storage or ``FIRESTOP_HOME/evidence``)."""
        from firestop.storage import stores_for

        return cls(stores_for(settings).evidence)

    def folder(self, incident_id: str) -> Path:
        """The incident's evidence folder — a local store only (ValueError for Blob Storage)."""
        if not isinstance(self.store, LocalStore):
            raise ValueError("evidence is in Blob Storage, not in a folder; read it with EvidenceStore.read")
        return self.store.root / _safe(incident_id)

    def read(self, incident_id: str, path: str) -> bytes | None:
        """The bytes of the item at ``path`` (an EvidenceItem's ``path``), None when missing or not a plain name."""
        if not path or "/" in path or path.startswith(".") or _SAFE.search(path):
            return None
        return self.store.read(f"{_safe(incident_id)}/{path}", limit=ITEM_READ_LIMIT)

    def reader(self, incident_id: str) -> Callable[[str], bytes | None]:
        """``read`` bound to one incident (for :func:`runbooks.ledger.verify_chain` and the activity summary)."""
        return lambda path: self.read(incident_id, path)

    def location(self, incident_id: str, path: str) -> str:
        return self.store.location(f"{_safe(incident_id)}/{path}")

    def manifest(self, incident_id: str) -> list[EvidenceItem]:
        """Every manifest entry of the incident, in name order."""
        prefix = f"{_safe(incident_id)}/{MANIFEST}/"
        items = []
        for name in self.store.names(prefix):
            data = self.store.read(name, limit=MANIFEST_READ_LIMIT)
            if data is not None:
                items.append(EvidenceItem.model_validate_json(data))
        return items

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
        trusted: Callable[[EvidenceItem], bool] | None = None,
    ) -> EvidenceItem:
        """Keep ``rows`` as JSON Lines with a manifest entry, both written once; returns the entry as filed.

        ``trusted``: whether an item already in the store was Firestop's collection (the evidence runbooks: a sealed
        ``evidence`` entry of the incident's ledger names it, :func:`runbooks.evidence.on_ledger`). With it, objects
        already at this item's names stand only when vouched for (RT13-04); without it (no ledger at hand) the first
        file and manifest entry stand as written.

        Raises :class:`~firestop.storage.base.StoreError` (an OSError) when the store cannot be written."""
        lines = [json.dumps(r, sort_keys=True, default=str) for r in rows]
        data = ("\n".join(lines) + ("\n" if lines else "")).encode("utf-8")
        folder, stem = _safe(incident_id), f"{_safe(step_id)}-{_safe(name)}"
        # RT13-04: the first name is known in advance (incident ids are predictable) and a blob writer can create it
        # first. With ``trusted``, an existing file stands only as a collection ``trusted`` vouches for (its manifest
        # entry); else this collection is kept beside it under a name carrying its own SHA-256 (nothing is replaced)
        digest = hashlib.sha256(data).hexdigest()  # once: the second name and the manifest entry both use it
        names = [f"{stem}.jsonl"] if trusted is None else [f"{stem}.jsonl", f"{stem}-{digest[:16]}.jsonl"]
        for filename in names:
            entry = f"{folder}/{MANIFEST}/{filename}.json"
            try:
                self.store.create(f"{folder}/{filename}", data, "application/x-ndjson")
            except AlreadyExists:  # collected before (a crashed try): the first collection is the evidence
                if trusted is not None:
                    filed = self._filed(entry)
                    if filed is not None and filed.path == filename and trusted(filed) and self.check(incident_id, filed):
                        return filed
                    continue
                data = self.store.read(f"{folder}/{filename}", limit=ITEM_READ_LIMIT) or b""
                lines = [line for line in data.decode("utf-8", errors="replace").splitlines() if line.strip()]
                digest = hashlib.sha256(data).hexdigest()  # the manifest describes the bytes that stand
            item = EvidenceItem(
                name=name,
                path=filename,
                sha256=digest,
                size_bytes=len(data),
                collected_at=collected_at,
                collected_by=collected_by,
                step_id=step_id,
                rows=len(lines),
                source=source,
            )
            try:
                self.store.create(entry, item.model_dump_json(indent=2).encode("utf-8"), "application/json")
            except AlreadyExists:  # a concurrent try of the step filed its entry first: that one stands
                filed = self._filed(entry)
                if trusted is None:
                    return filed or EvidenceItem.model_validate_json(b"{}")
                if filed is not None and (filed.name, filed.path, filed.sha256, filed.step_id) == (
                        name, filename, item.sha256, step_id):
                    return filed  # it describes these very bytes
                continue
            return item
        raise StoreError("conflict", f"evidence {folder}/{stem}.jsonl: both of its names hold objects Firestop did not "
                         "vouch for; nothing was kept (check the evidence store for objects Firestop did not write)")

    def _filed(self, entry: str) -> "EvidenceItem | None":
        """The manifest entry stored as ``entry``, None when there is none or it is not one (over
        :data:`MANIFEST_READ_LIMIT` bytes among them)."""
        try:
            raw = self.store.read(entry, limit=MANIFEST_READ_LIMIT)
        except TooLarge:
            return None
        if raw is None:
            return None
        try:
            return EvidenceItem.model_validate_json(raw)
        except ValueError:
            return None

    def check(self, incident_id: str, item: EvidenceItem) -> bool:
        """True if the kept item still hashes to the manifest's SHA-256."""
        data = self.read(incident_id, item.path)
        return data is not None and hashlib.sha256(data).hexdigest() == item.sha256
