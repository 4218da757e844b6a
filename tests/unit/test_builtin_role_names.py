"""The built-in roles' names shown beside a role assignment's GUID (approval cards, undo previews) and the audit's broad
roles: the GUIDs Azure documents ("Azure built-in roles", learn.microsoft.com/azure/role-based-access-control/built-in-roles;
the same GUID in every tenant). User Access Administrator was written 18d7d88d-6035-4356-a68f-4d4b38b4d8c4 in
firestop.azure.builtin_roles, so a revoked User Access Administrator assignment showed as "role 18d7d88d-d35e-…"."""

from firestop.audit.controls.identity import BROAD_ROLES
from firestop.azure.builtin_roles import BUILTIN_ROLE_NAMES, role_label

USER_ACCESS_ADMINISTRATOR = "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9"


def test_a_user_access_administrator_assignment_is_named():
    rid = f"/subscriptions/0/providers/Microsoft.Authorization/roleDefinitions/{USER_ACCESS_ADMINISTRATOR}"
    assert role_label(rid) == f"User Access Administrator ({USER_ACCESS_ADMINISTRATOR})"


def test_the_audit_and_the_cards_name_each_role_alike():
    assert set(BROAD_ROLES) <= set(BUILTIN_ROLE_NAMES)
    assert all(BUILTIN_ROLE_NAMES[guid] == name for guid, name in BROAD_ROLES.items())
    assert len(set(BUILTIN_ROLE_NAMES.values())) == len(BUILTIN_ROLE_NAMES)
