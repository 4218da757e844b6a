"""RT19-03: alert processing rules that silence the detections feeding Firestop (part of ``monitoring.alert-rules``).

An enabled alert processing rule (``Microsoft.AlertsManagement/actionRules``, REST 2021-08-08) with a
``RemoveAllActionGroups`` action, scoped to the subscription, a resource group or the account, leaves every detection
exactly as deployed — rule, action group, webhook — while no notification reaches ``/api/alerts``. Kept apart from
:mod:`firestop.audit.controls.monitoring` (which calls :func:`silencing`) so that control's other checks merge apart.
"""

from __future__ import annotations

from typing import Any

from firestop.audit.models import Evidence
from firestop.audit.reader import AuditContext, NotEvaluable

#: The alert-rules control's ``reads`` entry for this check (the sandbox's operation name; its action is
#: ``Microsoft.AlertsManagement/actionRules/read``, runbooks.permissions.AUDIT_ACTIONS).
READ = "alertProcessingRules.list"


def _label(value: Any) -> str:
    return str(value or "")[:100].replace("\n", " ").replace("\r", " ")


def silencing(ctx: AuditContext, feeding: list[dict[str, Any]], accounts: list[str]) -> tuple[str, Evidence]:
    """``(failure text or "", evidence)``: each enabled alert processing rule removing all action groups whose scopes
    and conditions cover one of ``feeding`` (the alert rules that feed Firestop, ARM JSON) for the protected
    ``accounts`` (lower-case ARM ids), named with the detections it silences ("scheduled": a schedule makes it silence
    some of the time — still a finding). Rules that cannot be read, or not all of them, fail too: a silencing rule
    cannot be ruled out."""
    from firestop.azure.alert_processing import covers, removes_action_groups

    read = "alertProcessingRules.list (actionRules 2021-08-08): enabled RemoveAllActionGroups rules covering a detection"
    try:
        rules, complete = ctx.alert_processing_rules()
    except NotEvaluable as exc:
        return (f"alert processing rules not read ({str(exc)[:300]}): a rule removing the detections' action groups "
                "cannot be ruled out", Evidence(read=read, value=None))
    now = ctx.now()
    found: dict[str, list[str]] = {}
    for rule in rules:
        how = removes_action_groups(rule, now)
        if how is None:
            continue
        silenced = sorted({_label(d.get("name")) for d in feeding if covers(rule, d, accounts)})
        if silenced:
            found[f"{_label(rule.get('name'))} ({how}; {_label(rule.get('id'))})"] = silenced
    parts = [f"{name} removes all action groups of: {', '.join(names)}" for name, names in found.items()]
    if not complete:
        parts.append("more alert processing rules than were read (list truncated)")
    text = ("alert processing rules silence the detections (no notification reaches Firestop): " + "; ".join(parts))[:900] \
        if parts else ""
    return text, Evidence(read=read, value=found)
