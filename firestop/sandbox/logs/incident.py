"""Deterministic Log Analytics rows for the built-in incident scenario.

Story (all UTC, 2026-11-29), for the prod account:

* 02:30:00-03:14:00 — steady traffic every ~30 s from the known app gateway
  ``198.51.100.10`` (inside the account's ipRule 198.51.100.0/24), Entra ID
  authenticated (``properties_s.objectId`` = the app's managed identity).
* 02:35 — AzureActivity: deployment write by ``alice@contoso.com``.
* 02:58:06 — AzureActivity ``MICROSOFT.COGNITIVESERVICES/ACCOUNTS/LISTKEYS/ACTION``
  (Start + Success) by an unexpected service principal from ``203.0.113.77``;
  02:58:07 the matching ``Audit`` ``ListKey`` row in AzureDiagnostics.
* 03:00:00-03:14:00 — a burst every ~6 s from ``203.0.113.77``, key
  authenticated (``objectId`` empty): mostly 200 ``ChatCompletions_Create``,
  some 401 and 429.

Columns follow corpus ``logs-schemas/AzureDiagnostics-cognitiveservices.md``
(``ResourceId``/``Resource``/``ResourceGroup``/``ResourceProvider`` upper case as
resource logs store them, ``_ResourceId`` lower case, ``ResultSignature`` the
HTTP status as a string, ``properties_s`` a JSON string with .NET-tick times)
and ``logs-schemas/AzureActivity-columns.json``.
"""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta, timezone

from ..core.clock import format_utc

KNOWN_IP = "198.51.100.10"
ATTACKER_IP = "203.0.113.77"
APP_OBJECT_ID = "3f1e9a7b-2c4d-4e5f-8a9b-0c1d2e3f4a5b"  # the app's managed identity (fake)
ROGUE_SP_OBJECT_ID = "e7d9a3c1-58b2-4f06-9c1a-7b3e2d4f6a80"  # unexpected service principal (fake)
ROGUE_SP_APP_ID = "c0ffee00-1234-4abc-9def-0123456789ab"
ADMIN_UPN = "alice@contoso.com"

DIAGNOSTICS_COLUMNS = [
    ("TenantId", "string"),
    ("TimeGenerated", "datetime"),
    ("ResourceId", "string"),
    ("_ResourceId", "string"),
    ("SubscriptionId", "string"),
    ("ResourceGroup", "string"),
    ("ResourceProvider", "string"),
    ("ResourceType", "string"),
    ("Resource", "string"),
    ("Category", "string"),
    ("OperationName", "string"),
    ("OperationVersion", "string"),
    ("ResultSignature", "string"),
    ("DurationMs", "long"),
    ("CallerIPAddress", "string"),
    ("CorrelationId", "string"),
    ("properties_s", "string"),
    ("location_s", "string"),
    ("event_s", "string"),
    ("SourceSystem", "string"),
    ("Type", "string"),
]

ACTIVITY_COLUMNS = [
    ("TenantId", "string"),
    ("TimeGenerated", "datetime"),
    ("OperationNameValue", "string"),
    ("OperationName", "string"),
    ("ActivityStatusValue", "string"),
    ("ActivitySubstatusValue", "string"),
    ("CategoryValue", "string"),
    ("Level", "string"),
    ("Caller", "string"),
    ("CallerIpAddress", "string"),
    ("CorrelationId", "string"),
    ("SubscriptionId", "string"),
    ("ResourceGroup", "string"),
    ("ResourceProviderValue", "string"),
    ("_ResourceId", "string"),
    ("Authorization", "string"),
    ("Properties", "string"),
    ("SourceSystem", "string"),
    ("Type", "string"),
]

_DOTNET_EPOCH = datetime(1, 1, 1, tzinfo=timezone.utc)


def _ticks(when: datetime) -> int:
    delta = when - _DOTNET_EPOCH
    return (delta.days * 86400 + delta.seconds) * 10_000_000 + delta.microseconds * 10


def _guid(rng: random.Random) -> str:
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}"


def incident_tables(*, seed: int, workspace_customer_id: str, account_id: str, location: str) -> dict:
    """``{"AzureDiagnostics": {"columns", "rows"}, "AzureActivity": {...}}`` for the scenario."""
    rng = random.Random(f"{seed}:logs")
    parts = account_id.strip("/").split("/")
    subscription_id, resource_group, account_name = parts[1], parts[3], parts[-1]
    upper_id = account_id.upper()
    lower_id = account_id.lower()
    diag: list[dict] = []

    def request_row(when: datetime, ip: str, object_id: str, operation: str, status: str, duration: int, deployment: str) -> dict:
        props = {
            "apiName": "Azure OpenAI API version 2024-10-21",
            "requestTime": _ticks(when - timedelta(milliseconds=duration)),
            "requestLength": rng.randint(400, 6000),
            "responseTime": _ticks(when),
            "responseLength": rng.randint(200, 9000) if status == "200" else rng.randint(80, 300),
            "objectId": object_id,
            "streamType": "Non-Streaming",
            "modelDeploymentName": deployment,
            "modelName": "gpt-4o" if deployment == "gpt-4o" else "text-embedding-3-large",
            "modelVersion": "2024-08-06" if deployment == "gpt-4o" else "1",
        }
        return {
            "TimeGenerated": when,
            "Category": "RequestResponse",
            "OperationName": operation,
            "ResultSignature": status,
            "DurationMs": duration,
            "CallerIPAddress": ip,
            "properties_s": json.dumps(props, separators=(",", ":")),
        }

    # steady, known traffic
    t = datetime(2026, 11, 29, 2, 30, 0, tzinfo=timezone.utc)
    end = datetime(2026, 11, 29, 3, 14, 0, tzinfo=timezone.utc)
    while t <= end:
        embed = rng.random() < 0.15
        diag.append(
            request_row(
                t + timedelta(milliseconds=rng.randint(0, 900)),
                KNOWN_IP,
                APP_OBJECT_ID,
                "Embeddings_Create" if embed else "ChatCompletions_Create",
                "200",
                rng.randint(60, 400) if embed else rng.randint(350, 2600),
                "text-embedding-3-large" if embed else "gpt-4o",
            )
        )
        t += timedelta(seconds=30)

    # the key listing (Audit)
    list_key_at = datetime(2026, 11, 29, 2, 58, 7, 412000, tzinfo=timezone.utc)
    diag.append(
        {
            "TimeGenerated": list_key_at,
            "Category": "Audit",
            "OperationName": "ListKey",
            "ResultSignature": "200",
            "DurationMs": 41,
            "CallerIPAddress": ATTACKER_IP,
            "properties_s": json.dumps({"objectId": ROGUE_SP_OBJECT_ID, "appId": ROGUE_SP_APP_ID}, separators=(",", ":")),
        }
    )

    # the burst, key-authenticated
    t = datetime(2026, 11, 29, 3, 0, 0, tzinfo=timezone.utc)
    while t <= end:
        roll = rng.random()
        status = "401" if roll < 0.07 else "429" if roll < 0.15 else "200"
        duration = rng.randint(900, 4200) if status == "200" else rng.randint(3, 40)
        diag.append(request_row(t + timedelta(milliseconds=rng.randint(0, 2500)), ATTACKER_IP, "", "ChatCompletions_Create", status, duration, "gpt-4o"))
        t += timedelta(seconds=6)

    diag.sort(key=lambda r: r["TimeGenerated"])
    common = {
        "TenantId": workspace_customer_id,
        "ResourceId": upper_id,
        "_ResourceId": lower_id,
        "SubscriptionId": subscription_id,
        "ResourceGroup": resource_group.upper(),
        "ResourceProvider": "MICROSOFT.COGNITIVESERVICES",
        "ResourceType": "ACCOUNTS",
        "Resource": account_name.upper(),
        "OperationVersion": "2024-10-21",
        "location_s": location,
        "event_s": "ShoeboxCallResult",
        "SourceSystem": "Azure",
        "Type": "AzureDiagnostics",
    }
    diag_rows = []
    for row in diag:
        full = {**common, **row, "CorrelationId": _guid(rng), "TimeGenerated": format_utc(row["TimeGenerated"])}
        diag_rows.append([full[name] for name, _ in DIAGNOSTICS_COLUMNS])

    def activity(when: datetime, op: str, op_name: str, status: str, substatus: str, caller: str, ip: str, corr: str) -> list:
        row = {
            "TenantId": workspace_customer_id,
            "TimeGenerated": format_utc(when),
            "OperationNameValue": op,
            "OperationName": op_name,
            "ActivityStatusValue": status,
            "ActivitySubstatusValue": substatus,
            "CategoryValue": "Administrative",
            "Level": "Informational",
            "Caller": caller,
            "CallerIpAddress": ip,
            "CorrelationId": corr,
            "SubscriptionId": subscription_id,
            "ResourceGroup": resource_group.upper(),
            "ResourceProviderValue": "MICROSOFT.COGNITIVESERVICES",
            "_ResourceId": lower_id if "DEPLOYMENTS" not in op else f"{lower_id}/deployments/gpt-4o",
            "Authorization": json.dumps({"action": op.replace("MICROSOFT.COGNITIVESERVICES", "Microsoft.CognitiveServices").replace("/ACCOUNTS", "/accounts").replace("/DEPLOYMENTS", "/deployments").replace("/LISTKEYS/ACTION", "/listKeys/action").replace("/WRITE", "/write"), "scope": account_id}),
            "SourceSystem": "Azure",
            "Type": "AzureActivity",
        }
        return [row.get(name) for name, _ in ACTIVITY_COLUMNS]

    c1, c2 = _guid(rng), _guid(rng)
    write_at = datetime(2026, 11, 29, 2, 35, 12, tzinfo=timezone.utc)
    list_at = datetime(2026, 11, 29, 2, 58, 6, 118000, tzinfo=timezone.utc)
    op_write = "MICROSOFT.COGNITIVESERVICES/ACCOUNTS/DEPLOYMENTS/WRITE"
    op_list = "MICROSOFT.COGNITIVESERVICES/ACCOUNTS/LISTKEYS/ACTION"
    activity_rows = [
        activity(write_at, op_write, "Create or update deployment", "Start", "", ADMIN_UPN, "198.51.100.23", c1),
        activity(write_at + timedelta(seconds=9), op_write, "Create or update deployment", "Success", "OK", ADMIN_UPN, "198.51.100.23", c1),
        activity(list_at, op_list, "List Keys", "Start", "", ROGUE_SP_OBJECT_ID, ATTACKER_IP, c2),
        activity(list_at + timedelta(milliseconds=870), op_list, "List Keys", "Success", "OK (HTTP Status Code: 200)", ROGUE_SP_OBJECT_ID, ATTACKER_IP, c2),
    ]
    return {
        "AzureDiagnostics": {"columns": [{"name": n, "type": t} for n, t in DIAGNOSTICS_COLUMNS], "rows": diag_rows},
        "AzureActivity": {"columns": [{"name": n, "type": t} for n, t in ACTIVITY_COLUMNS], "rows": activity_rows},
    }
