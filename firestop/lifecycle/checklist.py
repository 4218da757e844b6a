"""Security checklist gaps an incident revealed (pure).

Items follow the Azure OpenAI security baseline guidance (network isolation,
Entra ID instead of keys, keys kept in Key Vault, diagnostic logs):
https://learn.microsoft.com/security/benchmark/azure/baselines/azure-openai-security-baseline
"""

from __future__ import annotations

from typing import Any


def checklist_gaps(facts: dict[str, dict[str, Any]], actions: list[dict[str, Any]], evidence: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Gaps found before containment: ``[{"target", "gap", "advice"}]``.

    facts: :func:`firestop.analysis.describe_targets` output (read at analyze time, i.e. before any change).
    """
    gaps: list[dict[str, str]] = []
    for target, fact in sorted(facts.items()):
        if fact.get("type") != "microsoft.cognitiveservices/accounts" or fact.get("error"):
            continue
        if fact.get("publicNetworkAccess") != "Disabled" and fact.get("networkDefaultAction") != "Deny":
            gaps.append({"target": target, "gap": "public network access open to any IP",
                         "advice": "use private endpoints, or networkAcls defaultAction Deny with an allow list"})
        if not fact.get("disableLocalAuth"):
            gaps.append({"target": target, "gap": "local (API key) authentication enabled",
                         "advice": "set disableLocalAuth: true and use Microsoft Entra ID"})
    for action in actions:
        if action.get("runbook") in ("keys.rotate", "keys.revoke"):
            before = action.get("before") or {}
            held = before.get("secret_fingerprint")
            if before and held not in (before.get("key1"), before.get("key2")):
                gaps.append({"target": action.get("target") or "", "gap": "consumers' Key Vault secret did not hold a live key (keys kept outside Key Vault)",
                             "advice": "store the key consumers use in Key Vault and have them read it from there"})
    # Only a query that ran and found nothing says the logs are missing; a snapshot that was never
    # taken (no workspace configured, no sign-in) says nothing about the diagnostic settings.
    if evidence and not any(e.get("rows") for e in evidence):
        targets = sorted(t for t, f in facts.items() if f.get("type") == "microsoft.cognitiveservices/accounts")
        for target in targets:
            gaps.append({"target": target, "gap": "no diagnostic logs found for the incident window",
                         "advice": "send Audit and RequestResponse logs to Log Analytics (diagnostic settings)"})
    return gaps
