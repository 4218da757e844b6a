"""Record runbooks: file the post-incident record (JSON + Markdown), once.

``records.file`` writes ``<incident_id>.json`` and ``<incident_id>.md``:

- to Azure Blob Storage when ``FIRESTOP_RECORDS_CONNECTION`` (a Storage
  connection string; Azurite in tests) is set: container
  ``FIRESTOP_RECORDS_CONTAINER`` (default ``firestop-records``, created if
  missing), block blobs with ``Content-Type`` ``application/json`` /
  ``text/markdown`` and metadata ``sha256``, uploaded with ``overwrite=False``
  (the Blob service answers 409 ``BlobAlreadyExists`` for an existing name;
  Blob service REST API via azure-storage-blob 12.31, shared-key auth; no Azure
  RBAC action is involved);
- else under ``FIRESTOP_HOME/records/``, each file created once (a temp file
  hard-linked to its name, which fails if the name exists).

**Written once, by its own incident.** The record's ``incident_id`` must be
the incident the call runs for (``ctx.incident_id``), so no other incident and
no manual run can file it. A record that exists is never replaced: filing the
same document again changes nothing (same SHA-256); a different document is
refused (``conflict``) unless it names the record it revises —
``revision_of`` = the SHA-256 of the newest filed JSON — and is then filed as
the next revision ``<incident_id>.rev<N>.json``/``.md`` beside the others
(:mod:`firestop.records.store`; ``incident undo`` does this). Each filing is
appended to the incident's ledger (kind ``record``: revision, SHA-256s and
locations), and the ledger entry's ``seq``/``hash`` come back in the
artifacts, so the ledger's head is anchored in the orchestration output.

Artifacts: ``destination`` (``blob`` | ``file``), ``revision``, ``json_path`` /
``markdown_path`` (file paths, or blob URLs without credentials), ``sha256``,
``markdown_sha256``, ``ledger``. The connection string is a secret: it is
registered with the dispatcher and never returned.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from firestop.azure.errors import RunbookError, map_azure_error
from firestop.records import render_markdown
from firestop.records.store import plain_incident_id, record_json, record_name, revision_of_name
from runbooks.base import Applied, Check, Plan, RunContext, Runbook, Verification
from runbooks.common import append_ledger
from runbooks.registry import register

_ACCOUNT_KEY = re.compile(r"AccountKey=([^;]+)", re.IGNORECASE)
_SAS = re.compile(r"SharedAccessSignature=([^;]+)", re.IGNORECASE)


class FileRecordParams(BaseModel):
    """record: the post-incident record document (JSON object with ``incident_id``, the incident this call runs for);
    revision_of: SHA-256 (hex) of the newest filed record JSON this one revises (only to file a revision)."""

    model_config = ConfigDict(extra="forbid")

    record: dict[str, Any]
    revision_of: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")


def _create_once(path: Path, data: bytes) -> bool:
    """Create ``path`` holding ``data`` unless it exists: True if created, False if it already holds ``data``.
    RunbookError('conflict') when it holds something else (a filed record is never replaced)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, path)  # atomic create-if-absent
            return True
        except FileExistsError:
            if _sha(path.read_bytes()) == _sha(data):
                return False
            raise RunbookError("conflict", f"{path.name} is already filed with other content; a filed record is never replaced") from None
    finally:
        os.unlink(tmp)


def _incident(record: dict[str, Any], ctx: RunContext) -> str:
    incident = str(record.get("incident_id") or "")
    if not plain_incident_id(incident):
        raise RunbookError("invalid", "params.record.incident_id: missing or not a plain name")
    if incident != ctx.incident_id:
        raise RunbookError("invalid", f"params.record.incident_id: {incident!r} is not the incident this step runs for "
                           f"({ctx.incident_id!r}); an incident files only its own record")
    return incident


def _documents(record: dict[str, Any]) -> tuple[bytes, bytes]:
    return record_json(record), render_markdown(record).encode("utf-8")


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class _Blob:
    """The records container behind the configured connection string."""

    def __init__(self, ctx: RunContext) -> None:
        secret = ctx.settings.records_connection
        conn = secret.get_secret_value() if secret is not None else ""
        ctx.register_secret(conn)
        for pattern in (_ACCOUNT_KEY, _SAS):
            for value in pattern.findall(conn):
                ctx.register_secret(value)
        try:
            service = ctx.clients.blob_service(conn)
        except ValueError:
            raise RunbookError(
                "invalid", "FIRESTOP_RECORDS_CONNECTION: not a Storage connection string (DefaultEndpointsProtocol=…;AccountName=…;…)"
            ) from None
        self.container = service.get_container_client(ctx.settings.records_container)

    def sha256(self, name: str) -> str | None:
        """The ``sha256`` metadata of blob ``name``, None when the blob (or container) does not exist."""
        from azure.core.exceptions import ResourceNotFoundError

        try:
            return (self.container.get_blob_client(name).get_blob_properties().metadata or {}).get("sha256")
        except ResourceNotFoundError:
            return None
        except Exception as exc:  # noqa: BLE001
            raise map_azure_error(exc) from None

    def revisions(self, incident: str) -> list[tuple[int, str | None]]:
        """``[(revision, sha256 metadata)]`` of the incident's JSON blobs, oldest first."""
        from azure.core.exceptions import ResourceNotFoundError

        try:
            blobs = list(self.container.list_blobs(name_starts_with=f"{incident}.", include=["metadata"]))
        except ResourceNotFoundError:
            return []
        except Exception as exc:  # noqa: BLE001
            raise map_azure_error(exc) from None
        found = [(revision_of_name(incident, b.name), (b.metadata or {}).get("sha256")) for b in blobs]
        return sorted((n, sha) for n, sha in found if n is not None)

    def create_once(self, name: str, data: bytes, content_type: str) -> bool:
        """Upload ``name`` unless it exists: True if created, False if it already holds ``data``;
        RunbookError('conflict') when it holds something else."""
        from azure.core.exceptions import ResourceExistsError
        from azure.storage.blob import ContentSettings

        try:
            try:
                self.container.create_container()
            except ResourceExistsError:
                pass
            try:
                self.container.upload_blob(
                    name, data, overwrite=False, content_settings=ContentSettings(content_type=content_type),
                    metadata={"sha256": _sha(data)},
                )
                return True
            except ResourceExistsError:
                pass
        except Exception as exc:  # noqa: BLE001
            raise map_azure_error(exc) from None
        if self.sha256(name) == _sha(data):
            return False
        raise RunbookError("conflict", f"blob {name} is already filed with other content; a filed record is never replaced")

    def download(self, name: str) -> bytes | None:
        from azure.core.exceptions import ResourceNotFoundError

        try:
            return self.container.get_blob_client(name).download_blob().readall()
        except ResourceNotFoundError:
            return None
        except Exception as exc:  # noqa: BLE001
            raise map_azure_error(exc) from None

    def url(self, name: str) -> str:
        return self.container.get_blob_client(name).url


@register
class FileRecord(Runbook[FileRecordParams]):
    name = "records.file"
    summary = "Write the post-incident record (JSON + Markdown) to Blob Storage if configured, else under FIRESTOP_HOME/records."
    permissions = ()  # FIRESTOP_HOME, or Blob Storage with the connection string's shared key: no Azure RBAC action
    target_type = None
    Params = FileRecordParams
    mutating = False
    incident_only = True

    def _revisions(self, ctx: RunContext, incident: str) -> tuple["_Blob | None", list[tuple[int, str | None]]]:
        if ctx.settings.records_connection is not None:
            blob = _Blob(ctx)
            return blob, blob.revisions(incident)
        from firestop.records.store import filed_revisions

        return None, [(n, _sha(p.read_bytes())) for n, p in filed_revisions(ctx.settings.records_dir, incident)]

    def _next_revision(self, incident: str, revisions: list[tuple[int, str | None]], data: bytes,
                       params: FileRecordParams) -> int | None:
        """The revision to file, or None when the newest filed one is this very document."""
        if revisions and revisions[-1][1] == _sha(data):
            return None
        if not revisions:
            if params.revision_of is not None:
                raise RunbookError("conflict", f"params.revision_of: no record is filed for {incident} yet; nothing to revise")
            return 1
        newest, sha = revisions[-1]
        if params.revision_of is None:
            raise RunbookError("conflict", f"the record of {incident} is already filed (revision {newest}, sha256 {sha}); "
                               "a filed record is never replaced — a revision must name the record it revises (revision_of)")
        if params.revision_of != sha:
            raise RunbookError("conflict", f"params.revision_of: {params.revision_of} is not the newest filed record of "
                               f"{incident} (revision {newest}, sha256 {sha}); read it again and revise that")
        return newest + 1

    def plan(self, ctx: RunContext, target: str | None, params: FileRecordParams) -> Plan:
        incident = _incident(params.record, ctx)
        data, _ = _documents(params.record)
        _, revisions = self._revisions(ctx, incident)
        revision = self._next_revision(incident, revisions, data, params)
        if revision is None:
            note = "the same record is already filed; nothing to write"
        else:
            names = f"{record_name(incident, revision, 'json')} and {record_name(incident, revision, 'md')}"
            where = (f"blobs {names} in container {ctx.settings.records_container}" if ctx.settings.records_connection is not None
                     else f"{names} in {ctx.settings.records_dir}")
            note = f"would write {where}"
        return Plan(runbook=self.name, target=target or "", before={"revisions": len(revisions)}, notes=[note])

    def apply(self, ctx: RunContext, target: str | None, params: FileRecordParams) -> Applied:
        incident = _incident(params.record, ctx)
        data, markdown = _documents(params.record)
        blob, revisions = self._revisions(ctx, incident)
        revision = self._next_revision(incident, revisions, data, params)
        changed = revision is not None
        revision = revision or revisions[-1][0]
        names = (record_name(incident, revision, "json"), record_name(incident, revision, "md"))
        if blob is not None:
            if changed:  # Markdown first: the JSON's presence is what makes a revision filed
                blob.create_once(names[1], markdown, "text/markdown; charset=utf-8")
                blob.create_once(names[0], data, "application/json")
            destination, locations = "blob", (blob.url(names[0]), blob.url(names[1]))
        else:
            folder = ctx.settings.records_dir
            paths = (folder / names[0], folder / names[1])
            if changed:
                _create_once(paths[1], markdown)
                _create_once(paths[0], data)
            destination, locations = "file", (str(paths[0]), str(paths[1]))
        artifacts: dict[str, Any] = {
            "destination": destination,
            "revision": revision,
            "json_path": locations[0],
            "markdown_path": locations[1],
            "sha256": _sha(data),
            "markdown_sha256": _sha(markdown),
        }
        if changed:
            artifacts["ledger"] = append_ledger(
                ctx, kind="record", runbook=self.name, action="apply", target=target,
                data={k: artifacts[k] for k in ("destination", "revision", "json_path", "markdown_path", "sha256", "markdown_sha256")}
                | {"status": params.record.get("status"), "revision_of": params.revision_of},
            )
        return Applied(
            runbook=self.name,
            target=target or "",
            changed=changed,
            before={},
            after={},
            summary=(f"record filed: {names[0]}, {names[1]} ({destination})" if changed else "the same record is already filed; nothing changed"),
            artifacts=artifacts,
        )

    def verify(self, ctx: RunContext, target: str | None, params: FileRecordParams, applied: Applied) -> Verification:
        where = applied.artifacts["json_path"]
        if applied.artifacts.get("destination") == "blob":
            name = record_name(_incident(params.record, ctx), int(applied.artifacts.get("revision") or 1), "json")
            stored = _Blob(ctx).download(name)
        else:
            path = Path(where)
            stored = path.read_bytes() if path.exists() else None
        ok = stored is not None and _sha(stored) == applied.artifacts["sha256"]
        return Verification(runbook=self.name, target=target or "", checks=[Check(name="record stored as filed", ok=ok, detail=where)])

    def undo(self, ctx: RunContext, target: str | None, params: FileRecordParams, applied: Applied) -> Applied:
        return Applied(runbook=self.name, target=target or "", changed=False, before={}, after={}, summary="records are kept; nothing to undo")
