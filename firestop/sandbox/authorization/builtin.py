"""The few Azure built-in role definitions the sandbox evaluates (``permissions.list``), by GUID.

Built-in role IDs and permissions are the same in every tenant (source: "Azure built-in roles",
https://learn.microsoft.com/azure/role-based-access-control/built-in-roles, each role's JSON). Only roles a
seeded identity may hold are listed; a role assignment naming a GUID neither here nor among the tenant's custom
role definitions grants nothing in the sandbox (Azure always knows its built-ins: add the role here when a seed
uses it). Shape: the ``permissions`` entries of a role definition (REST 2022-04-01 ``Permission``).
"""

from __future__ import annotations

#: GUID (lower case) -> (role name, [{"actions", "notActions", "dataActions", "notDataActions"}])
BUILTIN_ROLES: dict[str, tuple[str, list[dict[str, list[str]]]]] = {
    "8e3af657-a8ff-443c-a75c-2fe8c4bcb635": ("Owner", [
        {"actions": ["*"], "notActions": [], "dataActions": [], "notDataActions": []}]),
    "acdd72a7-3385-48ef-bd42-f606fba81ae7": ("Reader", [
        {"actions": ["*/read"], "notActions": [], "dataActions": [], "notDataActions": []}]),
    "25fbc0a9-bd7c-42a3-aa1a-3b75d497ee68": ("Cognitive Services Contributor", [
        {"actions": ["Microsoft.Authorization/*/read", "Microsoft.CognitiveServices/*", "Microsoft.Features/features/read",
                     "Microsoft.Features/providers/features/read", "Microsoft.Insights/alertRules/*",
                     "Microsoft.Insights/diagnosticSettings/*", "Microsoft.Insights/logDefinitions/read",
                     "Microsoft.Insights/metricdefinitions/read", "Microsoft.Insights/metrics/read",
                     "Microsoft.ResourceHealth/availabilityStatuses/read", "Microsoft.Resources/deployments/*",
                     "Microsoft.Resources/deployments/operations/read",
                     "Microsoft.Resources/subscriptions/operationresults/read", "Microsoft.Resources/subscriptions/read",
                     "Microsoft.Resources/subscriptions/resourcegroups/deployments/*",
                     "Microsoft.Resources/subscriptions/resourceGroups/read", "Microsoft.Support/*"],
         "notActions": [], "dataActions": [], "notDataActions": []}]),
}
