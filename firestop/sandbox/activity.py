"""Activity-log side effects of ARM writes made *through* the sandbox.

When a mutating ARM call succeeds (2xx), the tenant appends the rows the real
platform would emit to every workspace that has the table, but makes them
visible only after an ingestion delay (latency key ``activity.ingestion``,
default 180 s; Azure documents minutes of latency for activity logs):

* ``AzureActivity``: a ``Start`` and a ``Success`` row with ``OperationNameValue``
  e.g. ``MICROSOFT.COGNITIVESERVICES/ACCOUNTS/REGENERATEKEY/ACTION`` (the RBAC
  operation names, upper case as the table stores them), ``Caller`` = the token's
  object id, ``CallerIpAddress`` = :data:`SANDBOX_CALLER_IP`;
* ``AzureDiagnostics``: an ``Audit`` ``ListKey`` row for ``accounts.listKeys``
  (the only audit operation evidenced in the corpus).

Pending rows live in ``table["pending"]`` (``[{"visible_at", "row"}]``) and are
moved into ``rows`` by :func:`release` as the clock passes ``visible_at``.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from .clock import format_utc, parse_utc
from .credential import decode_token
from .state import TenantState
from .wire import SandboxRequest

#: The address the sandbox reports for requests made by the toolkit (TEST-NET-1, fake).
SANDBOX_CALLER_IP = "192.0.2.10"
DEFAULT_INGESTION_S = 180.0

ACTIONS = {
    "accounts.listKeys": ("MICROSOFT.COGNITIVESERVICES/ACCOUNTS/LISTKEYS/ACTION", "List Keys"),
    "accounts.regenerateKey": ("MICROSOFT.COGNITIVESERVICES/ACCOUNTS/REGENERATEKEY/ACTION", "Regenerate Key"),
    "accounts.update": ("MICROSOFT.COGNITIVESERVICES/ACCOUNTS/WRITE", "Write Cognitive Services account"),
    "securityRules.createOrUpdate": ("MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/SECURITYRULES/WRITE", "Create or Update Security Rule"),
    "securityRules.delete": ("MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/SECURITYRULES/DELETE", "Delete Security Rule"),
}


def _resource_id(operation: str, path: str) -> str:
    if operation in ("accounts.listKeys", "accounts.regenerateKey"):
        return path.rsplit("/", 1)[0]
    return path


def record(state: TenantState, operation: str, request: SandboxRequest, status: int, now: datetime) -> None:
    """Queue the log rows for a successful ``operation`` (no-op for other operations/statuses)."""
    if operation not in ACTIONS or not 200 <= status < 300:
        return
    op_value, op_name = ACTIONS[operation]
    resource_id = _resource_id(operation, request.path)
    parts = resource_id.strip("/").split("/")
    token = request.bearer_token()
    caller = ((decode_token(token) if token else None) or {}).get("oid", "")
    visible_at = format_utc(now + timedelta(seconds=state.latency.get("activity.ingestion", DEFAULT_INGESTION_S)))
    correlation = state.new_guid("correlation")
    provider = op_value.split("/", 1)[0]
    for workspace in state.doc["workspaces"].values():
        tables = workspace["tables"]
        if "AzureActivity" in tables:
            for status_value, substatus, offset in (("Start", "", 0.0), ("Success", "OK", 0.5)):
                values = {
                    "TenantId": workspace.get("customer_id", ""),
                    "TimeGenerated": format_utc(now + timedelta(seconds=offset)),
                    "OperationNameValue": op_value,
                    "OperationName": op_name,
                    "ActivityStatusValue": status_value,
                    "ActivitySubstatusValue": substatus,
                    "CategoryValue": "Administrative",
                    "Level": "Informational",
                    "Caller": caller,
                    "CallerIpAddress": SANDBOX_CALLER_IP,
                    "CorrelationId": correlation,
                    "SubscriptionId": parts[1] if len(parts) > 1 else "",
                    "ResourceGroup": parts[3].upper() if len(parts) > 3 else "",
                    "ResourceProviderValue": provider,
                    "_ResourceId": resource_id.lower(),
                    "Authorization": json.dumps({"action": op_value, "scope": resource_id}),
                    "SourceSystem": "Azure",
                    "Type": "AzureActivity",
                }
                _queue(tables["AzureActivity"], values, visible_at)
        if operation == "accounts.listKeys" and "AzureDiagnostics" in tables:
            values = {
                "TenantId": workspace.get("customer_id", ""),
                "TimeGenerated": format_utc(now),
                "ResourceId": resource_id.upper(),
                "_ResourceId": resource_id.lower(),
                "SubscriptionId": parts[1] if len(parts) > 1 else "",
                "ResourceGroup": parts[3].upper() if len(parts) > 3 else "",
                "ResourceProvider": "MICROSOFT.COGNITIVESERVICES",
                "ResourceType": "ACCOUNTS",
                "Resource": parts[-1].upper(),
                "Category": "Audit",
                "OperationName": "ListKey",
                "ResultSignature": "200",
                "DurationMs": 40,
                "CallerIPAddress": SANDBOX_CALLER_IP,
                "CorrelationId": correlation,
                "properties_s": json.dumps({"objectId": caller}, separators=(",", ":")),
                "SourceSystem": "Azure",
                "Type": "AzureDiagnostics",
            }
            _queue(tables["AzureDiagnostics"], values, visible_at)


def _queue(table: dict, values: dict, visible_at: str) -> None:
    row = [values.get(col["name"]) for col in table["columns"]]
    table.setdefault("pending", []).append({"visible_at": visible_at, "row": row})


def release(state: TenantState, now: datetime) -> None:
    """Make pending rows whose ingestion time has passed visible to queries."""
    for workspace in state.doc["workspaces"].values():
        for table in workspace["tables"].values():
            pending = table.get("pending")
            if not pending:
                continue
            ready = [p for p in pending if parse_utc(p["visible_at"]) <= now]
            if ready:
                table["rows"].extend(p["row"] for p in ready)
                table["pending"] = [p for p in pending if parse_utc(p["visible_at"]) > now]
