"""The check that an Azure Policy state event (``POST /api/events``) names a state Azure Policy holds
(``FIRESTOP_ALERT_SOURCE_CHECK``; RT14-03 — the Common Alert Schema's twin is :mod:`firestop.azure.alerts_management`,
Defender's and Sentinel's :mod:`firestop.azure.security_source`).

An Event Grid ``Microsoft.PolicyInsights.PolicyStateChanged`` / ``PolicyStateCreated`` event with ``complianceState``
NonCompliant for one of the Azure AI network policies routes to ``public-network-exposure``
(:mod:`firestop.alerts.sources.eventgrid`), whose ``lock-network`` needs no approval. The event is read back as the
resource's latest policy states: Policy Insights REST **2019-10-01** ``PolicyStates_ListQueryResultsForSubscription``
(``POST /subscriptions/{subscriptionId}/providers/Microsoft.PolicyInsights/policyStates/latest/queryResults``) through
azure-mgmt-policyinsights 1.0.1's ``policy_states.list_query_results_for_subscription`` (Azure/azure-rest-api-specs
``specification/policyinsights/resource-manager/Microsoft.PolicyInsights/stable/2019-10-01/policyStates.json``;
``$filter`` on ``resourceId``, ``policyDefinitionName``, ``policyAssignmentName``, ``complianceState``). Confirmed when
the source holds the event's resource NonCompliant with the event's policy definition (and assignment, when the event
names one) now: what containment answers is the state, whenever it was evaluated. The definition must be the
built-in's own (RT20-06): the event's ``policyDefinitionId`` and each held state's are
``/providers/Microsoft.Authorization/policyDefinitions/<name>`` — a custom definition at a subscription or management
group *named* like a built-in (``policyDefinitionName`` is only the name) holds whatever rule its author wrote. Needs
``Microsoft.PolicyInsights/policyStates/queryResults/action`` at the subscription.

What the confirmed event claims (once per non-compliance, RT19-04): the held states' resource, assignment and
definition and *since when* they are NonCompliant — the newest ``Compliant`` record of the same resource, assignment id
and definition id in Policy Insights' history (``policyStates/default``: "in a given time range, 'latest' represents
the latest policy state(s), whereas 'default' represents all policy state(s)", 2019-10-01 ``policyStatesResource``;
``$from`` the :data:`EPISODE_LOOKBACK_DAYS` before the check, as the default range is only ``$to`` − 1 day), none when
there is none (:func:`last_compliant`). Azure Policy re-evaluates every assignment daily, and each evaluation's record carries its own ``timestamp``:
keyed by that (verify12), a responder's deliberate reopening lasted a day, after which a re-posted forged event
locked the account again. Keyed by the episode, the claim holds while the resource stays NonCompliant and is new once
Azure Policy found it Compliant in between (a genuine new non-compliance contains again). Two POSTs.

Never mocked: the pipeline is the SDK's (bearer token, ``RetryPolicy``), the sandbox is its transport.
"""

from __future__ import annotations

import re
from typing import Any, Callable

from azure.core.exceptions import AzureError

from firestop.azure.alerts_management import _unread, unread_code
from firestop.resource_id import builtin_definition
from firestop.source_reasons import Reason

_TARGET = re.compile(r"^/subscriptions/([0-9a-fA-F-]{36})/[^'?#%\\\x00-\x1f\x7f]{1,1000}$")
_NAME = re.compile(r"^[A-Za-z0-9][-A-Za-z0-9_.]{0,127}$")
#: At most this many states are read (one resource, one definition: a handful at most).
MAX_STATES = 10
#: RT19-04: how far back (days) Policy Insights' history is read for the resource's last Compliant state, the start of
#: the non-compliance a confirmed event claims. Firestop's choice, not a documented retention: when the last Compliant
#: record of an episode falls out of this range (or out of what Policy Insights still holds), the episode's key changes
#: once (to "none in range") and one more event of it contains again, then never until its state really changes.
EPISODE_LOOKBACK_DAYS = 90


def _last_segment(value: Any) -> str | None:
    name = str(value or "").strip().rstrip("/").rsplit("/", 1)[-1]
    return name if _NAME.fullmatch(name) and name.strip(".") else None


def confirm_policy(policy_insights: Callable[[str], Any], alert: dict[str, Any], now: Any = None) -> dict[str, Any]:
    """``{"confirmed": bool, "why": str}`` for a policy state event's alert (the incident input's alert JSON: its one
    ``target_ids`` entry is the event's subject, ``custom_properties`` ``policyDefinitionId`` / ``policyAssignmentId``
    as delivered), read with ``policy_insights(subscription)`` (a ``PolicyInsightsClient``). Never raises for what the
    source answers: unreadable, malformed, or not held NonCompliant is not confirmed (fail safe). One POST."""
    targets = [t for t in alert.get("target_ids") or [] if isinstance(t, str)]
    if len(targets) != 1:
        return {"confirmed": False, "why": "a policy state event names exactly one resource; this one names "
                                           f"{len(targets)}"}
    target = targets[0].strip()
    found = _TARGET.match(target)
    custom = alert.get("custom_properties") if isinstance(alert.get("custom_properties"), dict) else {}
    definition = _last_segment(custom.get("policyDefinitionId"))
    assignment = _last_segment(custom.get("policyAssignmentId")) if custom.get("policyAssignmentId") else None
    if found is None or definition is None or (custom.get("policyAssignmentId") and assignment is None):
        return {"confirmed": False, "why": "the event's resource or policy ids are not ones Policy Insights can be asked "
                                           "about: its source cannot be read"}
    if builtin_definition(custom.get("policyDefinitionId")) != definition.lower():
        return {"confirmed": False, "why": "the event's policy definition is not a built-in definition's own id "
                                           f"(/providers/Microsoft.Authorization/policyDefinitions/{definition}): a custom "
                                           "definition of that name is anyone's rule, not Azure's"}
    clauses = [f"resourceId eq '{target}'", f"policyDefinitionName eq '{definition}'", "complianceState eq 'NonCompliant'"]
    if assignment:
        clauses.append(f"policyAssignmentName eq '{assignment}'")
    try:
        from azure.mgmt.policyinsights.models import QueryOptions

        client = policy_insights(found.group(1))
        pages = client.policy_states.list_query_results_for_subscription(
            "latest", found.group(1), query_options=QueryOptions(filter=" and ".join(clauses), top=MAX_STATES))
        states = []
        for state in pages:
            states.append(state)
            if len(states) >= MAX_STATES:
                break
    except AzureError as exc:
        return {"confirmed": False, "why": _unread(exc, "the policy states could not be read", "",
                                                   "the policy states could not be read (404)"),
                "code": unread_code(exc, Reason.UNCLASSIFIED)}
    held = []
    for state in states:
        body = state.as_dict() if hasattr(state, "as_dict") else state
        if not isinstance(body, dict):
            continue
        lowered = {str(k).lower(): v for k, v in body.items()}
        if (str(lowered.get("resource_id") or lowered.get("resourceid") or "").lower() == target.lower()
                and str(lowered.get("compliance_state") or lowered.get("compliancestate") or "").lower() == "noncompliant"
                and str(lowered.get("policy_definition_name") or lowered.get("policydefinitionname") or "").lower() == definition.lower()
                and builtin_definition(lowered.get("policy_definition_id") or lowered.get("policydefinitionid")) == definition.lower()
                and (assignment is None or str(lowered.get("policy_assignment_name")
                                               or lowered.get("policyassignmentname") or "").lower() == assignment.lower())):
            held.append(body)
    if not held:
        return {"confirmed": False, "why": f"Azure Policy does not hold {target.rsplit('/', 1)[-1][:80]!r} NonCompliant "
                                           f"with policy {definition!r}"
                                           + (f" of assignment {assignment!r}" if assignment else "") + " now"}
    try:  # RT19-04: since when: the newest Compliant record of the same resource and policy (history)
        since = last_compliant(client, found.group(1), clauses[:2] + clauses[3:], held, now)
    except AzureError as exc:
        return {"confirmed": False, "why": _unread(exc, "the policy states' history could not be read", "",
                                                   "the policy states' history could not be read (404)"),
                "code": unread_code(exc, Reason.UNCLASSIFIED)}
    return {"confirmed": True, "why": "the policy state was found at its source (Policy Insights): the resource is "
                                      "NonCompliant with that policy",
            "claim_key": state_key(held, since)}


def last_compliant(client: Any, subscription: str, clauses: list[str], held: list[dict[str, Any]], now: Any = None) -> str:
    """RT19-04: the ``timestamp`` (ISO 8601 text as Policy Insights answers it, lower-cased) of the newest ``Compliant``
    record of one of the ``held`` states (the same resource, assignment id and definition id, case-insensitive — a
    definition merely *named* like theirs, a custom one, does not count) in Policy Insights' history over the
    :data:`EPISODE_LOOKBACK_DAYS` before ``now`` (an aware datetime; None: the wall clock), or ``""`` when it holds
    none. ``clauses``: the resource's and policy's ``$filter`` clauses, already shape-checked. One POST
    (``policyStates/default/queryResults``, ``complianceState eq 'Compliant'``, ``$orderby=timestamp desc``, ``$top``
    :data:`MAX_STATES`): records of other definitions crowding the page can only hide a Compliant one, keeping the
    claim (a responder decides), never invent one. Raises ``AzureError`` for what Azure answers after the SDK's
    retries."""
    from datetime import datetime, timedelta, timezone

    from azure.mgmt.policyinsights.models import QueryOptions

    end = now if isinstance(now, datetime) and now.tzinfo is not None else datetime.now(timezone.utc)
    wanted = {_triple(b) for b in held}
    pages = client.policy_states.list_query_results_for_subscription(
        "default", subscription, query_options=QueryOptions(
            filter=" and ".join([*clauses, "complianceState eq 'Compliant'"]), order_by="timestamp desc",
            top=MAX_STATES, from_property=end - timedelta(days=EPISODE_LOOKBACK_DAYS), to=end))
    newest: tuple[datetime, str] | None = None
    for count, state in enumerate(pages):
        if count >= MAX_STATES:
            break
        body = state.as_dict() if hasattr(state, "as_dict") else state
        if not isinstance(body, dict) or _triple(body) not in wanted or _field(body, "compliance_state", "compliancestate") != "compliant":
            continue
        stamp = _stamp(getattr(state, "timestamp", None) or {str(k).lower(): v for k, v in body.items()}.get("timestamp"))
        if stamp is not None and (newest is None or stamp > newest[0]):
            newest = (stamp, stamp.isoformat().lower())
    return newest[1] if newest else ""


def _stamp(value: Any) -> Any:
    """A PolicyState's ``timestamp`` (a datetime from the SDK's model, ISO 8601 text from ``as_dict``) as an aware UTC
    datetime, None when it is neither."""
    from datetime import datetime, timezone

    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip().replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            return None
    return value.astimezone(timezone.utc) if isinstance(value, datetime) and value.tzinfo is not None else None


def _field(body: dict[str, Any], *names: str) -> str:
    """The first of ``names`` ``body`` (a PolicyState, SDK ``as_dict`` or REST keys) holds, as lower-cased text."""
    lowered = {str(k).lower(): v for k, v in body.items()}
    value = next((lowered[n] for n in names if lowered.get(n) is not None), "")
    return (value.isoformat() if hasattr(value, "isoformat") else str(value)).strip().lower()


def _triple(body: dict[str, Any]) -> tuple[str, str, str]:
    """(resource id, assignment id, definition id) of a PolicyState, lower-cased."""
    return (_field(body, "resource_id", "resourceid"), _field(body, "policy_assignment_id", "policyassignmentid"),
            _field(body, "policy_definition_id", "policydefinitionid"))


def state_key(held: list[dict[str, Any]], since: str = "") -> str:
    """What one non-compliance is (verify12 item 3, RT19-04): the held NonCompliant states' resource, assignment and
    definition, sorted and joined, and ``since`` (:func:`last_compliant`: the newest Compliant record before them,
    ``""`` for none) — the once-marker a confirmed policy event claims instead of its event id, so the same
    non-compliance contains once however many events name it and however often Azure Policy re-evaluates it (a
    webhook-key holder re-posting new event ids after a responder undid the lock on purpose waits for a responder, the
    next day too); a Compliant evaluation in between makes the next non-compliance a new one. The states' own
    ``timestamp`` is not in it (verify12 had it: the daily evaluation moved it)."""
    states = sorted({"|".join((*_triple(b), "noncompliant")) for b in held})
    return "\n".join([*states, f"since|{str(since or '').strip().lower()}"])
