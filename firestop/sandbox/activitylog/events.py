"""Activity-log side effects of ARM writes, and the subscription's Activity Log (REST shape).

Two views of the same events, as on Azure (the workspace table is the Activity
Log exported by a diagnostic setting):

* ``AzureActivity`` rows in every workspace that has the table, visible
  ``activity.ingestion`` seconds (default 180) after the write (Azure documents
  minutes of ingestion latency for Log Analytics);
* ``EventData`` events in ``doc["activity_log"]`` (``[{"visible_at", "event"}]``)
  for the ARM Activity Log API (``activitylog/routes.py``), visible at their
  ``submissionTimestamp`` = ``eventTimestamp`` + ``activity.submission`` seconds
  (default 20 s, the gap in corpus ``logs-schemas/activity-log/rest-api-administrative-event.json``).

When a mutating ARM call made *through* the sandbox succeeds (2xx):

* ``AzureActivity``: a ``Start`` and a ``Success`` row with ``OperationNameValue``
  e.g. ``MICROSOFT.COGNITIVESERVICES/ACCOUNTS/REGENERATEKEY/ACTION`` (the RBAC
  operation names, upper case as the table stores them), ``Caller`` = the token's
  object id, ``CallerIpAddress`` = :data:`SANDBOX_CALLER_IP`;
* ``AzureDiagnostics``: an ``Audit`` ``ListKey`` row for ``accounts.listKeys``
  (the only audit operation evidenced in the corpus);
* two Activity Log API events (``BeginRequest``/``Started`` and ``EndRequest``/``Succeeded``).

Seeded ``AzureActivity`` rows (scenarios, digital twins) become Activity Log
API events too (:func:`seed_events_from_tables`), so both views agree.
Pending rows live in ``table["pending"]`` (``[{"visible_at", "row"}]``) and are
moved into ``rows`` by :func:`release` as the clock passes ``visible_at``.
"""

from __future__ import annotations

import functools
import json
import re
import uuid
from datetime import datetime, timedelta
from typing import Optional

from ..core.clock import format_utc, parse_utc
from ..core.credential import decode_token
from ..core.state import TenantState
from ..core.wire import SandboxRequest

#: The address the sandbox reports for requests made by the toolkit (TEST-NET-1, fake).
SANDBOX_CALLER_IP = "192.0.2.10"
DEFAULT_INGESTION_S = 180.0
#: eventTimestamp -> submissionTimestamp (seconds); corpus REST sample: 20:42:31.38 -> 20:42:50.07.
DEFAULT_SUBMISSION_S = 20.0

ACTIONS = {
    "accounts.listKeys": ("MICROSOFT.COGNITIVESERVICES/ACCOUNTS/LISTKEYS/ACTION", "List Keys"),
    "accounts.regenerateKey": ("MICROSOFT.COGNITIVESERVICES/ACCOUNTS/REGENERATEKEY/ACTION", "Regenerate Key"),
    "accounts.update": ("MICROSOFT.COGNITIVESERVICES/ACCOUNTS/WRITE", "Write Cognitive Services account"),
    "securityRules.createOrUpdate": ("MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/SECURITYRULES/WRITE", "Create or Update Security Rule"),
    "securityRules.delete": ("MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/SECURITYRULES/DELETE", "Delete Security Rule"),
    "roleAssignments.create": ("MICROSOFT.AUTHORIZATION/ROLEASSIGNMENTS/WRITE", "Create role assignment"),
    "roleAssignments.delete": ("MICROSOFT.AUTHORIZATION/ROLEASSIGNMENTS/DELETE", "Delete role assignment"),
}

#: AzureActivity ActivityStatusValue -> (REST status, REST eventName value, eventName localizedValue)
_STATUS = {
    "start": ("Started", "BeginRequest", "Begin request"),
    "started": ("Started", "BeginRequest", "Begin request"),
    "accept": ("Accepted", "EndRequest", "End request"),
    "accepted": ("Accepted", "EndRequest", "End request"),
    "success": ("Succeeded", "EndRequest", "End request"),
    "succeeded": ("Succeeded", "EndRequest", "End request"),
    "failure": ("Failed", "EndRequest", "End request"),
    "failed": ("Failed", "EndRequest", "End request"),
}
_GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE)


def _resource_id(operation: str, path: str) -> str:
    if operation in ("accounts.listKeys", "accounts.regenerateKey"):
        return path.rsplit("/", 1)[0]
    return path


def _resource_group(parts: list[str]) -> str:
    return parts[3] if len(parts) > 3 and parts[2].lower() == "resourcegroups" else ""


def _proper_action(op_value: str) -> str:
    """``MICROSOFT.COGNITIVESERVICES/ACCOUNTS/LISTKEYS/ACTION`` -> ``Microsoft.CognitiveServices/accounts/listKeys/action``."""
    known = {
        "MICROSOFT.COGNITIVESERVICES": "Microsoft.CognitiveServices", "MICROSOFT.NETWORK": "Microsoft.Network",
        "MICROSOFT.AUTHORIZATION": "Microsoft.Authorization", "ACCOUNTS": "accounts", "DEPLOYMENTS": "deployments",
        "LISTKEYS": "listKeys", "REGENERATEKEY": "regenerateKey", "NETWORKSECURITYGROUPS": "networkSecurityGroups",
        "SECURITYRULES": "securityRules", "ROLEASSIGNMENTS": "roleAssignments",
    }
    return "/".join(known.get(p, p.lower()) for p in op_value.split("/"))


def record(state: TenantState, operation: str, request: SandboxRequest, status: int, now: datetime) -> None:
    """Queue the log rows and Activity Log events for a successful ``operation`` (no-op otherwise)."""
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
    action = _proper_action(op_value)
    # ARM write bodies here carry no secret values (PATCH of properties, rule JSON, {"keyName": "Key1"}, role assignment)
    request_body = request.body.decode("utf-8", "replace").strip() if request.body else ""
    rows = []
    for status_value, substatus, offset in (("Start", "", 0.0), ("Success", "OK (HTTP Status Code: 200)", 0.5)):
        if status_value == "Start":
            properties = {"requestbody": request_body} if request_body else {}
        else:
            properties = {"statusCode": "OK"}
        rows.append(
            {
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
                "ResourceGroup": _resource_group(parts).upper(),
                "ResourceProviderValue": provider,
                "_ResourceId": resource_id.lower(),
                "Authorization": json.dumps({"action": action, "scope": resource_id}),
                "Properties": json.dumps(properties, separators=(",", ":")),
                "SourceSystem": "Azure",
                "Type": "AzureActivity",
            }
        )
    for row in rows:
        add_event(state, event_from_row(state, row, method=request.method))
    for workspace in state.doc["workspaces"].values():
        tables = workspace["tables"]
        if "AzureActivity" in tables:
            for row in rows:
                _queue(tables["AzureActivity"], {**row, "TenantId": workspace.get("customer_id", "")}, visible_at)
        if operation == "accounts.listKeys" and "AzureDiagnostics" in tables:
            values = {
                "TenantId": workspace.get("customer_id", ""),
                "TimeGenerated": format_utc(now),
                "ResourceId": resource_id.upper(),
                "_ResourceId": resource_id.lower(),
                "SubscriptionId": parts[1] if len(parts) > 1 else "",
                "ResourceGroup": _resource_group(parts).upper(),
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


@functools.lru_cache(maxsize=8192)
def _visible_at(text: str) -> datetime:
    """``parse_utc`` memoised: every request re-checks every pending row's time."""
    return parse_utc(text)


def release(state: TenantState, now: datetime) -> None:
    """Make pending rows whose ingestion time has passed visible to queries."""
    for workspace in state.doc["workspaces"].values():
        for table in workspace["tables"].values():
            pending = table.get("pending")
            if not pending:
                continue
            due = [_visible_at(p["visible_at"]) <= now for p in pending]
            if any(due):
                table["rows"].extend(p["row"] for p, ready in zip(pending, due) if ready)
                table["pending"] = [p for p, ready in zip(pending, due) if not ready]


# ---------------------------------------------------------------------- Activity Log API events
def _ms7(when: datetime) -> str:
    """ISO UTC with 7 fractional digits, as the Activity Log API writes times."""
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond:06d}0Z"


def _ticks(when: datetime) -> int:
    epoch = datetime(1, 1, 1, tzinfo=when.tzinfo)
    delta = when - epoch
    return (delta.days * 86400 + delta.seconds) * 10_000_000 + delta.microseconds * 10


def _method_for(action: str) -> str:
    low = action.lower()
    return "POST" if low.endswith("/action") else "DELETE" if low.endswith("/delete") else "PUT"


def _resource_type(resource_id: str) -> str:
    """``…/providers/Microsoft.X/a/n1/b/n2`` -> ``Microsoft.X/a/b``."""
    parts = resource_id.strip("/").split("/")
    lowered = [p.lower() for p in parts]
    if "providers" not in lowered:
        return "Microsoft.Resources/subscriptions" + ("/resourceGroups" if "resourcegroups" in lowered else "")
    i = len(lowered) - 1 - lowered[::-1].index("providers")
    rest = parts[i + 1 :]
    return "/".join([rest[0], *rest[1::2]]) if rest else ""


def event_from_row(state: TenantState, row: dict, method: Optional[str] = None) -> dict:
    """An Activity Log API ``EventData`` for one ``AzureActivity`` row (``{column: value}``).

    Shape: corpus ``logs-schemas/activity-log/rest-api-administrative-event.json``
    (MicrosoftDocs azure-monitor-docs ``activity-log-schema.md``) plus
    ``httpRequest``/``tenantId``/``description`` of the ``EventData`` model
    (Azure/azure-rest-api-specs monitor ``activityLogs_API.json``).
    """
    auth = {}
    try:
        auth = json.loads(row.get("Authorization") or "{}")
    except ValueError:
        pass
    action = auth.get("action") or _proper_action(str(row.get("OperationNameValue", "")))
    resource_id = str(auth.get("scope") or row.get("_ResourceId", ""))
    lowered = str(row.get("_ResourceId") or "")
    if len(lowered) > len(resource_id) and lowered.startswith(resource_id.lower() + "/"):
        resource_id += lowered[len(resource_id):]  # e.g. a deployment under the authorized account scope
    parts = resource_id.strip("/").split("/")
    when = parse_utc(str(row["TimeGenerated"]))
    submitted = when + timedelta(seconds=state.latency.get("activity.submission", DEFAULT_SUBMISSION_S))
    status, event_name, event_label = _STATUS.get(str(row.get("ActivityStatusValue", "")).lower(), ("Succeeded", "EndRequest", "End request"))
    substatus = str(row.get("ActivitySubstatusValue") or "").split(" (")[0]
    caller = str(row.get("Caller") or "")
    ip = str(row.get("CallerIpAddress") or "")
    claims = {"aud": "https://management.core.windows.net/", "ipaddr": ip}
    if _GUID.match(caller):
        claims["http://schemas.microsoft.com/identity/claims/objectidentifier"] = caller
    elif "@" in caller:
        claims["name"] = caller
        claims["http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn"] = caller
    properties: dict = {}
    try:
        properties.update(json.loads(row.get("Properties") or "{}"))
    except ValueError:
        pass
    if status != "Started":
        properties.setdefault("statusCode", substatus or "OK")
    correlation = str(row.get("CorrelationId") or "")
    seed = f"{correlation}:{row.get('ActivityStatusValue')}:{row['TimeGenerated']}"
    event_id = str(uuid.uuid5(uuid.NAMESPACE_URL, "event:" + seed))
    provider = action.split("/", 1)[0]
    rtype = _resource_type(resource_id)
    return {
        "authorization": {"action": action, "scope": resource_id},
        "caller": caller,
        "channels": "Operation",
        "claims": claims,
        "correlationId": correlation,
        "description": "",
        "eventDataId": event_id,
        "eventName": {"value": event_name, "localizedValue": event_label},
        "category": {"value": str(row.get("CategoryValue") or "Administrative"), "localizedValue": str(row.get("CategoryValue") or "Administrative")},
        "eventTimestamp": _ms7(when),
        "httpRequest": {
            "clientRequestId": str(uuid.uuid5(uuid.NAMESPACE_URL, "request:" + correlation)),
            "clientIpAddress": ip,
            "method": method or _method_for(action),
        },
        "id": f"{resource_id}/events/{event_id}/ticks/{_ticks(when)}",
        "level": str(row.get("Level") or "Informational"),
        "operationId": str(uuid.uuid5(uuid.NAMESPACE_URL, "operation:" + correlation)),
        "operationName": {"value": action, "localizedValue": str(row.get("OperationName") or action)},
        "resourceGroupName": _resource_group(parts),
        "resourceProviderName": {"value": provider, "localizedValue": provider},
        "resourceType": {"value": rtype, "localizedValue": rtype},
        "resourceId": resource_id,
        "status": {"value": status, "localizedValue": status},
        "subStatus": {"value": substatus if status != "Started" else "", "localizedValue": substatus if status != "Started" else ""},
        "submissionTimestamp": _ms7(submitted),
        "subscriptionId": parts[1] if len(parts) > 1 else state.subscription_id,
        "tenantId": state.tenant_id,
        "properties": properties,
        "relatedEvents": [],
    }


def add_event(state: TenantState, event: dict) -> None:
    """Append ``event`` to the Activity Log; it becomes listable at its ``submissionTimestamp`` (else ``eventTimestamp``)."""
    when = event.get("submissionTimestamp") or event["eventTimestamp"]
    state.doc.setdefault("activity_log", []).append({"visible_at": format_utc(parse_utc(when)), "event": event})


def seed_events_from_tables(state: TenantState) -> None:
    """Add an Activity Log event for every seeded ``AzureActivity`` row (deduplicated across workspaces)."""
    seen = {
        (e["event"].get("correlationId"), format_utc(parse_utc(e["event"]["eventTimestamp"])), (e["event"].get("status") or {}).get("value"))
        for e in state.doc.get("activity_log", [])
    }
    for workspace in state.doc["workspaces"].values():
        table = workspace["tables"].get("AzureActivity")
        if not table:
            continue
        names = [c["name"] for c in table["columns"]]
        for raw in table["rows"]:
            event = event_from_row(state, dict(zip(names, raw)))
            key = (event["correlationId"], format_utc(parse_utc(event["eventTimestamp"])), event["status"]["value"])
            if key not in seen:
                seen.add(key)
                add_event(state, event)


def _decoded(value) -> dict:
    """A context value Azure may send as a JSON string (``claims``, ``httpRequest``) as a dict (``{}`` otherwise)."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return {}
    return dict(value) if isinstance(value, dict) else {}


def _utc_or(text, default: datetime) -> datetime:
    try:
        return parse_utc(text) if isinstance(text, str) else default
    except ValueError:
        return default


def record_fired_event(state: TenantState, payload) -> Optional[str]:
    """An activity log alert fired by hand (:meth:`firestop.sandbox.Tenant.fire_alert`: ``alert handle``, tabletop
    scenarios) reports an Activity Log event: when the Common Alert Schema ``payload``'s ``alertContext`` names an
    ``eventDataId`` (a GUID) this tenant's Activity Log does not hold, store the event it describes (``EventData``
    from the context: caller, claims, httpRequest, authorization, operation, correlation, times; ``resourceId`` the
    alert's first target), as Azure logged it before the alert fired — the source check reads it back (verify13).
    An event the Activity Log holds is never changed. Returns the ``eventDataId`` stored, else None."""
    data = payload.get("data") if isinstance(payload, dict) else None
    context = data.get("alertContext") if isinstance(data, dict) else None
    essentials = data.get("essentials") if isinstance(data, dict) else None
    if not isinstance(context, dict) or not isinstance(essentials, dict):
        return None
    event_id, when = context.get("eventDataId"), context.get("eventTimestamp")
    if not isinstance(event_id, str) or not _GUID.match(event_id) or not isinstance(when, str):
        return None
    try:
        at = parse_utc(when)
    except ValueError:
        return None
    if any(str(e["event"].get("eventDataId") or "").lower() == event_id.lower() for e in state.doc.get("activity_log", [])):
        return None
    targets = [t for t in essentials.get("alertTargetIDs") or [] if isinstance(t, str)]
    resource_id = targets[0] if targets else ""
    parts = resource_id.strip("/").split("/")
    operation = str(context.get("operationName") or (context.get("authorization") or {}).get("action") or "")
    category = str(context.get("eventSource") or "Administrative")
    status, substatus = str(context.get("status") or "Succeeded"), str(context.get("subStatus") or "")
    submitted = context.get("submissionTimestamp") if isinstance(context.get("submissionTimestamp"), str) else when
    provider = operation.split("/", 1)[0]
    event = {
        "authorization": _decoded(context.get("authorization")),
        "caller": str(context.get("caller") or ""),
        "channels": str(context.get("channels") or "Operation"),
        "claims": {str(k): str(v) for k, v in _decoded(context.get("claims")).items()},
        "correlationId": str(context.get("correlationId") or ""),
        "description": "",
        "eventDataId": event_id,
        "eventName": {"value": "EndRequest", "localizedValue": "End request"},
        "category": {"value": category, "localizedValue": category},
        "eventTimestamp": _ms7(at),
        "httpRequest": _decoded(context.get("httpRequest")),
        "id": f"{resource_id}/events/{event_id}/ticks/{_ticks(at)}",
        "level": str(context.get("level") or "Informational"),
        "operationId": str(context.get("operationId") or ""),
        "operationName": {"value": operation, "localizedValue": operation},
        "resourceGroupName": _resource_group(parts),
        "resourceProviderName": {"value": provider, "localizedValue": provider},
        "resourceType": {"value": _resource_type(resource_id), "localizedValue": _resource_type(resource_id)},
        "resourceId": resource_id,
        "status": {"value": status, "localizedValue": status},
        "subStatus": {"value": substatus, "localizedValue": substatus},
        "submissionTimestamp": _ms7(_utc_or(submitted, at)),
        "subscriptionId": parts[1] if len(parts) > 1 else state.subscription_id,
        "tenantId": state.tenant_id,
        "properties": {str(k): v for k, v in (context.get("properties") or {}).items()} if isinstance(context.get("properties"), dict) else {},
        "relatedEvents": [],
    }
    add_event(state, event)
    return event_id
