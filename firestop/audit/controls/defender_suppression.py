"""RT20-04: Defender for Cloud alerts suppression rules that dismiss the alerts feeding Firestop (part of
``monitoring.alert-rules``, beside RT19-03's :mod:`firestop.audit.controls.suppression` on Azure Monitor's side).

An alerts suppression rule (``Microsoft.Security/alertsSuppressionRules``, REST 2019-01-01-preview,
Azure/azure-rest-api-specs ``specification/security/resource-manager/Microsoft.Security/preview/2019-01-01-preview/
alertsSuppressionRules.json``) sets every alert it matches to **Dismissed** as it is raised: "it no longer triggers
notifications" (learn.microsoft.com "Suppress alerts from Microsoft Defender for Cloud", where "Security admin and
Owner can create and delete rules"). Firestop maps a Dismissed Defender alert to Resolved and never opens an incident
for it, and no workflow automation exports it: the plan, the automation and the relay stay as deployed while the
playbooks fed by those alert types starve. Kept apart from :mod:`firestop.audit.controls.monitoring` (which calls
:func:`dismissing`) so that control's other checks merge apart.

A rule is a finding when its ``state`` is not ``Disabled``/``Expired`` (a missing or unknown state counts), its
``expirationDateUtc`` is absent, unreadable or later than the audit (absent: "there will no expiration at all" in
azure-mgmt-security 7.0.0's model, "default to the maximum allowed expiration date" in the spec's later text — active
now either way), its ``alertType`` is ``*`` or matches one of a
playbook's Defender alert types (``match.rule_names`` patterns of :data:`monitoring.DEFENDER_ALERT_PLANS`, compared as
``fnmatch`` case-insensitively), and its ``suppressionAlertsScope`` may cover a protected account (:func:`may_cover`).
"""

from __future__ import annotations

from datetime import datetime
from fnmatch import fnmatch
from typing import Any, Iterable

from firestop.alerts.times import parse_utc_or_none
from firestop.audit.models import Evidence
from firestop.audit.reader import MAX_ITEMS, AuditContext, NotEvaluable, missing_action_hint

#: The alert-rules control's ``reads`` entry for this check (the sandbox's operation name; its action is
#: ``Microsoft.Security/alertsSuppressionRules/read``, runbooks.permissions.AUDIT_ACTIONS).
READ = "alertsSuppressionRules.list"
#: The one scope field judged against the protected accounts: the portal's "Azure resource ID" entity (the built-in
#: policy "Deploy - Configure suppression rules for Azure Security Center alerts", 80e94a21-c6cd-4c95-a2c7-beb5704e61c0,
#: maps it to this field; its Equals is ``in: [values]``, its Contains ``contains: value``). Every other field (IP
#: address, account, host, process, …) names nothing the audit knows of a future alert: it counts as holding.
RESOURCE_FIELD = "entities.azureresource.resourceid"


def _label(value: Any, limit: int = 100) -> str:
    return str(value or "")[:limit].replace("\n", " ").replace("\r", " ")


def active(rule: dict[str, Any], now: datetime) -> bool:
    """Whether ``rule`` (ARM JSON) may dismiss an alert raised now or later: not ``Disabled``/``Expired`` and not past
    its ``expirationDateUtc`` (an unreadable date counts as none)."""
    props = rule.get("properties") if isinstance(rule.get("properties"), dict) else {}
    if str(props.get("state") or "").strip().lower() in ("disabled", "expired"):
        return False
    until = parse_utc_or_none(props.get("expirationDateUtc"))
    return until is None or until > now


def types_matched(rule: dict[str, Any], patterns: Iterable[str]) -> list[str]:
    """The playbook alert-type ``patterns`` whose alerts ``rule``'s ``alertType`` dismisses (all for ``*``). An
    ``alertType`` with ``*`` elsewhere (``AI.Azure_*``) is read as a wildcard too: the spec documents ``'*'`` alone,
    and a rule this code cannot rule out is a finding."""
    props = rule.get("properties") if isinstance(rule.get("properties"), dict) else {}
    alert_type = str(props.get("alertType") or "").strip().lower()
    return [p for p in patterns if alert_type == "*" or fnmatch(alert_type, str(p).lower())
            or ("*" in alert_type and fnmatch(str(p).lower(), alert_type))]


def may_cover(rule: dict[str, Any], accounts: list[str]) -> bool:
    """Whether ``rule``'s ``suppressionAlertsScope`` (every ``allOf`` element must hold) may hold for an alert on one
    of the protected ``accounts`` (lower-case ARM ids). No scope, or an empty one: every alert. Only
    :data:`RESOURCE_FIELD` with ``in`` (equal to one, case-insensitive) or ``contains`` (a substring) is judged;
    any other field or operator, or an element of another shape, counts as holding (fail safe: a rule this code
    cannot judge is a finding). No protected account listed: covering."""
    props = rule.get("properties") if isinstance(rule.get("properties"), dict) else {}
    scope = props.get("suppressionAlertsScope")
    conditions = scope.get("allOf") if isinstance(scope, dict) else None
    if not isinstance(conditions, list) or not conditions or not accounts:
        return True

    def holds(cond: Any, account: str) -> bool:
        if not isinstance(cond, dict) or str(cond.get("field") or "").strip().lower() != RESOURCE_FIELD:
            return True
        if isinstance(cond.get("in"), list) and "contains" not in cond:
            return account in {str(v).strip().rstrip("/").lower() for v in cond["in"]}
        if isinstance(cond.get("contains"), str) and "in" not in cond:
            return cond["contains"].strip().lower() in account
        return True

    return any(all(holds(c, a) for c in conditions) for a in accounts)


def dismissing(ctx: AuditContext, fed_types: dict[str, list[str]], accounts: list[str]) -> tuple[str, Evidence]:
    """``(failure text or "", evidence)``: each active rule (:func:`active`) dismissing an alert type of
    ``fed_types`` (playbook name -> its Defender alert-type patterns) that may cover a protected account
    (:func:`may_cover`), named with the playbooks it starves. Rules that cannot be read fail too (a dismissing rule
    cannot be ruled out); with no Defender-fed playbook nothing is read."""
    read = (f"{READ} (alertsSuppressionRules 2019-01-01-preview): active rules whose alertType ('*' or a fed type) "
            "and suppressionAlertsScope may dismiss the alerts a playbook waits for")
    if not fed_types:
        return "", Evidence(read=read, value={})
    try:
        rules = ctx.defender_suppression_rules()
    except NotEvaluable as exc:
        return (f"Defender alerts suppression rules not read ({str(exc)[:300]}): a rule dismissing the alerts the "
                "Defender-fed playbooks wait for cannot be ruled out"
                + missing_action_hint(str(exc), "Microsoft.Security/alertsSuppressionRules/read"), Evidence(read=read, value=None))
    now = ctx.now()
    found: dict[str, list[str]] = {}
    for rule in rules:
        if not active(rule, now) or not may_cover(rule, accounts):
            continue
        starved = sorted(f"{name} ({', '.join(_label(t, 80) for t in matched)})" for name, patterns in fed_types.items()
                         if (matched := types_matched(rule, patterns)))
        if starved:
            props = rule.get("properties") if isinstance(rule.get("properties"), dict) else {}
            until = props.get("expirationDateUtc")
            found[f"{_label(rule.get('name'))} (alertType {_label(props.get('alertType'), 80)!r}, "
                  f"reason {_label(props.get('reason'), 40)}, "
                  + (f"until {_label(until, 40)}" if until else "no expiry") + ")"] = starved
    parts = [f"{name} dismisses the alerts of: {', '.join(names)}" for name, names in found.items()]
    text = ("Defender alerts suppression rules dismiss the alerts feeding Firestop as they are raised (a dismissed "
            "alert is exported by no workflow automation and opens no incident): " + "; ".join(parts))[:900] if parts else ""
    if len(rules) >= MAX_ITEMS:  # A18-09: the list was cut at the reader's bound — the rules not read may dismiss them
        cut = (f"Defender alerts suppression rules: {len(rules)} read, the most one audit reads ({MAX_ITEMS}); a rule "
               "beyond them dismissing the alerts the Defender-fed playbooks wait for cannot be ruled out — delete the "
               "rules no longer needed (Defender for Cloud → Alert suppression rules)")
        text = f"{text}; {cut}" if text else cut
    return text, Evidence(read=read, value=found)
