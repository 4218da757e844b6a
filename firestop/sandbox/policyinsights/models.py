"""Policy compliance state: ``doc["policy_states"]`` = ``[PolicyState JSON]``.

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
