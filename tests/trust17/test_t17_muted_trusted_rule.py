"""trust17 item 1: a rule an admin trusted could be muted afterwards and stay trusted.

rulemute16 made the detection comparison cover ``kind``, ``muteActionsDuration``, ``autoMitigate`` and
``ruleResolveConfiguration`` (:func:`firestop.infra.rule_trust.notification`), but an admin's sealed trusted-rule entry
bound :func:`~firestop.infra.rule_trust.criteria_digest`, which does not: muting a trusted rule for a day (only the
day's first alert reaches Firestop) kept it trusted, for the source check and for ``monitoring.alert-rules``.
Now new entries bind digest version 2 (:func:`~firestop.infra.rule_trust.trust_digest`), and an entry sealed before
(version 1, made here as the code before trust17 wrote it) holds only while the rule sets no mute or resolve of its
own, flagged "re-trust" by ``rules list``/``rules check`` and the audit.

Every test failed on main at 8830437 (run side by side): on behaviour ``test_muting_a_trusted_rule_voids_its_trust``
and ``test_an_old_entry_no_longer_trusts_a_rule_muted_since`` (is_trusted of the muted rule True),
``test_rules_check_refuses_a_muted_trusted_rule`` (exit 0, ``trusted: true``) and the untrust test (one version
revoked); the others on the names they check (``trust_state``, ``RETRUST``, ``retrust``, ``entry_name``'s version).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from firestop.infra import trusted_rules as tr
from firestop.infra.rule_trust import criteria_digest
from firestop.seal_contract import Purpose
from firestop.storage.local import LocalStore
from firestop.trust.seal import SealKey, seal

RULE = {"id": "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.Insights/"
              "scheduledQueryRules/customers-own-leak-rule",
        "type": "Microsoft.Insights/scheduledQueryRules",
        "properties": {"scopes": ["/subscriptions/00000000-0000-0000-0000-000000000001"], "evaluationFrequency": "PT5M",
                       "windowSize": "PT5M", "criteria": {"allOf": [{"query": "AzureDiagnostics | take 1",
                                                                      "timeAggregation": "Count", "operator": "GreaterThan",
                                                                      "threshold": 0}]}}}


def _muted(rule: dict, **props) -> dict:
    out = copy.deepcopy(rule)
    out["properties"].update(props or {"muteActionsDuration": "P1D"})
    return out


def plant_v1_trust(store, rule: dict, key, *, by: str = "oid-admin") -> None:
    """An admin's trust as sealed before trust17 (trusted_rules at 8830437): a document without digest_version,
    ``criteria`` the version 1 digest, bound to ``"<id lower>|<criteria digest>"`` at sha256 of that."""
    import hashlib

    crit = criteria_digest(rule)
    bound = f"{rule['id'].strip().lower()}|{crit}"
    document = {"rule_id": rule["id"], "criteria": crit, "trusted_by": by, "trusted_at": "2026-11-01T00:00:00Z",
                "playbooks": ["leaked-api-key"]}
    name = f"{tr.PREFIX}{hashlib.sha256(bound.encode()).hexdigest()}.json"
    store.create(name, json.dumps(seal(Purpose.TRUSTED_RULE, document, binding=bound, key=key), sort_keys=True).encode())


@pytest.fixture
def store_key(tmp_path: Path):
    return LocalStore(tmp_path / "records", "records"), SealKey("t17-" + "k" * 40, "test")


def test_muting_a_trusted_rule_voids_its_trust(store_key):
    store, key = store_key
    entry, written = tr.trust_rule(store, RULE, by="oid-admin", at="2026-12-05T08:00:00Z", key=key)
    for change in ({"muteActionsDuration": "P1D"}, {"autoMitigate": False},
                   {"ruleResolveConfiguration": {"autoResolved": True, "timeToResolve": "PT1H"}}):
        assert tr.is_trusted(store, _muted(RULE, **change), key=key) is False, change  # before: True
    assert tr.is_trusted(store, _muted(RULE, muteActionsDuration="PT0M"), key=key)  # the spec's default, spelled out
    from firestop.infra.rule_trust import trust_digest

    assert entry["digest_version"] == 2 and entry["criteria"] == trust_digest(RULE)
    assert tr.trust_state(store, RULE, key=key) == "trusted"
    # the admin may trust the muted version knowingly: a version 2 entry of its own
    _, written = tr.trust_rule(store, _muted(RULE), by="oid-admin", at="2026-12-05T08:01:00Z", key=key)
    assert written and tr.trust_state(store, _muted(RULE), key=key) == "trusted"


def test_an_old_entry_still_trusts_the_unmuted_rule_but_asks_for_a_retrust(store_key):
    store, key = store_key
    plant_v1_trust(store, RULE, key)
    assert tr.trust_state(store, RULE, key=key) == "retrust" and tr.is_trusted(store, RULE, key=key)
    [entry] = tr.listing(store, key)["entries"]
    assert entry["digest_version"] == 1 and entry["state"] == "trusted"
    assert entry["retrust"] == tr.RETRUST == "trusted before mute fields were covered: re-trust"
    # re-trusting writes a version 2 entry, which decides from then on
    entry, written = tr.trust_rule(store, RULE, by="oid-admin", at="2026-12-05T08:02:00Z", key=key)
    assert written and entry["digest_version"] == 2
    assert tr.trust_state(store, RULE, key=key) == "trusted"
    states = {e["digest_version"]: e for e in tr.listing(store, key)["entries"]}
    assert "retrust" not in states[2] and states[2]["state"] == "trusted"


def test_an_old_entry_no_longer_trusts_a_rule_muted_since(store_key):
    store, key = store_key
    plant_v1_trust(store, RULE, key)
    assert tr.is_trusted(store, RULE, key=key)
    for change in ({"muteActionsDuration": "P1D"}, {"autoMitigate": False}):
        assert tr.is_trusted(store, _muted(RULE, **change), key=key) is False, change  # before: True


def test_untrust_revokes_both_versions_and_a_v2_untrust_is_not_undone_by_a_v1_trust(store_key):
    store, key = store_key
    plant_v1_trust(store, RULE, key)
    tr.trust_rule(store, RULE, by="oid-admin", at="2026-12-05T08:03:00Z", key=key)
    revoked = tr.untrust_rule(store, RULE["id"], by="oid-admin", at="2026-12-05T08:04:00Z", key=key)
    assert sorted(e.get("digest_version", 1) for e in revoked) == [1, 2]
    assert tr.trust_state(store, RULE, key=key) is None
    listed = tr.listing(store, key)["entries"]
    assert [e["state"] for e in listed] == ["revoked", "revoked"] and not any("retrust" in e for e in listed)
    # a version 2 chain that says untrust decides even when the older version 1 chain says trust again (event 3,
    # sealed as the code before trust17 would have written it)
    crit = criteria_digest(RULE)
    [h] = {n[len(tr.PREFIX):len(tr.PREFIX) + 64] for n in store.names(tr.PREFIX) if n.endswith(".2.json")
           and json.loads(store.read(n)).get("digest_version") is None}
    again = {"rule_id": RULE["id"], "criteria": crit, "playbooks": [], "event": 3, "action": "trust", "by": "oid-admin", "at": "t"}
    store.create(f"{tr.PREFIX}{h}.3.json", json.dumps(seal(Purpose.TRUSTED_RULE, again, key=key,
                                                           binding=f"{RULE['id'].lower()}|{crit}|3")).encode())
    assert tr.listing(store, key)["entries"][0]["state"] == "trusted" or tr.listing(store, key)["entries"][1]["state"] == "trusted"
    assert tr.trust_state(store, RULE, key=key) is None


def test_a_version_1_document_is_not_read_as_version_2(store_key, tmp_path):
    """A sealed version 1 event copied to the rule's version 2 name does not verify there (its criteria and binding
    are the version 1 digest's), and a version 2 event with digest_version removed no longer carries its seal."""
    store, key = store_key
    plant_v1_trust(store, RULE, key)
    [name] = store.names(tr.PREFIX)
    store.create(tr.entry_name(RULE, 2), store.read(name))
    assert tr.trust_state(store, _muted(RULE), key=key) is None
    other = copy.deepcopy(RULE)
    other["id"] = other["id"] + "-2"
    tr.trust_rule(store, other, by="oid-admin", at="t", key=key)
    v2 = tr.entry_name(other, 2)
    document = json.loads(store.read(v2))
    del document["digest_version"]
    store2 = LocalStore(Path(str(tmp_path)) / "records2", "records")
    store2.create(v2, json.dumps(document).encode())
    assert tr.trust_state(store2, other, key=key) is None


# --- through the CLI and the audit, on the sandbox tenant ------------------------------------------------------------

def test_rules_check_refuses_a_muted_trusted_rule(firestop_home, monkeypatch):
    from tests.rules14.test_rules_trust_cli import _edit, cli
    from tests.rules16.test_rules_untrust_list import _trusted_foreign_rule

    monkeypatch.setenv("FIRESTOP_ALERT_SOURCE_CHECK", "on")
    _, rule_id = _trusted_foreign_rule(firestop_home)
    assert json.loads(cli("rules", "check", rule_id, "--json").stdout)["trusted"] is True
    _edit(rule_id, mute_actions_duration="P1D")
    checked = cli("rules", "check", rule_id, "--json")
    assert checked.exit_code == 3 and json.loads(checked.stdout)["trusted"] is False, checked.output  # before: 0, True


def test_rules_check_and_list_flag_an_old_entry(firestop_home, monkeypatch):
    from firestop.records.store import records_store
    from firestop.settings import get_settings
    from firestop.trust.seal import load_seal_key
    from tests.rules14.test_rules_trust_cli import _delivery, cli
    from tests.redteam17.test_rt17_foreign_alert_rule import _foreign_rule_alert

    monkeypatch.setenv("FIRESTOP_ALERT_SOURCE_CHECK", "on")
    body = _foreign_rule_alert(route_property=True)
    rule_id = body["data"]["essentials"]["alertRuleID"]
    assert cli("alert", "handle", _delivery(firestop_home, body), "--json").exit_code == 3  # (registers the rule)
    from firestop.cli.wiring import sandbox_environment

    env = sandbox_environment()
    try:
        rule = env.clients.alerts_management().get_rule(rule_id)
    finally:
        env.close()
    plant_v1_trust(records_store(get_settings()), rule, load_seal_key(firestop_home))
    checked = cli("rules", "check", rule_id, "--json")
    assert checked.exit_code == 0 and json.loads(checked.stdout)["retrust"] == tr.RETRUST, checked.output
    assert "re-trust" in cli("rules", "check", rule_id).stdout
    [entry] = json.loads(cli("rules", "list", "--json").stdout)["entries"]
    assert entry["retrust"] == tr.RETRUST and entry["digest_version"] == 1
    assert tr.RETRUST in cli("rules", "list").stdout
    assert cli("rules", "trust", rule_id, "--as", "oid-admin", "--json").exit_code == 0
    checked = json.loads(cli("rules", "check", rule_id, "--json").stdout)
    assert checked["trusted"] is True and "retrust" not in checked


def _audit(tenant, home) -> object:
    from firestop.audit import AuditContext, run_audit
    from firestop.audit.registry import all_controls
    from firestop.azure.clients import ClientFactory
    from firestop.playbooks import load_playbooks
    from firestop.sandbox.probe import unserved
    from firestop.settings import REPO_ROOT, Settings
    from tests.redteam18.test_rt18_audit_decoy_rule import WORKSPACE_GUID

    clients = ClientFactory(credential=tenant.credential, transport=tenant.transport, clock=tenant.clock, sandbox=True)
    settings = Settings.from_env(home=str(home), key_vault_url="https://kv-contoso-ai.vault.azure.net",
                                 log_workspace_id=WORKSPACE_GUID, automation_principal_id=tenant.credential.principal_id)
    chosen = [c for c in all_controls() if c.id == "monitoring.alert-rules"]
    audit = run_audit(AuditContext(clients=clients, settings=settings, subscription=tenant.subscription_id, unserved=unserved,
                                   playbooks=tuple(load_playbooks(REPO_ROOT / "playbooks"))), controls=chosen)
    (result,) = audit.results
    return result


def test_a_muted_old_trusted_rule_no_longer_feeds_its_playbook_in_the_audit(firestop_home):
    """Both of the leaked-key detection's copies are edited (threshold 2: no longer the detection as deployed) and an
    admin trusted them before trust17: the control passes and names them for a re-trust; muted afterwards, they feed
    nothing and the control fails (before: passed)."""
    from azure.mgmt.monitor import MonitorManagementClient

    from firestop.records.store import records_store
    from firestop.sandbox import Tenant
    from firestop.settings import REPO_ROOT
    from firestop.tabletop.detection import deploy_detection
    from firestop.trust.seal import load_seal_key
    from tests.playbooks.test_detect_rules import PROFILE

    tenant = Tenant.load()
    deploy_detection(tenant, REPO_ROOT / "playbooks")
    monitor = MonitorManagementClient(tenant.credential, tenant.subscription_id, transport=tenant.transport, profile=PROFILE)
    from firestop.azure.alerts_management import AlertsManagementClient

    client = AlertsManagementClient(tenant.credential, transport=tenant.transport)
    store, key = records_store(firestop_home / "records"), load_seal_key(firestop_home)
    edited = []
    for rule in monitor.scheduled_query_rules.list_by_subscription():
        if rule.name.startswith("aoai-leaked-key-usage"):
            rule.criteria.all_of[0].threshold = 2
            monitor.scheduled_query_rules.create_or_update(rule.id.split("/")[4], rule.name, rule)
            plant_v1_trust(store, client.get_rule(rule.id), key)
            edited.append(rule)
    assert len(edited) == 2
    result = _audit(tenant, firestop_home)
    assert "leaked-api-key" not in result.detail and tr.RETRUST in result.detail, result.detail
    assert {r.name for r in edited} <= set(next(e.value for e in result.evidence if "re-trust" in e.read))
    for rule in edited:
        rule.mute_actions_duration = "P1D"
        monitor.scheduled_query_rules.create_or_update(rule.id.split("/")[4], rule.name, rule)
    result = _audit(tenant, firestop_home)
    assert result.status.value == "fail" and "leaked-api-key" in result.detail, (result.status, result.detail)
