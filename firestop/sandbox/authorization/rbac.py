"""Role enforcement: run the sandbox as an identity that holds exactly the given Azure roles.

``tenant.enforce_role(role)`` (or :func:`enforce_role`) makes every routed
request first check that the role allows the request's Azure action; a request
outside the role answers **403** in the service's own shape and changes
nothing. ``tenant.enforce_role(None)`` switches enforcement off. ``role`` may
also be a list of roles (each with its own ``AssignableScopes``): a request is
allowed when one of them allows its action at its scope — how Azure RBAC sums
an identity's role assignments (the template's containment role at the
protected resources plus narrow write-back roles at the Defender, Sentinel and
API Management scopes).

``role`` is a custom role definition in ``az role definition create`` format
(https://learn.microsoft.com/azure/role-based-access-control/custom-roles-cli)::

    {"Name", "Description", "Actions": [...], "NotActions": [...],
     "DataActions": [...], "NotDataActions": [...], "AssignableScopes": ["/subscriptions/<id>", ...]}

Evaluation (https://learn.microsoft.com/azure/role-based-access-control/role-definitions):
an ARM action is allowed when it matches an ``Actions`` entry and no
``NotActions`` entry; a data action likewise with ``DataActions`` /
``NotDataActions`` (``Actions`` never grant data actions). Matching is
case-insensitive and ``*`` matches any run of characters. The role is treated
as assigned at each of its ``AssignableScopes``: the request's resource must
lie at or under one of them.

Each route's operation maps to its action in :data:`OPERATION_ACTIONS`
(names from the resource provider operations list,
https://learn.microsoft.com/azure/role-based-access-control/resource-provider-operations).
An operation missing from the table is denied, so a new route cannot slip
past enforcement unnoticed.

403 bodies: ARM ``AuthorizationFailed`` ("The client '…' with object id '…' does
not have authorization to perform action '…' over scope '…' or the scope is
invalid. …"), Key Vault ``Forbidden`` with ``innererror.code``
``ForbiddenByRbac``, Log Analytics ``InsufficientAccessError``.

Enforcement lives on the :class:`~firestop.sandbox.tenant.Tenant` instance
(not in the persisted state): it wraps the tenant's router, so every other
behaviour — auth checks, fault injection, latency, logging — is unchanged.
"""

from __future__ import annotations

import dataclasses
import re
from typing import TYPE_CHECKING, Any, Optional

from ..core.errors import error
from ..core.router import RequestContext, Route, Router
from ..core.armapi import caller_object_id, state_of
from ..core.wire import SandboxResponse

if TYPE_CHECKING:  # pragma: no cover
    from ..tenant import Tenant

CS = "Microsoft.CognitiveServices/accounts"
NSG = "Microsoft.Network/networkSecurityGroups"
RA = "Microsoft.Authorization/roleAssignments"
SECRETS = "Microsoft.KeyVault/vaults/secrets"

#: operation -> (action, is_data_action). ``operations.get`` depends on the provider (see :func:`action_for`).
OPERATION_ACTIONS: dict[str, tuple[str, bool]] = {
    "accounts.get": (f"{CS}/read", False),
    "accounts.list": (f"{CS}/read", False),
    "accounts.update": (f"{CS}/write", False),
    "accounts.listKeys": (f"{CS}/listKeys/action", False),
    "accounts.regenerateKey": (f"{CS}/regenerateKey/action", False),
    "deployments.list": (f"{CS}/deployments/read", False),
    "deployments.get": (f"{CS}/deployments/read", False),
    "privateEndpointConnections.get": (f"{CS}/privateEndpointConnections/read", False),
    "privateEndpointConnections.list": (f"{CS}/privateEndpointConnections/read", False),
    "privateEndpointConnections.createOrUpdate": (f"{CS}/privateEndpointConnections/write", False),
    "deployments.createOrUpdate": (f"{CS}/deployments/write", False),
    "deployments.delete": (f"{CS}/deployments/delete", False),
    "raiPolicies.list": (f"{CS}/raiPolicies/read", False),
    "raiPolicies.get": (f"{CS}/raiPolicies/read", False),
    "raiPolicies.createOrUpdate": (f"{CS}/raiPolicies/write", False),
    "raiPolicies.delete": (f"{CS}/raiPolicies/delete", False),
    "raiBlocklists.list": (f"{CS}/raiBlocklists/read", False),
    "raiBlocklists.get": (f"{CS}/raiBlocklists/read", False),
    "raiBlocklists.createOrUpdate": (f"{CS}/raiBlocklists/write", False),
    "raiBlocklists.delete": (f"{CS}/raiBlocklists/delete", False),
    "raiBlocklistItems.list": (f"{CS}/raiBlocklists/raiBlocklistItems/read", False),
    "raiBlocklistItems.get": (f"{CS}/raiBlocklists/raiBlocklistItems/read", False),
    "raiBlocklistItems.createOrUpdate": (f"{CS}/raiBlocklists/raiBlocklistItems/write", False),
    "raiBlocklistItems.delete": (f"{CS}/raiBlocklists/raiBlocklistItems/delete", False),
    "apimSubscriptions.list": ("Microsoft.ApiManagement/service/subscriptions/read", False),
    "apimSubscriptions.get": ("Microsoft.ApiManagement/service/subscriptions/read", False),
    "apimSubscriptions.update": ("Microsoft.ApiManagement/service/subscriptions/write", False),
    "apimSubscriptions.regeneratePrimaryKey": ("Microsoft.ApiManagement/service/subscriptions/regeneratePrimaryKey/action", False),
    "apimSubscriptions.regenerateSecondaryKey": ("Microsoft.ApiManagement/service/subscriptions/regenerateSecondaryKey/action", False),
    "apimSubscriptions.listSecrets": ("Microsoft.ApiManagement/service/subscriptions/listSecrets/action", False),
    "activityLogs.list": ("Microsoft.Insights/eventtypes/values/read", False),
    "nsg.get": (f"{NSG}/read", False),
    "securityRules.list": (f"{NSG}/securityRules/read", False),
    "securityRules.get": (f"{NSG}/securityRules/read", False),
    "securityRules.createOrUpdate": (f"{NSG}/securityRules/write", False),
    "securityRules.delete": (f"{NSG}/securityRules/delete", False),
    "roleAssignments.list": (f"{RA}/read", False),
    "roleAssignments.get": (f"{RA}/read", False),
    "roleAssignments.create": (f"{RA}/write", False),
    "roleAssignments.delete": (f"{RA}/delete", False),
    "secrets.get": (f"{SECRETS}/getSecret/action", True),
    "secrets.set": (f"{SECRETS}/setSecret/action", True),
    "secrets.versions": (f"{SECRETS}/readMetadata/action", True),
    "logs.query": ("Microsoft.OperationalInsights/workspaces/query/read", False),
    "logs.batch": ("Microsoft.OperationalInsights/workspaces/query/read", False),
    # a resource-centric query (POST /v1/{resourceId}/query): "Read data from all your logs" on the resource
    "logs.queryResource": ("Microsoft.Insights/logs/read", False),
    "metrics.list": ("Microsoft.Insights/metrics/read", False),
    "workspaces.get": ("Microsoft.OperationalInsights/workspaces/read", False),
    "roleDefinitions.get": ("Microsoft.Authorization/roleDefinitions/read", False),
    "roleDefinitions.list": ("Microsoft.Authorization/roleDefinitions/read", False),
    # the caller's own permissions ("Lists all the permissions the caller has at a given scope"): under enforcement
    # checked like any request, then answered from the enforced roles (:func:`held_permissions`)
    "permissions.list": ("Microsoft.Authorization/permissions/read", False),
    "templateDeployments.createOrUpdate": ("Microsoft.Resources/deployments/write", False),
    "templateDeployments.get": ("Microsoft.Resources/deployments/read", False),
    "templateDeployments.whatIf": ("Microsoft.Resources/deployments/whatIf/action", False),
    "sites.getAuthSettingsV2": ("Microsoft.Web/sites/config/read", False),  # WebApps_GetAuthSettingsV2WithoutSecrets
    "sites.getAppSettingsKeyVaultReferences": ("Microsoft.Web/sites/config/read", False),  # names and statuses, no value
    "blobContainers.getImmutabilityPolicy": ("Microsoft.Storage/storageAccounts/blobServices/containers/immutabilityPolicies/read", False),
    "blobContainers.lockImmutabilityPolicy": ("Microsoft.Storage/storageAccounts/blobServices/containers/immutabilityPolicies/lock/action", False),
    "storageAccounts.getProperties": ("Microsoft.Storage/storageAccounts/read", False),
    "resourceGroups.get": ("Microsoft.Resources/subscriptions/resourceGroups/read", False),
    "resourceGroups.checkExistence": ("Microsoft.Resources/subscriptions/resourceGroups/read", False),
    "actionGroups.get": ("Microsoft.Insights/actionGroups/read", False),
    "actionGroups.list": ("Microsoft.Insights/actionGroups/read", False),
    "actionGroups.createOrUpdate": ("Microsoft.Insights/actionGroups/write", False),
    "actionGroups.delete": ("Microsoft.Insights/actionGroups/delete", False),
    "scheduledQueryRules.get": ("Microsoft.Insights/scheduledqueryrules/read", False),
    "scheduledQueryRules.list": ("Microsoft.Insights/scheduledqueryrules/read", False),
    "scheduledQueryRules.createOrUpdate": ("Microsoft.Insights/scheduledqueryrules/write", False),
    "scheduledQueryRules.delete": ("Microsoft.Insights/scheduledqueryrules/delete", False),
    "activityLogAlerts.get": ("Microsoft.Insights/activityLogAlerts/read", False),
    "activityLogAlerts.list": ("Microsoft.Insights/activityLogAlerts/read", False),
    "activityLogAlerts.createOrUpdate": ("Microsoft.Insights/activityLogAlerts/write", False),
    "activityLogAlerts.delete": ("Microsoft.Insights/activityLogAlerts/delete", False),
    "metricAlerts.get": ("Microsoft.Insights/metricAlerts/read", False),
    "metricAlerts.list": ("Microsoft.Insights/metricAlerts/read", False),
    "metricAlerts.createOrUpdate": ("Microsoft.Insights/metricAlerts/write", False),
    "metricAlerts.delete": ("Microsoft.Insights/metricAlerts/delete", False),
    "diagnosticSettings.get": ("Microsoft.Insights/diagnosticSettings/read", False),
    "diagnosticSettings.list": ("Microsoft.Insights/diagnosticSettings/read", False),
    "diagnosticSettings.createOrUpdate": ("Microsoft.Insights/diagnosticSettings/write", False),
    "diagnosticSettings.delete": ("Microsoft.Insights/diagnosticSettings/delete", False),
    # Defender for Cloud (security/); inProgress has no provider operation of its own: activate's
    "securityAlerts.resolve": ("Microsoft.Security/locations/alerts/resolve/action", False),
    "securityAlerts.dismiss": ("Microsoft.Security/locations/alerts/dismiss/action", False),
    "securityAlerts.activate": ("Microsoft.Security/locations/alerts/activate/action", False),
    "securityAlerts.inProgress": ("Microsoft.Security/locations/alerts/activate/action", False),
    "securityAlerts.list": ("Microsoft.Security/locations/alerts/read", False),
    "securityAlerts.get": ("Microsoft.Security/locations/alerts/read", False),
    "pricings.get": ("Microsoft.Security/pricings/read", False),
    "pricings.list": ("Microsoft.Security/pricings/read", False),
    "pricings.update": ("Microsoft.Security/pricings/write", False),
    "pricings.delete": ("Microsoft.Security/pricings/delete", False),
    "automations.list": ("Microsoft.Security/automations/read", False),
    "automations.listByResourceGroup": ("Microsoft.Security/automations/read", False),
    "automations.get": ("Microsoft.Security/automations/read", False),
    "automations.createOrUpdate": ("Microsoft.Security/automations/write", False),
    "automations.delete": ("Microsoft.Security/automations/delete", False),
    "alertsSuppressionRules.list": ("Microsoft.Security/alertsSuppressionRules/read", False),
    "alertsSuppressionRules.get": ("Microsoft.Security/alertsSuppressionRules/read", False),
    "alertsSuppressionRules.update": ("Microsoft.Security/alertsSuppressionRules/write", False),
    "alertsSuppressionRules.delete": ("Microsoft.Security/alertsSuppressionRules/delete", False),
    # Azure Monitor's fired alerts (alertsmanagement/)
    "alerts.get": ("Microsoft.AlertsManagement/alerts/read", False),
    "alertProcessingRules.get": ("Microsoft.AlertsManagement/actionRules/read", False),
    "alertProcessingRules.list": ("Microsoft.AlertsManagement/actionRules/read", False),
    "alertProcessingRules.createOrUpdate": ("Microsoft.AlertsManagement/actionRules/write", False),
    "alertProcessingRules.delete": ("Microsoft.AlertsManagement/actionRules/delete", False),
    # Microsoft Sentinel (sentinel/)
    "incidents.get": ("Microsoft.SecurityInsights/incidents/read", False),
    "incidents.list": ("Microsoft.SecurityInsights/incidents/read", False),
    "incidents.createOrUpdate": ("Microsoft.SecurityInsights/incidents/write", False),
    "incidents.listAlerts": ("Microsoft.SecurityInsights/incidents/alerts/read", False),
    "incidents.listEntities": ("Microsoft.SecurityInsights/incidents/entities/read", False),
    "incidentComments.list": ("Microsoft.SecurityInsights/incidents/comments/read", False),
    "incidentComments.createOrUpdate": ("Microsoft.SecurityInsights/incidents/comments/write", False),
    # Key Vault management plane (keyvault/) and Azure Policy compliance (policyinsights/)
    "vaults.get": ("Microsoft.KeyVault/vaults/read", False),
    "vaults.listByResourceGroup": ("Microsoft.KeyVault/vaults/read", False),
    "vaults.listBySubscription": ("Microsoft.KeyVault/vaults/read", False),
    "vaultSecrets.get": ("Microsoft.KeyVault/vaults/secrets/read", False),  # Secrets_Get (management plane; no value)
    "policyStates.queryResults": ("Microsoft.PolicyInsights/policyStates/queryResults/action", False),
}
#: LRO status URLs, per provider of the path.
OPERATION_STATUS_ACTIONS = {
    "microsoft.cognitiveservices": "Microsoft.CognitiveServices/locations/operationResults/read",
    "microsoft.network": "Microsoft.Network/locations/operations/read",
}


def action_for(operation: str, path: str) -> Optional[tuple[str, bool]]:
    """(action, is_data_action) needed by one request, or None if the operation has no mapping."""
    if operation == "operations.get":
        parts = [p.lower() for p in path.split("/") if p]
        provider = parts[parts.index("providers") + 1] if "providers" in parts else ""
        action = OPERATION_STATUS_ACTIONS.get(provider)
        return (action, False) if action else None
    return OPERATION_ACTIONS.get(operation)


def _pattern(entry: str) -> re.Pattern:
    return re.compile("^" + ".*".join(re.escape(p) for p in entry.split("*")) + "$", re.IGNORECASE)


def _matches(entries: list[str], action: str) -> bool:
    return any(_pattern(e).match(action) for e in entries)


def allows(role: dict, action: str, data: bool) -> bool:
    """True when ``role`` (``az role definition`` format) grants ``action``."""
    if data:
        return _matches(role.get("DataActions") or [], action) and not _matches(role.get("NotDataActions") or [], action)
    return _matches(role.get("Actions") or [], action) and not _matches(role.get("NotActions") or [], action)


def validate_role(role: Any) -> dict:
    """Check the shape of a role definition; ValueError naming the field otherwise. Returns ``role``."""
    if not isinstance(role, dict):
        raise ValueError("role definition must be a JSON object in 'az role definition create' format")
    for key in ("Actions", "NotActions", "DataActions", "NotDataActions", "AssignableScopes"):
        value = role.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ValueError(f"role definition {key} must be a list of strings")
    if not role.get("AssignableScopes"):
        raise ValueError("role definition AssignableScopes must name at least one scope (e.g. /subscriptions/<id>)")
    return role


def _request_scope(ctx: RequestContext, route: Route) -> Optional[str]:
    """The ARM resource ID a request acts on (None when the request names none, e.g. ``$batch``).

    An LRO status URL (``operations.get``, a subscription-level path) acts on the resource whose
    operation it reports: a role assigned at that resource (or its group) may poll it, as callers
    with resource-group-scoped roles do on Azure. A Key Vault secret request acts on
    ``{vault id}/secrets/{name}``, so a role assigned at one secret covers that secret only
    (https://learn.microsoft.com/azure/key-vault/general/rbac-guide: secret-level scope).
    """
    state = state_of(ctx)
    if route.service == "arm":
        if route.operation == "operations.get":
            op = state.doc["operations"].get(ctx.params.get("op", "").lower()) or state.doc["operations"].get(ctx.params.get("op", ""))
            if op and op.get("resource_id"):
                return op["resource_id"]
        return re.sub("/{2,}", "/", ctx.request.path)  # an empty parentResourcePath (``{ns}//{type}``) is no segment
    if route.service == "keyvault":
        vault = state.doc["vaults"].get(ctx.params.get("vault", "").lower())
        if vault and ctx.params.get("name"):
            return f"{vault['resource_id']}/secrets/{ctx.params['name']}"
        return vault["resource_id"] if vault else None
    workspace = state.doc["workspaces"].get(ctx.params.get("workspace", "").lower())
    return workspace["resource_id"] if workspace else None


def _in_scope(role: dict, scope: Optional[str]) -> bool:
    if scope is None:
        return True
    target = scope.lower().rstrip("/")
    for assignable in role.get("AssignableScopes") or []:
        base = assignable.lower().rstrip("/")
        if base == "" or target == base or target.startswith(base + "/"):
            return True
    return False


def _roles(role: "dict | list[dict]") -> list[dict]:
    return list(role) if isinstance(role, (list, tuple)) else [role]


def denied(role: "dict | list[dict]", route: Route, ctx: RequestContext) -> Optional[SandboxResponse]:
    """The 403 for a request none of ``role`` (one role or a list) allows at its scope, else None."""
    mapped = action_for(route.operation, ctx.request.path)
    scope = _request_scope(ctx, route) or ctx.request.path
    if mapped is not None and any(allows(r, *mapped) and _in_scope(r, _request_scope(ctx, route)) for r in _roles(role)):
        return None
    action = mapped[0] if mapped else f"(unmapped sandbox operation {route.operation})"
    oid = caller_object_id(ctx)
    if route.service == "keyvault":
        return error(
            403,
            "Forbidden",
            "Caller is not authorized to perform action on resource.\r\nIf role assignments, deny assignments or role "
            "definitions were changed recently, please observe propagation time.\r\n"
            f"Caller: oid={oid};\r\nAction: '{action}'\r\nResource: '{scope.lower()}'\r\n",
            innererror={"code": "ForbiddenByRbac"},
        )
    if route.service == "loganalytics":
        return error(403, "InsufficientAccessError", "The provided credentials have insufficient access to perform the requested operation")
    return error(
        403,
        "AuthorizationFailed",
        f"The client '{oid}' with object id '{oid}' does not have authorization to perform action '{action}' "
        f"over scope '{scope}' or the scope is invalid. If access was recently granted, please refresh your credentials.",
    )


def held_permissions(role: "dict | list[dict]", ctx: RequestContext) -> SandboxResponse:
    """``permissions.list`` (:func:`..authorization.routes.list_permissions`) under enforcement: one entry per enforced
    role whose ``AssignableScopes`` hold the request's scope (at or above it), as the identity holds exactly them.
    Reached only when the roles allow ``Microsoft.Authorization/permissions/read`` at the scope (checked first, as
    every enforced request)."""
    from .routes import _scope, permissions_answer

    scope, bad = _scope(ctx)
    if bad:
        return bad
    entries = [{"actions": r.get("Actions") or [], "notActions": r.get("NotActions") or [],
                "dataActions": r.get("DataActions") or [], "notDataActions": r.get("NotDataActions") or []}
               for r in _roles(role) if _in_scope(r, scope)]
    return permissions_answer(entries)


class EnforcingRouter(Router):
    """A router whose routes answer 403 for requests outside ``role`` (wraps the tenant's router)."""

    def __init__(self, inner: Router, role: "dict | list[dict]") -> None:
        super().__init__(inner.routes)
        self.inner = inner
        self.role = role

    def match(self, request):  # type: ignore[override]
        route, params = self.inner.match(request)
        if route is None:
            return route, params
        handler = route.handler

        if route.service == "graph":  # Microsoft Graph: application permissions of the app registration, not Azure RBAC
            return route, params
        if route.operation == "permissions.list":  # the caller's own permissions: the enforced roles answer
            handler = lambda ctx: held_permissions(self.role, ctx)  # noqa: E731

        def guarded(ctx: RequestContext, _route: Route = route) -> SandboxResponse:
            refusal = denied(self.role, _route, ctx)
            return refusal if refusal is not None else handler(ctx)

        return dataclasses.replace(route, handler=guarded), params


def enforce_role(tenant: "Tenant", role: "dict | list[dict] | None") -> None:
    """Make ``tenant`` answer as an identity holding only ``role`` — one role or a list (None: no enforcement)."""
    router = tenant._router
    base = router.inner if isinstance(router, EnforcingRouter) else router
    if role is not None and isinstance(role, (list, tuple)):
        if not role:
            raise ValueError("role definitions: give at least one role (or none at all to switch enforcement off)")
        checked: "dict | list[dict] | None" = [validate_role(r) for r in role]
    else:
        checked = None if role is None else validate_role(role)
    tenant._router = base if checked is None else EnforcingRouter(base, checked)
