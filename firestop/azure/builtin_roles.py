"""Names of the Azure built-in roles a responder meets on an Azure OpenAI account.

Built-in role definition IDs are the same GUID in every tenant (source: "Azure built-in roles",
https://learn.microsoft.com/azure/role-based-access-control/built-in-roles). A role assignment
carries only the GUID (``properties.roleDefinitionId``); an approval card or an audit finding
shows the name beside it so a person at 3 a.m. does not have to look it up.
"""

from __future__ import annotations

#: Owner: ``actions: *`` — grants everything, role assignments included.
OWNER = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
#: User Access Administrator: ``Microsoft.Authorization/*`` — manages role assignments (``roleAssignments/write``).
USER_ACCESS_ADMINISTRATOR = "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9"

#: role definition GUID (lower case) → built-in role name
BUILTIN_ROLE_NAMES: dict[str, str] = {
    "8e3af657-a8ff-443c-a75c-2fe8c4bcb635": "Owner",
    "b24988ac-6180-42a0-ab88-20f7382dd24c": "Contributor",
    "acdd72a7-3385-48ef-bd42-f606fba81ae7": "Reader",
    "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9": "User Access Administrator",
    "f58310d9-a9f6-439a-9e8d-f62e7b41a168": "Role Based Access Control Administrator",
    "25fbc0a9-bd7c-42a3-aa1a-3b75d497ee68": "Cognitive Services Contributor",
    "a97b65f3-24c7-4388-baec-2e87135dc908": "Cognitive Services User",
    "5e0bd9bd-7b93-4f28-af87-19fc36ad61bd": "Cognitive Services OpenAI User",
    "a001fd3d-188f-4b5d-821b-7da978bf7442": "Cognitive Services OpenAI Contributor",
}


def role_label(role_definition_id: str) -> str:
    """``"Cognitive Services Contributor (25fbc0a9-…)"`` for a built-in role's ID or GUID; ``"role <guid>"`` otherwise."""
    guid = str(role_definition_id or "").rstrip("/").rsplit("/", 1)[-1].lower()
    name = BUILTIN_ROLE_NAMES.get(guid)
    return f"{name} ({guid})" if name else f"role {guid}"
