"""Recent activity from collected log evidence (pure over rows): who called, from where, who touched keys.

Reads the JSON Lines that ``evidence.snapshot_logs`` kept (AzureDiagnostics
rows: ``CallerIPAddress``, ``ResultSignature``, ``OperationName``,
``properties_s`` with ``objectId`` for Entra-authenticated calls; Category
``Audit`` rows for ``ListKey``) — no further Azure call, so it costs the
incident no time. Columns: https://learn.microsoft.com/azure/azure-monitor/reference/tables/azurediagnostics
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from typing import Any, Callable, Iterable

KEY_OPERATIONS = ("listkey", "listkeys", "regeneratekey")


def summarize_rows(rows: Iterable[dict[str, Any]], *, top: int = 10) -> dict[str, Any]:
    """``{"callers": [{"ip", "requests", "statuses": {status: n}, "key_auth": n}],
    "key_operations": [{"time", "operation", "ip", "principal"}], "rows": n}`` (callers busiest first)."""
    requests: Counter = Counter()
    statuses: dict[str, Counter] = defaultdict(Counter)
    key_auth: Counter = Counter()
    key_ops: list[dict[str, Any]] = []
    total = 0
    for row in rows:
        total += 1
        ip = row.get("CallerIPAddress") or row.get("callerIpAddress") or "?"
        props = row.get("properties_s")
        try:
            props = json.loads(props) if isinstance(props, str) else (props or {})
        except ValueError:
            props = {}
        operation = str(row.get("OperationName") or "")
        if row.get("Category") == "Audit" or operation.lower().replace("_", "") in KEY_OPERATIONS:
            if operation.lower().replace("_", "") in KEY_OPERATIONS:
                key_ops.append({"time": row.get("TimeGenerated"), "operation": operation, "ip": ip,
                                "principal": (props or {}).get("objectId") or (props or {}).get("appId") or None})
            continue
        requests[ip] += 1
        statuses[ip][str(row.get("ResultSignature"))] += 1
        if isinstance(props, dict) and not props.get("objectId"):
            key_auth[ip] += 1
    callers = [
        {"ip": ip, "requests": n, "statuses": dict(statuses[ip]), "key_auth": key_auth[ip]}
        for ip, n in requests.most_common(top)
    ]
    return {"callers": callers, "key_operations": sorted(key_ops, key=lambda k: str(k["time"])), "rows": total}


def summarize_evidence(read: Callable[[str], bytes | None], items: list[dict[str, Any]]) -> dict[str, Any]:
    """Summary of every log evidence item (``collected_by == evidence.snapshot_logs``);
    ``read(item path)`` → the item's bytes, None when missing (:meth:`firestop.evidence.EvidenceStore.reader`)."""
    def rows():
        for item in items:
            if item.get("collected_by") != "evidence.snapshot_logs":
                continue
            data = read(str(item.get("path")))
            if data is None:
                continue
            for line in data.decode("utf-8").splitlines():
                if line.strip():
                    yield json.loads(line)

    return summarize_rows(rows())
