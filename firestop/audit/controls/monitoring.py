"""Monitoring and regular audits: diagnostic settings, the alert rules feeding Firestop, Defender for AI, Azure Policy."""

from __future__ import annotations

from typing import Any, Callable

from pydantic import BaseModel, ConfigDict, Field

from firestop.audit.models import Area, Evidence, Severity
from firestop.audit.reader import AuditContext, NotEvaluable
from firestop.audit.registry import NoParams, Verdict, all_controls, control, failed, passed
from firestop.audit.controls import suppression

#: The categories the response plan's queries read (Azure OpenAI resource logs: Audit, RequestResponse, Trace).
REQUIRED_CATEGORIES = ("Audit", "RequestResponse", "Trace")
DIAGNOSTIC_POLICY = "1b4d1c4e-934c-4703-944c-27c82c06bebb"  # Diagnostic logs in Azure AI services resources should be enabled


class DiagnosticParams(BaseModel):
    """min_retention_days: shortest retention accepted when a setting states one (0 = the workspace's own retention)."""

    model_config = ConfigDict(extra="forbid")

    min_retention_days: int = Field(default=0, ge=0, le=3650)


def _sent(setting: dict) -> tuple[set[str], str | None, list[int]]:
    props = setting.get("properties") or setting
    categories, retention = set(), []
    for log in props.get("logs") or []:
        if not log.get("enabled"):
            continue
        group = str(log.get("categoryGroup") or "").lower()
        if group in ("alllogs",):
            categories.update(REQUIRED_CATEGORIES)
        elif group == "audit":
            categories.add("Audit")
        elif log.get("category"):
            categories.add(str(log["category"]))
        days = (log.get("retentionPolicy") or {}).get("days")
        if (log.get("retentionPolicy") or {}).get("enabled") and days:
            retention.append(int(days))
    return categories, props.get("workspaceId"), retention


@control("monitoring.diagnostic-settings", title="Resource logs (Audit, RequestResponse, Trace) sent to a Log Analytics workspace",
         area=Area.MONITORING, severity=Severity.HIGH, target="account", params=DiagnosticParams, policy=DIAGNOSTIC_POLICY,
         fix="Add a diagnostic setting sending Audit, RequestResponse and Trace (or allLogs) and AllMetrics to the security "
             "workspace (firestop infra emits it); without them no alert rule sees the account.",
         reads=("diagnosticSettings.list", "workspaces.get"))
def diagnostic_settings(ctx: AuditContext, account: dict, params: DiagnosticParams) -> Verdict:
    try:
        settings = ctx.diagnostic_settings(account["id"])
    except NotEvaluable as exc:
        state = ctx.policy_state(DIAGNOSTIC_POLICY, account["id"])
        if state is None:
            raise
        evidence = (Evidence(read=f"policyStates latest {DIAGNOSTIC_POLICY} complianceState", value=state.get("complianceState")),
                    Evidence(read="policyStates timestamp", value=str(state.get("timestamp"))))
        why = f"diagnostic settings not read ({exc}); Azure Policy says {state.get('complianceState')}"
        if state.get("complianceState") == "Compliant":
            return passed(why + " (resource logs enabled)", *evidence)
        return failed(why + " (no resource logs)", *evidence)
    # RT18-04: with FIRESTOP_LOG_WORKSPACE_ID set (required on Azure) the categories count only where they reach that
    # workspace — the one the evidence is read from and a workspace-scoped detection is trusted on. A Monitoring
    # Contributor who points the setting at a workspace of their own blinds both and reads every row.
    wanted_ws = str(getattr(ctx.settings, "log_workspace_id", None) or "").strip().lower() or None
    found = []
    best: set[str] = set()
    elsewhere: list[str] = []
    retention_ok = True
    for s in settings:
        categories, workspace, retention = _sent(s)
        entry = {"name": s.get("name"), "workspace": workspace, "categories": sorted(categories), "retention_days": retention}
        if workspace and wanted_ws:
            entry["customer_id"] = ctx.workspace_customer_id(str(workspace))
            if entry["customer_id"] != wanted_ws:
                elsewhere.append(str(workspace).rstrip("/").rsplit("/", 1)[-1][:100])
                found.append(entry)
                continue
        found.append(entry)
        if workspace:
            best |= categories
            if params.min_retention_days and any(d < params.min_retention_days for d in retention):
                retention_ok = False
    evidence = Evidence(read="diagnosticSettings.list properties.logs[enabled]/workspaceId"
                             + (" (+ workspaces.get properties.customerId)" if wanted_ws else ""), value=found)
    missing = [c for c in REQUIRED_CATEGORIES if c not in best]
    if not settings:
        return failed("no diagnostic setting: the account's requests and audit events are not logged anywhere", evidence)
    if missing and wanted_ws:
        return failed(f"not sent to the workspace FIRESTOP_LOG_WORKSPACE_ID names ({wanted_ws}): {', '.join(missing)}"
                      + (f"; sent to {', '.join(elsewhere)} instead (not that workspace, or unreadable to Firestop)" if elsewhere else ""),
                      evidence)
    if missing:
        return failed(f"not sent to a workspace: {', '.join(missing)}", evidence)
    if not retention_ok:
        return failed(f"a setting keeps logs fewer than {params.min_retention_days} days", evidence)
    return passed("Audit, RequestResponse and Trace go to " + ("the workspace FIRESTOP_LOG_WORKSPACE_ID names" if wanted_ws
                                                               else "a Log Analytics workspace"), evidence)


def _rule_playbook(rule: dict) -> tuple[str | None, bool]:
    """(the ``firestop-playbook`` a rule routes to, enabled?) — where each rule type carries custom properties
    (REST): scheduled query rules ``actions.customProperties``; activity log alerts
    ``actions.actionGroups[].webhookProperties``; metric alerts ``actions[].webHookProperties``."""
    props = rule.get("properties") or rule
    enabled = props.get("enabled")
    enabled = True if enabled is None else bool(enabled)
    actions = props.get("actions")
    custom: dict = {}
    groups = actions.get("actionGroups") if isinstance(actions, dict) else actions
    for group in groups or []:
        if isinstance(group, dict):
            custom.update(group.get("webHookProperties") or group.get("webhookProperties") or {})
    if isinstance(actions, dict):
        custom.update(actions.get("customProperties") or {})
    for key, value in custom.items():
        if str(key).lower() == "firestop-playbook":
            return str(value).strip().lower(), enabled
    return None, enabled


def _acts_for(ctx: AuditContext, rule: dict, playbook: Any, accounts: list[str], trusted: Callable[[dict], bool],
              workspaces: dict[str, Any]) -> set[str] | None:
    """RT18-03: the accounts (lower-case ids) ``rule`` (ARM JSON, enabled, routed to ``playbook``) detects for as the
    source check would let it act: it is the playbook's detection as ``firestop infra`` deploys it for that account
    (:func:`firestop.infra.rule_trust.trusted_detection`); ``{"*"}`` for a rule an admin trusted (``trusted``: its
    scope is the admin's call); None for neither. A rule merely carrying ``firestop-playbook`` — a decoy, or
    Firestop's own rule edited so that it never fires — feeds nothing."""
    from azure.core.exceptions import AzureError

    from firestop.infra.rule_trust import trusted_detection

    def read_workspace(workspace_id: str) -> dict:  # (one read per workspace and audit)
        key = str(workspace_id).strip().lower()
        if key not in workspaces:
            try:
                workspaces[key] = ctx.clients.alerts_management().get_workspace(workspace_id) or {}
            except AzureError:
                workspaces[key] = {}  # unreadable: not Firestop's workspace as far as this audit can tell
        return workspaces[key]

    found: set[str] = set()
    if playbook is not None:
        scopes = [str(s).strip().rstrip("/").lower() for s in ((rule.get("properties") or {}).get("scopes") or [])]
        # an account-scoped rule reads its own scope; a workspace rule names its account in the query, an activity
        # log rule reads the whole subscription
        for account in [a for a in accounts if a in scopes] or accounts:
            if trusted_detection(rule, playbook, target=account, read_workspace=read_workspace,
                                 workspace_guid=getattr(ctx.settings, "log_workspace_id", None),
                                 automation_principal_id=getattr(ctx.settings, "automation_principal_id", None)) is None:
                found.add(account)
    if found:
        return found
    return {"*"} if trusted(rule) else None


def _action_group_ids(rule: dict) -> list[str]:
    """The action groups ``rule`` (ARM JSON) notifies, per type (REST): scheduled query rules
    ``actions.actionGroups[]`` (ids); activity log alerts ``actions.actionGroups[].actionGroupId``; metric alerts
    ``actions[].actionGroupId``."""
    props = rule.get("properties") or rule
    actions = props.get("actions")
    groups = actions.get("actionGroups") if isinstance(actions, dict) else actions
    out = []
    for group in groups or []:
        group_id = group.get("actionGroupId") if isinstance(group, dict) else group
        if isinstance(group_id, str) and group_id.strip():
            out.append(group_id.strip())
    return out


def _firestop_host() -> str | None:
    """Firestop's own host, where its alert webhook lives: ``FIRESTOP_PUBLIC_URL``, else ``WEBSITE_HOSTNAME`` (App
    Service), else ``FIRESTOP_APP_URL`` (an operator's remote mode); None when none is set (then only the path is
    checked)."""
    import os
    from urllib.parse import urlsplit

    for name in ("FIRESTOP_PUBLIC_URL", "WEBSITE_HOSTNAME", "FIRESTOP_APP_URL"):
        value = (os.environ.get(name) or "").strip()
        if value:
            host = urlsplit(value if "://" in value else "https://" + value).hostname
            if host:
                return host.lower()
    return None


def _authenticated(receiver: dict, query: str) -> bool:
    """A16-05: whether a webhook receiver can be heard by ``/api/alerts`` (a function-key route): it sends the common
    alert schema (``useCommonAlertSchema``: Firestop refuses the legacy ones, as ``doctor`` says) and carries a
    non-empty ``code`` or uses Entra authentication (``useAadAuth``, actionGroups 2023-01-01). Without either every
    delivery is answered 401, which Azure Monitor does not retry. A ``code`` that is not the key cannot be told from
    here (Azure keeps the function keys; the app holds no copy)."""
    from urllib.parse import parse_qs

    if (receiver or {}).get("useCommonAlertSchema") is not True:  # (the schema Firestop reads; doctor checks it too)
        return False
    if (receiver or {}).get("useAadAuth") is True:
        return True
    return any(value.strip() for value in parse_qs(query).get("code", []))


def _notifies_firestop(ctx: AuditContext, rule: dict, groups: dict[str, bool]) -> bool:
    """RT18-05: ``rule`` notifies an enabled action group with a webhook receiver posting to Firestop's
    ``/api/alerts`` (on Firestop's own host when :func:`_firestop_host` knows it). A group that cannot be read does
    not count."""
    from urllib.parse import urlsplit

    from firestop.audit.reader import _as_dict

    host = _firestop_host()
    for group_id in _action_group_ids(rule):
        key = group_id.lower()
        if key not in groups:
            parts = group_id.strip("/").split("/")
            ok = False
            try:
                if len(parts) == 8 and parts[0].lower() == "subscriptions" and parts[6].lower() == "actiongroups":
                    found = _as_dict(ctx.clients.monitor(parts[1]).action_groups.get(parts[3], parts[7]))
                    props = found.get("properties") or found
                    for receiver in props.get("webhookReceivers") or []:
                        url = urlsplit(str((receiver or {}).get("serviceUri") or ""))
                        if (props.get("enabled", True) is not False and url.scheme == "https"
                                and url.path.rstrip("/").lower().endswith("/api/alerts")
                                and (host is None or (url.hostname or "").lower() == host)
                                and _authenticated(receiver, url.query)):
                            ok = True
            except Exception:  # noqa: BLE001 — unreadable (refused, gone, throttled): not shown to reach Firestop
                ok = False
            groups[key] = ok
        if groups[key]:
            return True
    return False


def _admin_trusted(ctx: AuditContext) -> Callable[[dict], bool]:
    """``rule`` -> an admin's sealed trusted-rule entry holds this version of it (False without the seal key or
    the records store: fail closed, the rule is listed as not acting)."""
    def trusted(rule: dict) -> bool:
        from firestop.infra.trusted_rules import is_trusted
        from firestop.records.store import records_store
        from firestop.trust.seal import SealKeyError

        try:
            return is_trusted(records_store(ctx.settings), rule)
        except (SealKeyError, OSError, ValueError):
            return False
    return trusted


#: Defender for Cloud alert-type prefixes -> the plan (``Microsoft.Security/pricings/{name}``) that raises them. AI
#: threat protection's alerts are ``AI.Azure_*`` ("Alerts for AI workloads", learn.microsoft.com/azure/defender-for-cloud/
#: alerts-ai-workloads); the plan is ``AI`` (Pricings REST 2024-01-01, "AI": Defender for AI services).
DEFENDER_ALERT_PLANS = (("ai.azure_", "AI"),)


def _defender_plan(playbook: Any) -> str | None:
    """The Defender plan feeding ``playbook`` when it ships no ``detect:`` rule and its ``match.rule_names`` name a
    Defender alert type (:data:`DEFENDER_ALERT_PLANS`); None otherwise (a playbook with rules is judged by them)."""
    if playbook is None or bool(getattr(getattr(playbook, "detect", None), "rules", lambda: [])()):
        return None
    for pattern in getattr(getattr(playbook, "match", None), "rule_names", None) or []:
        for prefix, plan in DEFENDER_ALERT_PLANS:
            if str(pattern).lower().startswith(prefix):
                return plan
    return None


def _plan_tier(ctx: AuditContext, plan: str) -> str | None:
    """``pricings.get`` ``plan``'s pricingTier for the audited subscription; None when it cannot be read (not fed)."""
    try:
        pricing = ctx.defender_pricing(plan)
    except NotEvaluable:
        return None
    props = pricing.get("properties") or pricing
    return props.get("pricingTier")


@control("monitoring.alert-rules", title="The alert rules that feed Firestop exist and are enabled (one per playbook)",
         area=Area.MONITORING, severity=Severity.HIGH, target="subscription",
         fix="Deploy each playbook's alert rules (firestop infra emits them) with the firestop-playbook custom property, enabled, "
             "unchanged (or trust your own rule: python -m firestop rules trust RULE_ID --azure); a playbook fed by Defender "
             "for Cloud alerts only needs the plan raising them on (Defender for AI services: pricings/AI Standard). Delete or "
             "narrow any alert processing rule that removes all action groups from them (az monitor alert-processing-rule).",
         reads=("scheduledQueryRules.list", "activityLogAlerts.list", "metricAlerts.list", "actionGroups.get", "pricings.get",
                suppression.READ))
def alert_rules(ctx: AuditContext, subscription: dict, params: NoParams) -> Verdict:
    """A playbook counts as fed by an enabled rule routed to it that would act without a responder: its detection as
    deployed, or a rule an admin trusted (RT18-03: before, any rule carrying ``firestop-playbook`` counted, so a
    Monitoring Contributor who raised the detection's threshold out of reach — or disabled it and left a decoy
    routed there — kept this control passing)."""
    rules = ctx.alert_rules()
    wanted = sorted({p.name for p in ctx.playbooks})
    by_name = {p.name.lower(): p for p in ctx.playbooks}
    accounts = [str(a.get("id") or "").strip().rstrip("/").lower() for a in ctx.list_accounts()]
    trusted = _admin_trusted(ctx)
    workspaces: dict[str, Any] = {}
    routed: dict[str, list[str]] = {}
    covered: dict[str, set[str]] = {}
    disabled: list[str] = []
    inert: list[str] = []
    unwired: list[str] = []
    groups: dict[str, bool] = {}
    feeding: list[dict] = []  # the rules counted as feeding Firestop (RT19-03: what an alert processing rule may silence)
    for rule in rules:
        playbook, enabled = _rule_playbook(rule)
        if playbook is None:
            continue
        if not enabled:
            disabled.append(f"{rule.get('name')} ({playbook})")
            continue
        detects = _acts_for(ctx, rule, by_name.get(playbook), accounts, trusted, workspaces)
        if detects is None:
            inert.append(f"{rule.get('name')} ({playbook})")
            continue
        if not _notifies_firestop(ctx, rule, groups):
            unwired.append(f"{rule.get('name')} ({playbook})")
            continue
        routed.setdefault(playbook, []).append(str(rule.get("name")))
        feeding.append(rule)
        covered.setdefault(playbook, set()).update(detects)
    # a playbook that ships detections must have one acting for every account in scope (blinding the production
    # account's rule while the dev account's stays whole is the same attack); an admin-trusted rule covers all
    uncovered = []
    for name in wanted:
        playbook = by_name.get(name.lower())
        held = covered.get(name.lower(), set())
        ships = bool(getattr(getattr(playbook, "detect", None), "rules", lambda: [])())
        if held and ships and "*" not in held:
            uncovered += [f"{name} on {a.rsplit('/', 1)[-1]}" for a in accounts if a not in held]
    evidence = (Evidence(read="alert rules with custom property firestop-playbook, enabled, that act without a responder "
                              "(the playbook's detection as deployed, or trusted by an admin)", value=routed),
                Evidence(read="alert rules disabled", value=disabled),
                Evidence(read="alert rules routed but not acting without a responder (not the detection as deployed, "
                              "not trusted by an admin)", value=inert),
                Evidence(read="actionGroups.get properties.enabled/webhookReceivers[].serviceUri: rules whose action groups "
                              "do not post to Firestop's /api/alerts" + ("" if _firestop_host() else " (host not checked: "
                              "FIRESTOP_PUBLIC_URL/WEBSITE_HOSTNAME unset)"), value=unwired))
    missing = [p for p in wanted if p.lower() not in routed]
    # A playbook that ships no detection and is fed by Defender for Cloud alert types is judged by what feeds it: the
    # Defender plan raising those alerts, on for the subscription — not by alert rules it never had (before, the four
    # Defender-only playbooks were listed missing in every correct deployment: a finding people learn to ignore).
    by_defender: dict[str, str] = {}
    for name in list(missing):
        plan = _defender_plan(by_name.get(name.lower()))
        if plan is None:
            continue
        tier = _plan_tier(ctx, plan)
        by_defender[name] = f"Defender plan {plan}: {tier or 'not read'}"
        if str(tier).lower() == "standard":
            missing.remove(name)
    evidence += (Evidence(read="playbooks with no detection, fed by Defender for Cloud alert types (match.rule_names): "
                               "pricings.get <plan> properties.pricingTier", value=by_defender),)
    silenced, silencing_evidence = suppression.silencing(ctx, feeding, accounts)  # RT19-03
    evidence += (silencing_evidence,)
    if missing or uncovered or silenced:
        return failed("; ".join(part for part in (
            silenced,
            "no enabled alert rule that acts without a responder routes to: "
            + ", ".join(f"{n} ({by_defender[n]})" if n in by_defender else n for n in missing) if missing else "",
            f"no acting detection for: {', '.join(uncovered)[:600]}" if uncovered else "",
            f"disabled: {', '.join(disabled)[:600]}" if disabled else "",
            f"routed but not the detection as deployed nor trusted: {', '.join(inert)[:600]}" if inert else "",
            f"not notifying Firestop (no enabled action group with a webhook to its /api/alerts): {', '.join(unwired)[:600]}"
            if unwired else "") if part),
            *evidence)
    fed_by_defender = sorted(n for n in by_defender if n not in missing)
    return passed(f"every playbook ({len(wanted)}) is fed by an enabled alert rule"
                  + (f" or, for those with no detection ({', '.join(fed_by_defender)}), by the Defender plan raising their "
                     "alerts" if fed_by_defender else ""), *evidence)


@control("monitoring.webhook-aad", title="Firestop's action group posts with a Microsoft Entra token, not the key alone",
         area=Area.MONITORING, severity=Severity.LOW, target="subscription",
         fix="Deploy infra/azuredeploy.json with webhookUseAadAuth=true and entraAppObjectId (the app role "
             "ActionGroupsSecureWebhook granted to the 'AzNS AAD Webhook' service principal first, README 'Deploy to Azure'): "
             "App Service authentication then checks Azure Monitor's token before the function key.",
         reads=("actionGroups.list",))
def webhook_aad(ctx: AuditContext, subscription: dict, params: NoParams) -> Verdict:
    """An action group's ``webhookReceivers[].serviceUri`` carries the function key (``?code=``) and is readable by
    anyone with ``Microsoft.Insights/actionGroups/read`` (an Azure Reader): without ``useAadAuth`` (secure webhook,
    action groups REST 2023-01-01) that Reader can post alerts as Azure Monitor (red team 18, noticed). Judges the
    enabled groups whose webhook posts to Firestop's ``/api/alerts`` (its own host when known)."""
    from urllib.parse import urlsplit

    host = _firestop_host()
    keyed, secure = [], []
    for group in ctx.action_groups():
        props = group.get("properties") or group
        if props.get("enabled", True) is False:
            continue
        for receiver in props.get("webhookReceivers") or []:
            url = urlsplit(str((receiver or {}).get("serviceUri") or ""))
            if not (url.path.rstrip("/").lower().endswith("/api/alerts") and (host is None or (url.hostname or "").lower() == host)):
                continue
            label = f"{str(group.get('name'))[:100]}/{str((receiver or {}).get('name'))[:100]}"
            (secure if (receiver or {}).get("useAadAuth") is True else keyed).append(label)
    evidence = (Evidence(read="actionGroups.list webhookReceivers[] to Firestop's /api/alerts with useAadAuth true", value=secure),
                Evidence(read="actionGroups.list webhookReceivers[] to Firestop's /api/alerts posting with the key alone", value=keyed))
    if keyed:
        return failed(f"{len(keyed)} webhook receiver(s) post to Firestop with the function key alone, which anyone who can "
                      f"read action groups can copy: {', '.join(keyed)[:600]}", *evidence)
    if not secure:
        return passed("no action group posts to Firestop's /api/alerts in this subscription", *evidence)
    return passed(f"every webhook receiver posting to Firestop ({len(secure)}) sends a Microsoft Entra token", *evidence)


@control("monitoring.defender-for-ai", title="Microsoft Defender for AI services plan on",
         area=Area.MONITORING, severity=Severity.MEDIUM, target="subscription",
         fix="Turn on Defender for Cloud's AI workloads plan (pricings/AI pricingTier Standard): it raises jailbreak, "
             "credential theft and denial-of-wallet alerts from the prompts themselves.",
         reads=("pricings.get",))
def defender_for_ai(ctx: AuditContext, subscription: dict, params: NoParams) -> Verdict:
    pricing = ctx.defender_pricing("AI")
    props = pricing.get("properties") or pricing
    tier = props.get("pricingTier")
    evidence = Evidence(read="pricings.get AI properties.pricingTier", value=tier)
    if str(tier).lower() == "standard":
        return passed("Defender for AI services is on (Standard)", evidence)
    return failed(f"Defender for AI services is {tier or 'not enabled'}", evidence)


@control("monitoring.policy-assigned", title="Azure Policy audits the checklist continuously (built-in definitions assigned)",
         area=Area.MONITORING, severity=Severity.LOW, target="subscription",
         fix="Assign the built-in definitions named in this report (Audit effect) at the subscription, so compliance is "
             "evaluated between audits too.",
         reads=("policyStates.queryResults",))
def policy_assigned(ctx: AuditContext, subscription: dict, params: NoParams) -> Verdict:
    states = ctx.policy_states()
    seen = {str(s.get("policyDefinitionName", "")).lower() for s in states}
    wanted = {c.policy for c in all_controls() if c.policy and c.target != "subscription"}
    evaluated = sorted(p for p in wanted if p.lower() in seen)
    missing = sorted(p for p in wanted if p.lower() not in seen)
    noncompliant = sum(1 for s in states if s.get("complianceState") == "NonCompliant")
    evidence = (Evidence(read="policyStates latest: checklist definitions with a state", value=evaluated),
                Evidence(read="policyStates latest: checklist definitions without any state (not assigned)", value=missing),
                Evidence(read="policyStates latest: NonCompliant states", value=noncompliant))
    if missing:
        titles = {c.policy: c.id for c in all_controls() if c.policy}
        return failed(f"{len(missing)} of {len(wanted)} checklist policies are not assigned: "
                      + ", ".join(f"{p} ({titles.get(p)})" for p in missing), *evidence)
    return passed(f"all {len(wanted)} checklist policies are assigned and evaluated", *evidence)

