"""Workspace rows for the shipped incident scenarios besides the leaked key.

Each scenario is a deterministic set of ``AzureDiagnostics`` / ``AzureActivity``
rows for one account, placed in its own time window on 2026-11-29 (UTC) so it
never overlaps another scenario or the leaked-key incident (02:30-03:15, see
:mod:`firestop.sandbox.logs.incident`). Every IP address is from the documentation
ranges of RFC 5737 and every principal is fake. The README's "Scenario logs"
section lists the same facts for playbook and alert-rule authors; the
``SCENARIO_FACTS`` constants below are what tests check it against.

=========================  ===========================  ======================================================
scenario                   window (UTC, 2026-11-29)     rows
=========================  ===========================  ======================================================
public-network-exposure    00:12:31 - 00:13:03          AzureActivity ``MICROSOFT.COGNITIVESERVICES/ACCOUNTS/WRITE``
                                                        Start (requestbody sets ``publicNetworkAccess: Enabled``,
                                                        ``networkAcls.defaultAction: Allow``) + Success, by
                                                        ``bob@contoso.com`` from ``198.51.100.45``
anomalous-usage            01:20:00 - 01:35:00          RequestResponse, key-authenticated: ``203.0.113.140`` all 401,
                                                        ``203.0.113.141`` mostly 429, ``192.0.2.200`` 401/429 mix
suspicious-key-access      01:47:12 - 01:48:05          AzureActivity LISTKEYS (Start+Success) and REGENERATEKEY
                                                        (Start+Success, requestbody ``{"keyName": "Key2"}``) + Audit
                                                        ``ListKey``, by service principal ``d4c3b2a1-…`` from ``192.0.2.201``
content-abuse              02:05:00 - 02:20:00          RequestResponse ``ChatCompletions_Create`` from ``203.0.113.200``,
                                                        key-authenticated, mostly ``ResultSignature`` "400" (content filter)
=========================  ===========================  ======================================================

Why a content-filter rejection is only a 400: the filter detail is in the
data-plane response body (corpus ``aoai-dataplane/content-filter-error-400.json``,
``code: content_filter``), not in the resource log, which records the HTTP
status in ``ResultSignature`` (corpus ``logs-schemas/AzureDiagnostics-cognitiveservices.md``).
Only ``ListKey`` is evidenced as an Audit operation, so the key regeneration
appears in AzureActivity only.
"""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta, timezone
from typing import Callable

from ..core.clock import format_utc, parse_utc
from .incident import ACTIVITY_COLUMNS, DIAGNOSTICS_COLUMNS, _guid, _ticks

UTC = timezone.utc
DAY = (2026, 11, 29)


def _at(h: int, m: int, s: int = 0, ms: int = 0) -> datetime:
    return datetime(*DAY, h, m, s, ms * 1000, tzinfo=UTC)


# --- public-network-exposure ---------------------------------------------
EXPOSURE_CALLER = "bob@contoso.com"
EXPOSURE_IP = "198.51.100.45"
EXPOSURE_START = _at(0, 12, 31, 204)
EXPOSURE_SUCCESS = _at(0, 13, 2, 511)
EXPOSURE_REQUEST_BODY = {
    "properties": {
        "publicNetworkAccess": "Enabled",
        "networkAcls": {"defaultAction": "Allow", "ipRules": [], "virtualNetworkRules": []},
    }
}

# --- anomalous-usage -------------------------------------------------------
ANOMALY_WINDOW = (_at(1, 20), _at(1, 35))
#: IP -> (seconds between requests, [(status, weight), ...])
ANOMALY_SOURCES = {
    "203.0.113.140": (6, [("401", 1.0)]),
    "203.0.113.141": (4, [("429", 0.75), ("200", 0.25)]),
    "192.0.2.200": (10, [("401", 0.5), ("429", 0.5)]),
}

# --- suspicious-key-access -------------------------------------------------
KEY_ACCESS_OBJECT_ID = "d4c3b2a1-6e5f-4a7b-9c8d-0e1f2a3b4c5d"  # unexpected service principal (fake)
KEY_ACCESS_APP_ID = "0badc0de-5eed-4bad-a11c-fee1deadbeef"
KEY_ACCESS_IP = "192.0.2.201"
LIST_KEYS_START = _at(1, 47, 12, 330)
LIST_KEYS_SUCCESS = _at(1, 47, 12, 902)
LIST_KEYS_AUDIT = _at(1, 47, 12, 880)
REGENERATE_START = _at(1, 48, 3, 101)
REGENERATE_SUCCESS = _at(1, 48, 4, 655)

# --- content-abuse ---------------------------------------------------------
ABUSE_IP = "203.0.113.200"
ABUSE_WINDOW = (_at(2, 5), _at(2, 20))
ABUSE_EVERY_S = 8
ABUSE_400_SHARE = 0.8


def _diag_common(workspace_customer_id: str, account_id: str, location: str) -> dict:
    parts = account_id.strip("/").split("/")
    return {
        "TenantId": workspace_customer_id,
        "ResourceId": account_id.upper(),
        "_ResourceId": account_id.lower(),
        "SubscriptionId": parts[1],
        "ResourceGroup": parts[3].upper(),
        "ResourceProvider": "MICROSOFT.COGNITIVESERVICES",
        "ResourceType": "ACCOUNTS",
        "Resource": parts[-1].upper(),
        "OperationVersion": "2024-10-21",
        "location_s": location,
        "event_s": "ShoeboxCallResult",
        "SourceSystem": "Azure",
        "Type": "AzureDiagnostics",
    }


def _request_row(rng: random.Random, common: dict, when: datetime, ip: str, status: str) -> dict:
    duration = rng.randint(900, 4200) if status == "200" else rng.randint(3, 60)
    props = {
        "apiName": "Azure OpenAI API version 2024-10-21",
        "requestTime": _ticks(when - timedelta(milliseconds=duration)),
        "requestLength": rng.randint(400, 6000),
        "responseTime": _ticks(when),
        "responseLength": rng.randint(200, 9000) if status == "200" else rng.randint(80, 600),
        "objectId": "",  # key-authenticated
        "streamType": "Non-Streaming",
        "modelDeploymentName": "gpt-4o",
        "modelName": "gpt-4o",
        "modelVersion": "2024-08-06",
    }
    return {
        **common,
        "TimeGenerated": format_utc(when),
        "Category": "RequestResponse",
        "OperationName": "ChatCompletions_Create",
        "ResultSignature": status,
        "DurationMs": duration,
        "CallerIPAddress": ip,
        "CorrelationId": _guid(rng),
        "properties_s": json.dumps(props, separators=(",", ":")),
    }


def _activity_row(
    workspace_customer_id: str, account_id: str, when: datetime, action: str, name: str, status: str, substatus: str,
    caller: str, ip: str, correlation: str, properties: dict,
) -> dict:
    parts = account_id.strip("/").split("/")
    return {
        "TenantId": workspace_customer_id,
        "TimeGenerated": format_utc(when),
        "OperationNameValue": action.upper(),
        "OperationName": name,
        "ActivityStatusValue": status,
        "ActivitySubstatusValue": substatus,
        "CategoryValue": "Administrative",
        "Level": "Informational",
        "Caller": caller,
        "CallerIpAddress": ip,
        "CorrelationId": correlation,
        "SubscriptionId": parts[1],
        "ResourceGroup": parts[3].upper(),
        "ResourceProviderValue": "MICROSOFT.COGNITIVESERVICES",
        "_ResourceId": account_id.lower(),
        "Authorization": json.dumps({"action": action, "scope": account_id}),
        "Properties": json.dumps(properties, separators=(",", ":")),
        "SourceSystem": "Azure",
        "Type": "AzureActivity",
    }


def _public_network_exposure(rng: random.Random, ws: str, account_id: str, location: str) -> dict:
    action = "Microsoft.CognitiveServices/accounts/write"
    corr = _guid(rng)
    body = json.dumps(EXPOSURE_REQUEST_BODY, separators=(",", ":"))
    return {
        "AzureActivity": [
            _activity_row(ws, account_id, EXPOSURE_START, action, "Write Cognitive Services account", "Start", "",
                          EXPOSURE_CALLER, EXPOSURE_IP, corr, {"requestbody": body}),
            _activity_row(ws, account_id, EXPOSURE_SUCCESS, action, "Write Cognitive Services account", "Success",
                          "OK (HTTP Status Code: 200)", EXPOSURE_CALLER, EXPOSURE_IP, corr, {"statusCode": "OK"}),
        ]
    }


def _weighted(rng: random.Random, choices: list[tuple[str, float]]) -> str:
    roll, acc = rng.random(), 0.0
    for value, weight in choices:
        acc += weight
        if roll < acc:
            return value
    return choices[-1][0]


def _anomalous_usage(rng: random.Random, ws: str, account_id: str, location: str) -> dict:
    common = _diag_common(ws, account_id, location)
    rows = []
    for ip, (every, mix) in ANOMALY_SOURCES.items():
        t = ANOMALY_WINDOW[0]
        while t < ANOMALY_WINDOW[1]:
            when = t + timedelta(milliseconds=rng.randint(0, every * 1000 - 1))
            rows.append(_request_row(rng, common, when, ip, _weighted(rng, mix)))
            t += timedelta(seconds=every)
    return {"AzureDiagnostics": rows}


def _suspicious_key_access(rng: random.Random, ws: str, account_id: str, location: str) -> dict:
    caller, ip = KEY_ACCESS_OBJECT_ID, KEY_ACCESS_IP
    c_list, c_regen = _guid(rng), _guid(rng)
    list_action = "Microsoft.CognitiveServices/accounts/listKeys/action"
    regen_action = "Microsoft.CognitiveServices/accounts/regenerateKey/action"
    activity = [
        _activity_row(ws, account_id, LIST_KEYS_START, list_action, "List Keys", "Start", "", caller, ip, c_list, {}),
        _activity_row(ws, account_id, LIST_KEYS_SUCCESS, list_action, "List Keys", "Success", "OK (HTTP Status Code: 200)",
                      caller, ip, c_list, {"statusCode": "OK"}),
        _activity_row(ws, account_id, REGENERATE_START, regen_action, "Regenerate Key", "Start", "", caller, ip, c_regen,
                      {"requestbody": json.dumps({"keyName": "Key2"})}),
        _activity_row(ws, account_id, REGENERATE_SUCCESS, regen_action, "Regenerate Key", "Success",
                      "OK (HTTP Status Code: 200)", caller, ip, c_regen, {"statusCode": "OK"}),
    ]
    audit = {
        **_diag_common(ws, account_id, location),
        "TimeGenerated": format_utc(LIST_KEYS_AUDIT),
        "Category": "Audit",
        "OperationName": "ListKey",
        "ResultSignature": "200",
        "DurationMs": 38,
        "CallerIPAddress": ip,
        "CorrelationId": c_list,
        "properties_s": json.dumps({"objectId": caller, "appId": KEY_ACCESS_APP_ID}, separators=(",", ":")),
    }
    return {"AzureActivity": activity, "AzureDiagnostics": [audit]}


def _content_abuse(rng: random.Random, ws: str, account_id: str, location: str) -> dict:
    common = _diag_common(ws, account_id, location)
    rows = []
    t = ABUSE_WINDOW[0]
    while t < ABUSE_WINDOW[1]:
        status = "400" if rng.random() < ABUSE_400_SHARE else "200"
        rows.append(_request_row(rng, common, t + timedelta(milliseconds=rng.randint(0, 3000)), ABUSE_IP, status))
        t += timedelta(seconds=ABUSE_EVERY_S)
    return {"AzureDiagnostics": rows}


SCENARIOS: dict[str, Callable[[random.Random, str, str, str], dict]] = {
    "public-network-exposure": _public_network_exposure,
    "anomalous-usage": _anomalous_usage,
    "suspicious-key-access": _suspicious_key_access,
    "content-abuse": _content_abuse,
}


def add_scenario(tables: dict, name: str, *, seed: int, workspace_customer_id: str, account_id: str, location: str) -> None:
    """Append scenario ``name``'s rows for ``account_id`` to ``tables`` (``{table: {"columns", "rows"}}``).

    Rows are keyed by column name, so tables keep their own column order; each
    touched table is re-sorted by ``TimeGenerated``. Unknown names -> ValueError.
    """
    try:
        build = SCENARIOS[name]
    except KeyError:
        raise ValueError(f"unknown scenario {name!r}; known: {sorted(SCENARIOS)}") from None
    rng = random.Random(f"{seed}:scenario:{name}")
    columns_by_table = {"AzureDiagnostics": DIAGNOSTICS_COLUMNS, "AzureActivity": ACTIVITY_COLUMNS}
    for table_name, rows in build(rng, workspace_customer_id, account_id, location).items():
        table = tables.setdefault(
            table_name, {"columns": [{"name": n, "type": t} for n, t in columns_by_table[table_name]], "rows": []}
        )
        names = [c["name"] for c in table["columns"]]
        table["rows"].extend([row.get(n) for n in names] for row in rows)
        at = names.index("TimeGenerated")
        table["rows"].sort(key=lambda r: parse_utc(r[at]))
