"""Microsoft Sentinel incidents over REST 2024-03-01 through azure-mgmt-core's ARM pipeline.

Why not azure-mgmt-securityinsight: its last release (1.0.0, 2022-07) sends api-version
2021-10-01 by default; the stable versions Microsoft lists today
(https://learn.microsoft.com/rest/api/securityinsights/api-versions) go up to 2025-09-01, and the
spec examples Firestop follows are 2024-03-01. The pipeline is the SDKs' own (bearer token for
``https://management.azure.com/.default``, ``RetryPolicy`` with ``retry_total`` retries on 408/429/5xx
honouring ``Retry-After``, ARM logging policy), so the sandbox is reached through ``transport=`` like
every other client and nothing is mocked.

Errors are azure-core ``HttpResponseError`` (``ResourceNotFoundError`` for 404), as with the SDKs.
``incident_id`` arguments are the incident's full ARM id
(``/subscriptions/…/workspaces/{ws}/providers/Microsoft.SecurityInsights/incidents/{name}``).
"""

from __future__ import annotations

import re
from typing import Any

from azure.core.configuration import Configuration
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError, map_error
from azure.core.pipeline import policies
from azure.core.rest import HttpRequest
from azure.mgmt.core import ARMPipelineClient
from azure.mgmt.core.policies import ARMChallengeAuthenticationPolicy, ARMHttpLoggingPolicy

API_VERSION = "2024-03-01"
_INCIDENT_ID = re.compile(
    r"^/subscriptions/[0-9a-fA-F-]{36}/resourceGroups/[-\w.()]{1,90}/providers/Microsoft\.OperationalInsights/workspaces/"
    r"[-\w]{1,63}/providers/Microsoft\.SecurityInsights/incidents/[-\w]{1,64}$",
    re.IGNORECASE,
)


def check_incident_id(value: str) -> str:
    """The id itself, else ``ValueError`` naming the expected form (it lands in a URL path)."""
    if not isinstance(value, str) or not _INCIDENT_ID.match(value.strip()):
        raise ValueError(
            "not a Sentinel incident id; use /subscriptions/<id>/resourceGroups/<rg>/providers/"
            "Microsoft.OperationalInsights/workspaces/<workspace>/providers/Microsoft.SecurityInsights/incidents/<name>"
        )
    return value.strip()


def arm_pipeline_client(credential: Any, *, transport: Any = None, retry_total: int = 4,
                        base_url: str = "https://management.azure.com", moniker: str = "firestop/1") -> ARMPipelineClient:
    """azure-mgmt-core's ``ARMPipelineClient`` with the SDKs' own policies (bearer token for
    ``https://management.azure.com/.default``, ``RetryPolicy(retry_total)``, ARM logging, tracing): the raw ARM
    calls Firestop makes where no SDK sends the api-version it needs (this module, ``firestop.azure.alerts_management``)."""
    config = Configuration()
    config.retry_policy = policies.RetryPolicy(retry_total=retry_total)
    config.authentication_policy = ARMChallengeAuthenticationPolicy(credential, "https://management.azure.com/.default")
    pipeline_policies = [
        policies.RequestIdPolicy(), policies.HeadersPolicy(), policies.UserAgentPolicy(sdk_moniker=moniker),
        config.retry_policy, config.authentication_policy, policies.ContentDecodePolicy(),
        ARMHttpLoggingPolicy(), policies.DistributedTracingPolicy(),
    ]
    kwargs: dict[str, Any] = {"policies": pipeline_policies}
    if transport is not None:
        kwargs["transport"] = transport
    return ARMPipelineClient(base_url=base_url, **kwargs)


class SentinelClient:
    """Incidents, comments, alerts and entities of Sentinel workspaces (REST :data:`API_VERSION`)."""

    def __init__(self, credential: Any, *, transport: Any = None, retry_total: int = 4,
                 base_url: str = "https://management.azure.com") -> None:
        self._client = arm_pipeline_client(credential, transport=transport, retry_total=retry_total, base_url=base_url,
                                           moniker="firestop-sentinel/1")

    def _call(self, method: str, path: str, body: Any = None, **params: Any) -> Any:
        request = HttpRequest(method, self._client.format_url(path), params={"api-version": API_VERSION, **params}, json=body)
        response = self._client.send_request(request)
        if response.status_code >= 400:
            map_error(status_code=response.status_code, response=response, error_map={404: ResourceNotFoundError})
            raise HttpResponseError(response=response)
        return response.json() if response.content else None

    def get_incident(self, incident_id: str) -> dict:
        return self._call("GET", check_incident_id(incident_id))

    def list_incidents(self, workspace_id: str, top: int = 50) -> list[dict]:
        return (self._call("GET", workspace_id.rstrip("/") + "/providers/Microsoft.SecurityInsights/incidents",
                           **{"$top": str(max(1, min(int(top), 1000)))}) or {}).get("value", [])

    def put_incident(self, incident_id: str, body: dict) -> dict:
        return self._call("PUT", check_incident_id(incident_id), body)

    def list_alerts(self, incident_id: str) -> list[dict]:
        return (self._call("POST", check_incident_id(incident_id) + "/alerts") or {}).get("value", [])

    def list_entities(self, incident_id: str) -> list[dict]:
        return (self._call("POST", check_incident_id(incident_id) + "/entities") or {}).get("entities", [])

    def list_comments(self, incident_id: str) -> list[dict]:
        return (self._call("GET", check_incident_id(incident_id) + "/comments") or {}).get("value", [])

    def put_comment(self, incident_id: str, comment_id: str, message: str) -> dict:
        return self._call("PUT", check_incident_id(incident_id) + f"/comments/{comment_id}", {"properties": {"message": message}})
