"""Identity runbooks: take a compromised principal's roles off an Azure OpenAI account.

``identity.revoke_role_assignment`` (Microsoft.Authorization role assignments,
REST API 2022-04-01 via azure-mgmt-authorization 4.0:
``GET {scope}/providers/Microsoft.Authorization/roleAssignments?$filter=principalId eq '{id}'``,
``DELETE …/roleAssignments/{name}``, ``PUT`` to restore;
https://learn.microsoft.com/rest/api/authorization/role-assignments) removes the
principal's assignments *at* the account's scope and below it (its child
resources). Assignments inherited from above (resource group, subscription) are
outside the target: they are reported, not removed.

It never removes the automation's own access: the principal may not be
``FIRESTOP_AUTOMATION_PRINCIPAL_ID`` nor the object ID in the access token the
clients use (the ``oid`` claim), checked before anything is read.

Undo re-creates each removed assignment under its original name (GUID) with
the same role, principal, principal type, description and condition. ARM
stamps ``createdOn``/``updatedOn``/``createdBy``/``updatedBy`` anew; every other
field comes back byte for byte.

Permissions: revoking needs ``roleAssignments/read`` and ``/delete`` only
(:data:`RevokeRoleAssignment.permissions`, what ``firestop permissions`` puts
in Firestop's role). Undo needs ``roleAssignments/write`` (:data:`UNDO_PERMISSIONS`),
which Firestop's role never holds — whoever holds it can grant any role,
itself included (https://learn.microsoft.com/azure/role-based-access-control/rbac-and-directory-admin-roles).
So on Azure the app's identity is refused (403 → ``forbidden`` naming the
action) and a person with User Access Administrator or Owner on the account
(:attr:`RevokeRoleAssignment.undo_roles`; both built-in roles grant
``Microsoft.Authorization/roleAssignments/write``, "Azure built-in roles",
https://learn.microsoft.com/azure/role-based-access-control/built-in-roles)
restores the assignments (``runbook undo --azure`` with their own sign-in, or
``az role assignment create``); the undo preview and ``firestop permissions``
say so (:func:`runbooks.permissions.undo_needs`).
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator

from firestop.azure.builtin_roles import OWNER, USER_ACCESS_ADMINISTRATOR
from firestop.azure.errors import RunbookError, map_azure_error
from runbooks.base import Applied, Change, Check, Plan, RunContext, Runbook, Verification
from runbooks.common import list_raw, raw_json
from runbooks.registry import register
from runbooks.targets import ACCOUNT_TYPE, account_ref

READ = "Microsoft.Authorization/roleAssignments/read"
DELETE = "Microsoft.Authorization/roleAssignments/delete"
WRITE = "Microsoft.Authorization/roleAssignments/write"
#: What undo (re-creating assignments) needs beyond :attr:`RevokeRoleAssignment.permissions` — never in Firestop's role.
UNDO_PERMISSIONS = (WRITE,)
API_VERSION = "2022-04-01"
#: Fields ARM sets itself when an assignment is (re-)created.
ARM_STAMPS = ("createdOn", "updatedOn", "createdBy", "updatedBy")
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


class RevokeRoleParams(BaseModel):
    """principal_id: object ID (GUID) of the compromised user, group or service principal;
    roles: role definition GUIDs (or full IDs) to remove — default every role the principal holds on the account."""

    model_config = ConfigDict(extra="forbid")

    principal_id: str
    roles: list[str] = []

    @field_validator("principal_id")
    @classmethod
    def _guid(cls, value: str) -> str:
        value = value.strip()
        if not _GUID.match(value):
            raise ValueError("must be the principal's object ID, a GUID (Microsoft Entra ID > Enterprise applications or Users > Object ID)")
        return value.lower()

    @field_validator("roles")
    @classmethod
    def _role_guids(cls, value: list[str]) -> list[str]:
        out = []
        for item in value:
            guid = item.strip().rstrip("/").rsplit("/", 1)[-1]
            if not _GUID.match(guid):
                raise ValueError(f"{item!r} is not a role definition ID or GUID")
            out.append(guid.lower())
        return out


def _relation(scope: str, target: str) -> str:
    a, t = scope.lower().rstrip("/"), target.lower().rstrip("/")
    if a == t:
        return "at"
    if a.startswith(t + "/"):
        return "below"
    return "above" if t.startswith(a + "/") else "none"


def _role_guid(assignment: dict[str, Any]) -> str:
    return assignment["properties"]["roleDefinitionId"].rstrip("/").rsplit("/", 1)[-1].lower()


def without_arm_stamps(assignment: dict[str, Any]) -> dict[str, Any]:
    props = {k: v for k, v in assignment["properties"].items() if k not in ARM_STAMPS}
    return {**assignment, "properties": props}  # what undo restores byte for byte


class _Assignments:
    def __init__(self, ctx: RunContext, target: str, params: RevokeRoleParams) -> None:
        self.ref = account_ref(target)
        protected = {p.lower() for p in (ctx.settings.automation_principal_id, ctx.clients.caller_object_id()) if p}
        if params.principal_id in protected:
            raise RunbookError(
                "invalid",
                f"params.principal_id: {params.principal_id} is Firestop's own identity (FIRESTOP_AUTOMATION_PRINCIPAL_ID "
                "or the identity these clients act as); identity.revoke_role_assignment never removes its own access",
            )
        self.params = params
        self.client = ctx.clients.authorization(self.ref.subscription_id)

    def listed(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """(to remove: at/below the account matching ``roles``, inherited from above) — raw ARM JSON, sorted by id."""
        items = list_raw(
            self.client,
            f"{self.ref.resource_id}/providers/Microsoft.Authorization/roleAssignments",
            API_VERSION,
            READ,
            {"$filter": f"principalId eq '{self.params.principal_id}'"},
        )
        items = [a for a in items if a["properties"]["principalId"].lower() == self.params.principal_id]
        mine = [
            a for a in items
            if _relation(a["properties"]["scope"], self.ref.resource_id) in ("at", "below")
            and (not self.params.roles or _role_guid(a) in self.params.roles)
        ]
        inherited = [a for a in items if _relation(a["properties"]["scope"], self.ref.resource_id) == "above"]
        key = lambda a: a["id"].lower()  # noqa: E731
        return sorted(mine, key=key), sorted(inherited, key=key)

    def delete(self, assignment: dict[str, Any]) -> None:
        try:
            self.client.role_assignments.delete(assignment["properties"]["scope"], assignment["name"], cls=raw_json)
        except Exception as exc:  # noqa: BLE001
            raise map_azure_error(exc, permission=DELETE) from None

    def restore(self, assignment: dict[str, Any]) -> None:
        from azure.mgmt.authorization.models import RoleAssignmentCreateParameters

        props = assignment["properties"]
        body = RoleAssignmentCreateParameters(
            role_definition_id=props["roleDefinitionId"],
            principal_id=props["principalId"],
            principal_type=props.get("principalType"),
            description=props.get("description"),
            condition=props.get("condition"),
            condition_version=props.get("conditionVersion"),
        )
        try:
            self.client.role_assignments.create(props["scope"], assignment["name"], body, cls=raw_json)
        except Exception as exc:  # noqa: BLE001
            raise map_azure_error(exc, permission=WRITE) from None


def _state(params: RevokeRoleParams, mine: list[dict], inherited: list[dict]) -> dict[str, Any]:
    return {"principal_id": params.principal_id, "assignments": mine, "inherited": inherited}


def restore_commands(before: Any) -> list[str]:
    """The ``az role assignment create`` command that restores each assignment of a revoke's before-state (its
    ``assignments``: ARM role assignments as listed), each argument quoted for a POSIX shell — for a person holding
    User Access Administrator or Owner on the scope, since Firestop's own identity never may (module docstring).
    Same name (``--name``, the assignment's GUID), role, principal, principal type, scope, and description and
    condition when it had them (az CLI ``az role assignment create``:
    https://learn.microsoft.com/cli/azure/role/assignment#az-role-assignment-create). ``[]`` for anything else."""
    import shlex

    out = []
    for a in (before.get("assignments") if isinstance(before, dict) else None) or []:
        props = a.get("properties") if isinstance(a, dict) else None
        if not isinstance(props, dict) or not props.get("principalId") or not props.get("roleDefinitionId") or not props.get("scope"):
            continue
        args = ["az", "role", "assignment", "create", "--assignee-object-id", str(props["principalId"])]
        if props.get("principalType"):
            args += ["--assignee-principal-type", str(props["principalType"])]
        args += ["--role", str(props["roleDefinitionId"]).rstrip("/").rsplit("/", 1)[-1], "--scope", str(props["scope"])]
        if a.get("name"):
            args += ["--name", str(a["name"])]
        if props.get("description"):
            args += ["--description", str(props["description"])]
        if props.get("condition"):
            args += ["--condition", str(props["condition"]), "--condition-version", str(props.get("conditionVersion") or "2.0")]
        out.append(shlex.join(args))
    return out


def _label(a: dict[str, Any]) -> str:
    """``"Cognitive Services Contributor (25fbc0a9-…) held by ServicePrincipal <oid> at account contoso-openai-prod"``:
    what an approver reads. The scope is named, not spelled as its resource id (:func:`_where`): the whole label stays
    under the approval card's 200-character bound (:data:`firestop.lifecycle.approvals.MAX_PLAN_TEXT`), which cut the
    id mid-path (cli17)."""
    from firestop.azure.builtin_roles import role_label

    props = a["properties"]
    holder = f"{props.get('principalType') or 'principal'} {props.get('principalId')}"
    return f"{role_label(props['roleDefinitionId'])} held by {holder} at {_where(props['scope'])}"


def _where(scope: Any) -> str:
    """An assignment's scope in words: ``account contoso-openai-prod``, ``deployment gpt-4o``, ``resource group
    rg-ai-prod``, ``subscription <id>``, another resource ``<type> <name>``; the text as given if it is not a resource id."""
    from firestop.resource_id import parse

    try:
        r = parse(str(scope))
    except ValueError:
        return str(scope)
    if r.type is None:
        return f"resource group {r.name}" if r.resource_group is not None else f"subscription {r.subscription}"
    kind = {"accounts": "account", "accounts/deployments": "deployment"}.get(r.type.lower(), r.type)
    return f"{kind} {r.name}"


@register
class RevokeRoleAssignment(Runbook[RevokeRoleParams]):
    name = "identity.revoke_role_assignment"
    summary = "Remove a compromised principal's role assignments on the account (never Firestop's own identity)."
    permissions = (READ, DELETE)  # never WRITE: see the module docstring
    undo_permissions = UNDO_PERMISSIONS
    undo_roles = (USER_ACCESS_ADMINISTRATOR, OWNER)
    target_type = ACCOUNT_TYPE
    Params = RevokeRoleParams

    def plan(self, ctx: RunContext, target: str, params: RevokeRoleParams) -> Plan:
        st = _Assignments(ctx, target, params)
        mine, inherited = st.listed()
        return Plan(
            runbook=self.name,
            target=target,
            before=_state(params, mine, inherited),
            changes=[Change(field=f"roleAssignments/{a['name']}", before=_label(a), after=None) for a in mine],
            notes=[f"inherited, not removed (outside the target): {_label(a)}" for a in inherited]
            + ([] if mine else ["the principal holds no role on the account; nothing to remove"]),
        )

    def apply(self, ctx: RunContext, target: str, params: RevokeRoleParams) -> Applied:
        st = _Assignments(ctx, target, params)
        mine, inherited = st.listed()
        for assignment in mine:
            st.delete(assignment)
        after_mine, after_inherited = st.listed() if mine else (mine, inherited)
        summary = (
            f"removed {len(mine)} role assignment(s) of {params.principal_id}" if mine
            else f"{params.principal_id} holds no role on the account; nothing changed"
        )
        if inherited:
            summary += f"; {len(inherited)} inherited assignment(s) remain above the account (a responder must review them)"
        return Applied(
            runbook=self.name,
            target=target,
            changed=bool(mine),
            before=_state(params, mine, inherited),
            after=_state(params, after_mine, after_inherited),
            summary=summary,
            artifacts={"removed": [a["id"] for a in mine], "inherited": [a["id"] for a in inherited]},
        )

    def verify(self, ctx: RunContext, target: str, params: RevokeRoleParams, applied: Applied) -> Verification:
        mine, _ = _Assignments(ctx, target, params).listed()
        return Verification(
            runbook=self.name,
            target=target,
            checks=[Check(
                name=f"{params.principal_id} holds no role on the account",
                ok=not mine,
                detail="; ".join(_label(a) for a in mine) or f"{len(applied.artifacts.get('removed', []))} removed",
            )],
        )

    def undo(self, ctx: RunContext, target: str, params: RevokeRoleParams, applied: Applied) -> Applied:
        st = _Assignments(ctx, target, params)
        mine, inherited = st.listed()
        wanted = [a for a in applied.before.get("assignments", [])]
        now_ids = {a["id"].lower() for a in mine}
        if {a["id"].lower() for a in wanted} == now_ids:
            return Applied(runbook=self.name, target=target, changed=False, before=_state(params, mine, inherited),
                           after=_state(params, mine, inherited), summary="assignments already as before; nothing changed")
        if not now_ids <= {a["id"].lower() for a in wanted}:
            raise RunbookError(
                "conflict",
                "identity.revoke_role_assignment undo refused: the principal's roles on the account changed after the step "
                f"({'; '.join(_label(a) for a in mine)}); review them and restore by hand",
            )
        missing = [a for a in wanted if a["id"].lower() not in now_ids]  # an earlier undo try may have restored some
        for assignment in missing:
            st.restore(assignment)
        after_mine, after_inherited = st.listed()
        return Applied(
            runbook=self.name,
            target=target,
            changed=True,
            before=_state(params, mine, inherited),
            after=_state(params, after_mine, after_inherited),
            summary=f"restored {len(missing)} role assignment(s) of {params.principal_id}",
        )
