"""Evidence runbooks: keep the configuration and the logs of the incident before anything changes.

Every item is written once to the evidence store (:mod:`firestop.evidence`: the
``FIRESTOP_EVIDENCE_CONTAINER`` blob container when ``FIRESTOP_STORAGE_BLOB_URL`` is
set, else ``FIRESTOP_HOME/evidence/<incident>/``) with its SHA-256 and size in its
manifest entry, and appended to the incident's hash-chained ledger
(:mod:`runbooks.ledger`, kind ``evidence``). A second apply of the same step keeps
the first item (evidence of the state *before* containment is never overwritten
by a later, contained state: the store refuses to replace an item) and changes nothing.

Item names carry the target (:func:`evidence_name`: ``azurediagnostics-<account>-<hash>``,
``arm-config-<resource>-<hash>``), so a step the orchestrator fans out over several
targets keeps one file and one manifest entry per target
(``<step>-azurediagnostics-contoso-openai-prod-<8 hex>.jsonl``) instead of the
second target overwriting the first's evidence.


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

import hashlib
import re
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

from pydantic import BaseModel, ConfigDict, Field, field_validator

from firestop.azure.errors import RunbookError, map_azure_error
from firestop.empty import new_list
from firestop.evidence import EvidenceItem, EvidenceStore
from firestop.storage import StoreError
from runbooks.base import Applied, Check, ParamsT, Plan, RunContext, Runbook, Verification
from runbooks.common import append_ledger, list_raw, raw_json
from runbooks.registry import register
from runbooks.targets import ACCOUNT_TYPE, NSG_TYPE, account_ref, nsg_ref, resource_type

LOG_READ = "Microsoft.OperationalInsights/workspaces/query/read"
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


class SnapshotLogsParams(BaseModel):
    """workspace_id: Log Analytics workspace ID (GUID; default FIRESTOP_LOG_WORKSPACE_ID);
    lookback_minutes: window length when the alert gives none (ending at the alert's fired time);
    max_rows: cap on rows kept in all (``take``);
    page_minutes: the window is queried in consecutive pages of this many minutes (each page a
    query of its own, so no single answer nears the query API's 500,000-row / 64 MB limits,
    https://learn.microsoft.com/azure/azure-monitor/service-limits#log-queries-and-language);
    max_pages: at most this many page queries per target — a longer window gets longer pages
    (each page still ends in ``take max_rows``), so the step's duration is bounded whatever the alert says."""

    model_config = ConfigDict(extra="forbid")

    workspace_id: str | None = None
    lookback_minutes: int = Field(default=60, ge=1, le=7 * 24 * 60)
    max_rows: int = Field(default=10_000, ge=1, le=500_000)
    page_minutes: int = Field(default=60, ge=1, le=24 * 60)
    max_pages: int = Field(default=4, ge=1, le=48)

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


def build_page_query(resource_id: str, start: datetime, end: datetime, max_rows: int, *, last: bool) -> str:
    """One page of the evidence query: rows in [start, end) — or [start, end] for the last page."""
    if last:
        return build_query(resource_id, start, end, max_rows)
    return (
        "AzureDiagnostics\n"
        f"| where ResourceId =~ {kql_string(resource_id)}\n"
        f"| where TimeGenerated >= {kql_datetime(start)} and TimeGenerated < {kql_datetime(end)}\n"
        "| order by TimeGenerated asc\n"
        f"| take {int(max_rows)}"
    )


def pages(start: datetime, end: datetime, page_minutes: int, max_pages: int = 48) -> list[tuple[datetime, datetime]]:
    """[start, end] cut into consecutive (from, to) pages of ``page_minutes`` (the last one may be shorter),
    at most ``max_pages`` of them: a window longer than ``max_pages * page_minutes`` gets longer pages."""
    if max_pages < 1:
        raise ValueError("max_pages must be >= 1")
    span = max(end - start, timedelta(0))
    step = max(timedelta(minutes=page_minutes), span / max_pages)
    out, cursor = [], start
    while cursor + step < end and len(out) < max_pages - 1:
        out.append((cursor, cursor + step))
        cursor += step
    out.append((cursor, end))
    return out


#: How far after the alert fired an evidence window may reach: Azure evaluates a rule's window before it
#: fires, so only delivery and ingestion skew (minutes) separates a real windowEndTime from firedDateTime.
AFTER_FIRED = timedelta(minutes=15)


def incident_window(ctx: RunContext, lookback_minutes: int) -> tuple[datetime, datetime, dict[str, Any] | None]:
    """``(start, end, clamp)``: the alert's evaluation window, else ``lookback_minutes`` before it fired
    (else before now), clamped to the bound around the alert.

    The bound is [anchor − ``settings.evidence_max_window_seconds``, anchor + :data:`AFTER_FIRED`], the
    anchor being when the alert fired (now when it does not say): a window the alert claims outside it —
    a start months back, an end in 9999 — is cut to it, and one entirely outside it falls back to the
    lookback before the anchor. ``clamp`` is None when nothing was cut, else
    ``{"requested": [start, end], "bound": [lo, hi], "max_window_seconds", "reason"}`` (ISO 8601 UTC
    strings) for the manifest. Never raises for any datetime the alert can carry.
    """
    alert = ctx.alert
    anchor = alert.fired_at or ctx.now()
    max_window = timedelta(seconds=ctx.settings.evidence_max_window_seconds)
    lookback = min(timedelta(minutes=lookback_minutes), max_window)
    try:
        lo, hi = anchor - max_window, anchor + AFTER_FIRED
    except OverflowError:  # an anchor at the edge of datetime's range: the clock's now instead
        anchor = ctx.now()
        lo, hi = anchor - max_window, anchor + AFTER_FIRED
    requested_end = alert.window_end or anchor
    end = min(max(requested_end, lo), hi)
    start = min(max(alert.window_start or end - lookback, lo), end)
    if start >= end:  # an empty window, or one wholly outside the bound: the lookback instead
        start = max(end - lookback, lo)
        if start >= end:  # wholly before the bound
            end, start = anchor, max(anchor - lookback, lo)
    cut = (alert.window_start is not None and alert.window_start != start) or requested_end != end
    if not cut:
        return start, end, None
    return start, end, {
        "requested": [alert.window_start.isoformat() if alert.window_start else None, requested_end.isoformat()],
        "bound": [lo.isoformat(), hi.isoformat()],
        "max_window_seconds": int(max_window.total_seconds()),
        "reason": "the alert's window reaches outside the evidence bound around the alert "
                  "(FIRESTOP_EVIDENCE_MAX_WINDOW_SECONDS) or is empty; the window was cut to the bound "
                  "or widened to the lookback",
    }


def evidence_name(kind: str, target: str) -> str:
    """Manifest name of the ``kind`` item of ``target``: ``<kind>-<resource name>-<8 hex>``, the hex
    being the SHA-256 of the lower-case resource ID (resource names repeat across groups/subscriptions)."""
    rid = (target or "").strip().rstrip("/").lower()
    return f"{kind}-{rid.rsplit('/', 1)[-1] or 'target'}-{hashlib.sha256(rid.encode('utf-8')).hexdigest()[:8]}"


def _cell(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


class EvidenceRunbook(Runbook[ParamsT]):
    """Read-only runbooks that keep evidence: one JSONL item per step and target, written once.

    ``_keep`` writes the item and its manifest entry once (a concurrent or earlier try of the
    step that kept it first wins: :meth:`firestop.evidence.EvidenceStore.write_jsonl`), appends
    the item to the incident's ledger and answers; ``verify`` re-hashes the item against the
    manifest and the ledger; ``undo`` keeps the evidence.
    """

    mutating = False
    incident_only = True  # evidence and its ledger entries belong to the incident collecting them
    collects_evidence = True

    def _keep(self, ctx: RunContext, target: str, name: str, rows: list[dict[str, Any]], source: dict[str, Any],
              summary: Callable[[EvidenceItem], str]) -> Applied:
        kept = existing_item(ctx, name)  # a concurrent try of this step may have finished meanwhile
        if kept is not None:
            return _reused(self.name, target, kept)
        try:
            item = EvidenceStore.of(ctx.settings).write_jsonl(
                ctx.incident_id,
                name=name,
                rows=rows,
                step_id=ctx.step_id,
                collected_by=self.name,
                collected_at=ctx.now().isoformat(),
                source=source,
                trusted=lambda item: on_ledger(ctx, item),
            )
        except StoreError as exc:
            raise RunbookError(exc.kind if exc.kind in ("transient", "forbidden") else "failed", f"evidence: {exc}") from None
        ledger = append_ledger(ctx, kind="evidence", runbook=self.name, action="apply", target=target, data=item.model_dump(mode="json"))
        return Applied(runbook=self.name, target=target, changed=False, before={}, after={}, summary=summary(item),
                       artifacts={"evidence": item.model_dump(mode="json"), "ledger": ledger})

    def verify(self, ctx: RunContext, target: str, params: ParamsT, applied: Applied) -> Verification:
        return verify_evidence(ctx, self.name, target, applied)

    def undo(self, ctx: RunContext, target: str, params: ParamsT, applied: Applied) -> Applied:
        return Applied(runbook=self.name, target=target, changed=False, before={}, after={}, summary="evidence is kept; nothing to undo")



@register
class SnapshotLogs(EvidenceRunbook[SnapshotLogsParams]):
    name = "evidence.snapshot_logs"
    summary = "Copy the account's diagnostic logs of the incident window into hashed JSONL evidence."
    permissions = (LOG_READ,)
    target_type = ACCOUNT_TYPE
    Params = SnapshotLogsParams

    def _inputs(self, ctx: RunContext, target: str, params: SnapshotLogsParams
                ) -> tuple[str, list[tuple[datetime, datetime, str]], datetime, datetime, dict[str, Any] | None]:
        ref = account_ref(target)
        workspace = params.workspace_id or ctx.settings.log_workspace_id
        if not workspace:
            raise RunbookError("invalid", "workspace_id: no Log Analytics workspace configured; set FIRESTOP_LOG_WORKSPACE_ID or the step's workspace_id")
        start, end, clamp = incident_window(ctx, params.lookback_minutes)
        cut = pages(start, end, params.page_minutes, params.max_pages)
        queries = [
            (a, b, build_page_query(ref.resource_id, a, b, params.max_rows, last=i == len(cut) - 1)) for i, (a, b) in enumerate(cut)
        ]
        return workspace, queries, start, end, clamp

    def plan(self, ctx: RunContext, target: str, params: SnapshotLogsParams) -> Plan:
        workspace, queries, start, end, clamp = self._inputs(ctx, target, params)
        return Plan(
            runbook=self.name,
            target=target,
            before={"workspace_id": workspace, "query": queries[0][2], "pages": len(queries),
                    "window": [start.isoformat(), end.isoformat()], "window_clamped": clamp},
            notes=["read-only: keeps an evidence item in the evidence store, changes nothing in Azure"],
        )

    def apply(self, ctx: RunContext, target: str, params: SnapshotLogsParams) -> Applied:
        from azure.monitor.query import LogsQueryStatus

        workspace, queries, start, end, clamp = self._inputs(ctx, target, params)
        name = evidence_name("azurediagnostics", account_ref(target).resource_id)
        kept = existing_item(ctx, name)
        if kept is not None:
            return _reused(self.name, target, kept)
        rows: list[dict[str, Any]] = []
        partial, partial_errors = False, []
        for page_start, page_end, query in queries:
            if len(rows) >= params.max_rows:
                break
            try:
                response = ctx.clients.logs().query_workspace(workspace, query, timespan=(page_start, page_end))
            except Exception as exc:  # noqa: BLE001
                raise map_azure_error(exc, permission=LOG_READ) from None
            page_partial = response.status == LogsQueryStatus.PARTIAL
            partial = partial or page_partial
            if page_partial and response.partial_error:
                partial_errors.append(str(response.partial_error.message))
            for table in (response.partial_data if page_partial else response.tables) or []:
                columns = [c if isinstance(c, str) else getattr(c, "name", str(c)) for c in table.columns]
                rows.extend({col: _cell(v) for col, v in zip(columns, row)} for row in table.rows)
        rows = rows[: params.max_rows]
        query = queries[0][2]
        source = {
            "target": account_ref(target).resource_id,
            "workspace_id": workspace,
            "query": query,
            "queries": [q for _, _, q in queries],
            "pages": len(queries),
            "window": [start.isoformat(), end.isoformat()],
            "window_clamped": clamp,
            "partial": partial,
            "partial_error": "; ".join(partial_errors) or None,
        }
        return self._keep(
            ctx, target, name, rows, source,
            lambda item: f"kept {item.rows} log rows ({item.size_bytes} bytes, sha256 {item.sha256[:12]}…)"
            + (" — partial result" if partial else "")
            + (f" — window clamped to {start.isoformat()} .. {end.isoformat()}" if clamp else ""),
        )


# shared by the evidence runbooks --------------------------------------------------


def existing_item(ctx: RunContext, name: str) -> EvidenceItem | None:
    """This step's evidence item ``name`` if already collected and its file still matches its hash."""
    store = EvidenceStore.of(ctx.settings)
    for item in store.manifest(ctx.incident_id):
        if (item.step_id == ctx.step_id and item.name == name and store.check(ctx.incident_id, item)
                and on_ledger(ctx, item)):
            return item
    return None


def on_ledger(ctx: RunContext, item: EvidenceItem) -> bool:
    """True when the incident's ledger holds an ``evidence`` entry for ``item`` (same path and SHA-256) that the app
    sealed on this incident's ledger (:meth:`runbooks.ledger.Ledger.sealed`): Firestop collected it. RT13-04: a
    manifest entry or an entry on the ledger that a blob writer planted (or copied from another incident) vouches
    for nothing. False when the ledger cannot be read."""
    from runbooks.ledger import Ledger

    ledger = Ledger.of(ctx.settings)
    try:
        entries = ledger.entries(ctx.incident_id)
    except (OSError, ValueError):
        return False
    key = None
    for entry in entries:
        data = entry.get("data") if isinstance(entry.get("data"), dict) else {}
        if entry.get("kind") == "evidence" and data.get("sha256") == item.sha256 and data.get("path") == item.path:
            key = key or ledger.key()
            if ledger.sealed(entry, key, on=ctx.incident_id):
                return True
    return False


def _reused(runbook: str, target: str, item: EvidenceItem) -> Applied:
    return Applied(
        runbook=runbook,
        target=target,
        changed=False,
        before={},
        after={},
        summary=f"evidence already collected by this step ({item.path}, sha256 {item.sha256[:12]}…); kept it",
        artifacts={"evidence": item.model_dump(mode="json"), "reused": True},
    )


def verify_evidence(ctx: RunContext, runbook: str, target: str, applied: Applied) -> Verification:
    """The file still matches the manifest's SHA-256, and the ledger chain holds with that item on it."""
    from runbooks.ledger import Ledger

    item = EvidenceItem.model_validate(applied.artifacts["evidence"])
    store = EvidenceStore.of(ctx.settings)
    ledger = Ledger.of(ctx.settings)
    # (a planted object, even with a made-up seal, is skipped as appends skip it, not a break: RT14-01)
    chain = ledger.verify(ctx.incident_id, evidence=store.reader(ctx.incident_id))
    # lines that are not entries (a blob writer's junk, leftovers10) are skipped and named, not a break of the chain
    kept = on_ledger(ctx, item) if not chain.broken else False  # sealed on this incident's ledger (RT13-04)
    return Verification(
        runbook=runbook,
        target=target,
        checks=[
            Check(name="evidence hash matches manifest", ok=store.check(ctx.incident_id, item), detail=item.path),
            Check(name="ledger chain intact", ok=not chain.broken,
                  detail="; ".join(chain.problems) or f"{chain.entries} entries, head {chain.head[:12]}…"),
            Check(name="evidence on the ledger", ok=kept, detail=f"sha256 {item.sha256[:12]}…"),
        ],
    )


# evidence.snapshot_config ---------------------------------------------------------

ACCOUNT_READ = "Microsoft.CognitiveServices/accounts/read"
DEPLOYMENTS_READ = "Microsoft.CognitiveServices/accounts/deployments/read"
NSG_READ = "Microsoft.Network/networkSecurityGroups/read"
ROLE_ASSIGNMENTS_READ = "Microsoft.Authorization/roleAssignments/read"
#: REST API versions of the raw list calls (the SDKs' defaults: azure-mgmt-cognitiveservices 14.1, azure-mgmt-authorization 4.0).
DEPLOYMENTS_API = "2025-09-01"
ROLE_ASSIGNMENTS_API = "2022-04-01"
SUPPORTED = {ACCOUNT_TYPE: "Azure OpenAI account", NSG_TYPE: "network security group"}


class SnapshotConfigParams(BaseModel):
    """also: more resource IDs to snapshot with the target (Azure OpenAI accounts or network
    security groups, e.g. the NSG ``network.block_ips`` will change), at most 20;
    include_deployments / include_role_assignments: for accounts, also keep the
    deployments and the role assignments at the account's scope."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    also: list[str] = Field(default_factory=new_list, max_length=20)
    include_deployments: bool = True
    include_role_assignments: bool = True

    @field_validator("also")
    @classmethod
    def _supported(cls, value: list[str]) -> list[str]:
        for rid in value:
            if resource_type(rid) not in SUPPORTED:
                raise ValueError(
                    f"{rid!r} is not a resource ID of a supported type ({', '.join(SUPPORTED.values())})"
                )
        return value


def snapshot_resource(ctx: RunContext, resource_id: str, params: SnapshotConfigParams) -> list[dict[str, Any]]:
    """Evidence rows for one resource: ``{"resource_id", "part", "api_version", "json"}``."""
    kind = resource_type(resource_id)
    if kind == ACCOUNT_TYPE:
        ref = account_ref(resource_id)
        client = ctx.clients.cognitive_services(ref.subscription_id)
        try:
            account = client.accounts.get(ref.resource_group, ref.name, cls=raw_json)
        except Exception as exc:  # noqa: BLE001
            raise map_azure_error(exc, permission=ACCOUNT_READ) from None
        rows = [{"resource_id": ref.resource_id, "part": "resource", "api_version": client._config.api_version, "json": account}]
        if params.include_deployments:
            deployments = list_raw(client, f"{ref.resource_id}/deployments", DEPLOYMENTS_API, DEPLOYMENTS_READ)
            rows.append({"resource_id": ref.resource_id, "part": "deployments", "api_version": DEPLOYMENTS_API, "json": deployments})
        if params.include_role_assignments:
            auth = ctx.clients.authorization(ref.subscription_id)
            assignments = list_raw(
                auth, f"{ref.resource_id}/providers/Microsoft.Authorization/roleAssignments", ROLE_ASSIGNMENTS_API, ROLE_ASSIGNMENTS_READ
            )
            rows.append({"resource_id": ref.resource_id, "part": "roleAssignments", "api_version": ROLE_ASSIGNMENTS_API, "json": assignments})
        return rows
    if kind == NSG_TYPE:
        ref = nsg_ref(resource_id)
        try:
            nsg = ctx.clients.network(ref.subscription_id).network_security_groups.get(ref.resource_group, ref.name, cls=raw_json)
        except Exception as exc:  # noqa: BLE001
            raise map_azure_error(exc, permission=NSG_READ) from None
        return [{"resource_id": ref.resource_id, "part": "resource", "api_version": "azure-mgmt-network 33.1 default", "json": nsg}]
    raise RunbookError("invalid", f"target: {resource_id!r} is not a resource ID of a supported type ({', '.join(SUPPORTED.values())})")


@register
class SnapshotConfig(EvidenceRunbook[SnapshotConfigParams]):
    """Rows of the JSONL item ``arm-config-<target>`` (:func:`evidence_name`): one per resource part — the resource's ARM
    JSON (``GET``), and for accounts its deployments and the role assignments that
    apply at its scope — each ``{"resource_id", "part", "api_version", "json"}``."""

    name = "evidence.snapshot_config"
    summary = "Keep the ARM JSON of the target (and of the resources named in also) before any change, as hashed evidence."
    permissions = (ACCOUNT_READ, DEPLOYMENTS_READ, ROLE_ASSIGNMENTS_READ, NSG_READ)
    target_type = ACCOUNT_TYPE
    Params = SnapshotConfigParams

    def _resources(self, target: str | None, params: SnapshotConfigParams) -> list[str]:
        if resource_type(target) not in SUPPORTED:
            raise RunbookError(
                "invalid",
                f"target: {target!r} is not a resource ID of a supported type ({', '.join(SUPPORTED.values())}); "
                "use /subscriptions/<id>/resourceGroups/<rg>/providers/Microsoft.CognitiveServices/accounts/<name>",
            )
        seen: dict[str, str] = {}
        for rid in [target or "", *params.also]:
            seen.setdefault(rid.lower().rstrip("/"), rid.rstrip("/"))
        return list(seen.values())

    def plan(self, ctx: RunContext, target: str, params: SnapshotConfigParams) -> Plan:
        resources = self._resources(target, params)
        kept = existing_item(ctx, evidence_name("arm-config", resources[0]))
        return Plan(
            runbook=self.name,
            target=target,
            before={"resources": resources, "already_collected": kept.path if kept else None},
            notes=["read-only: keeps an evidence item in the evidence store, changes nothing in Azure"],
        )

    def apply(self, ctx: RunContext, target: str, params: SnapshotConfigParams) -> Applied:
        resources = self._resources(target, params)
        name = evidence_name("arm-config", resources[0])
        kept = existing_item(ctx, name)
        if kept is not None:
            return _reused(self.name, target, kept)
        rows: list[dict[str, Any]] = []
        for rid in resources:
            rows.extend(snapshot_resource(ctx, rid, params))
        source = {"target": resources[0], "resources": resources, "parts": [f"{r['resource_id']}#{r['part']}" for r in rows]}
        return self._keep(
            ctx, target, name, rows, source,
            lambda item: f"kept the configuration of {len(resources)} resource(s) ({item.size_bytes} bytes, sha256 {item.sha256[:12]}…)",
        )

