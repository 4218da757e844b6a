"""A18-03 (fixed, trustkey18): a retired seal key no longer *makes* standing decisions — an admin's rule trust.

Attacker: whoever holds the rotated-out key (the README's reason to rotate is a suspected exposure; the key is kept
retired up to a year for undo) and Storage Blob Data write on the records container (C). seal18 / RT20-01 made the
four purposes that command an action *now* (LIVE_PURPOSES) current-key only, and left "everything sealed for the
record" to every key of the ring. A trusted-rule entry (``Purpose.TRUSTED_RULE``) is not a record: it decides, at
every later alert, that the rule's incidents run without a responder. Sealed with the retired key and planted, it was
believed — the attacker's own alert rule routed to ``leaked-api-key`` acted unattended; an ``action: trust`` event
after an admin's untrust revived the trust. (defender18's receipts and RT19-04's claims: not covered here.)

Fix: a chain whose newest verified event is a trust sealed with a retired key is not trusted (``trust_state``
``"rekey"``, ``rules list`` ``re-trust``) until an admin trusts it again; an untrust sealed with a retired key still
revokes; a local ``seal-key rotate`` carries what was trusted at the moment of the rotation (the newest trust of each
chain, sealed anew under the new key before the switch). All seven tests fail before the fix (the planted trust is
believed; a rotated trust stays trusted with no re-trust flag; ``rotate`` takes no ``carry``; ``seal-key rotate``
says nothing of the trusts).
"""

from __future__ import annotations

import pytest

from firestop.infra import trusted_rules as tr
from firestop.storage.local import LocalStore
from firestop.trust.seal import SealKey

ATTACKERS_RULE = {"id": "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/"
                        "Microsoft.Insights/scheduledQueryRules/aoai-leaked-key-usage-copy",
                  "type": "Microsoft.Insights/scheduledQueryRules",
                  "properties": {"criteria": {"allOf": []}, "firestop-playbook": "leaked-api-key"}}


def test_a_trust_sealed_with_the_retired_key_after_the_rotation_is_not_believed(firestop_home):
    from firestop.trust.keyring import rotate
    from firestop.trust.seal import load_seal_key

    store = LocalStore(firestop_home / "records", "records")
    exposed = load_seal_key(firestop_home).current  # the key the attacker copied (FIRESTOP_HOME/seal-key)
    assert isinstance(exposed, SealKey)
    rotate(firestop_home)  # the README's answer to a suspected exposure: the exposed key is retired, kept for undo
    ring = load_seal_key(firestop_home)
    assert exposed.kid in [k.kid for k in ring.retired] and ring.kid != exposed.kid
    assert tr.is_trusted(store, ATTACKERS_RULE, key=ring) is False
    # C plants an entry sealed with the exposed key, dated after the rotation
    assert tr.trust_rule(store, ATTACKERS_RULE, by="oid-nobody", at="2026-12-06T00:00:00Z", key=exposed)[1]
    assert tr.is_trusted(store, ATTACKERS_RULE, key=ring) is False  # fails: True — the rule acts unattended


def test_a_trust_sealed_before_the_rotation_is_carried_by_the_rotation(firestop_home):
    from firestop.trust.keyring import rotate
    from firestop.trust.seal import load_seal_key

    store = LocalStore(firestop_home / "records", "records")
    assert tr.trust_rule(store, ATTACKERS_RULE, by="oid-admin", at="2026-12-05T00:00:00Z",
                         key=load_seal_key(firestop_home))[1]
    carried: list[int] = []
    rotate(firestop_home, carry=lambda ring: carried.append(tr.reseal_trusts(store, ring)))
    ring = load_seal_key(firestop_home)
    assert carried == [1]
    assert tr.trust_state(store, ATTACKERS_RULE, key=ring) == "trusted"
    [entry] = tr.listing(store, key=ring)["entries"]
    assert (entry["state"], entry["trusted_by"], entry["trusted_at"]) == ("trusted", "oid-admin", "2026-12-05T00:00:00Z")
    # a second rotation carries it again (sealed with the key current until then), and only once per rotation
    rotate(firestop_home, carry=lambda ring: carried.append(tr.reseal_trusts(store, ring)))
    assert carried == [1, 1] and tr.is_trusted(store, ATTACKERS_RULE, key=load_seal_key(firestop_home)) is True


def test_without_the_carry_a_rotated_trust_asks_for_re_trust_and_rules_trust_restores_it(firestop_home):
    from firestop.trust.keyring import rotate
    from firestop.trust.seal import load_seal_key

    store = LocalStore(firestop_home / "records", "records")
    assert tr.trust_rule(store, ATTACKERS_RULE, by="oid-admin", at="2026-12-05T00:00:00Z",
                         key=load_seal_key(firestop_home))[1]
    rotate(firestop_home)  # (the ring rotated by a deployment on Azure: nothing carried)
    ring = load_seal_key(firestop_home)
    assert tr.trust_state(store, ATTACKERS_RULE, key=ring) == "rekey"
    assert tr.is_trusted(store, ATTACKERS_RULE, key=ring) is False
    [entry] = tr.listing(store, key=ring)["entries"]
    assert (entry["state"], entry["retrust"]) == ("re-trust", tr.RETRUST_KEY)
    entry, written = tr.trust_rule(store, ATTACKERS_RULE, by="oid-admin", at="2026-12-06T00:00:00Z", key=ring)
    assert written and entry["event"] == 2
    assert tr.trust_state(store, ATTACKERS_RULE, key=ring) == "trusted"


def test_an_untrust_sealed_with_the_retired_key_still_revokes_and_a_planted_trust_does_not_revive(firestop_home):
    from firestop.trust.keyring import rotate
    from firestop.trust.seal import load_seal_key

    store = LocalStore(firestop_home / "records", "records")
    exposed = load_seal_key(firestop_home).current
    assert tr.trust_rule(store, ATTACKERS_RULE, by="oid-admin", at="2026-12-05T00:00:00Z", key=exposed)[1]
    rotate(firestop_home, carry=lambda ring: tr.reseal_trusts(store, ring))
    ring = load_seal_key(firestop_home)
    assert tr.is_trusted(store, ATTACKERS_RULE, key=ring) is True
    # an untrust under the retired key (one made just before the rotation, or by the key's holder) removes authority
    assert tr.untrust_rule(store, ATTACKERS_RULE["id"], by="oid-x", at="2026-12-06T00:00:00Z", key=exposed)
    assert tr.trust_state(store, ATTACKERS_RULE, key=ring) is None
    # the key's holder appends `action: trust` after it: not believed
    assert tr.trust_rule(store, ATTACKERS_RULE, by="oid-x", at="2026-12-06T01:00:00Z", key=exposed)[1]
    assert tr.trust_state(store, ATTACKERS_RULE, key=ring) == "rekey"
    # and a later rotation does not carry it (it was not trusted then)
    carried: list[int] = []
    rotate(firestop_home, carry=lambda ring: carried.append(tr.reseal_trusts(store, ring)))
    assert carried == [0] and tr.is_trusted(store, ATTACKERS_RULE, key=load_seal_key(firestop_home)) is False


def test_seal_key_rotate_carries_the_trusts_and_says_how_many(firestop_home):
    import json

    from typer.testing import CliRunner

    from firestop.cli.main import app
    from firestop.records.store import records_store
    from firestop.settings import get_settings
    from firestop.trust.seal import load_seal_key

    store = records_store(get_settings())
    assert tr.trust_rule(store, ATTACKERS_RULE, by="oid-admin", at="2026-12-05T00:00:00Z",
                         key=load_seal_key(firestop_home))[1]
    result = CliRunner().invoke(app, ["seal-key", "rotate", "--as", "oid-admin", "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    done = json.loads(result.output)
    assert done["rotated"] is True and done["resealed_trusts"] == 1
    assert tr.trust_state(store, ATTACKERS_RULE, key=load_seal_key(firestop_home)) == "trusted"


# --- through the CLI and the audit, on the sandbox tenant ------------------------------------------------------------

def test_rules_check_list_and_trust_after_a_rotation_that_carried_nothing(firestop_home, monkeypatch):
    import json

    from firestop.trust.keyring import rotate
    from tests.rules14.test_rules_trust_cli import cli
    from tests.rules16.test_rules_untrust_list import _trusted_foreign_rule

    monkeypatch.setenv("FIRESTOP_ALERT_SOURCE_CHECK", "on")
    _, rule_id = _trusted_foreign_rule(firestop_home)
    rotate(firestop_home)  # (as a deployment rotates the ring on Azure: no trust carried)
    checked = cli("rules", "check", rule_id, "--json")
    assert checked.exit_code == 3, checked.output
    shown = json.loads(checked.stdout)
    assert shown["trusted"] is False and shown["retrust"] == tr.RETRUST_KEY and tr.RETRUST_KEY in shown["why"]
    [entry] = json.loads(cli("rules", "list", "--json").stdout)["entries"]
    assert entry["state"] == "re-trust" and entry["retrust"] == tr.RETRUST_KEY
    assert tr.RETRUST_KEY in cli("rules", "list").stdout
    trusted = cli("rules", "trust", rule_id, "--as", "oid-admin", "--json")
    assert trusted.exit_code == 0 and json.loads(trusted.stdout)["written"] is True, trusted.output
    checked = json.loads(cli("rules", "check", rule_id, "--json").stdout)
    assert checked["trusted"] is True and "retrust" not in checked


def test_the_audit_names_a_rule_trusted_under_a_retired_key_and_does_not_count_it(firestop_home):
    from azure.mgmt.monitor import MonitorManagementClient

    from firestop.azure.alerts_management import AlertsManagementClient
    from firestop.records.store import records_store
    from firestop.sandbox import Tenant
    from firestop.settings import REPO_ROOT
    from firestop.tabletop.detection import deploy_detection
    from firestop.trust.keyring import rotate
    from firestop.trust.seal import load_seal_key
    from tests.playbooks.test_detect_rules import PROFILE
    from tests.trust17.test_t17_muted_trusted_rule import _audit

    tenant = Tenant.load()
    deploy_detection(tenant, REPO_ROOT / "playbooks")
    monitor = MonitorManagementClient(tenant.credential, tenant.subscription_id, transport=tenant.transport, profile=PROFILE)
    client = AlertsManagementClient(tenant.credential, transport=tenant.transport)
    store = records_store(firestop_home / "records")
    edited = []
    for rule in monitor.scheduled_query_rules.list_by_subscription():
        if rule.name.startswith("aoai-leaked-key-usage"):  # no longer the detection as deployed: fed only if trusted
            rule.criteria.all_of[0].threshold = 2
            monitor.scheduled_query_rules.create_or_update(rule.id.split("/")[4], rule.name, rule)
            assert tr.trust_rule(store, client.get_rule(rule.id), by="oid-admin", at="2026-12-05T00:00:00Z",
                                 key=load_seal_key(firestop_home))[1]
            edited.append(rule)
    assert len(edited) == 2
    assert "leaked-api-key" not in _audit(tenant, firestop_home).detail
    rotate(firestop_home)
    result = _audit(tenant, firestop_home)
    assert "leaked-api-key" in result.detail and tr.RETRUST_KEY in result.detail, result.detail
    assert {r.name for r in edited} <= set(next(e.value for e in result.evidence if "retired seal key" in e.read))
