"""ARM Activity Log API: ``GET /subscriptions/{s}/providers/Microsoft.Insights/eventtypes/management/values``.

Operation ``activityLogs.list`` (REST ``ActivityLogs_List``, api-version
2015-04-01, https://learn.microsoft.com/rest/api/monitor/activity-logs/list;
any api-version is accepted and logged). Events: ``doc["activity_log"]`` (see
:mod:`firestop.sandbox.activitylog.events`), each listable once the clock reaches its
``submissionTimestamp``; shape as corpus
``logs-schemas/activity-log/rest-api-administrative-event.json``.

``$filter`` is required and, as the REST reference says, "very restricted":
``eventTimestamp ge '<ISO UTC>'`` (required) ``and eventTimestamp le '<ISO UTC>'``
(optional, default now) plus at most one of ``resourceGroupName eq '…'``,
``resourceUri eq '…'``, ``resourceProvider eq '…'``, ``correlationId eq '…'``
(values case-insensitive; ``resourceUri`` matches the event's ``resourceId``
exactly). The start may be at most 90 days back (the Activity Log's
retention). Anything else → 400 ``BadRequest`` (sandbox wording).
``$select`` (comma-separated top-level property names) trims each event.

Answer: 200 ``{"value": [EventData, newest first], "nextLink": …}`` with
:data:`PAGE_SIZE` events per page (``$skiptoken`` = offset).
"""

from __future__ import annotations

import copy
import re
from datetime import timedelta
from typing import Optional
from urllib.parse import quote

from ..core.clock import parse_utc
from ..core.errors import error
from ..core.router import RequestContext
from ..core.wire import SandboxResponse
from ..core.armapi import check_scope, ok, state_of
from . import room

ARM = "management.azure.com"
PATH = "/subscriptions/{sub}/providers/Microsoft.Insights/eventtypes/management/values"
PAGE_SIZE = 200
RETENTION_DAYS = 90
_CLAUSE = re.compile(r"^\s*(\w+)\s+(eq|ge|le)\s+'([^']*)'\s*$", re.IGNORECASE)
_SELECTORS = {"resourcegroupname": "resourceGroupName", "resourceuri": "resourceUri", "resourceprovider": "resourceProvider", "correlationid": "correlationId"}


def _bad(message: str) -> SandboxResponse:
    return error(400, "BadRequest", message)


def parse_filter(text: Optional[str], now) -> tuple[Optional[dict], Optional[SandboxResponse]]:
    """``$filter`` -> ``{"start", "end", "selector": (name, value) | None}`` or a 400 answer."""
    if not text or not text.strip():
        return None, _bad("The $filter query parameter is required and must contain at least 'eventTimestamp ge'.")
    start = end = selector = None
    for clause in re.split(r"\s+and\s+", text.strip(), flags=re.IGNORECASE):
        match = _CLAUSE.match(clause)
        if not match:
            return None, _bad(f"Unsupported $filter clause {clause!r}.")
        field, op, value = match.group(1).lower(), match.group(2).lower(), match.group(3)
        if field == "eventtimestamp" and op in ("ge", "le"):
            try:
                when = parse_utc(value)
            except ValueError:
                return None, _bad(f"Invalid eventTimestamp {value!r} in $filter.")
            if op == "ge":
                start = when
            else:
                end = when
        elif field in _SELECTORS and op == "eq" and selector is None:
            selector = (_SELECTORS[field], value)
        else:
            return None, _bad(f"Unsupported $filter clause {clause!r}.")
    if start is None:
        return None, _bad("The $filter must contain 'eventTimestamp ge'.")
    end = end or now
    if end < start:
        return None, _bad("The end time of the $filter is before its start time.")
    if start < now - timedelta(days=RETENTION_DAYS):
        return None, _bad(f"The start time of the $filter is more than {RETENTION_DAYS} days in the past.")
    return {"start": start, "end": end, "selector": selector}, None


def _matches(event: dict, selector: Optional[tuple[str, str]]) -> bool:
    if selector is None:
        return True
    name, value = selector
    value = value.lower()
    if name == "resourceGroupName":
        return str(event.get("resourceGroupName") or "").lower() == value
    if name == "resourceUri":
        return str(event.get("resourceId") or "").rstrip("/").lower() == value.rstrip("/")
    if name == "resourceProvider":
        return str((event.get("resourceProviderName") or {}).get("value") or "").lower() == value
    return str(event.get("correlationId") or "").lower() == value


@room.route("GET", ARM, PATH, "activityLogs.list")
def list_events(ctx: RequestContext) -> SandboxResponse:
    bad = check_scope(ctx)
    if bad:
        return bad
    query = ctx.request.query
    window, bad = parse_filter(query.get("$filter"), ctx.now)
    if bad:
        return bad
    try:
        offset = int(query.get("$skiptoken", "0") or 0)
    except ValueError:
        return _bad("Invalid $skiptoken.")
    select = [s.strip().lower() for s in query.get("$select", "").split(",") if s.strip()]
    found = []
    for item in state_of(ctx).doc.get("activity_log", []):
        event = item["event"]
        if parse_utc(item["visible_at"]) > ctx.now:
            continue
        at = parse_utc(event["eventTimestamp"])
        if window["start"] <= at <= window["end"] and _matches(event, window["selector"]):
            found.append(event)
    found.sort(key=lambda e: parse_utc(e["eventTimestamp"]), reverse=True)
    page = found[offset : offset + PAGE_SIZE]
    if select:
        page = [{k: v for k, v in e.items() if k.lower() in select} for e in page]
    body: dict = {"value": copy.deepcopy(page)}
    if offset + PAGE_SIZE < len(found):
        params = [f"api-version={quote(ctx.request.api_version or '2015-04-01')}", f"$filter={quote(query['$filter'])}"]
        if query.get("$select"):
            params.append(f"$select={quote(query['$select'])}")
        params.append(f"$skiptoken={offset + PAGE_SIZE}")
        body["nextLink"] = f"https://{ARM}{ctx.request.raw_path}?" + "&".join(params)
    return ok(body)
