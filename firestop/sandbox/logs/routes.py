"""Log Analytics query API: ``POST https://api.loganalytics.io/v1/workspaces/{workspaceId}/query``.

What azure-monitor-query 2.0.0 ``LogsQueryClient.query_workspace`` sends (see
``azure/monitor/query/_patch.py`` and ``_helpers.construct_iso8601``): JSON
``{"query": str, "timespan": str | null, "workspaces": list | null}`` where
timespan is ``"<start>/<end>"``, ``"<start>/PT<n>S"`` or ``"PT<n>S"`` (a
duration ending *now* — the virtual clock at arrival). The timespan filters
``TimeGenerated`` (start inclusive, end exclusive) of the queried table.

Answers (corpus ``loganalytics/``):

* 200 ``{"tables": [{"name": "PrimaryResult", "columns": [{name, type}], "rows": [[...]]}]}``
  with native JSON values (response-format.md), datetimes as ISO-8601 UTC;
* 400 ``BadArgumentError`` with ``innererror.code`` ``SyntaxError`` /
  ``SemanticError`` for queries outside the KQL subset (errors.json);
* 200 with an empty body when the POST has no body (errors.json); 204 when the
  workspace holds no tables; 404 ``WorkspaceNotFoundError`` for an unknown id;
* 200 with the first :data:`RESULT_ROW_LIMIT` rows plus ``error`` ``{"code":
  "PartialError", "details": [...]}`` when a result is larger (response-format.md's
  non-fatal error; the wording is the sandbox's, no verbatim sample exists).

``workspaces`` (cross-workspace queries) is accepted and ignored.

``POST /v1/{resourceId}/query`` (``LogsQueryClient.query_resource``, operation ``logs.queryResource``; Log Analytics
query API v1, azure-rest-api-specs ``specification/operationalinsights/data-plane/Microsoft.OperationalInsights/
stable/v1/OperationalInsights.json``) is a resource-centric query: the rows of every workspace whose ``_ResourceId``
is that resource (case-insensitive), as a resource-scoped log alert rule reads them; a resource no workspace holds
rows of answers 204, as a workspace without tables.
``POST /v1/$batch`` (``query_batch``, operation ``logs.batch``) answers each
sub-request like ``/query`` inside ``{"responses": [{"id", "status", "body"}]}``.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Optional

from ..core.clock import parse_utc
from ..core.errors import error
from .kql import KqlError, run_query
from ..core.router import RequestContext, Route
from ..core.wire import SandboxResponse
from ..core.armapi import ok, state_of
from . import room

HOSTS = ("api.loganalytics.io", "api.loganalytics.azure.com")
#: Rows one query may return (Azure Monitor service limits: 500,000 records); more -> truncated + PartialError.
RESULT_ROW_LIMIT = 500_000
_DURATION = re.compile(
    r"^P(?:(?P<w>\d+(?:\.\d+)?)W)?(?:(?P<d>\d+(?:\.\d+)?)D)?"
    r"(?:T(?:(?P<h>\d+(?:\.\d+)?)H)?(?:(?P<m>\d+(?:\.\d+)?)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?)?$",
    re.IGNORECASE,
)


def parse_duration(text: str) -> timedelta:
    """ISO-8601 duration (``PT3600.0S``, ``P1D``, ``PT1H30M``) -> timedelta."""
    match = _DURATION.match(text.strip())
    if not match or text.strip().upper() in ("P", "PT"):
        raise ValueError(f"invalid ISO-8601 duration {text!r}")
    parts = {k: float(v) if v else 0.0 for k, v in match.groupdict().items()}
    return timedelta(weeks=parts["w"], days=parts["d"], hours=parts["h"], minutes=parts["m"], seconds=parts["s"])


def parse_timespan(text: Optional[str], now: datetime) -> Optional[tuple[datetime, datetime]]:
    """The request ``timespan`` -> (start, end) in UTC; ``None`` means no time filter."""
    if text is None or not str(text).strip():
        return None
    text = str(text).strip()
    if "/" not in text:
        return now - parse_duration(text), now
    first, second = (p.strip() for p in text.split("/", 1))
    if first.upper().startswith("P"):
        end = parse_utc(second)
        return end - parse_duration(first), end
    start = parse_utc(first)
    if second.upper().startswith("P"):
        return start, start + parse_duration(second)
    return start, parse_utc(second)


def _bad_argument(inner_code: str, message: str, detail: Optional[dict] = None) -> SandboxResponse:
    inner = {"code": inner_code, "message": message}
    if detail:
        inner["innererror"] = detail
    return error(400, "BadArgumentError", "The request had some invalid properties", innererror=inner)


def execute(state, workspace_id: str, body: object, now: datetime) -> SandboxResponse:
    """Run one query request body against workspace ``workspace_id`` (shared by /query and /$batch)."""
    workspace = state.doc["workspaces"].get(str(workspace_id).lower())
    if workspace is None:
        return error(404, "WorkspaceNotFoundError", f"The workspace {workspace_id} could not be found")
    if not isinstance(body, dict) or not isinstance(body.get("query"), str):
        return _bad_argument("MissingQuery", "The request body must contain a 'query' string")
    if not workspace["tables"]:
        return SandboxResponse(204, None)
    try:
        time_range = parse_timespan(body.get("timespan"), now)
    except ValueError as exc:
        return _bad_argument("InvalidTimespan", str(exc))
    try:
        result = run_query(body["query"], workspace["tables"], now, time_range)
    except KqlError as exc:
        summary = "A recognition error occurred in the query." if exc.kind == "SyntaxError" else "A semantic error occurred."
        detail = {"code": "SYN0002" if exc.kind == "SyntaxError" else "SEM0100", "message": exc.message}
        if exc.pos is not None:
            detail.update({"line": 1 + body["query"].count("\n", 0, exc.pos), "pos": exc.pos})
        if exc.token is not None:
            detail["token"] = exc.token
        return _bad_argument(exc.kind, summary + " " + exc.message, detail)
    table = result.to_json()
    if len(table["rows"]) > RESULT_ROW_LIMIT:
        # response-format.md: non-fatal problems answer 200 + tables + error{code: "PartialError", details}
        table["rows"] = table["rows"][:RESULT_ROW_LIMIT]
        return ok({"tables": [table], "error": {
            "code": "PartialError",
            "message": "There were some errors when processing your query.",
            "details": [{
                "code": "EngineError",
                "message": f"Query result set has exceeded the internal record count limit ({RESULT_ROW_LIMIT} records); the result is truncated.",
            }],
        }})
    return ok({"tables": [table]})


def _resource_tables(state, resource_id: str) -> dict:
    """The tables of every workspace cut to the rows whose ``_ResourceId`` is ``resource_id`` (tables without such
    rows left out)."""
    low = resource_id.rstrip("/").lower()
    tables: dict = {}
    for workspace in state.doc["workspaces"].values():
        for name, table in workspace["tables"].items():
            names = [c["name"] for c in table["columns"]]
            if "_ResourceId" not in names:
                continue
            at = names.index("_ResourceId")
            rows = [r for r in table["rows"] if at < len(r) and str(r[at]).rstrip("/").lower() == low]
            if rows:
                tables.setdefault(name, {"columns": table["columns"], "rows": []})["rows"].extend(rows)
    return tables


def query_resource(ctx: RequestContext) -> SandboxResponse:
    """``POST /v1/{resourceId}/query``: :func:`execute` over :func:`_resource_tables` (no such rows: 204)."""
    p = ctx.params
    resource_id = f"/subscriptions/{p['sub']}/resourceGroups/{p['rg']}/providers/{p['ns']}/{p['rtype']}/{p['rname']}"
    try:
        body = ctx.request.json()
    except (ValueError, UnicodeDecodeError):
        return _bad_argument("InvalidBody", "The request body is not valid JSON")
    tables = _resource_tables(state_of(ctx), resource_id)
    if not tables:
        return SandboxResponse(204, None)
    view = type("ResourceView", (), {})()
    view.doc = {"workspaces": {"resource": {"tables": tables}}}
    return execute(view, "resource", body, ctx.now)


def query(ctx: RequestContext) -> SandboxResponse:
    state = state_of(ctx)
    if state.doc["workspaces"].get(ctx.params["workspace"].lower()) is not None and not ctx.request.body.strip():
        return SandboxResponse(200, None)  # errors.json: missing JSON body -> 200 with empty body
    try:
        body = ctx.request.json()
    except (ValueError, UnicodeDecodeError):
        return _bad_argument("InvalidBody", "The request body is not valid JSON")
    return execute(state, ctx.params["workspace"], body, ctx.now)


def batch(ctx: RequestContext) -> SandboxResponse:
    """``POST /v1/$batch`` (``LogsQueryClient.query_batch``): ``{"requests": [{id, workspace, body, ...}]}``
    -> ``{"responses": [{"id", "status", "body"}]}``; each sub-query is answered like ``/query``."""
    try:
        body = ctx.request.json()
    except (ValueError, UnicodeDecodeError):
        return _bad_argument("InvalidBody", "The request body is not valid JSON")
    requests = body.get("requests") if isinstance(body, dict) else None
    if not isinstance(requests, list) or not requests:
        return _bad_argument("InvalidBatch", "The batch must contain a non-empty 'requests' list")
    responses = []
    for item in requests:
        if not isinstance(item, dict):
            return _bad_argument("InvalidBatch", "Each batch request must be an object")
        answer = execute(state_of(ctx), item.get("workspace", ""), item.get("body"), ctx.now)
        responses.append({"id": item.get("id"), "status": answer.status, "body": answer.body})
    return ok({"responses": responses})


for host in HOSTS:
    room.add(
        Route("POST", host, "/v1/workspaces/{workspace}/query", "logs.query", "loganalytics", query),
        Route("POST", host, "/v1/$batch", "logs.batch", "loganalytics", batch),
        Route("POST", host, "/v1/subscriptions/{sub}/resourceGroups/{rg}/providers/{ns}/{rtype}/{rname}/query",
              "logs.queryResource", "loganalytics", query_resource),
    )
