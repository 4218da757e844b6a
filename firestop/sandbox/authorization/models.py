"""Role assignment state: ``doc["role_assignments"]`` = ``{lower-case assignment id: ARM JSON}``.

Created on first use, so tenants persisted before this room existed still load.
Shape: REST API 2022-04-01 (see :mod:`firestop.sandbox.authorization.routes`).
"""

from __future__ import annotations

from typing import Optional

TYPE = "Microsoft.Authorization/roleAssignments"
SUFFIX = "/providers/Microsoft.Authorization/roleAssignments"
PRINCIPAL_TYPES = ("User", "Group", "ServicePrincipal", "ForeignGroup", "Device")


def assignments(state) -> dict:
    """The mutable ``{lower id: assignment}`` table of ``state`` (created when missing)."""
    return state.doc.setdefault("role_assignments", {})


def new_assignment(
    *, scope: str, name: str, role_definition_id: str, principal_id: str, principal_type: str,
    created_on: str, created_by: str, description: Optional[str] = None,
    condition: Optional[str] = None, condition_version: Optional[str] = None,
) -> dict:
    """An assignment's ARM JSON, as 2022-04-01 returns it."""
    return {
        "properties": {
            "roleDefinitionId": role_definition_id,
            "principalId": principal_id,
            "principalType": principal_type,
            "scope": scope,
            "condition": condition,
            "conditionVersion": condition_version,
            "createdOn": created_on,
            "updatedOn": created_on,
            "createdBy": created_by,
            "updatedBy": created_by,
            "delegatedManagedIdentityResourceId": None,
            "description": description,
        },
        "id": f"{scope}{SUFFIX}/{name}",
        "type": TYPE,
        "name": name,
    }
