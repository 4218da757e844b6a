"""Least privilege: the Azure custom role that exactly covers what the enabled playbooks run.

:func:`role_definition` collects the runbooks of every step of the given
playbooks (``playbook.steps()``, all phases; undo steps reuse their step's
runbook), plus ``records.file``, which the orchestrator always runs to file the
record, and unions their ``permissions`` — the actions each runbook's
plan/apply/verify/undo calls need, and nothing else. Actions are split into
``Actions`` (Azure Resource Manager) and ``DataActions`` (data plane: Key Vault
secrets, Blob data, Azure OpenAI inference), as Azure RBAC requires
(https://learn.microsoft.com/azure/role-based-access-control/role-definitions#dataactions).

Output shape: the JSON ``az role definition create --role-definition`` takes
(https://learn.microsoft.com/azure/role-based-access-control/custom-roles-cli)::

    {"Name", "Description", "Actions", "NotActions": [], "DataActions",
     "NotDataActions": [], "AssignableScopes": ["/subscriptions/<id>", ...]}

Lists are sorted, so the output is stable for review and diffs.

**Never escalation.** A generated role never holds an action that lets its
holder grant itself more: :data:`FORBIDDEN_ACTIONS` (``roleAssignments/write``,
``roleDefinitions/write``, ``elevateAccess/action``, and any ``*`` wildcard).
:func:`role_definition` raises ValueError naming the runbook that asks for one,
so a new runbook cannot slip one in (tests check every shipped playbook).
"""

from __future__ import annotations

from typing import Any, Iterable

from runbooks.registry import get_runbook

#: Runbooks the orchestrator runs whatever the playbook says.
ALWAYS = ("records.file",)
#: Actions the orchestrator's own activities call whatever the playbook says: ``confirm_alert_at_source`` reads an
#: Azure Monitor alert from Alerts Management before any automatic step (``FIRESTOP_ALERT_SOURCE_CHECK``,
#: :mod:`firestop.azure.alerts_management`; Alerts_GetById, REST 2019-03-01). Alerts Management answers for the
#: alerts of the resources the caller may read them at, so the role is assigned where the protected resources are.
#: It then reads the alert rule the alert names, to confirm the delivery's ``firestop-playbook`` route is the rule's
#: (RT13; metricAlerts 2018-03-01, scheduledQueryRules 2023-12-01, activityLogAlerts 2020-10-01 GET: ``…/read``).
#: A Defender for Cloud alert is read back from Defender (Alerts - Get Resource Group / Subscription Level, REST
#: 2022-01-01: ``Microsoft.Security/locations/alerts/read``) and a Sentinel incident from Sentinel (Incidents - Get,
#: List Alerts, List Entities, REST 2024-03-01: ``…/incidents/read``, ``…/incidents/alerts/read``,
#: ``…/incidents/entities/read``; :mod:`firestop.azure.security_source`) — reads only, whatever the playbooks write back.
#: An Azure Policy state event is read back as the resource's latest policy states (Policy Insights 2019-10-01
#: ``PolicyStates_ListQueryResultsForSubscription``: ``…/policyStates/queryResults/action``, RT14-03).
ORCHESTRATOR_ACTIONS = ("Microsoft.AlertsManagement/alerts/read", "Microsoft.Insights/metricAlerts/read",
                        "Microsoft.Insights/scheduledQueryRules/read", "Microsoft.Insights/activityLogAlerts/read",
                        "Microsoft.Security/locations/alerts/read", "Microsoft.SecurityInsights/incidents/read",
                        "Microsoft.SecurityInsights/incidents/alerts/read", "Microsoft.SecurityInsights/incidents/entities/read",
                        "Microsoft.PolicyInsights/policyStates/queryResults/action",
                        # verify12: a log search alert's dimensions, its rule's query re-run (firestop.azure.monitor_source)
                        "Microsoft.Insights/logs/read", "Microsoft.Insights/metrics/read", "Microsoft.OperationalInsights/workspaces/read",
                        "Microsoft.OperationalInsights/workspaces/query/read",
                        # verify13: an activity log alert's event read back (Activity Logs - List, 2015-04-01:
                        # firestop.azure.activity_source)
                        "Microsoft.Insights/eventtypes/values/read",
                        # R16-08: a responder's manual Graph run reads Firestop's own permissions at the named account
                        # (runbooks.graph_scope; Permissions - List For Resource, REST 2022-04-01: "Lists all the
                        # permissions the caller has at a given scope"); held only where this role is assigned, so an
                        # account Firestop does not protect answers 403 and is refused
                        "Microsoft.Authorization/permissions/read")
#: Reads the checklist audit's controls make (``firestop.audit.controls``, each control's ``reads``; the audit timer and
#: ``POST /api/audits`` run as the app's identity). Most are subscription-wide lists (alert rules, pricings, policy
#: states, vaults), so they are a read-only role of their own assigned at the subscription (:func:`audit_role_definition`,
#: the template's ``auditRoleActions``), not the containment role assigned at the protected resources. REST operations and their actions:
#: accounts/deployments/privateEndpointConnections List (Cognitive Services 2024-10-01: ``accounts/read``,
#: ``…/deployments/read``, ``…/privateEndpointConnections/read``); Role Assignments List For Scope (``…/roleAssignments/
#: read``); Activity Logs List (``eventtypes/values/read``); Diagnostic Settings List (``diagnosticSettings/read``);
#: Workspaces Get (``workspaces/read``, RT18-04); Scheduled Query Rules / Metric Alerts / Activity Log Alerts List By
#: Subscription (``…/read``); Action Groups Get (``actionGroups/read``, RT18-05); Vaults List By Subscription
#: (``Microsoft.KeyVault/vaults/read``); Get Secret Versions (data action ``secrets/readMetadata/action``); Policy
#: States List Query Results (``policyStates/queryResults/action``); Pricings Get (``Microsoft.Security/pricings/read``,
#: monitoring.defender-for-ai and monitoring.alert-rules' Defender-fed playbooks); Automations List
#: (``Microsoft.Security/automations/read``, trust17: the workflow automation relaying Defender's alerts to Firestop); Alerts
#: List (Security Alerts REST 2022-01-01, ``Microsoft.Security/locations/alerts/read``, defender18: Defender's alerts set
#: against the ones Firestop received, the relay's end-to-end proof); Alerts Suppression Rules List (REST
#: 2019-01-01-preview, ``Microsoft.Security/alertsSuppressionRules/read``, RT20-04: rules dismissing the alerts the
#: Defender-fed playbooks wait for); Alert
#: Processing Rules List By Subscription (``Microsoft.AlertsManagement/actionRules/read``, monitoring.alert-rules, RT19-03).
#: Operation -> action as in
#: learn.microsoft.com/azure/role-based-access-control/permissions (resource provider operations).
AUDIT_ACTIONS = ("Microsoft.CognitiveServices/accounts/read", "Microsoft.CognitiveServices/accounts/deployments/read",
                 "Microsoft.CognitiveServices/accounts/privateEndpointConnections/read",
                 "Microsoft.Authorization/roleAssignments/read", "Microsoft.Insights/eventtypes/values/read",
                 "Microsoft.Insights/diagnosticSettings/read", "Microsoft.OperationalInsights/workspaces/read",
                 "Microsoft.Insights/scheduledQueryRules/read", "Microsoft.Insights/metricAlerts/read",
                 "Microsoft.Insights/activityLogAlerts/read", "Microsoft.Insights/actionGroups/read",
                 "Microsoft.KeyVault/vaults/read", "Microsoft.KeyVault/vaults/secrets/readMetadata/action",
                 "Microsoft.PolicyInsights/policyStates/queryResults/action", "Microsoft.Security/pricings/read",
                 "Microsoft.Security/automations/read", "Microsoft.Security/locations/alerts/read",
                 "Microsoft.Security/alertsSuppressionRules/read", "Microsoft.AlertsManagement/actionRules/read")
#: Data-plane actions (``DataActions`` in a role). Key Vault: the secrets data actions
#: (``…/secrets/getSecret/action`` etc.; ``…/secrets/read`` and ``/write`` are ARM);
#: Storage blob data and Azure OpenAI inference are data actions too.
DATA_ACTION_PREFIXES = (
    "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/",
    "Microsoft.CognitiveServices/accounts/OpenAI/",
)
KEY_VAULT_DATA = ("Microsoft.KeyVault/vaults/secrets/", "Microsoft.KeyVault/vaults/keys/", "Microsoft.KeyVault/vaults/certificates/")


#: Actions no generated role may contain (compared case-insensitively; any ``*`` is refused as well).
FORBIDDEN_ACTIONS = (
    "Microsoft.Authorization/roleAssignments/write",
    "Microsoft.Authorization/roleDefinitions/write",
    "Microsoft.Authorization/elevateAccess/action",
)


def forbidden(action: str) -> bool:
    """True for an action a generated role must never hold (privilege escalation, or a wildcard)."""
    return "*" in action or action.lower() in {a.lower() for a in FORBIDDEN_ACTIONS}


def is_data_action(action: str) -> bool:
    """True for a data-plane action (goes in ``DataActions``)."""
    lowered = action.lower()
    if any(lowered.startswith(p.lower()) for p in DATA_ACTION_PREFIXES):
        return True
    for prefix in KEY_VAULT_DATA:
        if lowered.startswith(prefix.lower()):
            rest = lowered[len(prefix):]
            return rest not in ("read", "write")
    return False


def runbooks_of(playbooks: Iterable[Any]) -> list[str]:
    """Sorted names of the runbooks the playbooks' steps use, plus :data:`ALWAYS`."""
    names = set(ALWAYS)
    for playbook in playbooks:
        for step in playbook.steps():
            name = getattr(step, "runbook", None)
            if name:
                names.add(name)
    return sorted(names)


def needed_actions(runbook_names: Iterable[str]) -> tuple[list[str], list[str]]:
    """(Actions, DataActions) the runbooks need, plus :data:`ORCHESTRATOR_ACTIONS`, sorted, without duplicates.

    Raises ValueError when a runbook asks for a :func:`forbidden` action."""
    actions: set[str] = set(ORCHESTRATOR_ACTIONS)
    data: set[str] = set()
    for name in runbook_names:
        for permission in type(get_runbook(name)).permissions:
            if forbidden(permission):
                raise ValueError(f"runbook {name} asks for {permission}, which a Firestop role never holds "
                                 "(it would let the role escalate itself)")
            (data if is_data_action(permission) else actions).add(permission)
    return sorted(actions, key=str.lower), sorted(data, key=str.lower)


def graph_permissions(playbooks: list[Any]) -> list[str]:
    """Microsoft Graph application permissions the playbooks' runbooks need (``Runbook.graph_permissions``), sorted.

    Listed apart from the Azure role: they are granted to Firestop's app registration (Entra ID >
    App registrations > API permissions > Microsoft Graph > Application permissions, then admin consent),
    not by Azure RBAC (https://learn.microsoft.com/graph/permissions-reference)."""
    needed: set[str] = set()
    for name in runbooks_of(playbooks):
        needed.update(type(get_runbook(name)).graph_permissions)
    return sorted(needed, key=str.lower)


def undo_needs(runbook: str, scope: str | None = None) -> str | None:
    """What undoing ``runbook`` needs on Azure beyond Firestop's role (``Runbook.undo_permissions``), in words naming
    the built-in roles that grant it (``Runbook.undo_roles``, name and GUID: :func:`firestop.azure.builtin_roles.role_label`)
    and ``scope`` (the target) when given; None when Firestop's role covers its undo (or the runbook is unknown).
    E.g. ``"undoing identity.revoke_role_assignment on Azure needs Microsoft.Authorization/roleAssignments/write on
    <scope>, which Firestop's role never holds: whoever undoes it must hold User Access Administrator (18d7d88d-…) or
    Owner (8e3af657-…) there (the app's identity is refused)"``."""
    from firestop.azure.builtin_roles import role_label

    try:
        cls = type(get_runbook(runbook))
    except (KeyError, LookupError, TypeError):
        return None
    if not cls.undo_permissions:
        return None
    roles = " or ".join(role_label(r) for r in cls.undo_roles) or "a role granting it"
    where = f" on {scope} (or a scope above it)" if scope else " on the resource it acted on (or a scope above it)"
    return (f"undoing {runbook} on Azure needs {', '.join(cls.undo_permissions)}{where}, which Firestop's role never "
            f"holds: whoever undoes it must hold {roles} there (the app's identity is refused)")


def undo_roles_needed(playbooks: list[Any]) -> list[str]:
    """:func:`undo_needs` (without a scope) of each runbook the playbooks use whose undo Firestop's role cannot do,
    sorted by runbook name: what ``firestop permissions`` prints beside the role."""
    return [text for text in (undo_needs(name) for name in runbooks_of(playbooks)) if text]


def audit_actions() -> tuple[list[str], list[str]]:
    """(Actions, DataActions) of :data:`AUDIT_ACTIONS`, sorted (reads only: none is :func:`forbidden`)."""
    actions = sorted((a for a in AUDIT_ACTIONS if not is_data_action(a)), key=str.lower)
    data = sorted((a for a in AUDIT_ACTIONS if is_data_action(a)), key=str.lower)
    return actions, data


def audit_role_definition(scopes: list[str], name: str = "Firestop responder (audit reads)") -> dict[str, Any]:
    """The read-only role (``az role definition create`` JSON) the checklist audit runs with, assignable at ``scopes``
    (the audited subscription)."""
    actions, data = audit_actions()
    return {
        "Name": name,
        "Description": "Firestop's checklist audit (firestop.audit.controls): exactly the reads its controls make. "
                       "Generated by python -m firestop permissions --audit.",
        "Actions": actions,
        "NotActions": [],
        "DataActions": data,
        "NotDataActions": [],
        "AssignableScopes": list(scopes),
    }


def role_definition(playbooks: list[Any], scopes: list[str], name: str = "Firestop responder") -> dict[str, Any]:
    """The custom role (``az role definition create`` JSON) for ``playbooks``, assignable at ``scopes``."""
    names = runbooks_of(playbooks)
    actions, data = needed_actions(names)
    playbook_names = ", ".join(sorted(p.name for p in playbooks)) or "(none)"
    return {
        "Name": name,
        "Description": (
            f"Firestop containment for playbooks {playbook_names}: exactly what runbooks {', '.join(names)} call. "
            "Generated by python -m firestop permissions."
        ),
        "Actions": actions,
        "NotActions": [],
        "DataActions": data,
        "NotDataActions": [],
        "AssignableScopes": list(scopes),
    }


#: Where an action is used, when not on a protected resource: the scope the template assigns it at, with a narrow
#: role of its own (``python -m firestop infra``). Defender for Cloud keeps an alert on the affected resource's
#: resource group (``/subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.Security/locations/{l}/alerts/{a}``,
#: Alerts - Get Resource Group Level Alert, REST 2022-01-01); Sentinel incidents live in the workspace
#: (``{workspace id}/providers/Microsoft.SecurityInsights/incidents/{id}``, REST 2024-03-01); API Management
#: subscriptions in the service (``{service id}/subscriptions/{sid}``, REST 2022-08-01).
WRITE_BACK_SCOPES = {
    "defender": ("Microsoft.Security/",),
    "sentinel": ("Microsoft.SecurityInsights/",),
    "apim": ("Microsoft.ApiManagement/",),
}


def scope_kind(action: str) -> str:
    """``protected`` (assigned at the protected resources) or the :data:`WRITE_BACK_SCOPES` kind of ``action``."""
    lowered = action.lower()
    for kind, prefixes in WRITE_BACK_SCOPES.items():
        if any(lowered.startswith(p.lower()) for p in prefixes):
            return kind
    return "protected"


def scoped_actions(playbooks: list[Any]) -> dict[str, tuple[list[str], list[str]]]:
    """``{"protected" | "defender" | "sentinel" | "apim": (Actions, DataActions)}`` the playbooks need at each kind of
    scope (every kind present, possibly empty); together exactly :func:`needed_actions`."""
    actions, data = needed_actions(runbooks_of(playbooks))
    out: dict[str, tuple[list[str], list[str]]] = {kind: ([], []) for kind in ("protected", *WRITE_BACK_SCOPES)}
    for action in actions:
        out[scope_kind(action)][0].append(action)
    for action in data:
        out[scope_kind(action)][1].append(action)
    return out


#: The ARM resource type whose actions :func:`account_containment_actions` keeps.
ACCOUNTS = "Microsoft.CognitiveServices/accounts/"


def account_containment_actions() -> list[str]:
    """The containment (write) actions Firestop's runbooks need on an Azure OpenAI account, sorted: every ARM action of
    any registered runbook's ``permissions`` under ``Microsoft.CognitiveServices/accounts/`` that is not a read
    (``…/read``) nor a key read (``…/listKeys/action``) — e.g. ``accounts/write`` (network lockdown),
    ``accounts/regenerateKey/action``, ``accounts/deployments/write``. The containment role ``firestop infra`` assigns
    at each protected resource holds those of its playbooks; the audit's read role (:data:`AUDIT_ACTIONS`) and the
    write-back roles hold none. :mod:`runbooks.graph_scope` takes an account as protected when Firestop's identity
    holds one of them there (R16-08)."""
    from runbooks.registry import all_runbooks

    found: set[str] = set()
    for cls in all_runbooks():
        for action in cls.permissions:
            lowered = action.lower()
            if (lowered.startswith(ACCOUNTS.lower()) and not is_data_action(action) and not lowered.endswith("/read")
                    and not lowered.endswith("/listkeys/action")):
                found.add(action)
    return sorted(found, key=str.lower)
