"""The one place that builds Azure SDK clients.

On Azure the factory uses ``DefaultAzureCredential`` and the SDKs' own HTTP
transport. Locally the caller injects a credential and an azure-core
``HttpTransport`` (the simulated tenant's) with :func:`configure_clients`;
nothing in the engine imports the sandbox.

Polling: ARM long-running operations poll every 30 s when the service sends no
``Retry-After`` (azure-core ``ARMPolling`` default; ``Retry-After: 0`` counts
as absent), far too slow for containment, so clients here poll every
``polling_interval`` seconds (default 0.5 s) unless the service asks for longer.
A 20 s account PATCH then costs about 40 status reads — far inside ARM's read
limits (a token bucket of 250, refilled at 25 reads/s per principal and
subscription: https://learn.microsoft.com/azure/azure-resource-manager/management/request-limits-and-throttling)
— and finishes within 0.5 s of Azure completing it (bench/mttc.py).
Retries: azure-core's ``RetryPolicy`` (it retries POST/PATCH on 500/503/504, so
a ``regenerateKey`` can run twice — runbooks read state back afterwards).
"""

from __future__ import annotations

import threading
from typing import Any

from msgspec import Struct, field

from firestop.clock import Clock, SystemClock

ARM_ENDPOINT = "https://management.azure.com"


class ClientFactory(Struct):
    """Builds and caches Azure SDK clients that share one credential and transport.

    credential: an azure-core ``TokenCredential`` (None: ``DefaultAzureCredential``).
    transport: an azure-core ``HttpTransport`` or None for the SDK default.
    clock: the time source runbooks stamp evidence and records with (UTC).
    polling_interval: seconds between LRO polls when the service sends no Retry-After.
    retry_total: azure-core ``RetryPolicy`` total retries.
    sandbox: True when the transport is the simulated tenant (shown in records).
    """

    credential: Any = None
    transport: Any = None
    clock: Clock = field(default_factory=SystemClock)
    polling_interval: float = 0.5
    retry_total: int = 4
    sandbox: bool = False
    #: httpx transport for Microsoft Graph (msgraph-sdk speaks httpx); None: the azure-core transport's
    #: ``httpx_transport()`` when it offers one (the sandbox's does), else httpx's own network transport.
    graph_transport: Any = None
    _cache: dict = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __repr__(self) -> str:  # the cache and its lock left out, as the dataclass's field(repr=False) did
        return (f"ClientFactory(credential={self.credential!r}, transport={self.transport!r}, clock={self.clock!r}, "
                f"polling_interval={self.polling_interval!r}, retry_total={self.retry_total!r}, sandbox={self.sandbox!r}, "
                f"graph_transport={self.graph_transport!r})")

    def _credential(self) -> Any:
        if self.credential is None:
            from azure.identity import DefaultAzureCredential

            self.credential = DefaultAzureCredential()
        return self.credential

    def _common(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"retry_total": self.retry_total}
        if self.transport is not None:
            kwargs["transport"] = self.transport
        return kwargs

    def _cached(self, key: tuple, build) -> Any:
        with self._lock:
            if key not in self._cache:
                self._cache[key] = build()
            return self._cache[key]

    def cognitive_services(self, subscription_id: str):
        """``CognitiveServicesManagementClient`` for one subscription (REST API 2025-09-01 by SDK default)."""
        from azure.mgmt.cognitiveservices import CognitiveServicesManagementClient

        return self._cached(
            ("cognitive", subscription_id.lower()),
            lambda: CognitiveServicesManagementClient(
                credential=self._credential(),
                subscription_id=subscription_id,
                polling_interval=self.polling_interval,
                **self._common(),
            ),
        )

    def network(self, subscription_id: str):
        """``NetworkManagementClient`` for one subscription."""
        from azure.mgmt.network import NetworkManagementClient

        return self._cached(
            ("network", subscription_id.lower()),
            lambda: NetworkManagementClient(
                credential=self._credential(),
                subscription_id=subscription_id,
                polling_interval=self.polling_interval,
                **self._common(),
            ),
        )

    def authorization(self, subscription_id: str):
        """``AuthorizationManagementClient`` for one subscription (role assignments: REST API 2022-04-01 by SDK default)."""
        from azure.mgmt.authorization import AuthorizationManagementClient

        return self._cached(
            ("authorization", subscription_id.lower()),
            lambda: AuthorizationManagementClient(
                credential=self._credential(), subscription_id=subscription_id, **self._common()
            ),
        )

    def api_management(self, subscription_id: str):
        """``ApiManagementClient`` for one subscription (subscriptions: REST API 2024-05-01, azure-mgmt-apimanagement 5.0.0)."""
        from azure.mgmt.apimanagement import ApiManagementClient

        return self._cached(
            ("apim", subscription_id.lower()),
            lambda: ApiManagementClient(credential=self._credential(), subscription_id=subscription_id, **self._common()),
        )

    def resources(self, subscription_id: str):
        """``ResourceManagementClient`` for one subscription (deployments, what-if, resource groups; azure-mgmt-resource 24.0.0)."""
        from azure.mgmt.resource import ResourceManagementClient

        return self._cached(
            ("resources", subscription_id.lower()),
            lambda: ResourceManagementClient(
                credential=self._credential(),
                subscription_id=subscription_id,
                polling_interval=self.polling_interval,
                **self._common(),
            ),
        )

    def monitor(self, subscription_id: str):
        """``MonitorManagementClient`` (azure-mgmt-monitor 6.0.2, multi-API): Activity Log, diagnostic settings, alert rules —
        the package's latest profile with :data:`MONITOR_API_VERSIONS` on top (Log Alerts V2, not the 2018 legacy rules)."""
        from azure.mgmt.monitor import MonitorManagementClient
        from azure.profiles import ProfileDefinition

        name = "azure.mgmt.monitor.MonitorManagementClient"
        versions = {**MonitorManagementClient.LATEST_PROFILE.get_profile_dict()[name], **MONITOR_API_VERSIONS}
        profile = ProfileDefinition({name: versions}, "firestop-monitor")
        return self._cached(
            ("monitor", subscription_id.lower()),
            lambda: MonitorManagementClient(credential=self._credential(), subscription_id=subscription_id, profile=profile, **self._common()),
        )

    def key_vault_management(self, subscription_id: str):
        """``KeyVaultManagementClient`` (azure-mgmt-keyvault 14.1.0): vaults' ARM properties (soft delete, purge protection, RBAC)."""
        from azure.mgmt.keyvault import KeyVaultManagementClient

        return self._cached(
            ("keyvault-mgmt", subscription_id.lower()),
            lambda: KeyVaultManagementClient(credential=self._credential(), subscription_id=subscription_id, **self._common()),
        )

    def policy_insights(self, subscription_id: str):
        """``PolicyInsightsClient`` (azure-mgmt-policyinsights 1.0.1): Azure Policy compliance states."""
        from azure.mgmt.policyinsights import PolicyInsightsClient

        return self._cached(
            ("policyinsights", subscription_id.lower()),
            lambda: PolicyInsightsClient(credential=self._credential(), subscription_id=subscription_id, **self._common()),
        )

    def security(self, subscription_id: str):
        """``SecurityCenter`` for one subscription (azure-mgmt-security 7.0.0: alerts 2022-01-01, pricings 2024-01-01)."""
        from azure.mgmt.security import SecurityCenter

        return self._cached(
            ("security", subscription_id.lower()),
            lambda: SecurityCenter(credential=self._credential(), subscription_id=subscription_id, **self._common()),
        )

    def sentinel(self):
        """:class:`firestop.azure.sentinel.SentinelClient` (Sentinel REST 2024-03-01 over azure-mgmt-core's ARM pipeline)."""
        from firestop.azure.sentinel import SentinelClient

        return self._cached(
            ("sentinel",),
            lambda: SentinelClient(self._credential(), transport=self.transport, retry_total=self.retry_total),
        )

    def alerts_management(self):
        """:class:`firestop.azure.alerts_management.AlertsManagementClient` (Alerts Management REST 2019-03-01 over
        azure-mgmt-core's ARM pipeline: Azure Monitor's fired alerts, read to confirm a webhook's alert)."""
        from firestop.azure.alerts_management import AlertsManagementClient

        return self._cached(
            ("alerts-management",),
            lambda: AlertsManagementClient(self._credential(), transport=self.transport, retry_total=self.retry_total),
        )

    def alert_processing_rules(self):
        """:class:`firestop.azure.alert_processing.AlertProcessingRulesClient` (alert processing rules, REST 2021-08-08
        over azure-mgmt-core's ARM pipeline: read by the audit, RT19-03)."""
        from firestop.azure.alert_processing import AlertProcessingRulesClient

        return self._cached(
            ("alert-processing-rules",),
            lambda: AlertProcessingRulesClient(self._credential(), transport=self.transport, retry_total=self.retry_total),
        )

    def alert_rules(self, subscription_id: str):
        """``MonitorManagementClient`` (azure-mgmt-monitor 6.0.2, multi-API) pinned to the api-versions of the alert
        resources Firestop reads: action groups 2023-01-01, Log Alerts V2 (scheduled query rules) 2022-08-01-preview,
        activity log alerts 2020-10-01, metric alerts 2018-03-01."""
        from azure.mgmt.monitor import MonitorManagementClient
        from azure.profiles import ProfileDefinition

        profile = ProfileDefinition({"azure.mgmt.monitor.MonitorManagementClient": {
            None: "2023-01-01", "scheduled_query_rules": "2022-08-01-preview", "activity_log_alerts": "2020-10-01",
            "metric_alerts": "2018-03-01", "diagnostic_settings": "2021-05-01-preview"}}, "firestop")
        return self._cached(
            ("alert-rules", subscription_id.lower()),
            lambda: MonitorManagementClient(credential=self._credential(), subscription_id=subscription_id, profile=profile,
                                            **self._common()),
        )

    def graph(self, call):
        """Run ``call(client)`` — an async function of a msgraph ``GraphServiceClient`` — and return its result.

        A client per call over :attr:`graph_transport` (:mod:`firestop.azure.graph`); Graph errors propagate
        as msgraph raises them (``ODataError``): map them with :func:`firestop.azure.graph.map_graph_error`.
        """
        from firestop.azure.graph import graph_client, run

        transport = self.graph_transport
        if transport is None and hasattr(self.transport, "httpx_transport"):
            transport = self.transport.httpx_transport()
        credential = self._credential()

        async def go():
            return await call(graph_client(credential, transport, self.clock))

        return run(go)

    def caller_object_id(self) -> str | None:
        """Object ID (``oid`` claim) of the identity these clients act as, read from an ARM access token.

        Entra access tokens are JWTs (``header.payload.signature``, payload base64url JSON);
        the sandbox's tokens share that layout. None when the token has no readable ``oid``.
        """
        import base64
        import json

        token = self._credential().get_token(ARM_ENDPOINT + "/.default").token
        parts = token.split(".")
        if len(parts) != 3:
            return None
        try:
            claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
        except ValueError:
            return None
        oid = claims.get("oid") if isinstance(claims, dict) else None
        return str(oid) if oid else None

    def secrets(self, vault_url: str):
        """Key Vault ``SecretClient`` for one vault (``https://<name>.vault.azure.net``)."""
        from azure.keyvault.secrets import SecretClient

        return self._cached(
            ("secrets", vault_url.rstrip("/").lower()),
            lambda: SecretClient(vault_url=vault_url, credential=self._credential(), **self._common()),
        )

    def logs(self):
        """``LogsQueryClient`` (Log Analytics query API ``https://api.loganalytics.io/v1``)."""
        from azure.monitor.query import LogsQueryClient

        return self._cached(("logs",), lambda: LogsQueryClient(credential=self._credential(), **self._common()))


_factory: ClientFactory | None = None
_factory_lock = threading.Lock()


#: azure-mgmt-monitor 6.0.2 is multi-API: the operation groups Firestop uses, at these versions (Log Alerts V2:
#: 2022-08-01-preview is the newest scheduledQueryRules the package has).
MONITOR_API_VERSIONS = {
    None: "2023-01-01",  # action groups
    "scheduled_query_rules": "2022-08-01-preview",
    "activity_log_alerts": "2020-10-01",
    "metric_alerts": "2018-03-01",
    "diagnostic_settings": "2021-05-01-preview",
}


def configure_clients(factory: ClientFactory | None) -> None:
    """Install the process-wide factory (None: fall back to DefaultAzureCredential on next use)."""
    global _factory
    with _factory_lock:
        _factory = factory


def get_client_factory() -> ClientFactory:
    """The installed factory, or a real-Azure one built on first use."""
    global _factory
    with _factory_lock:
        if _factory is None:
            _factory = ClientFactory()
        return _factory


#: The management SDK every incident's first activity loads: ``describe_targets`` (``firestop.analysis``) reads the
#: Azure OpenAI account through :meth:`ClientFactory.cognitive_services`. Imported ahead of traffic by :func:`preload`.
PRELOADED_SDKS = ("azure.mgmt.cognitiveservices",)


def preload() -> None:
    """Import :data:`PRELOADED_SDKS` now, not when the first incident's first activity builds its client (the
    warmup trigger calls this). ``azure.mgmt.cognitiveservices`` is about 0.28 s of import (``python -X importtime``
    in ``firestop serve``: 275,549 µs cumulative), which otherwise runs on the orchestration driver while the first
    webhooks of a storm wait for the GIL. Raises ImportError when a package is missing (the caller decides)."""
    import importlib

    for name in PRELOADED_SDKS:
        importlib.import_module(name)
