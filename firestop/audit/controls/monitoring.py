"""Monitoring and regular audits: diagnostic settings, the alert rules feeding Firestop, Defender for AI, Azure Policy."""

from __future__ import annotations

from typing import Any, Callable, Literal

from pydantic import BaseModel, ConfigDict, Field

from firestop.audit.models import Area, Evidence, Severity
from firestop.audit.reader import AuditContext, NotEvaluable, missing_action_hint
from firestop.audit.registry import NoParams, Verdict, all_controls, control, failed, passed
from firestop.audit.controls import defender_suppression, suppression
from firestop.infra.alerts_route import reaches_alerts_route

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


def _receivers_to_firestop(ctx: AuditContext):
    """``(label, receiver, url)`` for every webhook receiver of an enabled action group whose path ends in
    ``/api/alerts`` on Firestop's own host (when known): ``label`` is ``<group>/<receiver>`` (each cut to 100
    characters), ``url`` the :func:`urllib.parse.urlsplit` of its ``serviceUri``. Whether the path is exactly the
    function's route is each control's to judge (A17-07)."""
    from urllib.parse import urlsplit

    host = _firestop_host()
    for group in ctx.action_groups():
        props = group.get("properties") or group
        if props.get("enabled", True) is False:
            continue
        for receiver in props.get("webhookReceivers") or []:
            receiver = receiver or {}
            url = urlsplit(str(receiver.get("serviceUri") or ""))
            if not (url.path.rstrip("/").lower().endswith("/api/alerts") and (host is None or (url.hostname or "").lower() == host)):
                continue
            yield f"{str(group.get('name'))[:100]}/{str(receiver.get('name'))[:100]}", receiver, url



def _authenticated(receiver: dict, query: str) -> bool:
    """A16-05: whether a webhook receiver can be heard by ``/api/alerts`` (a function-key route): it sends the common
    alert schema (``useCommonAlertSchema``: Firestop refuses the legacy ones, as ``doctor`` says) and carries a
    non-empty ``code`` or uses Entra authentication (``useAadAuth``, actionGroups 2023-01-01). Without either every
    delivery is answered 401, which Azure Monitor does not retry. Whether the ``code`` is the key is
    ``monitoring.webhook-key``'s to tell (:func:`webhook_key`, by the deployment's keyed digest of it)."""
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
                                and reaches_alerts_route(url)
                                and (host is None or (url.hostname or "").lower() == host)
                                and _authenticated(receiver, url.query)):
                            ok = True
            except Exception:  # noqa: BLE001 — unreadable (refused, gone, throttled): not shown to reach Firestop
                ok = False
            groups[key] = ok
        if groups[key]:
            return True
    return False


def _admin_trusted(ctx: AuditContext, retrust: list[str] | None = None,
                   rekey: list[str] | None = None) -> Callable[[dict], bool]:
    """``rule`` -> an admin's sealed trusted-rule entry holds this version of it (False without the seal key or
    the records store: fail closed, the rule is listed as not acting). A rule trusted only by a digest version 1
    entry (sealed before mute fields were covered, trust17: :func:`firestop.infra.trusted_rules.trust_state`
    ``"retrust"``) is named in ``retrust``; one whose newest trust was sealed with a retired seal key (``"rekey"``,
    A18-03: not trusted) in ``rekey``."""
    def trusted(rule: dict) -> bool:
        from firestop.infra.trusted_rules import TRUSTED_STATES, trust_state
        from firestop.records.store import records_store
        from firestop.trust.seal import SealKeyError

        try:
            state = trust_state(records_store(ctx.settings), rule)
        except (SealKeyError, OSError, ValueError):
            return False
        if state == "retrust" and retrust is not None:
            retrust.append(str(rule.get("name"))[:200])
        if state == "rekey" and rekey is not None:  # A18-03: trusted under a retired seal key — not trusted
            rekey.append(str(rule.get("name"))[:200])
        return state in TRUSTED_STATES
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


#: Where a workflow automation rule names the alert's type (``propertyJPath``; trust17's choice: the 2019-01-01-preview
#: spec documents the path as "the JPath of the entity model property that should be checked" and points at
#: aka.ms/ASCAutomationSchemas for the alert model, which was not read here). Compared case-insensitively, as the spec's
#: ``Operator`` says of a String ``propertyType`` ("A case-insensitive comparison will be applied"). A rule on any other path (``Severity``, ``AlertDisplayName``, …)
#: may drop the playbook's alerts: not shown to deliver them (fail closed).
ALERT_TYPE_PATHS = ("alerttype", "$.alerttype", "properties.alerttype", "$.properties.alerttype")


def _defender_relays() -> set[str]:
    """``FIRESTOP_DEFENDER_RELAY``: the ARM ids (lower-case) of the Logic Apps that post Defender for Cloud's alerts to
    Firestop's ``/api/alerts`` (a workflow automation's ``LogicApp`` action names one; its trigger URI is never
    answered, so which Logic App relays to Firestop is the operator's word)."""
    import os

    return {p.strip().rstrip("/").lower() for p in (os.environ.get("FIRESTOP_DEFENDER_RELAY") or "").split(",") if p.strip()}


def _rule_admits(rule: Any, alert_types: list[str]) -> bool:
    """A workflow automation rule (``{propertyJPath, propertyType, expectedValue, operator}``) holds for one of
    ``alert_types`` (``fnmatch`` patterns, case-insensitive) — judged only on :data:`ALERT_TYPE_PATHS`."""
    from fnmatch import fnmatch

    if not isinstance(rule, dict) or str(rule.get("propertyJPath") or "").strip().lower() not in ALERT_TYPE_PATHS:
        return False
    want, op = str(rule.get("expectedValue") or "").lower(), str(rule.get("operator") or "")
    tests = {"Equals": lambda t: fnmatch(want, t), "NotEquals": lambda t: "*" not in t and want != t,
             "Contains": lambda t: "*" not in t and want in t, "StartsWith": lambda t: t.startswith(want) or fnmatch(want + "x", t),
             "EndsWith": lambda t: "*" not in t and t.endswith(want)}
    test = tests.get(op)
    return test is not None and any(test(t.lower()) for t in alert_types)


#: How far back the proof looks at Defender's alerts (days). Defender for Cloud keeps alerts 90 days; a week keeps an
#: alert raised before the relay existed from failing the control for long, and is still more than an audit's period.
PROOF_WINDOW_DAYS = 7
#: An alert generated less than this before the audit is not judged yet (seconds): the workflow automation runs its
#: Logic App "in real time" without a documented figure, and the Logic App's HTTP action retries (4 times by default,
#: exponential, learn.microsoft.com "Handle errors and exceptions in Azure Logic Apps"). Sandbox assumption: 60 s.
RELAY_GRACE_SECONDS = 900
#: Alerts named in a finding at most.
_NAMED = 3
#: Defender alerts judged for one playbook at most, the newest of each type first (one store read each, shared by the
#: playbooks through the audit's memo: at most 4 × this per audit; the alert list itself is bounded by the reader's
#: ``MAX_ITEMS``): a diversion shows in the newest alerts. A18-02: before, one budget for the audit — a playbook
#: whose 50 relayed alerts spent it left the next playbook's undelivered alert "not looked up", proven by the first's.
MAX_CHECKED = 50
#: How to prove an unproven route, in the result's words.
PROVE_IT = ("raise one Defender alert the automation exports — a prompt injection to a deployment behind Prompt Shields "
            "(AI.Azure_Jailbreak.*), or Defender for Cloud's sample alerts (Security alerts → Sample alerts; REST "
            "Alerts_Simulate, POST /subscriptions/{s}/providers/Microsoft.Security/locations/{ascLocation}/alerts/default/"
            "simulate, api-version 2022-01-01) — then Firestop must receive it at /api/alerts within "
            f"{RELAY_GRACE_SECONDS // 60} minutes, and the next audit passes")


class DefenderRoute(BaseModel):
    """What :func:`_defender_route` found for one Defender-only playbook. ``state``: ``"fed"`` (configured and proven:
    an alert it exports reached Firestop, none failed to), ``"unproven"`` (configured, no exported alert in the
    window: neither shown nor refuted), ``"broken"`` (not configured, or an exported alert never reached Firestop);
    ``detail``: the phrase the result shows (why not, or the proof)."""

    model_config = ConfigDict(frozen=True)

    state: Literal["fed", "unproven", "broken"]
    detail: str


def _exports(automation: dict, alert_type: str, resource_ids: list[str]) -> bool:
    """Whether the enabled ``automation`` (ARM JSON) exports an alert of ``alert_type`` on ``resource_ids`` (lower-case):
    an ``Alerts`` source whose rule sets are empty or one of which admits the type (:func:`_rule_admits`), and a scope
    holding the subscription or one of the resources."""
    props = automation.get("properties") or {}
    sources = [s for s in props.get("sources") or [] if isinstance(s, dict) and s.get("eventSource") == "Alerts"]
    if not any(not (s.get("ruleSets") or []) or any(isinstance(rs, dict) and (rs.get("rules") or [])
                                                    and all(_rule_admits(r, [alert_type]) for r in rs.get("rules") or [])
                                                    for rs in s.get("ruleSets") or []) for s in sources):
        return False
    paths = [str((s or {}).get("scopePath") or "").strip().rstrip("/").lower() for s in props.get("scopes") or []]
    return any(p and any(r == p or r.startswith(p + "/") for r in resource_ids) for p in paths)


def _alert_resources(alert: dict, subscription: str) -> list[str]:
    """The lower-case ids an alert (Security Alerts REST 2022-01-01 JSON) is on: its ``resourceIdentifiers[]``
    ``azureResourceId`` and its own id's scope, and the subscription."""
    props = alert.get("properties") or {}
    out = [f"/subscriptions/{subscription}".lower()]
    for ident in props.get("resourceIdentifiers") or []:
        if isinstance(ident, dict) and ident.get("azureResourceId"):
            out.append(str(ident["azureResourceId"]).strip().rstrip("/").lower())
    own = str(alert.get("id") or "").lower().split("/providers/microsoft.security/", 1)[0]
    if own:
        out.append(own)
    return out


def _newest_of_each_route(found: list[tuple]) -> list[tuple]:
    """``found`` (``(alert, alert type, generated time, automations exporting it)``) newest first, but the newest of
    each (type, automations) pair before the second newest of any (A18-02): a route diverted for some types only
    shows in its own newest alert, however many alerts of another type came after it."""
    groups: dict[tuple, int] = {}
    ranked = []
    for item in sorted(found, key=lambda x: x[2], reverse=True):
        group = (item[1].lower(), tuple(item[3]))
        groups[group] = groups.get(group, -1) + 1
        ranked.append((groups[group], len(ranked), item))
    return [item for _, _, item in sorted(ranked, key=lambda r: (r[0], r[1]))]


#: Resource groups of protected accounts whose Defender alerts the proof lists besides the subscription's (A18-05).
_MAX_GROUPS = 20


def _defender_proof(ctx: AuditContext, types: list[str], exporting: list[dict],
                    receipts: dict[str, str | None], accounts: list[str] | None = None) -> DefenderRoute:
    """defender18 (attack 17's A17-02): the end-to-end proof for a playbook whose alerts ``exporting`` (the enabled
    automations configured to deliver its ``types``) should relay. A workflow automation's Logic App action is called
    at its ``uri``, write-only ("it will not be included in any response", 2019-01-01-preview ``AutomationActionLogicApp``):
    no read of it tells where Defender posts, so what counts is whether Defender's alerts arrived. Defender's alerts
    (:meth:`AuditContext.defender_alerts`, REST 2022-01-01) generated in the last :data:`PROOF_WINDOW_DAYS` days and at
    least :data:`RELAY_GRACE_SECONDS` before the audit, that one of ``exporting`` exports (:func:`_exports`), are looked up
    among Firestop's receipts (:mod:`firestop.records.defender_receipts`, kept by ``POST /api/alerts``): one not
    received, generated after the ring began keeping receipts (:func:`~firestop.records.defender_receipts.keeping_since`;
    one generated before is not judged unless Dismissed: R18-02, an upgrade from a version that kept none) → ``broken``
    naming the alert and the automation (the route is broken or diverted; a ``Dismissed`` one, RT20-04, is said to be
    dismissed as raised — an alerts suppression rule — and counts the same); all received →
    ``fed``, naming the proof; none in the window → ``unproven`` (never fed on configuration alone), saying how to
    prove it (:data:`PROVE_IT`). Alerts of the playbook's own types come first, newest first; another type the same
    automation exports proves or refutes the same route. ``receipts``: the audit's memo of the receipts read
    (alert key -> received time or None), shared by the playbooks; at most :data:`MAX_CHECKED` alerts are judged
    per playbook, the newest of each (type, automations) first (:func:`_newest_of_each_route`; those beyond are not
    judged). A18-05: Defender's alerts are the subscription's list and each protected account's (``accounts``, lower-case
    ARM ids) resource group's (:meth:`AuditContext.defender_alerts_in`, at most :data:`_MAX_GROUPS`); when the list
    where those accounts' alerts are (the groups', else the subscription's) reached the reader's ``MAX_ITEMS``, no
    receipt alone makes the route ``fed`` (``unproven``): the alerts not read may hold one that never arrived."""
    from datetime import timedelta

    from firestop.alerts.times import parse_utc_or_none
    from firestop.records import defender_receipts
    from firestop.records.store import records_store
    from firestop.trust.seal import SealKeyError, load_seal_key

    from firestop.audit.reader import MAX_ITEMS

    names = ", ".join(repr(str(a.get("name") or "")[:100]) for a in exporting)
    groups = sorted({parts[3] for parts in (a.strip("/").split("/") for a in accounts or [])
                     if len(parts) > 3 and parts[2].lower() == "resourcegroups"})
    try:
        # A18-05: the subscription's list is cut at MAX_ITEMS in an order Defender does not document; the protected
        # accounts' groups are listed too, so a flood elsewhere cannot crowd their alerts out of the proof
        listed = [ctx.defender_alerts(), *(ctx.defender_alerts_in(g) for g in groups[:_MAX_GROUPS])]
    except NotEvaluable as exc:
        return DefenderRoute(state="unproven", detail=f"workflow automation {names} is configured, but Defender's alerts "
                                                      f"were not read ({str(exc)[:200]}): not proven to reach Firestop"
                                                      + missing_action_hint(str(exc), "Microsoft.Security/locations/alerts/read"))
    cut = [len(page) >= MAX_ITEMS for page in listed]
    seen: set[str] = set()
    raised = []
    for alert in (a for page in listed for a in page):
        ident = str(alert.get("id") or alert.get("name") or "").lower()
        if ident not in seen:
            seen.add(ident)
            raised.append(alert)
    try:
        store, key = records_store(ctx.settings), load_seal_key()
    except (SealKeyError, OSError, ValueError) as exc:
        return DefenderRoute(state="unproven", detail=f"workflow automation {names} is configured, but Firestop's receipts "
                                                      f"cannot be checked ({type(exc).__name__}): not proven to reach Firestop")
    now = ctx.now()
    since, until = now - timedelta(days=PROOF_WINDOW_DAYS), now - timedelta(seconds=RELAY_GRACE_SECONDS)
    try:  # R18-02/06: receipts count from when this store began keeping them under the ring (none: judge nothing)
        kept_since = defender_receipts.keeping_since(store, key)
    except Exception as exc:  # noqa: BLE001 — the store failed: nothing shown either way
        return DefenderRoute(state="unproven", detail=f"Firestop's receipts not read ({type(exc).__name__}): "
                                                      "not proven to reach Firestop")
    keeping = parse_utc_or_none(kept_since) if kept_since else None
    keeping = keeping or now + timedelta(days=1)  # no receipt ever kept here: no alert is judged without one
    unjudged = 0
    own, other = [], []
    for alert in raised:
        props = alert.get("properties") or {}
        alert_type = str(props.get("alertType") or "")
        when = parse_utc_or_none(props.get("timeGeneratedUtc") or props.get("startTimeUtc"))
        if not alert_type or when is None or not since <= when <= until:
            continue
        resources = _alert_resources(alert, ctx.subscription)
        by = [str(a.get("name") or "")[:100] for a in exporting if _exports(a, alert_type, resources)]
        if by:
            mine = _rule_admits({"propertyJPath": "AlertType", "expectedValue": alert_type, "operator": "Equals"}, types)
            (own if mine else other).append((alert, alert_type, when, by))
    missing, proof, skipped, checked, dismissed = [], None, 0, 0, 0
    for alert, alert_type, when, by in _newest_of_each_route(own) + _newest_of_each_route(other):
        name = str(alert.get("name") or "")
        wanted = defender_receipts.alert_key(name)
        if checked >= MAX_CHECKED:  # (A18-02: this playbook's budget; another's look-ups spend none of it)
            skipped += 1
            continue
        checked += 1
        if wanted not in receipts:
            try:
                # A18-01: a receipt of the alert under another type or resource (a copy that started no playbook) is none
                listed_on = [str(i.get("azureResourceId")) for i in (alert.get("properties") or {}).get("resourceIdentifiers")
                             or [] if isinstance(i, dict) and i.get("azureResourceId")]
                receipts[wanted] = defender_receipts.received_at(store, wanted, key, alert_type=alert_type,
                                                                 resources=listed_on)
            except Exception as exc:  # noqa: BLE001 — the store failed: nothing shown either way
                return DefenderRoute(state="unproven", detail=f"Firestop's receipts not read ({type(exc).__name__}): "
                                                              "not proven to reach Firestop")
        got = receipts[wanted]
        if got is None:
            # RT20-04: a Dismissed alert never received was dismissed before any export (a suppression rule dismisses
            # as it raises; "it no longer triggers notifications") — raised, not delivered, like any other
            gone = str((alert.get("properties") or {}).get("status") or "").lower() == "dismissed"
            if when < keeping and not gone:  # R18-02: raised before Firestop kept receipts: delivered then, or not
                unjudged += 1
                continue
            dismissed += gone
            missing.append(f"{name[:120]} ({alert_type[:80]}, generated {when:%Y-%m-%d %H:%M} UTC, "
                           + ("status Dismissed, " if gone else "") + f"exported by {', '.join(repr(b) for b in by)})")
        elif proof is None:
            proof = f"{name[:120]} ({alert_type[:80]}) generated {when:%Y-%m-%d %H:%M} UTC, received {got[:20]}"
    if missing:
        return DefenderRoute(state="broken", detail=(
            f"Defender raised {len(missing)} alert(s) in the last {PROOF_WINDOW_DAYS} days that reached no Firestop "
            f"intake — "
            + (f"{dismissed} of them Dismissed as raised (an alerts suppression rule: a dismissed alert is exported by "
               f"no automation; Defender for Cloud → Alert suppression rules){'; and ' if dismissed < len(missing) else ''}"
               if dismissed else "")
            + ("the relay's route is broken or diverted (the trigger URI the automation calls is write-only: "
               "set it again to the relay Logic App's)" if dismissed < len(missing) else "")
            + f": {'; '.join(missing[:_NAMED])}"
            + (f"; and {len(missing) - _NAMED} more" if len(missing) > _NAMED else "")))
    if proof is not None and (any(cut[1:]) if groups else cut[0]):  # (A18-05: a cut list proves nothing by itself)
        return DefenderRoute(state="unproven", detail=(
            f"workflow automation {names} is configured; Defender's alert list was cut at {MAX_ITEMS} alerts (a protected "
            "account's resource group holds more), so an alert that never reached Firestop may be among those not "
            "read: not proven to reach Firestop"))
    if proof is not None:
        return DefenderRoute(state="fed", detail=f"proven end to end by Defender alert {proof}")
    if unjudged:
        when = (f"were raised before Firestop began keeping receipts ({keeping:%Y-%m-%d %H:%M} UTC: an upgrade, or a seal "
                "key dropped since)" if kept_since else
                "cannot be judged here: this records store holds no receipt sealed by this seal key (none received since "
                "the upgrade; or the audit runs outside the app — its receipts are in the app's records store under "
                "its key: run the audit in the app, POST /api/audits or its timer)")
        return DefenderRoute(state="unproven", detail=(
            f"workflow automation {names} is configured; the {unjudged} alert(s) it exported in the last "
            f"{PROOF_WINDOW_DAYS} days {when}: not proven to reach Firestop — to prove it, {PROVE_IT}"))
    if skipped:
        return DefenderRoute(state="unproven", detail=(
            f"workflow automation {names} is configured; {skipped} alert(s) it exports were not looked up (over "
            f"{MAX_CHECKED} Defender alerts checked for one playbook): not proven to reach Firestop"))
    return DefenderRoute(state="unproven", detail=(
        f"workflow automation {names} is configured, but no alert it exports was raised in the last {PROOF_WINDOW_DAYS} "
        f"days: not proven to reach Firestop (the Logic App it calls cannot be read back) — to prove it, {PROVE_IT}"))


def _defender_route(ctx: AuditContext, playbook: Any, accounts: list[str],
                    receipts: dict[str, str | None] | None = None) -> DefenderRoute:
    """Whether a Defender for Cloud workflow automation delivers ``playbook``'s alert types (its ``match.rule_names``
    of :data:`DEFENDER_ALERT_PLANS`) to Firestop (:class:`DefenderRoute`). Configured: enabled (``isEnabled``), an
    ``Alerts`` source whose ``ruleSets`` are empty (every alert) or one of which — all its rules — holds for one of the
    types (:func:`_rule_admits`: rule sets are OR'd, rules within a set AND'd: 2019-01-01-preview ``AutomationRuleSet``,
    "A rule set which evaluates all its rules upon an event interception. Only when all the included rules in the rule
    set will be evaluated as 'true', will the event trigger the defined actions"), ``scopes`` covering the subscription
    or each audited account (``scopePath``: "the subscription on which the automation is defined on or a resource
    group under that subscription"), and a ``LogicApp`` action whose ``logicAppResourceId`` is in ``FIRESTOP_DEFENDER_RELAY``
    (:func:`_defender_relays`). REST spec: azure-rest-api-specs
    ``specification/security/resource-manager/Microsoft.Security/preview/2019-01-01-preview/automations.json``.
    Configured is not delivered (A17-02: the action's ``uri``, which Defender calls, is never answered): a configured
    route is then judged by :func:`_defender_proof`."""
    relays = _defender_relays()
    types = [str(p) for p in getattr(getattr(playbook, "match", None), "rule_names", None) or []
             if any(str(p).lower().startswith(prefix) for prefix, _ in DEFENDER_ALERT_PLANS)]
    try:
        found = ctx.defender_automations()
    except NotEvaluable as exc:
        return DefenderRoute(state="broken", detail=f"workflow automations not read ({str(exc)[:200]})")
    sub = f"/subscriptions/{ctx.subscription}".lower()
    closest = "no enabled workflow automation exports alerts (Microsoft.Security/automations, source Alerts)"
    exporting: list[dict] = []
    for automation in found:
        props = automation.get("properties") or {}
        name = str(automation.get("name") or "")[:100]
        sources = [s for s in props.get("sources") or [] if isinstance(s, dict) and s.get("eventSource") == "Alerts"]
        if props.get("isEnabled") is False or not sources:
            continue
        sets = [s.get("ruleSets") or [] for s in sources]
        if not any(not rule_sets or any(isinstance(rs, dict) and (rs.get("rules") or [])
                                         and all(_rule_admits(r, types) for r in rs.get("rules") or [])
                                         for rs in rule_sets) for rule_sets in sets):
            closest = f"workflow automation {name!r}'s rule sets are not shown to export {', '.join(types)[:200]}"
            continue
        paths = [str((s or {}).get("scopePath") or "").strip().rstrip("/").lower() for s in props.get("scopes") or []]
        if sub not in paths and not (accounts and all(any(a.startswith(p + "/") for p in paths if p) for a in accounts)):
            closest = f"workflow automation {name!r}'s scopes do not cover the subscription's accounts"
            continue
        targets = [str(a.get("logicAppResourceId") or "").strip().rstrip("/").lower()
                   for a in props.get("actions") or [] if isinstance(a, dict) and a.get("actionType") == "LogicApp"]
        if not relays:
            closest = (f"workflow automation {name!r} exports alerts, but FIRESTOP_DEFENDER_RELAY (the Logic App relaying "
                       "them to Firestop) is not set: not shown to reach Firestop")
            continue
        if not any(t in relays for t in targets):
            closest = f"workflow automation {name!r} exports alerts to no Logic App in FIRESTOP_DEFENDER_RELAY"
            continue
        exporting.append(automation)
    if not exporting:
        return DefenderRoute(state="broken", detail=closest)
    return _defender_proof(ctx, types, exporting, {} if receipts is None else receipts, accounts)


def _plan_tier(ctx: AuditContext, plan: str) -> str | None:
    """``pricings.get`` ``plan``'s pricingTier for the audited subscription; None when it cannot be read (not fed)."""
    try:
        pricing = ctx.defender_pricing(plan)
    except NotEvaluable:
        return None
    props = pricing.get("properties") or pricing
    return props.get("pricingTier")


#: Protected accounts whose own Defender plan is read at most (one ``pricings.get`` each per plan and audit, A18-06).
MAX_PLAN_SCOPES = 100


def _plan_off_at(ctx: AuditContext, plan: str, accounts: list[str]) -> list[str]:
    """A18-06: the protected ``accounts`` (lower-case ARM ids, at most :data:`MAX_PLAN_SCOPES`) where ``plan`` is not
    ``Standard`` — a resource-level pricing (Pricings REST 2024-01-01, ``scopeId`` a resource, as
    ``GetResourcePricingByNameVirtualMachines_example.json``) overrides the subscription's, so a Security Admin can
    turn Defender off on one account while the subscription's plan reads Standard — each named ``<name> (<tier>)``.
    One not read is named too (``not read``: fail safe). The answer for an account without a plan of its own is the
    subscription's, marked inherited; a scope where the plan cannot be priced per resource (400/404: see
    :meth:`AuditContext.defender_pricing_at`) inherits the subscription's Standard. Called only when the
    subscription's plan is Standard."""
    off = []
    for account in accounts[:MAX_PLAN_SCOPES]:
        try:
            pricing = ctx.defender_pricing_at(account, plan)
            props = pricing.get("properties") or pricing
            tier = props.get("pricingTier")
            if tier is None and str(props.get("inherited")).lower() == "true":  # no resource-level plan there
                tier = "Standard"  # (called only when the subscription's is Standard)
        except NotEvaluable:
            tier = None
        if str(tier).lower() != "standard":
            off.append(f"{account.rsplit('/', 1)[-1][:64]} ({tier or 'not read'})")
    return off


@control("monitoring.alert-rules", title="The alert rules that feed Firestop exist and are enabled (one per playbook)",
         area=Area.MONITORING, severity=Severity.HIGH, target="subscription",
         fix="Deploy each playbook's alert rules (firestop infra emits them) with the firestop-playbook custom property, enabled, "
             "unchanged (or trust your own rule: python -m firestop rules trust RULE_ID --azure); a playbook fed by Defender "
             "for Cloud alerts needs the plan raising them on (Defender for AI services: pricings/AI Standard) and a workflow "
             "automation (continuous export, source Alerts, the subscription in scope) whose Logic App action relays them to "
             "Firestop's /api/alerts, that Logic App's id in FIRESTOP_DEFENDER_RELAY — proven by Defender's alerts reaching "
             "Firestop (raise a sample alert when none was raised in a week). Delete or narrow any alert processing "
             "rule that removes all action groups from them (az monitor alert-processing-rule), and any Defender for Cloud "
             "alerts suppression rule dismissing their alert types (Environment settings → Alert suppression rules; "
             "DELETE /subscriptions/{s}/providers/Microsoft.Security/alertsSuppressionRules/{name}).",
         reads=("scheduledQueryRules.list", "activityLogAlerts.list", "metricAlerts.list", "actionGroups.get", "pricings.get",
                "automations.list", "securityAlerts.list", suppression.READ, defender_suppression.READ))
def alert_rules(ctx: AuditContext, subscription: dict, params: NoParams) -> Verdict:
    """A playbook counts as fed by an enabled rule routed to it that would act without a responder: its detection as
    deployed, or a rule an admin trusted (RT18-03: before, any rule carrying ``firestop-playbook`` counted, so a
    Monitoring Contributor who raised the detection's threshold out of reach — or disabled it and left a decoy
    routed there — kept this control passing)."""
    rules = ctx.alert_rules()
    wanted = sorted({p.name for p in ctx.playbooks})
    by_name = {p.name.lower(): p for p in ctx.playbooks}
    accounts = [str(a.get("id") or "").strip().rstrip("/").lower() for a in ctx.list_accounts()]
    from firestop.infra.trusted_rules import RETRUST, RETRUST_KEY

    retrust: list[str] = []
    rekey: list[str] = []
    trusted = _admin_trusted(ctx, retrust, rekey)
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
                              "FIRESTOP_PUBLIC_URL/WEBSITE_HOSTNAME unset)"), value=unwired),
                Evidence(read="alert rules an admin trusted before mute fields were covered (a digest version 1 entry: "
                              "re-trust with python -m firestop rules trust RULE_ID)", value=retrust),
                Evidence(read="alert rules whose newest trust was sealed with a retired seal key (not trusted since the "
                              "rotation, A18-03: re-trust with python -m firestop rules trust RULE_ID)", value=rekey))
    missing = [p for p in wanted if p.lower() not in routed]
    # A playbook that ships no detection and is fed by Defender for Cloud alert types is judged by what feeds it: the
    # Defender plan raising those alerts, on for the subscription — not by alert rules it never had (before, the four
    # Defender-only playbooks were listed missing in every correct deployment: a finding people learn to ignore).
    # trust17: and by a route delivering those alerts to Firestop — a workflow automation (continuous export) to the
    # Logic App relaying them (FIRESTOP_DEFENDER_RELAY); before, the plan's tier alone counted, so deleting or
    # disabling the export (or narrowing it) starved the four playbooks while this control passed
    # defender18 (A17-02): and proven end to end — Defender's alerts the automation exports set against what
    # Firestop's intake received; configured but with no alert to show it is "not proven", never a pass
    by_defender: dict[str, str] = {}
    unproven: list[str] = []
    receipts: dict[str, str | None] = {}  # (one store read per Defender alert and audit)
    for name in list(missing):
        plan = _defender_plan(by_name.get(name.lower()))
        if plan is None:
            continue
        tier = _plan_tier(ctx, plan)
        off = _plan_off_at(ctx, plan, accounts) if str(tier).lower() == "standard" else []  # A18-06
        route = (_defender_route(ctx, by_name.get(name.lower()), accounts, receipts)
                 if str(tier).lower() == "standard" and not off else None)
        by_defender[name] = (f"Defender plan {plan}: {tier or 'not read'}"
                             + (f", but not Standard on {', '.join(off[:_NAMED])}"
                                + (f" and {len(off) - _NAMED} more" if len(off) > _NAMED else "")
                                + " (a resource-level plan: Defender raises no alert there)" if off else "")
                             + (f"; {route.detail}" if route else ""))
        if route is not None and route.state in ("fed", "unproven"):
            missing.remove(name)
            if route.state == "unproven":
                unproven.append(name)
    evidence += (Evidence(read="playbooks with no detection, fed by Defender for Cloud alert types (match.rule_names): "
                               "pricings.get <plan> properties.pricingTier, and automations.list (an enabled workflow "
                               "automation exporting those alerts to a Logic App in FIRESTOP_DEFENDER_RELAY), proven by "
                               "securityAlerts.list against Firestop's receipts of the alerts it received",
                          value=by_defender),)
    silenced, silencing_evidence = suppression.silencing(ctx, feeding, accounts)  # RT19-03
    # RT20-04: Defender's side of RT19-03 — a suppression rule dismissing the alert types playbooks wait for (those of
    # the Defender-only playbooks, and the Defender routes of playbooks that also ship detections)
    fed_types = {p.name: types for p in ctx.playbooks
                 if (types := [str(t) for t in getattr(getattr(p, "match", None), "rule_names", None) or []
                               if any(str(t).lower().startswith(prefix) for prefix, _ in DEFENDER_ALERT_PLANS)])}
    dismissed, dismissing_evidence = defender_suppression.dismissing(ctx, fed_types, accounts)
    evidence += (silencing_evidence, dismissing_evidence)
    if missing or uncovered or silenced or dismissed:
        return failed("; ".join(part for part in (
            silenced,
            dismissed,
            "no enabled alert rule that acts without a responder routes to: "
            + ", ".join(f"{n} ({by_defender[n]})" if n in by_defender else n for n in missing) if missing else "",
            f"no acting detection for: {', '.join(uncovered)[:600]}" if uncovered else "",
            f"disabled: {', '.join(disabled)[:600]}" if disabled else "",
            f"routed but not the detection as deployed nor trusted: {', '.join(inert)[:600]}" if inert else "",
            f"not notifying Firestop (no enabled action group with a webhook to its /api/alerts): {', '.join(unwired)[:600]}"
            if unwired else "",
            f"{RETRUST}: {', '.join(retrust)[:600]}" if retrust else "",
            f"{RETRUST_KEY}: {', '.join(rekey)[:600]}" if rekey else "",
            "not proven to reach Firestop: " + ", ".join(f"{n} ({by_defender[n]})" for n in unproven) if unproven else "")
            if part), *evidence)
    if unproven:  # everything else holds: neither shown nor refuted (the trigger URI cannot be read back)
        raise NotEvaluable("every playbook is fed by an enabled alert rule or configured Defender route, but the route of "
                           + ", ".join(unproven) + " is not proven to reach Firestop: "
                           + by_defender[unproven[0]].split("; ", 1)[-1])
    fed_by_defender = sorted(n for n in by_defender if n not in missing)
    return passed(f"every playbook ({len(wanted)}) is fed by an enabled alert rule"
                  + (f" or, for those with no detection ({', '.join(fed_by_defender)}), by the Defender plan raising their "
                     "alerts and a workflow automation relaying them to Firestop, proven end to end by an alert it "
                     "received" if fed_by_defender else "")
                  + (f"; {RETRUST}: {', '.join(retrust)[:600]}" if retrust else "")
                  + (f"; {RETRUST_KEY}: {', '.join(rekey)[:600]}" if rekey else ""), *evidence)


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
    keyed, secure = [], []
    for label, receiver, _url in _receivers_to_firestop(ctx):
        (secure if receiver.get("useAadAuth") is True else keyed).append(label)
    evidence = (Evidence(read="actionGroups.list webhookReceivers[] to Firestop's /api/alerts with useAadAuth true", value=secure),
                Evidence(read="actionGroups.list webhookReceivers[] to Firestop's /api/alerts posting with the key alone", value=keyed))
    if keyed:
        return failed(f"{len(keyed)} webhook receiver(s) post to Firestop with the function key alone, which anyone who can "
                      f"read action groups can copy: {', '.join(keyed)[:600]}", *evidence)
    if not secure:
        return passed("no action group posts to Firestop's /api/alerts in this subscription", *evidence)
    return passed(f"every webhook receiver posting to Firestop ({len(secure)}) sends a Microsoft Entra token", *evidence)


@control("monitoring.webhook-key", title="Firestop's action group sends the alerts key the deployment set (?code=)",
         area=Area.MONITORING, severity=Severity.HIGH, target="subscription",
         fix="Set the webhook's ?code= to the host key 'actiongroup' (az functionapp keys list; or deploy infra/azuredeploy.json "
             "again with alertsFunctionKey and alertsKeyDigest, then az functionapp keys set the same value): with another "
             "code every alert is answered 401, which Azure Monitor does not retry.",
         reads=("actionGroups.list",))
def webhook_key(ctx: AuditContext, subscription: dict, params: NoParams) -> Verdict:
    """Compares the ``code`` of every enabled webhook receiver posting to Firestop's ``/api/alerts`` (its own host when
    known) with ``FIRESTOP_ALERTS_KEY_DIGEST``, the keyed digest of the alerts key the deployment wrote
    (:mod:`firestop.trust.alerts_key`: the app cannot read its own function keys). A receiver without a code fails
    whatever the setting; the codes of the others are not evaluable without that setting or the seal key. The code
    itself is never in the result: only the group/receiver names and the verdict."""
    import os
    from urllib.parse import parse_qsl

    from firestop.trust.alerts_key import SETTING, KeyMatch, compare, digest_problem
    from firestop.trust.seal import SealKeyError, load_seal_key

    digest = os.environ.get(SETTING) or ""
    problem = digest_problem(digest)
    key = None
    if problem is None:
        try:
            key = load_seal_key()
        except SealKeyError as exc:
            problem = f"the seal key is not available ({type(exc).__name__}): the digest cannot be checked"
    else:
        problem += ": the deployment writes it (infra/azuredeploy.json parameter alertsKeyDigest)"
    found: dict[str, list[str]] = {m.value: [] for m in KeyMatch}
    unchecked: list[str] = []
    off_route: list[str] = []
    for label, _receiver, url in _receivers_to_firestop(ctx):
        # A17-01: every ``code`` the host may read — any case (ASP.NET's query collection is case-insensitive),
        # blank ones too (the local host keeps them and reads the last): ``&code=`` after the key is a second code
        codes = [v for k, v in parse_qsl(url.query, keep_blank_values=True) if k.lower() == "code"]
        if not reaches_alerts_route(url):  # A17-07: /x/api/alerts, :8443 reach no function
            off_route.append(label)
        elif not any(c.strip() for c in codes):
            found[KeyMatch.NO_CODE.value].append(label)
        elif len(codes) > 1:  # two codes: not what the deployment wrote (which one the host reads is not Firestop's to guess)
            found[KeyMatch.DIFFERS.value].append(label)
        elif key is None:
            unchecked.append(label)
        else:
            found[compare(codes[0], digest, key=key).value].append(label)
    evidence = tuple(Evidence(read=f"actionGroups.list webhookReceivers[] to Firestop's /api/alerts whose code {what} "
                                   f"(digest compared with {SETTING}; the code is not shown)", value=value)
                     for value, what in ((found[KeyMatch.MATCHES.value], "is the alerts key"),
                                         (found[KeyMatch.DIFFERS.value], "is not the alerts key"),
                                         (found[KeyMatch.NO_CODE.value], "is missing"),
                                         (found[KeyMatch.OTHER_SEAL_KEY.value], "cannot be told: the digest was made under "
                                                                                "another seal key"),
                                         (unchecked, f"was not compared ({problem})")))
    wrong = found[KeyMatch.DIFFERS.value] + found[KeyMatch.NO_CODE.value]
    if off_route:
        evidence += (Evidence(read="actionGroups.list webhookReceivers[] whose path only ends in /api/alerts or whose "
                                   "port is not 443 (not the function's route: answered 404, or no answer)", value=off_route),)
        return failed(f"{len(off_route)} webhook receiver(s) post to a path that only ends in /api/alerts or to a port "
                      f"other than 443, which reach no function (every alert lost): {', '.join(off_route)[:600]}"
                      + (f"; {len(wrong)} other(s) with a code that is not the alerts key, or none" if wrong else ""),
                      *evidence)
    if wrong:
        return failed(f"{len(wrong)} webhook receiver(s) post to Firestop with a code that is not the alerts key the "
                      f"deployment set, or none (every alert they send is answered 401): {', '.join(wrong)[:600]}"
                      + (f"; {len(unchecked)} other(s) not compared: {problem}" if unchecked else ""), *evidence)
    if unchecked:
        raise NotEvaluable(problem)
    if found[KeyMatch.OTHER_SEAL_KEY.value]:
        raise NotEvaluable(f"{SETTING} was made under another seal key (rotated since): deploy again with alertsKeyDigest "
                           "made under the current one")
    if not found[KeyMatch.MATCHES.value]:
        return passed("no action group posts to Firestop's /api/alerts in this subscription", *evidence)
    return passed(f"every webhook receiver posting to Firestop ({len(found[KeyMatch.MATCHES.value])}) sends the alerts key "
                  "the deployment set", *evidence)


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

