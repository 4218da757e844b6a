"""Evidence runbooks: snapshot the logs of the incident window before anything changes.

``evidence.snapshot_logs`` runs a KQL query through ``LogsQueryClient``
(Log Analytics query API ``POST /v1/workspaces/{id}/query``) over
``AzureDiagnostics`` rows of the target account in the alert's window, and
writes the rows as JSON Lines evidence with SHA-256, size and the query in the
incident's manifest. Values taken from alerts are validated (the resource ID is
parsed, times are datetimes) and string literals are escaped, never pasted
into KQL. Columns: see AzureDiagnostics for Cognitive Services
(https://learn.microsoft.com/azure/azure-monitor/reference/tables/azurediagnostics).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from firestop.azure.errors import RunbookError, map_azure_error
from firestop.evidence import EvidenceItem, EvidenceStore
from runbooks.base import Applied, Check, Plan, RunContext, Runbook, Verification
from runbooks.registry import register
from runbooks.targets import ACCOUNT_TYPE, account_ref

LOG_READ = "Microsoft.OperationalInsights/workspaces/query/read"
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


class SnapshotLogsParams(BaseModel):
    """workspace_id: Log Analytics workspace ID (GUID; default FIRESTOP_LOG_WORKSPACE_ID);
    lookback_minutes: window length when the alert gives none (ending at the alert's fired time);
    max_rows: cap on rows kept (``take``)."""

    model_config = ConfigDict(extra="forbid")

    workspace_id: str | None = None
    lookback_minutes: int = Field(default=60, ge=1, le=7 * 24 * 60)
    max_rows: int = Field(default=10_000, ge=1, le=500_000)

    @field_validator("workspace_id")
    @classmethod
    def _guid(cls, value: str | None) -> str | None:
        if value is not None and not _GUID.match(value):
            raise ValueError("must be a Log Analytics workspace ID (a GUID, shown as 'Workspace ID' in the portal)")
        return value


def kql_string(value: str) -> str:
    """A KQL string literal for ``value`` (double quotes, backslash escapes)."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    return f'"{escaped}"'


def kql_datetime(value: datetime) -> str:
    if value.tzinfo is None:
        raise ValueError("naive datetime")
    return "datetime(" + value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ") + ")"


def build_query(resource_id: str, start: datetime, end: datetime, max_rows: int) -> str:
    """The evidence query (pure): AzureDiagnostics rows of one resource in [start, end]."""
    return (
        "AzureDiagnostics\n"
        f"| where ResourceId =~ {kql_string(resource_id)}\n"
        f"| where TimeGenerated between ({kql_datetime(start)} .. {kql_datetime(end)})\n"
        "| order by TimeGenerated asc\n"
        f"| take {int(max_rows)}"
    )


def incident_window(ctx: RunContext, lookback_minutes: int) -> tuple[datetime, datetime]:
    """The alert's evaluation window, else ``lookback_minutes`` before it fired (else before now)."""
    alert = ctx.alert
    end = alert.window_end or alert.fired_at or ctx.now()
    start = alert.window_start or end - timedelta(minutes=lookback_minutes)
    if start >= end:
        start = end - timedelta(minutes=lookback_minutes)
    return start, end


def _cell(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


@register
class SnapshotLogs(Runbook[SnapshotLogsParams]):
    name = "evidence.snapshot_logs"
    summary = "Copy the account's diagnostic logs of the incident window into hashed JSONL evidence."
    permissions = (LOG_READ,)
    target_type = ACCOUNT_TYPE
    Params = SnapshotLogsParams
    mutating = False

    def _inputs(self, ctx: RunContext, target: str, params: SnapshotLogsParams) -> tuple[str, str, datetime, datetime]:
        ref = account_ref(target)
        workspace = params.workspace_id or ctx.settings.log_workspace_id
        if not workspace:
            raise RunbookError("invalid", "workspace_id: no Log Analytics workspace configured; set FIRESTOP_LOG_WORKSPACE_ID or the step's workspace_id")
        start, end = incident_window(ctx, params.lookback_minutes)
        return workspace, build_query(ref.resource_id, start, end, params.max_rows), start, end

    def plan(self, ctx: RunContext, target: str, params: SnapshotLogsParams) -> Plan:
        workspace, query, start, end = self._inputs(ctx, target, params)
        return Plan(
            runbook=self.name,
            target=target,
            before={"workspace_id": workspace, "query": query, "window": [start.isoformat(), end.isoformat()]},
            notes=["read-only: writes an evidence file under FIRESTOP_HOME, changes nothing in Azure"],
        )

    def apply(self, ctx: RunContext, target: str, params: SnapshotLogsParams) -> Applied:
        from azure.monitor.query import LogsQueryStatus

        workspace, query, start, end = self._inputs(ctx, target, params)
        try:
            response = ctx.clients.logs().query_workspace(workspace, query, timespan=(start, end))
        except Exception as exc:  # noqa: BLE001
            raise map_azure_error(exc, permission=LOG_READ) from None
        partial = response.status == LogsQueryStatus.PARTIAL
        tables = response.partial_data if partial else response.tables
        rows: list[dict[str, Any]] = []
        for table in tables or []:
            columns = [c if isinstance(c, str) else getattr(c, "name", str(c)) for c in table.columns]
            rows.extend({col: _cell(v) for col, v in zip(columns, row)} for row in table.rows)
        item = EvidenceStore(ctx.settings.evidence_dir).write_jsonl(
            ctx.incident_id,
            name="azurediagnostics",
            rows=rows,
            step_id=ctx.step_id,
            collected_by=self.name,
            collected_at=ctx.now().isoformat(),
            source={
                "workspace_id": workspace,
                "query": query,
                "window": [start.isoformat(), end.isoformat()],
                "partial": partial,
                "partial_error": str(response.partial_error.message) if partial and response.partial_error else None,
            },
        )
        return Applied(
            runbook=self.name,
            target=target,
            changed=False,
            before={},
            after={},
            summary=f"kept {item.rows} log rows ({item.size_bytes} bytes, sha256 {item.sha256[:12]}…)"
            + (" — partial result" if partial else ""),
            artifacts={"evidence": item.model_dump(mode="json")},
        )

    def verify(self, ctx: RunContext, target: str, params: SnapshotLogsParams, applied: Applied) -> Verification:
        item = EvidenceItem.model_validate(applied.artifacts["evidence"])
        ok = EvidenceStore(ctx.settings.evidence_dir).check(ctx.incident_id, item)
        return Verification(
            runbook=self.name, target=target, checks=[Check(name="evidence hash matches manifest", ok=ok, detail=item.path)]
        )

    def undo(self, ctx: RunContext, target: str, params: SnapshotLogsParams, applied: Applied) -> Applied:
        return Applied(runbook=self.name, target=target, changed=False, before={}, after={}, summary="evidence is kept; nothing to undo")
