"""A16-02 (attacker C, a Storage Blob Data writer on the records container): revocation crowded out.

``rules untrust`` (and ``rules list``) read the first ``LIST_LIMIT`` (5,000) names under ``trusted-rules/`` —
*before* keeping the names that are events at all. 5,001 empty objects named to sort first
(``trusted-rules/0…``) and the admin's ``rules untrust`` answers "Nothing to revoke" (exit 0) while the rule stays
trusted and its alerts act without a responder.
"""

from __future__ import annotations

import json

from tests.rules16.test_rules_untrust_list import _trusted_foreign_rule
from tests.rules14.test_rules_trust_cli import cli


def test_a16_02_planted_names_sorting_first_do_not_hide_a_trusted_version_from_untrust(firestop_home, monkeypatch):
    from firestop.infra.trusted_rules import LIST_LIMIT, PREFIX
    from firestop.storage.local import LocalStore

    monkeypatch.setenv("FIRESTOP_ALERT_SOURCE_CHECK", "on")
    _, rule_id = _trusted_foreign_rule(firestop_home)
    store = LocalStore(firestop_home / "records", "records")
    for i in range(LIST_LIMIT + 1):
        store.create(f"{PREFIX}0{i:06d}.json", b"")
    revoked = cli("rules", "untrust", rule_id, "--as", "oid-admin", "--json")
    checked = json.loads(cli("rules", "check", rule_id, "--json").stdout)
    # either it is revoked, or the admin is told it could not be (never "nothing to revoke" with the rule trusted)
    assert checked["trusted"] is False or revoked.exit_code != 0, (revoked.output, checked)


def test_a16_02_a_crowded_listing_of_event_shaped_names_does_not_stop_a_revocation(firestop_home, monkeypatch):
    """Names shaped as events (64 hex) crowd the listing too: a revocation reads every object (R16-02, the fix kept at
    the merge with review16), so the rule is revoked, never "nothing to revoke" with the rule trusted."""
    from firestop.infra.trusted_rules import LIST_LIMIT, PREFIX, untrust_rule
    from firestop.storage.local import LocalStore
    from firestop.trust.seal import load_seal_key

    monkeypatch.setenv("FIRESTOP_ALERT_SOURCE_CHECK", "on")
    _, rule_id = _trusted_foreign_rule(firestop_home)
    store = LocalStore(firestop_home / "records", "records")
    for i in range(LIST_LIMIT + 1):
        store.create(f"{PREFIX}{i:064x}.json", b"")
    written = untrust_rule(store, rule_id, by="oid-admin", at="2026-12-05T06:00:00Z", key=load_seal_key(firestop_home))
    assert [w["action"] for w in written] == ["untrust"]
    assert json.loads(cli("rules", "check", rule_id, "--json").stdout)["trusted"] is False


def test_a16_02_rules_list_is_not_emptied_by_planted_names(firestop_home, monkeypatch):
    from firestop.infra.trusted_rules import LIST_LIMIT, PREFIX
    from firestop.storage.local import LocalStore

    monkeypatch.setenv("FIRESTOP_ALERT_SOURCE_CHECK", "on")
    _, rule_id = _trusted_foreign_rule(firestop_home)
    store = LocalStore(firestop_home / "records", "records")
    for i in range(LIST_LIMIT + 1):
        store.create(f"{PREFIX}0{i:06d}.json", b"")
    listed = json.loads(cli("rules", "list", "--json").stdout)
    assert [e["rule_id"].lower() for e in listed["entries"]] == [rule_id.lower()], listed["entries"]
    assert listed["ignored"] == LIST_LIMIT + 1 and listed["truncated"] is False
