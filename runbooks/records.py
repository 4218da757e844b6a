"""Record runbooks: file the post-incident record (JSON + Markdown).

``records.file`` writes ``<incident_id>.json`` and ``<incident_id>.md``:

- to Azure Blob Storage when ``FIRESTOP_RECORDS_CONNECTION`` (a Storage
  connection string; Azurite in tests) is set: container
  ``FIRESTOP_RECORDS_CONTAINER`` (default ``firestop-records``, created if
  missing), block blobs with ``Content-Type`` ``application/json`` /
  ``text/markdown`` and metadata ``sha256`` (Blob service REST API via
  azure-storage-blob 12.31, shared-key auth; no Azure RBAC action is involved);
- else under ``FIRESTOP_HOME/records/``, atomically (temp file + ``os.replace``).

The record is the orchestrator's document (no secret values: keys appear as
fingerprints only). Re-filing the same document changes nothing (same
SHA-256 already there); a newer document replaces both files. Each filing is
appended to the incident's ledger (kind ``record``: SHA-256s and locations),
and the ledger entry's ``seq``/``hash`` come back in the artifacts, so the
ledger's head is anchored in the orchestration output.

Artifacts: ``destination`` (``blob`` | ``file``), ``json_path`` /
``markdown_path`` (file paths, or blob URLs without credentials), ``sha256``,
``markdown_sha256``, ``ledger``. The connection string is a secret: it is
registered with the dispatcher and never returned.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from firestop.azure.errors import RunbookError, map_azure_error
from firestop.records import render_markdown
from runbooks.base import Applied, Check, Plan, RunContext, Runbook, Verification
from runbooks.common import append_ledger
from runbooks.registry import register

_ACCOUNT_KEY = re.compile(r"AccountKey=([^;]+)", re.IGNORECASE)
_SAS = re.compile(r"SharedAccessSignature=([^;]+)", re.IGNORECASE)


class FileRecordParams(BaseModel):
    """record: the post-incident record document (JSON object with ``incident_id``)."""

    model_config = ConfigDict(extra="forbid")

    record: dict[str, Any]


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.replace(tmp, path)


def _incident(record: dict[str, Any]) -> str:
    incident = str(record.get("incident_id") or "")
    if not incident or "/" in incident or "\\" in incident or incident.startswith("."):
        raise RunbookError("invalid", "params.record.incident_id: missing or not a plain name")
    return incident


def _documents(record: dict[str, Any]) -> tuple[bytes, bytes]:
    data = json.dumps(record, indent=2, sort_keys=True, default=str).encode("utf-8")
    return data, render_markdown(record).encode("utf-8")


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

    def upload(self, name: str, data: bytes, content_type: str) -> None:
        from azure.core.exceptions import ResourceExistsError
        from azure.storage.blob import ContentSettings

        try:
            try:
                self.container.create_container()
            except ResourceExistsError:
                pass
            self.container.upload_blob(
                name, data, overwrite=True, content_settings=ContentSettings(content_type=content_type),
                metadata={"sha256": _sha(data)},
            )
        except Exception as exc:  # noqa: BLE001
            raise map_azure_error(exc) from None

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

    def plan(self, ctx: RunContext, target: str | None, params: FileRecordParams) -> Plan:
        incident = _incident(params.record)
        if ctx.settings.records_connection is not None:
            where = f"blobs {incident}.json and {incident}.md in container {ctx.settings.records_container}"
        else:
            where = f"{ctx.settings.records_dir / (incident + '.json')} and {ctx.settings.records_dir / (incident + '.md')}"
        return Plan(runbook=self.name, target=target or "", before={}, notes=[f"would write {where}"])

    def apply(self, ctx: RunContext, target: str | None, params: FileRecordParams) -> Applied:
        incident = _incident(params.record)
        data, markdown = _documents(params.record)
        names = (f"{incident}.json", f"{incident}.md")
        if ctx.settings.records_connection is not None:
            blob = _Blob(ctx)
            changed = False
            for name, body, kind in ((names[0], data, "application/json"), (names[1], markdown, "text/markdown; charset=utf-8")):
                if blob.sha256(name) != _sha(body):
                    blob.upload(name, body, kind)
                    changed = True
            destination, locations = "blob", (blob.url(names[0]), blob.url(names[1]))
        else:
            folder = ctx.settings.records_dir
            paths = (folder / names[0], folder / names[1])
            changed = False
            for path, body in zip(paths, (data, markdown)):
                if not (path.exists() and _sha(path.read_bytes()) == _sha(body)):
                    _write(path, body)
                    changed = True
            destination, locations = "file", (str(paths[0]), str(paths[1]))
        artifacts: dict[str, Any] = {
            "destination": destination,
            "json_path": locations[0],
            "markdown_path": locations[1],
            "sha256": _sha(data),
            "markdown_sha256": _sha(markdown),
        }
        if changed:
            artifacts["ledger"] = append_ledger(
                ctx, kind="record", runbook=self.name, action="apply", target=target,
                data={k: artifacts[k] for k in ("destination", "json_path", "markdown_path", "sha256", "markdown_sha256")}
                | {"status": params.record.get("status")},
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
            stored = _Blob(ctx).download(f"{_incident(params.record)}.json")
        else:
            path = Path(where)
            stored = path.read_bytes() if path.exists() else None
        ok = stored is not None and _sha(stored) == applied.artifacts["sha256"]
        return Verification(runbook=self.name, target=target or "", checks=[Check(name="record stored as filed", ok=ok, detail=where)])

    def undo(self, ctx: RunContext, target: str | None, params: FileRecordParams, applied: Applied) -> Applied:
        return Applied(runbook=self.name, target=target or "", changed=False, before={}, after={}, summary="records are kept; nothing to undo")
