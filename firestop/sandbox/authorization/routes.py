"""ARM: Microsoft.Authorization role assignments at subscription, resource-group and resource scope.

Shapes: REST API 2022-04-01 (``RoleAssignments_ListForScope`` / ``_Get`` /
``_Create`` / ``_Delete``, https://learn.microsoft.com/rest/api/authorization/role-assignments),
which azure-mgmt-authorization 4.0.0 sends by default (any api-version is
accepted and logged).

=========================  ======  ============================================================
operation                  method  path (``{scope}`` = ``/subscriptions/{s}``, ``…/resourceGroups/{rg}``
                                   or ``…/resourceGroups/{rg}/providers/{ns}/{type}/{name}``)
=========================  ======  ============================================================
roleAssignments.list       GET     ``{scope}/providers/Microsoft.Authorization/roleAssignments``
roleAssignments.get        GET     ``{scope}/providers/Microsoft.Authorization/roleAssignments/{name}``
roleAssignments.create     PUT     same; body ``{"properties": {roleDefinitionId, principalId, principalType?,
                                   description?, condition?, conditionVersion?}}`` → 201
roleAssignments.delete     DELETE  same → 200 + the deleted assignment, 204 when absent
=========================  ======  ============================================================

``$filter`` on list: none (assignments at, above and below the scope),
``atScope()`` (at or above), ``principalId eq '{id}'`` (at, above, below, that
principal), ``assignedTo('{id}')`` (same as principalId here: no groups), and
``atScope() and principalId eq '{id}'``. Anything else → 400 ``UnsupportedQuery``.
Role assignments are synchronous (no LRO). Creating a second assignment of the
same role to the same principal at the same scope → 409 ``RoleAssignmentExists``;
re-PUT of an existing name with other properties → 400 ``RoleAssignmentUpdateNotPermitted``.

State: ``doc["role_assignments"]`` = ``{lower-case assignment id: ARM JSON}``
(created on first use, so tenants persisted before this module still load).
"""

from __future__ import annotations

import copy
import re
from typing import Optional

from ..core.clock import format_utc
from ..core.errors import arm_not_found, error
from ..core.router import RequestContext, Route
from ..core.wire import SandboxResponse
from ..core.armapi import caller_object_id, check_scope, json_body, ok, state_of
from . import room
from .models import PRINCIPAL_TYPES, SUFFIX, TYPE, assignments, new_assignment

ARM = "management.azure.com"
SCOPES = (
    "/subscriptions/{sub}",
    "/subscriptions/{sub}/resourceGroups/{rg}",
    "/subscriptions/{sub}/resourceGroups/{rg}/providers/{ns}/{rtype}/{rname}",
)
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_ROLE_DEF = re.compile(
    r"^(/subscriptions/[^/]+)?/providers/Microsoft\.Authorization/roleDefinitions/"
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$",
    re.IGNORECASE,
)
_PRINCIPAL_FILTER = re.compile(r"^\s*(?:principalId\s+eq\s+'([^']*)'|assignedTo\('([^']*)'\))\s*$", re.IGNORECASE)


def _scope(ctx: RequestContext) -> tuple[Optional[str], Optional[SandboxResponse]]:
    """The scope the path names, or a 404 when it does not exist in the tenant."""
    bad = check_scope(ctx)
    if bad:
        return None, bad
    p = ctx.params
    state = state_of(ctx)
    scope = f"/subscriptions/{state.subscription_id}"
    if "rg" in p:
        scope += f"/resourceGroups/{p['rg']}"
    if "rname" in p:
        scope += f"/providers/{p['ns']}/{p['rtype']}/{p['rname']}"
        resource = state.resource(scope)
        if resource is None:
            return None, arm_not_found(f"{p['ns']}/{p['rtype']}", p["rname"], p["rg"])
        scope = resource["id"]
    return scope, None


def _relation(assignment_scope: str, scope: str) -> str:
    a, s = assignment_scope.lower().rstrip("/"), scope.lower().rstrip("/")
    if a == s:
        return "at"
    if s.startswith(a + "/"):
        return "above"
    if a.startswith(s + "/"):
        return "below"
    return "none"


def list_assignments(ctx: RequestContext) -> SandboxResponse:
    scope, bad = _scope(ctx)
    if bad:
        return bad
    text = ctx.request.query.get("$filter", "").strip()
    at_scope_only, principal = False, None
    for clause in [c for c in re.split(r"\s+and\s+", text, flags=re.IGNORECASE) if c.strip()] if text else []:
        if clause.strip().lower() == "atscope()":
            at_scope_only = True
            continue
        match = _PRINCIPAL_FILTER.match(clause)
        if match is None:
            return error(
                400,
                "UnsupportedQuery",
                f"The filter '{text}' is not supported. Supported filters are either 'atScope()' or "
                "'principalId eq '{value}'' or 'assignedTo('{value}')'.",
            )
        principal = (match.group(1) or match.group(2) or "").lower()
    wanted = {"at", "above"} if at_scope_only else {"at", "above", "below"}
    value = [
        copy.deepcopy(a)
        for _, a in sorted(assignments(state_of(ctx)).items())
        if _relation(a["properties"]["scope"], scope) in wanted
        and (principal is None or a["properties"]["principalId"].lower() == principal)
    ]
    return ok({"value": value})


def _find(ctx: RequestContext, scope: str) -> Optional[dict]:
    return assignments(state_of(ctx)).get(f"{scope}{SUFFIX}/{ctx.params['assignment']}".lower())


def _not_found(name: str) -> SandboxResponse:
    return error(404, "RoleAssignmentNotFound", f"The role assignment '{name}' is not found.")


def get_assignment(ctx: RequestContext) -> SandboxResponse:
    scope, bad = _scope(ctx)
    if bad:
        return bad
    found = _find(ctx, scope)
    if found is None:
        return _not_found(ctx.params["assignment"])
    return ok(copy.deepcopy(found))


def create_assignment(ctx: RequestContext) -> SandboxResponse:
    scope, bad = _scope(ctx)
    if bad:
        return bad
    name = ctx.params["assignment"]
    if not _GUID.match(name):
        return error(400, "InvalidRoleAssignmentId", f"The role assignment ID '{name}' is not valid. The role assignment ID must be a GUID.")
    raw, bad = json_body(ctx)
    if bad:
        return bad
    props = (raw or {}).get("properties") if isinstance(raw, dict) else None
    if not isinstance(props, dict):
        return error(400, "InvalidRequestContent", "The request content was invalid and could not be deserialized: 'properties is required'.")
    role, principal = props.get("roleDefinitionId"), props.get("principalId")
    if not isinstance(role, str) or not _ROLE_DEF.match(role):
        return error(400, "InvalidRoleDefinitionId", f"The role definition ID '{role}' is not valid.")
    if not isinstance(principal, str) or not _GUID.match(principal):
        return error(400, "InvalidPrincipalId", "A valid principal ID must be provided for role assignment.")
    principal_type = props.get("principalType") or "User"
    if principal_type not in PRINCIPAL_TYPES:
        return error(400, "InvalidPrincipalType", f"The principal type '{principal_type}' is not valid.")
    table = assignments(state_of(ctx))
    existing = _find(ctx, scope)
    if existing is not None:
        same = (
            existing["properties"]["roleDefinitionId"].lower() == role.lower()
            and existing["properties"]["principalId"].lower() == principal.lower()
        )
        if same:
            return ok(copy.deepcopy(existing), status=201)
        return error(
            400,
            "RoleAssignmentUpdateNotPermitted",
            "Tenant ID, application ID, principal ID, and scope are not allowed to be updated.",
        )
    for other in table.values():
        op = other["properties"]
        if (
            op["scope"].lower() == scope.lower()
            and op["roleDefinitionId"].rsplit("/", 1)[-1].lower() == role.rsplit("/", 1)[-1].lower()
            and op["principalId"].lower() == principal.lower()
        ):
            return error(409, "RoleAssignmentExists", "The role assignment already exists.")
    body = new_assignment(
        scope=scope, name=name, role_definition_id=role, principal_id=principal, principal_type=principal_type,
        created_on=format_utc(ctx.now), created_by=caller_object_id(ctx), description=props.get("description"),
        condition=props.get("condition"), condition_version=props.get("conditionVersion"),
    )
    table[body["id"].lower()] = body
    return ok(copy.deepcopy(body), status=201)


def delete_assignment(ctx: RequestContext) -> SandboxResponse:
    scope, bad = _scope(ctx)
    if bad:
        return bad
    found = _find(ctx, scope)
    if found is None:
        return SandboxResponse(204)
    del assignments(state_of(ctx))[found["id"].lower()]
    return ok(copy.deepcopy(found))


ROLE_DEFINITIONS = "/providers/Microsoft.Authorization/roleDefinitions"


def role_definitions(state) -> dict:
    """The ``{lower id: ARM JSON}`` table of custom role definitions (written by template deployments)."""
    return state.doc.setdefault("role_definitions", {})


def get_role_definition(ctx: RequestContext) -> SandboxResponse:
    """``GET {scope}/providers/Microsoft.Authorization/roleDefinitions/{id}`` (REST 2022-04-01 RoleDefinitions_Get).

    Custom roles only (the sandbox holds no built-in role catalogue): 404 ``RoleDefinitionDoesNotExist`` otherwise.
    """
    scope, bad = _scope(ctx)
    if bad:
        return bad
    wanted = ctx.params["definition"].lower()
    for body in role_definitions(state_of(ctx)).values():
        if body["name"].lower() == wanted:
            return ok({k: copy.deepcopy(v) for k, v in body.items() if k != "apiVersion"})
    return error(404, "RoleDefinitionDoesNotExist", "The specified role definition with ID '%s' does not exist." % ctx.params["definition"])


def list_role_definitions(ctx: RequestContext) -> SandboxResponse:
    """``GET {scope}/providers/Microsoft.Authorization/roleDefinitions`` — custom roles assignable at ``scope``."""
    scope, bad = _scope(ctx)
    if bad:
        return bad
    value = [
        {k: copy.deepcopy(v) for k, v in body.items() if k != "apiVersion"}
        for _, body in sorted(role_definitions(state_of(ctx)).items())
        if any(_relation(s, scope) in ("at", "above") for s in body["properties"].get("assignableScopes") or [])
    ]
    return ok({"value": value})


PERMISSIONS = "/providers/Microsoft.Authorization/permissions"


def _definition_permissions(state, role_definition_id: str) -> list[dict]:
    """The ``permissions`` entries of a role definition ID: the tenant's custom roles (template deployments), else the
    built-ins of :mod:`.builtin`; ``[]`` for a GUID the sandbox does not know (grants nothing)."""
    from .builtin import BUILTIN_ROLES

    guid = str(role_definition_id or "").rstrip("/").rsplit("/", 1)[-1].lower()
    for body in role_definitions(state).values():
        if str(body.get("name", "")).lower() == guid:
            return list((body.get("properties") or {}).get("permissions") or [])
    return list(BUILTIN_ROLES.get(guid, ("", []))[1])


def _permission(entry: dict) -> dict:
    """One ``Permission`` (REST 2022-04-01: actions, notActions, dataActions, notDataActions), lists of strings."""
    return {key: [str(a) for a in (entry.get(key) or []) if isinstance(a, str)]
            for key in ("actions", "notActions", "dataActions", "notDataActions")}


def permissions_answer(entries: list[dict]) -> SandboxResponse:
    """The ``permissions.list`` answer for ``entries`` (role definitions' ``permissions`` entries): ``{"value": [...]}``."""
    return ok({"value": [_permission(e) for e in entries]})


def list_permissions(ctx: RequestContext) -> SandboxResponse:
    """``GET {scope}/providers/Microsoft.Authorization/permissions`` (REST 2022-04-01 Permissions_ListForResourceGroup /
    Permissions_ListForResource, azure-rest-api-specs ``authorization/resource-manager/Microsoft.Authorization/stable/
    2022-04-01/authorization-RoleDefinitionsCalls.json``; azure-mgmt-authorization ``permissions.list_for_resource``):
    the *caller's* permissions there — one ``{actions, notActions, dataActions, notDataActions}`` per role the caller
    (the token's ``oid``) holds through an assignment at the scope or above it (never below), read from the
    assignment's role definition. The caller applies ``actions`` minus ``notActions`` itself (ARM answers the
    definitions; wildcards stay as written). 404 for a resource or group that does not exist.

    Under ``tenant.enforce_role`` the enforced roles answer instead (:mod:`.rbac`): the identity holds exactly them."""
    scope, bad = _scope(ctx)
    if bad:
        return bad
    state, oid = state_of(ctx), caller_object_id(ctx).lower()
    entries: list[dict] = []
    for _, a in sorted(assignments(state).items()):
        props = a["properties"]
        if str(props.get("principalId", "")).lower() == oid and _relation(props["scope"], scope) in ("at", "above"):
            entries.extend(_definition_permissions(state, props.get("roleDefinitionId", "")))
    return permissions_answer(entries)


#: Permissions - List For Resource Group / List For Resource (no subscription-level operation). The spec's path has a
#: ``{parentResourcePath}`` segment, empty for a top-level resource: the SDK's ``list_for_resource(rg, ns, "", type,
#: name)`` sends ``{ns}//{type}/{name}`` (graph_scope sends the plain ``{resource id}/providers/…``): both are routed.
PERMISSION_SCOPES = (*SCOPES[1:], "/subscriptions/{sub}/resourceGroups/{rg}/providers/{ns}//{rtype}/{rname}")
for scope in PERMISSION_SCOPES:
    room.add(Route("GET", ARM, scope + PERMISSIONS, "permissions.list", "arm", list_permissions))

for scope in SCOPES:  # role definitions (custom roles deployed by templates) at every scope
    room.add(
        Route("GET", ARM, scope + ROLE_DEFINITIONS + "/{definition}", "roleDefinitions.get", "arm", get_role_definition),
        Route("GET", ARM, scope + ROLE_DEFINITIONS, "roleDefinitions.list", "arm", list_role_definitions),
    )

for scope in SCOPES:  # the same four operations at subscription, resource-group and resource scope
    room.add(
        Route("GET", ARM, scope + SUFFIX + "/{assignment}", "roleAssignments.get", "arm", get_assignment),
        Route("PUT", ARM, scope + SUFFIX + "/{assignment}", "roleAssignments.create", "arm", create_assignment),
        Route("DELETE", ARM, scope + SUFFIX + "/{assignment}", "roleAssignments.delete", "arm", delete_assignment),
        Route("GET", ARM, scope + SUFFIX, "roleAssignments.list", "arm", list_assignments),
    )
