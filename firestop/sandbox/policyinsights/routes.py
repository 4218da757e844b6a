"""Policy Insights: ``POST …/providers/Microsoft.PolicyInsights/policyStates/{latest|default}/queryResults``.

Operation ``policyStates.queryResults`` (REST 2019-10-01 ``PolicyStates_ListQueryResultsForSubscription``
/ ``…ForResourceGroup``; azure-mgmt-policyinsights 1.0.1 ``policy_states.list_query_results_for_subscription``
/ ``…_for_resource_group``; any api-version accepted and logged) at
``/subscriptions/{s}`` or ``/subscriptions/{s}/resourceGroups/{rg}``.

``$filter``: clauses ``<field> eq '<value>'`` joined by ``and`` over ``resourceId``,
``resourceType``, ``resourceGroup``, ``policyDefinitionName``, ``policyAssignmentName``,
``complianceState`` (values case-insensitive), or ``isCompliant eq true|false``;
anything else → 400 ``InvalidFilterInQueryString`` (sandbox wording). ``$top`` (1–1000) bounds
the answer. Answer 200 ``{"@odata.context", "@odata.count", "value": [PolicyState…]}``
(newest timestamp first, or oldest with ``$orderby=timestamp asc``; no ``@odata.nextLink``: a sandbox tenant
holds few states).

``latest`` answers ``doc["policy_states"]`` (the last evaluation's states); ``default`` — "all policy state(s)"
in the time range (2019-10-01 ``policyStatesResource``) — answers those and the superseded records of
``doc["policy_state_history"]`` (:func:`.models.reevaluate` keeps them). ``$from`` / ``$to`` (ISO 8601) bound
either by ``timestamp``; for ``default`` an absent ``$from`` is ``$to`` − 1 day and an absent ``$to`` the
request time, as the REST reference says (sandbox: ``latest`` applies no default range, keeping seeded states
found whatever their age).
"""

from __future__ import annotations

import copy
import re
from datetime import datetime, timedelta, timezone

from ..core.armapi import check_scope, ok, state_of
from ..core.clock import parse_utc
from ..core.errors import error
from ..core.router import RequestContext
from ..core.wire import SandboxResponse
from . import room

ARM = "management.azure.com"
_FIELDS = {"resourceid", "resourcetype", "resourcegroup", "policydefinitionname", "policyassignmentname", "compliancestate"}
_CLAUSE = re.compile(r"^\s*(\w+)\s+eq\s+(?:'([^']*)'|(true|false))\s*$", re.IGNORECASE)
MAX_TOP = 1000


def _bad(message: str) -> SandboxResponse:
    return error(400, "InvalidFilterInQueryString", message)


def _matches(item: dict, clauses: list[tuple[str, str]]) -> bool:
    lowered = {k.lower(): v for k, v in item.items()}
    for field, value in clauses:
        have = lowered.get(field)
        if field == "iscompliant":
            if bool(have) != (value == "true"):
                return False
        elif str(have or "").lower() != value.lower():
            return False
    return True


def _when(item: dict) -> datetime | None:
    try:
        return parse_utc(str(item.get("timestamp") or ""))
    except ValueError:
        return None


def _interval(ctx: RequestContext, which: str) -> tuple[tuple[datetime | None, datetime | None], SandboxResponse | None]:
    """``($from, $to)`` of the request (None: unbounded), or a 400 for a time that does not parse."""
    bounds = []
    for name in ("$from", "$to"):
        text = (ctx.request.query.get(name) or "").strip()
        try:
            bounds.append(parse_utc(text) if text else None)
        except ValueError:
            return (None, None), error(400, "InvalidQueryParameterValue", f"{name} must be an ISO 8601 time.")
    start, end = bounds
    if which == "default":
        end = end or ctx.now
        # (a $to within a day of the earliest time: the range starts there — no OverflowError, attack19 A19-01)
        start = start or (end - timedelta(days=1) if end - datetime.min.replace(tzinfo=timezone.utc) > timedelta(days=1)
                          else datetime.min.replace(tzinfo=timezone.utc))
    return (start, end), None


def _within(item: dict, window: tuple[datetime | None, datetime | None]) -> bool:
    start, end = window
    if start is None and end is None:
        return True
    when = _when(item)
    return when is not None and (start is None or when >= start) and (end is None or when <= end)


def _query(ctx: RequestContext) -> SandboxResponse:
    bad = check_scope(ctx)
    if bad:
        return bad
    if ctx.params["which"].lower() not in ("latest", "default"):
        return error(400, "InvalidPolicyStatesResource", f"'{ctx.params['which']}' is not a policy states resource; use latest or default.")
    clauses: list[tuple[str, str]] = []
    text = (ctx.request.query.get("$filter") or "").strip()
    if text:
        for clause in re.split(r"\s+and\s+", text, flags=re.IGNORECASE):
            m = _CLAUSE.match(clause)
            if not m:
                return _bad(f"Unsupported $filter clause {clause!r}.")
            field = m.group(1).lower()
            if m.group(3) is not None:
                if field != "iscompliant":
                    return _bad(f"Field {m.group(1)!r} does not take a boolean.")
                clauses.append((field, m.group(3).lower()))
            elif field in _FIELDS:
                clauses.append((field, m.group(2)))
            else:
                return _bad(f"Field {m.group(1)!r} is not supported in $filter.")
    try:
        top = int(ctx.request.query.get("$top") or MAX_TOP)
    except ValueError:
        return _bad("$top must be an integer.")
    if not 1 <= top <= MAX_TOP:
        return _bad(f"$top must be between 1 and {MAX_TOP}.")
    which = ctx.params["which"].lower()
    window, bad = _interval(ctx, which)
    if bad:
        return bad
    order = (ctx.request.query.get("$orderby") or "timestamp desc").strip().lower()
    if order not in ("timestamp", "timestamp desc", "timestamp asc"):
        return error(400, "InvalidOrderByInQueryString", f"Unsupported $orderby {order[:80]!r} (sandbox: timestamp [asc|desc]).")
    rg = ctx.params.get("rg")
    doc = state_of(ctx).doc
    held = list(doc.get("policy_states", [])) + (list(doc.get("policy_state_history", [])) if which == "default" else [])
    states = [s for s in held if rg is None or str(s.get("resourceGroup", "")).lower() == rg.lower()]
    found = [copy.deepcopy(s) for s in states if _matches(s, clauses) and _within(s, window)]
    found.sort(key=lambda s: _when(s) or datetime.min.replace(tzinfo=timezone.utc), reverse=order != "timestamp asc")
    found = found[:top]
    base = ctx.request.path
    return ok({"@odata.context": f"https://{ARM}{base}/$metadata#latest", "@odata.count": len(found), "value": found})


@room.route("POST", ARM, "/subscriptions/{sub}/providers/Microsoft.PolicyInsights/policyStates/{which}/queryResults", "policyStates.queryResults")
def query_subscription(ctx: RequestContext) -> SandboxResponse:
    return _query(ctx)


@room.route("POST", ARM, "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.PolicyInsights/policyStates/{which}/queryResults", "policyStates.queryResults")
def query_resource_group(ctx: RequestContext) -> SandboxResponse:
    return _query(ctx)
