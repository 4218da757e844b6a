"""Latency model: simulated seconds each operation "takes" on the service side.

When the sandbox answers a request it advances the tenant's virtual clock by
``latency[operation]`` (request arrival is the instant the handler sees).
Values are sandbox assumptions chosen to be plausible, not measurements; the
ARM PATCH LRO duration (``accounts.update.lro`` ≈ 20 s) is in the range of the
recorded azure-cli network-rules PATCH (corpus
``arm/cognitiveservices/recorded/azure-cli-network-rules-patch-lro.json``,
status Succeeded ~30 s after the 202).

Override per tenant with a ``latency:`` mapping in the seed file (keys below;
values seconds, >= 0). Keys ending in ``.lro`` are long-running-operation
durations (start of the request -> operation completes), not per-request costs.
"""

from __future__ import annotations

from typing import Mapping

DEFAULT_LATENCY_S: dict[str, float] = {
    # Microsoft.CognitiveServices/accounts (ARM)
    "accounts.get": 0.2,
    "accounts.list": 0.3,
    "accounts.update": 0.5,  # the initial PATCH answer (200 or 202)
    "accounts.update.lro": 20.0,  # PATCH accepted -> changes visible / status Succeeded
    "accounts.listKeys": 0.3,
    "accounts.regenerateKey": 1.5,
    "deployments.list": 0.2,
    "operations.get": 0.1,  # one LRO status poll
    # Microsoft.Network/networkSecurityGroups (ARM)
    "nsg.get": 0.2,
    "securityRules.get": 0.2,
    "securityRules.createOrUpdate": 0.5,
    "securityRules.createOrUpdate.lro": 10.0,
    "securityRules.delete": 0.5,
    "securityRules.delete.lro": 10.0,
    # Key Vault data plane
    "secrets.challenge": 0.05,  # the unauthenticated first request answered 401
    "secrets.set": 0.2,
    "secrets.get": 0.1,
    "secrets.versions": 0.1,
    # Log Analytics query API
    "logs.query": 3.0,
    "logs.batch": 3.0,  # one batch, sub-queries run in parallel
    # ARM Activity Log API (Microsoft.Insights/eventtypes/management/values)
    "activityLogs.list": 0.5,
    # private endpoint connections of an account
    "privateEndpointConnections.get": 0.2,
    "privateEndpointConnections.list": 0.2,
    # not a request: delay before activity/audit rows of sandbox ARM writes become queryable in Log Analytics
    "activity.ingestion": 180.0,
    # not a request: eventTimestamp -> submissionTimestamp of Activity Log API events (corpus REST sample: ~19 s)
    "activity.submission": 20.0,
}

#: Seconds charged for requests no route answers (the 501s).
UNROUTED_LATENCY_S = 0.0


def merged_latency(overrides: Mapping[str, float] | None) -> dict[str, float]:
    """Defaults updated with ``overrides``; rejects negative or non-numeric values."""
    table = dict(DEFAULT_LATENCY_S)
    for key, value in (overrides or {}).items():
        seconds = float(value)
        if seconds < 0:
            raise ValueError(f"latency for {key!r} must be >= 0 seconds, got {value!r}")
        table[str(key)] = seconds
    return table
