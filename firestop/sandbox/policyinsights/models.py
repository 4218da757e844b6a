"""Policy compliance state: ``doc["policy_states"]`` = ``[PolicyState JSON]`` (the last evaluation's), and
``doc["policy_state_history"]`` = the records earlier evaluations left (``policyStates/default``; :func:`reevaluate`).

Shape of one state (Policy Insights REST 2019-10-01, ``PolicyStates_ListQueryResultsForSubscription``,
spec example ``PolicyStates_QuerySubscriptionScope.json``; azure-mgmt-policyinsights 1.0.1
``PolicyState``)::

    {"timestamp", "resourceId", "policyAssignmentId", "policyDefinitionId", "isCompliant",
     "subscriptionId", "resourceType", "resourceLocation", "resourceGroup",
     "policyAssignmentName", "policyAssignmentScope", "policyDefinitionName",
     "policyDefinitionAction", "policyDefinitionCategory", "complianceState"}

``complianceState`` is ``Compliant`` | ``NonCompliant`` | ``Unknown`` | ``Exempt``.
"""

from __future__ import annotations

from ..core.state import TenantState

POLICY_DEFINITION_PREFIX = "/providers/Microsoft.Authorization/policyDefinitions/"


def policy_state(
    state: TenantState,
    *,
    resource: dict,
    definition: str,
    assignment: str,
    compliance: str,
    timestamp: str,
    effect: str = "audit",
    category: str = "Cognitive Services",
) -> dict:
    """One ``PolicyState`` for ``resource`` (its ARM body) under a subscription-scope assignment."""
    sub = f"/subscriptions/{state.subscription_id}"
    parts = resource["id"].split("/")
    resource_group = parts[4] if len(parts) > 4 else ""
    return {
        "timestamp": timestamp,
        "resourceId": resource["id"],
        "policyAssignmentId": f"{sub}/providers/Microsoft.Authorization/policyAssignments/{assignment}",
        "policyDefinitionId": POLICY_DEFINITION_PREFIX + definition,
        "isCompliant": compliance == "Compliant",
        "subscriptionId": state.subscription_id,
        "resourceType": resource["type"],
        "resourceLocation": resource.get("location", ""),
        "resourceGroup": resource_group,
        "policyAssignmentName": assignment,
        "policyAssignmentScope": sub,
        "policyDefinitionName": definition,
        "policyDefinitionAction": effect,
        "policyDefinitionCategory": category,
        "complianceState": compliance,
    }


def reevaluate(state: TenantState, resource_id: str, definition: str, compliance: str, timestamp: str) -> int:
    """An evaluation of Azure Policy at ``timestamp`` (ISO 8601 UTC) finds ``resource_id`` ``compliance`` with the
    policy ``definition`` (its name): each current state of that pair moves to ``doc["policy_state_history"]`` and a
    copy with the new ``complianceState`` / ``isCompliant`` / ``timestamp`` takes its place. Returns how many states
    were re-evaluated (0: none held). The caller holds the tenant's lock and saves."""
    current = state.doc.setdefault("policy_states", [])
    history = state.doc.setdefault("policy_state_history", [])
    count = 0
    for i, held in enumerate(current):
        if (str(held.get("resourceId", "")).lower() == resource_id.lower()
                and str(held.get("policyDefinitionName", "")).lower() == definition.lower()):
            history.append(dict(held))
            current[i] = {**held, "complianceState": compliance, "isCompliant": compliance == "Compliant",
                          "timestamp": timestamp}
            count += 1
    return count
