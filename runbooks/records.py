"""Record runbooks: file the post-incident record.

``records.file`` writes ``<FIRESTOP_HOME>/records/<incident_id>.json`` and
``.md`` atomically. The record is the orchestrator's document (no secret
values: keys appear as fingerprints only). Re-filing the same incident
replaces both files with the newer document.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from firestop.azure.errors import RunbookError
from firestop.records import render_markdown
from runbooks.base import Applied, Check, Plan, RunContext, Runbook, Verification
from runbooks.registry import register


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


def _paths(ctx: RunContext, record: dict[str, Any]) -> tuple[Path, Path]:
    incident = str(record.get("incident_id") or "")
    if not incident or "/" in incident or incident.startswith("."):
        raise RunbookError("invalid", "params.record.incident_id: missing or not a plain name")
    folder = ctx.settings.records_dir
    return folder / f"{incident}.json", folder / f"{incident}.md"


@register
class FileRecord(Runbook[FileRecordParams]):
    name = "records.file"
    summary = "Write the post-incident record (JSON + Markdown) under FIRESTOP_HOME/records."
    permissions = ()
    target_type = None
    Params = FileRecordParams
    mutating = False

    def plan(self, ctx: RunContext, target: str | None, params: FileRecordParams) -> Plan:
        json_path, md_path = _paths(ctx, params.record)
        return Plan(runbook=self.name, target=target or "", before={}, notes=[f"would write {json_path} and {md_path}"])

    def apply(self, ctx: RunContext, target: str | None, params: FileRecordParams) -> Applied:
        json_path, md_path = _paths(ctx, params.record)
        data = json.dumps(params.record, indent=2, sort_keys=True, default=str).encode("utf-8")
        _write(json_path, data)
        _write(md_path, render_markdown(params.record).encode("utf-8"))
        return Applied(
            runbook=self.name,
            target=target or "",
            changed=True,
            before={},
            after={},
            summary=f"record filed: {json_path.name}, {md_path.name}",
            artifacts={
                "json_path": str(json_path),
                "markdown_path": str(md_path),
                "sha256": hashlib.sha256(data).hexdigest(),
            },
        )

    def verify(self, ctx: RunContext, target: str | None, params: FileRecordParams, applied: Applied) -> Verification:
        path = Path(applied.artifacts["json_path"])
        ok = path.exists() and hashlib.sha256(path.read_bytes()).hexdigest() == applied.artifacts["sha256"]
        return Verification(runbook=self.name, target=target or "", checks=[Check(name="record on disk", ok=ok, detail=str(path))])
