"""A16-01 (attacker C, a Storage Blob Data writer on the records container): a revocation that does not revoke.

``rules untrust`` writes its event at ``max(every event number listed) + 1`` — planted numbers included — and the chain
reader only reads numbers of at most nine digits (``trusted_rules._EVENT``). A writer lists ``trusted-rules/`` (the
trusted versions' names are there to read) and plants ``<h>.999999999.json`` (junk: it need not verify): the admin's
untrust is then written at ``<h>.1000000000.json``, a name no reader ever reads, and reported as a revocation (exit 0,
``revoked`` naming the event) while the rule stays trusted and its alerts keep acting without a responder. The same
plant one lower makes ``rules trust`` of a revoked rule answer "chain is full" for ever.
"""

from __future__ import annotations

import json

from tests.rules16.test_rules_untrust_list import _trusted_foreign_rule
from tests.rules14.test_rules_trust_cli import cli


def _plant(firestop_home, n: int) -> None:
    from firestop.infra.trusted_rules import PREFIX
    from firestop.storage.local import LocalStore

    store = LocalStore(firestop_home / "records", "records")
    [base] = {name.split(".")[0] for name in store.names(PREFIX)}
    store.create(f"{base}.{n}.json", b"{}")  # junk: no seal needed, only the number counts


def test_a16_01_a_planted_high_event_number_makes_untrust_write_where_nobody_reads(firestop_home, monkeypatch):
    monkeypatch.setenv("FIRESTOP_ALERT_SOURCE_CHECK", "on")
    _, rule_id = _trusted_foreign_rule(firestop_home)
    _plant(firestop_home, 999_999_999)
    revoked = cli("rules", "untrust", rule_id, "--as", "oid-admin", "--json")
    assert revoked.exit_code == 0, revoked.output
    assert json.loads(revoked.stdout)["revoked"], revoked.output  # the admin is told it is revoked ...
    checked = cli("rules", "check", rule_id, "--json")
    assert json.loads(checked.stdout)["trusted"] is False, checked.output  # ... so it must be (it stayed trusted)
    assert json.loads(cli("rules", "list", "--json").stdout)["entries"] == []


def test_a16_01_a_planted_event_number_cannot_block_trusting_a_revoked_rule_again(firestop_home, monkeypatch):
    monkeypatch.setenv("FIRESTOP_ALERT_SOURCE_CHECK", "on")
    _, rule_id = _trusted_foreign_rule(firestop_home)
    assert cli("rules", "untrust", rule_id, "--as", "oid-admin", "--json").exit_code == 0
    _plant(firestop_home, 999_999_999)
    again = cli("rules", "trust", rule_id, "--as", "oid-admin", "--json")
    assert again.exit_code == 0 and json.loads(again.stdout)["written"] is True, again.output
    assert json.loads(cli("rules", "check", rule_id, "--json").stdout)["trusted"] is True
    assert cli("rules", "untrust", rule_id, "--as", "oid-admin", "--json").exit_code == 0
    assert json.loads(cli("rules", "check", rule_id, "--json").stdout)["trusted"] is False
