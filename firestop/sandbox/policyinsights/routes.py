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
(newest timestamp first; no ``@odata.nextLink``: a sandbox tenant holds few states).
"""

from __future__ import annotations

import copy
import re

from ..core.armapi import check_scope, ok, state_of
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
    rg = ctx.params.get("rg")
    states = [s for s in state_of(ctx).doc.get("policy_states", []) if rg is None or str(s.get("resourceGroup", "")).lower() == rg.lower()]
    found = [copy.deepcopy(s) for s in states if _matches(s, clauses)]
    found.sort(key=lambda s: s.get("timestamp", ""), reverse=True)
    found = found[:top]
    base = ctx.request.path
    return ok({"@odata.context": f"https://{ARM}{base}/$metadata#latest", "@odata.count": len(found), "value": found})


@room.route("POST", ARM, "/subscriptions/{sub}/providers/Microsoft.PolicyInsights/policyStates/{which}/queryResults", "policyStates.queryResults")
def query_subscription(ctx: RequestContext) -> SandboxResponse:
    return _query(ctx)


@room.route("POST", ARM, "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.PolicyInsights/policyStates/{which}/queryResults", "policyStates.queryResults")
def query_resource_group(ctx: RequestContext) -> SandboxResponse:
    return _query(ctx)
