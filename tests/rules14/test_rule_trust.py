"""RT17-01's trust anchor (firestop/infra/rule_trust.py, firestop/infra/trusted_rules.py): a fired alert rule is one
Firestop may act on without a responder only when it is the routed playbook's own detection as ``firestop infra``
deploys it, or an admin trusted this very version of it.

Rules are written into the sandbox tenant through azure-mgmt-monitor and read back through the source check's own
client (``AlertsManagementClient.get_rule``, the SDK pipeline with the sandbox as its transport), as on Azure."""

from __future__ import annotations

import copy
import json

import pytest
from azure.mgmt.monitor import MonitorManagementClient

from firestop.azure.alerts_management import AlertsManagementClient
from firestop.infra.rule_trust import criteria_digest, trusted_detection
from firestop.playbooks import load_playbooks
from firestop.sandbox import Tenant
from firestop.settings import REPO_ROOT
from tests.playbooks.test_detect_rules import PROFILE

SUB = "11111111-2222-3333-4444-555555555555"
PROD = f"/subscriptions/{SUB}/resourceGroups/rg-ai-prod/providers/Microsoft.CognitiveServices/accounts/contoso-openai-prod"
WORKSPACE_GUID = "0a6c2f6e-7f1c-4f61-9d3a-5c1f2d9e8b7a"  # law-contoso-sec's customerId (the sandbox's evidence workspace)
RULES = "/providers/Microsoft.Insights/scheduledQueryRules/"


@pytest.fixture
def deployed(firestop_home):
    """The tenant with every playbook's detection deployed as ``firestop infra`` deploys it (the tabletop's
    :func:`firestop.tabletop.detection.deploy_detection`), the source check's client and the playbooks by name."""
    from firestop.tabletop.detection import deploy_detection

    tenant = Tenant.load()
    ids = deploy_detection(tenant, REPO_ROOT / "playbooks")
    client = AlertsManagementClient(tenant.credential, transport=tenant.transport)
    monitor = MonitorManagementClient(tenant.credential, SUB, transport=tenant.transport, profile=PROFILE)
    playbooks = {p.name: p for p in load_playbooks(REPO_ROOT / "playbooks")}
    return tenant, ids, client, monitor, playbooks


def _check(rule, playbooks, client, tenant, *, target=PROD, playbook="leaked-api-key", workspace=WORKSPACE_GUID):
    return trusted_detection(rule, playbooks[playbook], target=target.lower(), read_workspace=client.get_workspace,
                             workspace_guid=workspace, automation_principal_id=tenant.credential.principal_id,
                             read_rule=client.get_rule)


def _target_of(rule: dict, accounts: list[str]) -> str:
    """The account a deployed rule's alert targets: its scope, else the account its name ends with (a workspace rule:
    ``<rule>-<account>``), else (an activity log alert, at subscription scope) the production account."""
    scope = rule["properties"]["scopes"][0]
    if "/microsoft.cognitiveservices/accounts/" in scope.lower():
        return scope
    return next((a for a in accounts if rule["name"].lower().endswith("-" + a.rsplit("/", 1)[-1].lower())), PROD)


def test_every_shipped_detection_as_deployed_is_trusted(deployed):
    """Every rule of every playbook (both protected accounts, all three kinds, the workspace-scoped one) read back from
    the tenant is its playbook's detection: nothing Firestop ships waits for a responder because of RT17-01."""
    from firestop.azure.alerts_management import rule_routes

    from firestop.tabletop.detection import _accounts

    tenant, ids, client, _, playbooks = deployed
    accounts = _accounts(tenant)
    assert len(accounts) == 2
    checked = []
    for rule_id in ids[1:]:
        if "/diagnosticsettings/" in rule_id.lower():
            continue
        rule = client.get_rule(rule_id)
        (route,) = rule_routes(rule)
        account = _target_of(rule, accounts)
        why = _check(rule, playbooks, client, tenant, target=account, playbook=route)
        assert why is None, (rule_id, why)
        checked.append(rule_id.rsplit("/", 2)[-2].lower())
    assert {"scheduledqueryrules", "metricalerts", "activitylogalerts"} <= set(checked) and len(checked) >= 20


def test_an_identical_rule_in_another_resource_group_is_trusted(deployed):
    """The same rule written by somebody else, under another name, in their own resource group: trusted. That is safe:
    it reads the same data (the account's own logs, scoped to the target) with the same query, threshold and window,
    so it fires exactly when Firestop's own rule fires — its author gains nothing they could not get by waiting."""
    tenant, _, client, monitor, playbooks = deployed
    ours = client.get_rule(f"/subscriptions/{SUB}/resourceGroups/rg-ai-prod{RULES}aoai-leaked-key-usage-contoso-openai-prod")
    body = {"location": ours["location"], "kind": "LogAlert", "properties": copy.deepcopy(ours["properties"])}
    body["properties"]["displayName"] = "appteam-copy"
    body["properties"]["description"] = "somebody else's copy"
    copied = monitor.scheduled_query_rules.create_or_update("rg-ai-dev", "appteam-copy", body)
    rule = client.get_rule(copied.id)
    assert "/resourceGroups/rg-ai-dev/" in rule["id"] or "/resourcegroups/rg-ai-dev/" in rule["id"].lower()
    assert _check(rule, playbooks, client, tenant) is None


@pytest.mark.parametrize("change, differs", [
    (lambda p: p["criteria"]["allOf"][0].update(threshold=0), "allOf[0].threshold differs"),
    (lambda p: p["criteria"]["allOf"][0].update(query="AzureDiagnostics | summarize requests = count() by CallerIPAddress"), "allOf[0].query differs"),
    (lambda p: p["criteria"]["allOf"][0].update(query=p["criteria"]["allOf"][0]["query"].replace("200", "401")), "allOf[0].query differs"),
    (lambda p: p["criteria"]["allOf"][0].update(operator="LessThan"), "allOf[0].operator differs"),
    (lambda p: p["criteria"]["allOf"][0]["failingPeriods"].update(minFailingPeriodsToAlert=1, numberOfEvaluationPeriods=2), "allOf[0].failingPeriods differs"),
    (lambda p: p.update(windowSize="P1D"), "windowSize differs"),
    (lambda p: p.update(evaluationFrequency="PT15M"), "evaluationFrequency differs"),
    (lambda p: p.update(overrideQueryTimeRange="P2D"), "overrideQueryTimeRange differs"),
    (lambda p: p.update(scopes=[PROD.replace("contoso-openai-prod", "contoso-openai-dev").replace("rg-ai-prod", "rg-ai-dev")]), "scopes differs"),
    (lambda p: p["actions"]["customProperties"].update({"firestop-nsg": "/x"}), "firestop-* custom properties differ"),
], ids=["threshold", "query", "query-one-literal", "operator", "failing-periods", "window", "frequency", "time-range",
        "scope", "extra-firestop-property"])
def test_the_same_rule_with_a_changed_condition_or_scope_is_not_trusted(deployed, change, differs):
    tenant, _, client, monitor, playbooks = deployed
    ours = client.get_rule(f"/subscriptions/{SUB}/resourceGroups/rg-ai-prod{RULES}aoai-leaked-key-usage-contoso-openai-prod")
    rule = copy.deepcopy(ours)
    change(rule["properties"])
    why = _check(rule, playbooks, client, tenant)
    assert why is not None and f"whose {differs})" in why, why
    assert "aoai-leaked-key-usage" in why  # names the detection it resembles


def test_closest_names_every_difference_bounded(deployed):
    """rules16: "closest" named only the first field that differs; a rule edited in three places names all three,
    and one edited in more than MAX_NAMED_DIFFERENCES names that many and counts the rest."""
    from firestop.infra.rule_trust import MAX_NAMED_DIFFERENCES

    tenant, _, client, _, playbooks = deployed
    ours = client.get_rule(f"/subscriptions/{SUB}/resourceGroups/rg-ai-prod{RULES}aoai-leaked-key-usage-contoso-openai-prod")
    rule = copy.deepcopy(ours)
    rule["properties"].update(windowSize="P1D", evaluationFrequency="PT15M")
    rule["properties"]["criteria"]["allOf"][0].update(threshold=0)
    why = _check(rule, playbooks, client, tenant)
    assert "whose evaluationFrequency, windowSize and allOf[0].threshold differ)" in why, why
    condition = rule["properties"]["criteria"]["allOf"][0]
    condition.update(operator="LessThan", query="print 1", timeAggregation="Average", resourceIdColumn="x")
    rule["properties"].update(overrideQueryTimeRange="P2D")
    why = _check(rule, playbooks, client, tenant)
    named = why.split("whose ", 1)[1]
    assert named.endswith(f" and {8 - MAX_NAMED_DIFFERENCES} more differ)") and named.count(", ") == MAX_NAMED_DIFFERENCES - 1, why


def test_trailing_whitespace_of_the_query_is_the_only_normalisation(deployed):
    tenant, _, client, _, playbooks = deployed
    ours = client.get_rule(f"/subscriptions/{SUB}/resourceGroups/rg-ai-prod{RULES}aoai-leaked-key-usage-contoso-openai-prod")
    rule = copy.deepcopy(ours)
    condition = rule["properties"]["criteria"]["allOf"][0]
    condition["query"] = condition["query"].rstrip() + "\n\n  "
    assert _check(rule, playbooks, client, tenant) is None
    condition["query"] = "  " + condition["query"]  # leading: not normalised (nothing the check need not compare)
    assert _check(rule, playbooks, client, tenant) is not None


def test_a_rule_of_another_playbook_is_not_trusted_for_this_one(deployed):
    """suspicious-key-access's own rule routed to leaked-api-key: not leaked-api-key's detection."""
    tenant, _, client, _, playbooks = deployed
    rule = client.get_rule(f"/subscriptions/{SUB}/resourceGroups/rg-ai-prod{RULES}aoai-suspicious-key-access-contoso-openai-prod")
    assert _check(rule, playbooks, client, tenant, playbook="suspicious-key-access") is None
    assert _check(rule, playbooks, client, tenant, playbook="leaked-api-key") is not None


def test_a_workspace_rule_is_trusted_only_on_firestops_workspace(deployed):
    """The workspace-scoped rule reads rows another resource sent: on a workspace other than FIRESTOP_LOG_WORKSPACE_ID
    (one its author controls and could feed rows) it is not trusted; its endpoint must be the target account's."""
    tenant, _, client, _, playbooks = deployed
    rule = client.get_rule(f"/subscriptions/{SUB}/resourceGroups/rg-ai-prod{RULES}aoai-anomalous-usage-apim-contoso-openai-prod")
    assert _check(rule, playbooks, client, tenant, playbook="anomalous-usage") is None
    why = _check(rule, playbooks, client, tenant, playbook="anomalous-usage", workspace="ffffffff-0000-0000-0000-000000000000")
    assert why is not None and "not Firestop's (FIRESTOP_LOG_WORKSPACE_ID)" in why
    assert _check(rule, playbooks, client, tenant, playbook="anomalous-usage", workspace=None) is not None
    other = copy.deepcopy(rule)
    condition = other["properties"]["criteria"]["allOf"][0]
    condition["query"] = condition["query"].replace("https://contoso-openai-prod.", "https://contoso-openai-dev.")
    assert _check(other, playbooks, client, tenant, playbook="anomalous-usage") is not None  # another account's rows
    for host in ("contoso-openai-prod.evil.example", "contoso-openai-prod.openai.azure.com.evil.example"):
        elsewhere = copy.deepcopy(rule)  # another backend host whose name starts like the account's
        condition = elsewhere["properties"]["criteria"]["allOf"][0]
        condition["query"] = condition["query"].replace("https://contoso-openai-prod.openai.azure.com/", f"https://{host}/")
        assert _check(elsewhere, playbooks, client, tenant, playbook="anomalous-usage") is not None, host


def test_an_entry_written_without_the_seal_key_is_not_believed(deployed, firestop_home):
    """Attacker C (Storage Blob Data write on the records container) writes an entry in the right place: unsealed, it
    is not believed."""
    from firestop.infra.trusted_rules import entry_name, is_trusted
    from firestop.storage.local import LocalStore

    tenant, _, client, _, _ = deployed
    store = LocalStore(firestop_home / "records", "records")
    rule = client.get_rule(f"/subscriptions/{SUB}/resourceGroups/rg-ai-prod{RULES}aoai-leaked-key-usage-contoso-openai-prod")
    assert not is_trusted(store, rule)
    planted = {"rule_id": rule["id"], "criteria": criteria_digest(rule), "trusted_by": "oid-mallory", "trusted_at": "x",
               "playbooks": ["leaked-api-key"]}
    store.create(entry_name(rule), json.dumps(planted).encode(), "application/json")
    assert not is_trusted(store, rule)  # unsealed


def test_an_admins_entry_trusts_that_version_only(deployed, firestop_home):
    """An admin's sealed entry trusts this version of the rule: a later edit of its condition voids it, an edit of
    its description does not."""
    from firestop.infra.trusted_rules import is_trusted, trust_rule
    from firestop.storage.local import LocalStore

    tenant, _, client, _, _ = deployed
    store = LocalStore(firestop_home / "records", "records")
    rule = client.get_rule(f"/subscriptions/{SUB}/resourceGroups/rg-ai-prod{RULES}aoai-leaked-key-usage-contoso-openai-prod")
    entry, written = trust_rule(store, rule, by="oid-admin", at="2026-12-05T03:00:00Z")
    assert written and entry["trusted_by"] == "oid-admin" and "seal" in entry
    assert trust_rule(store, rule, by="oid-other", at="later")[1] is False  # create-only: the first entry stays
    assert is_trusted(store, rule)
    edited = copy.deepcopy(rule)
    edited["properties"]["criteria"]["allOf"][0]["threshold"] = 0
    assert not is_trusted(store, edited)
    renamed = copy.deepcopy(rule)
    renamed["properties"]["description"] = "only the words changed"
    assert is_trusted(store, renamed)  # what decides when it fires is the same


def test_an_activity_log_alert_is_trusted_only_with_its_condition_on_the_targets_subscription(deployed):
    tenant, ids, client, _, playbooks = deployed
    [rule_id] = [i for i in ids if i.lower().endswith("/activitylogalerts/aoai-public-network-change")]
    rule = client.get_rule(rule_id)
    assert _check(rule, playbooks, client, tenant, playbook="public-network-exposure") is None
    broader = copy.deepcopy(rule)  # any write in the subscription, not only an account's
    broader["properties"]["condition"]["allOf"] = [c for c in broader["properties"]["condition"]["allOf"]
                                                   if "anyOf" not in c and c.get("field") != "operationName"]
    assert "whose condition differs)" in _check(broader, playbooks, client, tenant, playbook="public-network-exposure")
    elsewhere = copy.deepcopy(rule)
    elsewhere["properties"]["scopes"] = ["/subscriptions/99999999-2222-3333-4444-555555555555"]
    assert "whose scopes differs)" in _check(elsewhere, playbooks, client, tenant, playbook="public-network-exposure")


def test_a_metric_alert_is_trusted_only_with_its_criterion(deployed):
    tenant, ids, client, _, playbooks = deployed
    [rule_id] = [i for i in ids if i.lower().endswith("/metricalerts/aoai-ratelimit-spike-contoso-openai-prod")]
    rule = client.get_rule(rule_id)
    assert _check(rule, playbooks, client, tenant, playbook="anomalous-usage") is None
    for change in (lambda c: c.update(threshold=0), lambda c: c.update(dimensions=[]),
                   lambda c: c.update(metricName="ProcessedPromptTokens"), lambda c: c.update(timeAggregation="Count")):
        edited = copy.deepcopy(rule)
        change(edited["properties"]["criteria"]["allOf"][0])
        assert "whose allOf[0]." in _check(edited, playbooks, client, tenant, playbook="anomalous-usage")


def test_an_unreadable_workspace_is_not_a_verdict_on_the_rule(deployed):
    """The workspace read failing after the pipeline's retries propagates (the source check answers ``unreadable``,
    not ``rule_not_trusted``: the rule may well be Firestop's own)."""
    from azure.core.exceptions import HttpResponseError

    tenant, _, client, _, playbooks = deployed
    rule = client.get_rule(f"/subscriptions/{SUB}/resourceGroups/rg-ai-prod{RULES}aoai-anomalous-usage-apim-contoso-openai-prod")
    tenant.inject_fault("workspaces.get", 503, times=20)  # more than the pipeline's retries
    with pytest.raises(HttpResponseError):
        _check(rule, playbooks, client, tenant, playbook="anomalous-usage")
