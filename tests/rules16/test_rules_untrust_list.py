"""rules16: ``rules untrust RULE_ID`` revokes an admin's trust (admin role as for trust, a sealed untrust entry beside
the trust: who, when) and ``rules list`` shows the trusted rules with who and when (``--revoked``: the revoked ones
too). Before: no such commands (typer's exit 2, "No such command"); a trust could not be taken back at all (the
records store is append-only, WORM on Azure)."""

from __future__ import annotations

import json

from tests.redteam17.test_rt17_foreign_alert_rule import _foreign_rule_alert
from tests.rules14.test_rules_trust_cli import _delivery, _edit, cli


def _trusted_foreign_rule(firestop_home) -> tuple[dict, str]:
    body = _foreign_rule_alert(route_property=True)
    rule_id = body["data"]["essentials"]["alertRuleID"]
    assert cli("alert", "handle", _delivery(firestop_home, body), "--json").exit_code == 3  # (registers the rule)
    _edit(rule_id, evaluation_frequency="PT5M")
    trusted = cli("rules", "trust", rule_id, "--as", "oid-admin", "--json")
    assert trusted.exit_code == 0 and json.loads(trusted.stdout)["written"] is True, trusted.output
    return body, rule_id


def test_list_untrust_and_trust_again(firestop_home, monkeypatch):
    monkeypatch.setenv("FIRESTOP_ALERT_SOURCE_CHECK", "on")
    body, rule_id = _trusted_foreign_rule(firestop_home)
    listed = cli("rules", "list", "--json")
    assert listed.exit_code == 0, listed.output
    [entry] = json.loads(listed.stdout)["entries"]
    assert entry["rule_id"].lower() == rule_id.lower() and entry["state"] == "trusted" and entry["trusted_by"] == "oid-admin"
    assert entry["trusted_at"].endswith("Z") and entry["playbooks"] == ["leaked-api-key"]
    assert entry["rule_id"] in cli("rules", "list").stdout and "trusted by oid-admin" in cli("rules", "list").stdout

    refused = cli("rules", "untrust", rule_id, "--as", "oid-mallory", "--json")  # admin role, as for trust
    assert refused.exit_code == 2 and "does not hold the admin role" in json.loads(refused.stdout)["error"]
    assert json.loads(cli("rules", "check", rule_id, "--json").stdout)["trusted"] is True

    revoked = cli("rules", "untrust", rule_id.upper().replace("/SUBSCRIPTIONS/", "/subscriptions/"), "--as", "oid-admin", "--json")
    assert revoked.exit_code == 0, revoked.output
    [event] = json.loads(revoked.stdout)["revoked"]
    assert event["by"] == "oid-admin" and event["event"] == 2 and "seal" not in event
    checked = cli("rules", "check", rule_id, "--json")
    assert checked.exit_code == 3 and json.loads(checked.stdout)["trusted"] is False
    waits = cli("alert", "handle", _delivery(firestop_home, body, fired_now=True), "--json")
    assert waits.exit_code == 3, waits.output  # its alerts wait for a responder again
    assert json.loads(cli("rules", "list", "--json").stdout)["entries"] == []
    [gone] = json.loads(cli("rules", "list", "--revoked", "--json").stdout)["entries"]
    assert gone["state"] == "revoked" and gone["untrusted_by"] == "oid-admin" and gone["trusted_by"] == "oid-admin"
    again = cli("rules", "untrust", rule_id, "--as", "oid-admin", "--json")  # nothing left to revoke: idempotent
    assert again.exit_code == 0 and json.loads(again.stdout)["revoked"] == []
    assert "Nothing to revoke" in cli("rules", "untrust", rule_id, "--as", "oid-admin").stdout

    retrusted = cli("rules", "trust", rule_id, "--as", "oid-admin", "--json")
    assert retrusted.exit_code == 0 and json.loads(retrusted.stdout)["written"] is True, retrusted.output
    assert json.loads(cli("rules", "check", rule_id, "--json").stdout)["trusted"] is True
    assert cli("alert", "handle", _delivery(firestop_home, body, fired_now=True), "--json").exit_code == 0


def test_an_event_without_the_seal_neither_trusts_nor_revokes(firestop_home, monkeypatch):
    """A Storage Blob Data writer (no seal key) plants the next events of the chain: an unsealed untrust does not
    revoke, and after an admin's untrust an unsealed trust does not restore; rules list counts them as ignored."""
    from firestop.infra.trusted_rules import PREFIX
    from firestop.storage.local import LocalStore

    monkeypatch.setenv("FIRESTOP_ALERT_SOURCE_CHECK", "on")
    _, rule_id = _trusted_foreign_rule(firestop_home)
    store = LocalStore(firestop_home / "records", "records")
    [first] = [n for n in store.names(PREFIX)]
    base = first[: -len(".json")]
    criteria = json.loads(store.read(first))["criteria"]
    planted = {"rule_id": rule_id, "criteria": criteria, "playbooks": [], "by": "oid-mallory", "at": "x"}
    store.create(f"{base}.2.json", json.dumps({**planted, "event": 2, "action": "untrust"}).encode())
    assert json.loads(cli("rules", "check", rule_id, "--json").stdout)["trusted"] is True
    listed = json.loads(cli("rules", "list", "--json").stdout)
    assert listed["ignored"] == 1 and [e["state"] for e in listed["entries"]] == ["trusted"]

    assert json.loads(cli("rules", "untrust", rule_id, "--as", "oid-admin", "--json").stdout)["revoked"][0]["event"] == 3
    store.create(f"{base}.4.json", json.dumps({**planted, "event": 4, "action": "trust"}).encode())
    assert json.loads(cli("rules", "check", rule_id, "--json").stdout)["trusted"] is False


def test_new_commands_name_a_bad_rule_id(firestop_home):
    bad = cli("rules", "untrust", "notanid", "--as", "oid-admin", "--json")
    assert bad.exit_code == 2 and json.loads(bad.stdout)["error"].startswith("RULE_ID: ")
    empty = cli("rules", "list")
    assert empty.exit_code == 0 and "No trusted alert rules" in empty.stdout and "rules trust RULE_ID" in empty.stdout


def test_an_unreadable_records_store_is_exit_1_naming_it_not_a_traceback(firestop_home, monkeypatch):
    """Trusting now reads the version's chain first: a records store that cannot be listed answers exit 1, "nothing
    was trusted" (before this commit a StoreError from the store escaped as a traceback)."""
    from firestop.storage.base import StoreError
    from firestop.storage.local import LocalStore

    body = _foreign_rule_alert(route_property=True)
    rule_id = body["data"]["essentials"]["alertRuleID"]
    assert cli("alert", "handle", _delivery(firestop_home, body), "--json").exit_code == 0  # (registers the rule)

    def unlisted(self, prefix=""):
        raise StoreError("failed", f"{self.where}: cannot list {prefix}")

    monkeypatch.setattr(LocalStore, "names", unlisted)
    for args in (("trust", rule_id), ("untrust", rule_id)):
        result = cli("rules", *args, "--as", "oid-admin", "--json")
        assert result.exit_code == 1 and "records store could not be read" in json.loads(result.stdout)["error"], result.output
    listed = cli("rules", "list", "--json")
    assert listed.exit_code == 1 and "records store could not be read" in json.loads(listed.stdout)["error"]
