"""Reading the tenant for an audit: every read goes through the Azure SDK clients of the client factory.

:class:`AuditContext` holds the clients, the clock, the subscription and the reads already made
(each resource is read once per audit, whatever number of controls look at it). A read that
fails — Azure refuses it (403), the service does not answer it (the sandbox's 501 for a service
it does not model yet), the SDK is not installed — raises :class:`NotEvaluable` naming the call
and the reason; the control's result is then ``—`` with that reason, never a guess.

``unserved(method, path)``: optional probe (the CLI and tabletop pass one for the sandbox tenant)
answering why a request would not be served, or None; a read it refuses is not sent at all.

Reads (REST operations; SDK versions pinned in requirements.txt):

| read | SDK call | REST |
|---|---|---|
| accounts | ``CognitiveServicesManagementClient.accounts.list[_by_resource_group]`` | ``GET …/Microsoft.CognitiveServices/accounts`` |
| deployments | ``deployments.list(rg, account)`` | ``GET …/accounts/{a}/deployments`` |
| private endpoint connections | ``private_endpoint_connections.list`` | ``GET …/accounts/{a}/privateEndpointConnections`` |
| role assignments | ``AuthorizationManagementClient.role_assignments.list_for_scope(scope, filter="atScope()")`` | ``GET {scope}/providers/Microsoft.Authorization/roleAssignments`` |
| activity log | ``MonitorManagementClient.activity_logs.list(filter=…)`` | ``GET /subscriptions/{s}/providers/Microsoft.Insights/eventtypes/management/values`` |
| diagnostic settings | ``MonitorManagementClient.diagnostic_settings.list(resource_uri)`` | ``GET {resource}/providers/Microsoft.Insights/diagnosticSettings`` |
| alert rules | ``scheduled_query_rules.list_by_subscription``, ``activity_log_alerts.list_by_subscription_id``, ``metric_alerts.list_by_subscription`` | ``GET /subscriptions/{s}/providers/Microsoft.Insights/{scheduledQueryRules,activityLogAlerts,metricAlerts}`` |
| vaults | ``KeyVaultManagementClient.vaults.list_by_subscription`` / ``list_by_resource_group`` | ``GET …/Microsoft.KeyVault/vaults`` |
| secret versions | ``SecretClient.list_properties_of_secret_versions(name)`` (properties only, never a value) | ``GET {vault}/secrets/{name}/versions`` |
| policy states | ``PolicyInsightsClient.policy_states.list_query_results_for_subscription("latest", …)`` | ``POST /subscriptions/{s}/providers/Microsoft.PolicyInsights/policyStates/latest/queryResults`` |
| Defender plans | ``SecurityCenter.pricings.get("subscriptions/{s}", "AI")`` (azure-mgmt-security) | ``GET /subscriptions/{s}/providers/Microsoft.Security/pricings/AI`` |
| Defender workflow automations | ``SecurityCenter.automations.list()`` (2019-01-01-preview) | ``GET /subscriptions/{s}/providers/Microsoft.Security/automations`` |
| Defender alerts | ``SecurityCenter.alerts.list()`` (2022-01-01) | ``GET /subscriptions/{s}/providers/Microsoft.Security/alerts`` |
| Defender alerts suppression rules | ``SecurityCenter.alerts_suppression_rules.list()`` (2019-01-01-preview) | ``GET /subscriptions/{s}/providers/Microsoft.Security/alertsSuppressionRules`` |
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Callable

from msgspec import Struct, field

from firestop.resource_id import resource_id_key

ARM = "https://management.azure.com"

#: At most this many items are read from one list (a runaway tenant must not make an audit unbounded).
MAX_ITEMS = 2000
#: The Activity Log keeps 90 days (Azure Monitor: "Activity log retention", learn.microsoft.com).
ACTIVITY_LOG_DAYS = 90


_default_unserved: Callable[[str, str], str | None] | None = None


def configure_unserved(probe: Callable[[str, str], str | None] | None) -> None:
    """Install the process-wide probe (:attr:`AuditContext.unserved` default): the sandbox environment's
    ``firestop.sandbox.probe.unserved``, or None for real Azure."""
    global _default_unserved
    _default_unserved = probe


def default_unserved() -> Callable[[str, str], str | None] | None:
    return _default_unserved


class NotEvaluable(Exception):
    """A control could not read what it needs; ``str(exc)`` says which read and why (no payload content)."""


def _why(exc: BaseException) -> str:
    status = getattr(exc, "status_code", None)
    error = getattr(exc, "error", None)
    code = getattr(error, "code", None) if error is not None else None
    if status is not None:
        return f"answered {status}" + (f" {code}" if code else "")
    return type(exc).__name__


def missing_action_hint(reason: str, action: str) -> str:
    """``""``, or — when ``reason`` (a :class:`NotEvaluable`'s text) is ARM's 403 — a clause naming the audit role's
    ``action`` and how the role gets it (review18, R18-05: a deployment made before a version that added a read keeps
    its old role until the template is deployed again with regenerated ``auditRoleActions``)."""
    if " answered 403" not in reason:
        return ""
    return (f"; the audit role lacks {action} (a role deployed before this version): deploy infra/azuredeploy.json again "
            "with the auditRoleActions python -m firestop infra generates (python -m firestop permissions --audit lists them)")


def _bounded(items: Any) -> list[Any]:
    out = []
    for item in items:
        out.append(item)
        if len(out) >= MAX_ITEMS:
            break
    return out


def _as_dict(model: Any) -> dict[str, Any]:
    """An SDK model as its REST JSON (``serialize(keep_readonly=True)``), or the dict it already is."""
    if isinstance(model, dict):
        return model
    serialize = getattr(model, "serialize", None)
    if serialize is not None:
        return serialize(keep_readonly=True)
    as_dict = getattr(model, "as_dict", None)
    return as_dict() if as_dict else dict(model)


def parse_arm_id(resource_id: str) -> dict[str, str]:
    """``{"subscription", "resource_group", "provider", "type", "name"}`` of an ARM resource id (lower-case keys)."""
    parts = [p for p in resource_id.split("/") if p]
    out = {"subscription": "", "resource_group": "", "name": parts[-1] if parts else ""}
    for i, p in enumerate(parts[:-1]):
        low = p.lower()
        if low == "subscriptions":
            out["subscription"] = parts[i + 1]
        elif low == "resourcegroups":
            out["resource_group"] = parts[i + 1]
    return out


class AuditContext(Struct):
    """Clients, clock, scope and the per-audit cache of reads.

    clients: a :class:`firestop.azure.clients.ClientFactory`; settings: :class:`firestop.settings.Settings`
    (the consumers' vault and secret); subscription: the subscription audited; resource_groups: when
    given, only accounts and vaults in them; accounts: when given, only these account ids.
    """

    clients: Any
    settings: Any
    subscription: str
    resource_groups: tuple[str, ...] = ()
    accounts: tuple[str, ...] = ()
    unserved: Callable[[str, str], str | None] | None = None
    playbooks: tuple[Any, ...] = ()
    _cache: dict[Any, Any] = field(default_factory=dict)

    def __repr__(self) -> str:  # the cache of reads left out, as the dataclass's field(repr=False) did
        return (f"AuditContext(clients={self.clients!r}, settings={self.settings!r}, subscription={self.subscription!r}, "
                f"resource_groups={self.resource_groups!r}, accounts={self.accounts!r}, unserved={self.unserved!r}, "
                f"playbooks={self.playbooks!r})")

    def __post_init__(self) -> None:
        if self.unserved is None:
            self.unserved = _default_unserved

    def now(self) -> datetime:
        return self.clients.clock.now()

    # ------------------------------------------------------------------ plumbing
    def _read(self, key: Any, what: str, method: str, path: str, fn: Callable[[], Any]) -> Any:
        """Run ``fn`` once per audit (cached under ``key``), or raise NotEvaluable naming ``what``."""
        if key in self._cache:
            cached = self._cache[key]
            if isinstance(cached, NotEvaluable):
                raise cached
            return cached
        try:
            if self.unserved is not None:
                reason = self.unserved(method, path)
                if reason:
                    raise NotEvaluable(f"{what}: {reason}")
            value = fn()
        except NotEvaluable as exc:
            self._cache[key] = exc
            raise
        except ImportError as exc:
            failure = NotEvaluable(f"{what}: the Azure SDK it needs is not installed ({exc.name})")
            self._cache[key] = failure
            raise failure from None
        except Exception as exc:  # noqa: BLE001 — HttpResponseError, auth, transport: the control says which
            failure = NotEvaluable(f"{what}: {method} {path} {_why(exc)}")
            self._cache[key] = failure
            raise failure from None
        self._cache[key] = value
        return value

    @property
    def _sub_path(self) -> str:
        return f"/subscriptions/{self.subscription}"

    # ------------------------------------------------------------------ accounts
    def list_accounts(self) -> list[dict[str, Any]]:
        """Azure OpenAI / AI Services accounts in scope (ARM JSON), by id."""
        def read() -> list[dict[str, Any]]:
            cs = self.clients.cognitive_services(self.subscription)
            if self.resource_groups:
                found = [a for rg in self.resource_groups for a in _bounded(cs.accounts.list_by_resource_group(rg))]
            else:
                found = _bounded(cs.accounts.list())
            accounts = [_as_dict(a) for a in found]
            accounts = [a for a in accounts if str(a.get("kind", "")).lower() in ("openai", "aiservices")]
            if self.accounts:
                wanted = {resource_id_key(a) for a in self.accounts}
                accounts = [a for a in accounts if resource_id_key(a["id"]) in wanted]
            return sorted(accounts, key=lambda a: a["id"].lower())

        return self._read(("accounts",), "accounts.list", "GET", f"{self._sub_path}/providers/Microsoft.CognitiveServices/accounts", read)

    def deployments(self, account: dict[str, Any]) -> list[dict[str, Any]]:
        ref = parse_arm_id(account["id"])
        return self._read(("deployments", account["id"].lower()), "deployments.list", "GET", f"{account['id']}/deployments",
                          lambda: [_as_dict(d) for d in _bounded(self.clients.cognitive_services(self.subscription)
                                                                .deployments.list(ref["resource_group"], ref["name"]))])

    def private_endpoint_connections(self, account: dict[str, Any]) -> list[dict[str, Any]]:
        ref = parse_arm_id(account["id"])

        def read() -> list[dict[str, Any]]:
            listed = self.clients.cognitive_services(self.subscription).private_endpoint_connections.list(ref["resource_group"], ref["name"])
            values = getattr(listed, "value", listed)
            return [_as_dict(c) for c in _bounded(values or [])]

        return self._read(("pec", account["id"].lower()), "privateEndpointConnections.list", "GET",
                          f"{account['id']}/privateEndpointConnections", read)

    # ------------------------------------------------------------------ identity
    def role_assignments(self, scope: str) -> list[dict[str, Any]]:
        """Role assignments that apply at ``scope`` (at it and inherited from above: ``atScope()``)."""
        return self._read(("ra", scope.lower()), "roleAssignments.list", "GET", f"{scope}/providers/Microsoft.Authorization/roleAssignments",
                          lambda: [_as_dict(r) for r in _bounded(self.clients.authorization(self.subscription)
                                                                .role_assignments.list_for_scope(scope, filter="atScope()"))])

    def own_object_id(self) -> str | None:
        """The object ID of the identity the audit reads as (from its access token; no request), or None."""
        if ("me",) not in self._cache:
            try:
                self._cache[("me",)] = self.clients.caller_object_id()
            except Exception:  # noqa: BLE001 — no readable token: nobody is allowed implicitly
                self._cache[("me",)] = None
        return self._cache[("me",)]

    # ------------------------------------------------------------------ monitor
    def activity_events(self, resource_id: str, days: int = ACTIVITY_LOG_DAYS) -> list[dict[str, Any]]:
        """Activity Log events of ``resource_id`` over the last ``days`` (≤ 90), newest first."""
        start = (self.now() - timedelta(days=min(days, ACTIVITY_LOG_DAYS)) + timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        flt = f"eventTimestamp ge '{start}' and resourceUri eq '{resource_id}'"
        path = f"{self._sub_path}/providers/Microsoft.Insights/eventtypes/management/values"
        return self._read(("activity", resource_id.lower(), days), "activityLogs.list", "GET", path,
                          lambda: [_as_dict(e) for e in _bounded(self.clients.monitor(self.subscription).activity_logs.list(filter=flt))])

    def diagnostic_settings(self, resource_id: str) -> list[dict[str, Any]]:
        def read() -> list[dict[str, Any]]:
            listed = self.clients.monitor(self.subscription).diagnostic_settings.list(resource_id)
            values = getattr(listed, "value", listed)
            return [_as_dict(s) for s in _bounded(values or [])]

        return self._read(("diag", resource_id.lower()), "diagnosticSettings.list", "GET",
                          f"{resource_id}/providers/Microsoft.Insights/diagnosticSettings", read)

    def workspace_customer_id(self, workspace_id: str) -> str | None:
        """The ``customerId`` (lower-case GUID, the id the query API and ``FIRESTOP_LOG_WORKSPACE_ID`` use) of the Log
        Analytics workspace ``workspace_id`` (ARM id, as a diagnostic setting names it: ``Workspaces_Get``,
        :meth:`firestop.azure.alerts_management.AlertsManagementClient.get_workspace`); None when it cannot be read —
        not a workspace id, not found, or refused (another tenant's or subscription's workspace Firestop may not read
        is not shown to be Firestop's). Cached per audit."""
        def read() -> str | None:
            from azure.core.exceptions import AzureError

            try:
                found = self.clients.alerts_management().get_workspace(workspace_id)
            except (AzureError, ValueError):
                return None
            props = (found or {}).get("properties") if isinstance(found, dict) else None
            return str((props or {}).get("customerId") or "").strip().lower() or None

        return self._read(("workspace", str(workspace_id).strip().lower()), "workspaces.get", "GET", str(workspace_id), read)

    def alert_rules(self) -> list[dict[str, Any]]:
        """Scheduled query, activity log and metric alert rules of the subscription (ARM JSON, ``type`` tells which)."""
        monitor = lambda: self.clients.monitor(self.subscription)  # noqa: E731
        out: list[dict[str, Any]] = []
        for kind, call in (("scheduledQueryRules", lambda: monitor().scheduled_query_rules.list_by_subscription()),
                           ("activityLogAlerts", lambda: monitor().activity_log_alerts.list_by_subscription_id()),
                           ("metricAlerts", lambda: monitor().metric_alerts.list_by_subscription())):
            out += self._read(("rules", kind), f"{kind}.list", "GET", f"{self._sub_path}/providers/Microsoft.Insights/{kind}",
                              lambda call=call: [_as_dict(r) for r in _bounded(call())])
        return out

    def defender_automations(self) -> list[dict[str, Any]]:
        """The subscription's Defender for Cloud workflow automations (continuous export; ARM JSON; Automations - List,
        REST 2019-01-01-preview as azure-mgmt-security 7.0.0 sends it, ``Microsoft.Security/automations/read``). The
        actions' ``uri``/``connectionString`` are never in an answer (the spec: "it will not be included in any
        response")."""
        return self._read(("automations",), "automations.list", "GET", f"{self._sub_path}/providers/Microsoft.Security/automations",
                          lambda: [_as_dict(a) for a in _bounded(self.clients.security(self.subscription).automations.list())])

    def defender_alerts(self) -> list[dict[str, Any]]:
        """The subscription's Defender for Cloud alerts (ARM JSON: ``name`` = ``systemAlertId``, ``properties``
        ``alertType``, ``timeGeneratedUtc``, ``status``, ``resourceIdentifiers``; at most :data:`MAX_ITEMS`). Security
        Alerts - List (``Alerts_List``), REST 2022-01-01 as azure-mgmt-security 7.0.0 sends it: ``GET
        /subscriptions/{s}/providers/Microsoft.Security/alerts`` (Azure/azure-rest-api-specs
        ``specification/security/resource-manager/Microsoft.Security/stable/2022-01-01/alerts.json``, example
        ``GetAlertsSubscription_example.json``), ``Microsoft.Security/locations/alerts/read``. defender18: what
        ``monitoring.alert-rules`` sets against what Firestop received."""
        return self._read(("securityAlerts",), "securityAlerts.list", "GET", f"{self._sub_path}/providers/Microsoft.Security/alerts",
                          lambda: [_as_dict(a) for a in _bounded(self.clients.security(self.subscription).alerts.list())])

    def defender_alerts_in(self, resource_group: str) -> list[dict[str, Any]]:
        """The Defender for Cloud alerts of one resource group (ARM JSON as :meth:`defender_alerts`; at most
        :data:`MAX_ITEMS`): Security Alerts - List By Resource Group (``Alerts_ListByResourceGroup``, REST 2022-01-01,
        ``GET /subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.Security/alerts``, same spec file and
        permission ``Microsoft.Security/locations/alerts/read``). A18-05: the alerts on a protected account's group,
        which a flood of alerts elsewhere in the subscription cannot crowd out of the subscription's bounded list."""
        group = str(resource_group)
        return self._read(("securityAlerts", group.lower()), "securityAlerts.list", "GET",
                          f"{self._sub_path}/resourceGroups/{group}/providers/Microsoft.Security/alerts",
                          lambda: [_as_dict(a) for a in _bounded(
                              self.clients.security(self.subscription).alerts.list_by_resource_group(group))])

    def defender_suppression_rules(self) -> list[dict[str, Any]]:
        """The subscription's Defender for Cloud alerts suppression rules (ARM JSON: ``name``, ``properties``
        ``alertType`` — ``'*'`` for every type —, ``state`` Enabled/Disabled/Expired, ``reason``, ``expirationDateUtc``,
        ``suppressionAlertsScope.allOf[]`` ``{field, in|contains}``; at most :data:`MAX_ITEMS`). Alerts Suppression
        Rules - List (``AlertsSuppressionRules_List``), REST 2019-01-01-preview as azure-mgmt-security 7.0.0 sends it:
        ``GET /subscriptions/{s}/providers/Microsoft.Security/alertsSuppressionRules`` (Azure/azure-rest-api-specs
        ``specification/security/resource-manager/Microsoft.Security/preview/2019-01-01-preview/
        alertsSuppressionRules.json``), ``Microsoft.Security/alertsSuppressionRules/read``. RT20-04: a rule dismisses
        the alerts it matches as they are raised, and no workflow automation exports a dismissed alert."""
        return self._read(("suppressionRules",), "alertsSuppressionRules.list", "GET",
                          f"{self._sub_path}/providers/Microsoft.Security/alertsSuppressionRules",
                          lambda: [_as_dict(r) for r in _bounded(
                              self.clients.security(self.subscription).alerts_suppression_rules.list())])

    def alert_processing_rules(self) -> tuple[list[dict[str, Any]], bool]:
        """``(the subscription's alert processing rules (ARM JSON), complete)`` (Alert Processing Rules - List By
        Subscription, REST 2021-08-08, ``Microsoft.AlertsManagement/actionRules/read``; RT19-03)."""
        return self._read(("actionRules",), "alertProcessingRules.list", "GET",
                          f"{self._sub_path}/providers/Microsoft.AlertsManagement/actionRules",
                          lambda: self.clients.alert_processing_rules().list_by_subscription(self.subscription))

    def action_groups(self) -> list[dict[str, Any]]:
        """The subscription's action groups (ARM JSON; Action Groups - List By Subscription Id, REST 2023-01-01,
        ``Microsoft.Insights/actionGroups/read``)."""
        return self._read(("actionGroups",), "actionGroups.list", "GET", f"{self._sub_path}/providers/Microsoft.Insights/actionGroups",
                          lambda: [_as_dict(g) for g in _bounded(self.clients.monitor(self.subscription).action_groups.list_by_subscription_id())])

    # ------------------------------------------------------------------ key vault
    def list_vaults(self) -> list[dict[str, Any]]:
        def read() -> list[dict[str, Any]]:
            kv = self.clients.key_vault_management(self.subscription)
            if self.resource_groups:
                found = [v for rg in self.resource_groups for v in _bounded(kv.vaults.list_by_resource_group(rg))]
            else:
                found = _bounded(kv.vaults.list_by_subscription())
            return sorted((_as_dict(v) for v in found), key=lambda v: v["id"].lower())

        return self._read(("vaults",), "vaults.list", "GET", f"{self._sub_path}/providers/Microsoft.KeyVault/vaults", read)

    def secret_versions(self, vault_url: str, name: str) -> list[dict[str, Any]]:
        """Properties of every version of secret ``name`` (``created``, ``expires``, ``enabled``; never a value)."""
        def read() -> list[dict[str, Any]]:
            client = self.clients.secrets(vault_url)
            return [{"version": p.version, "enabled": p.enabled, "created": p.created_on, "expires": p.expires_on}
                    for p in _bounded(client.list_properties_of_secret_versions(name))]

        return self._read(("secret", vault_url.lower(), name.lower()), "secrets.versions", "GET",
                          f"{vault_url.rstrip('/')}/secrets/{name}/versions", read)

    # ------------------------------------------------------------------ policy, defender
    def policy_states(self) -> list[dict[str, Any]]:
        """The latest Azure Policy states of the subscription (all compliance states)."""
        def read() -> list[dict[str, Any]]:
            client = self.clients.policy_insights(self.subscription)
            return [_as_dict(s) for s in _bounded(client.policy_states.list_query_results_for_subscription("latest", self.subscription))]

        return self._read(("policy",), "policyStates.queryResults", "POST",
                          f"{self._sub_path}/providers/Microsoft.PolicyInsights/policyStates/latest/queryResults", read)

    def policy_state(self, definition: str, resource_id: str) -> dict[str, Any] | None:
        """The state of built-in ``definition`` (GUID) on ``resource_id``, or None (not assigned, or unreadable)."""
        try:
            states = self.policy_states()
        except NotEvaluable:
            return None
        key = resource_id_key(resource_id)
        for s in states:
            if str(s.get("policyDefinitionName", "")).lower() == definition.lower() and resource_id_key(str(s.get("resourceId", "/"))) == key:
                return s
        return None

    def defender_pricing_at(self, scope: str, plan: str) -> dict[str, Any]:
        """Defender plan ``plan``'s pricing at the resource ``scope`` (an ARM id): Pricings - Get, REST 2024-01-01 as
        azure-mgmt-security 7.0.0 sends it (``GET /{scopeId}/providers/Microsoft.Security/pricings/{pricingName}``;
        ``GetResourcePricingByNameVirtualMachines_example.json``: a resource without a plan of its own answers the
        subscription's, ``inherited: "True"``), ``Microsoft.Security/pricings/read``. A18-06."""
        resource = str(scope).strip().strip("/")

        def read() -> dict[str, Any]:
            from azure.core.exceptions import HttpResponseError

            try:
                return _as_dict(self.clients.security(self.subscription).pricings.get(resource, plan))
            except HttpResponseError as exc:
                # a plan Defender does not price per resource (the spec lists VirtualMachines, VMSS and Arc machines as
                # the supported resources; the sandbox prices any) is refused at a resource's scope: the
                # subscription's plan is the account's. Any other answer (401/403, 5xx) stays unread.
                if exc.status_code in (400, 404):
                    return {"properties": {"inherited": "True",
                                           "inheritedFrom": f"the subscription (HTTP {exc.status_code} at the resource)"}}
                raise

        return self._read(("pricing", plan.lower(), resource.lower()), "pricings.get", "GET",
                          f"/{resource}/providers/Microsoft.Security/pricings/{plan}", read)

    def defender_pricing(self, plan: str) -> dict[str, Any]:
        def read() -> dict[str, Any]:
            return _as_dict(self.clients.security(self.subscription).pricings.get(f"subscriptions/{self.subscription}", plan))

        return self._read(("pricing", plan.lower()), "pricings.get", "GET", f"{self._sub_path}/providers/Microsoft.Security/pricings/{plan}", read)
