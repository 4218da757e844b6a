"""R16-01 / R16-02: ``rules untrust`` (rules16) against a Storage Blob Data writer without the seal key — the
attacker the trust chain is built against (firestop.infra.trusted_rules' docstring: a planted object "can neither
trust nor revoke"). Before the fix one planted blob made an untrust land where no reader looks (R16-01), and 5,000
planted names hid the rule from the untrust (R16-02): both answered "revoked"/"nothing to revoke", exit 0, and the
rule stayed trusted."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from firestop.infra import trusted_rules as tr
from firestop.storage.local import LocalStore
from firestop.trust.seal import SealKey

RULE = {"id": "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.Insights/"
              "scheduledQueryRules/copy-of-leaked-key",
        "type": "Microsoft.Insights/scheduledQueryRules", "properties": {"criteria": {"allOf": []}}}


@pytest.fixture
def trusted(tmp_path: Path):
    key = SealKey("r16-" + "k" * 40, "test")
    store = LocalStore(tmp_path / "records", "records")
    _, written = tr.trust_rule(store, RULE, by="oid-admin", at="2026-12-05T06:00:00Z", key=key)
    assert written and tr.is_trusted(store, RULE, key=key)
    return store, key, tr.entry_name(RULE)[len(tr.PREFIX):-len(".json")]


def test_a_planted_last_event_number_does_not_swallow_the_untrust(trusted):
    store, key, h = trusted
    store.create(f"{tr.PREFIX}{h}.999999999.json", b"{}")  # the highest number a reader parses: unsealed junk
    revoked = tr.untrust_rule(store, RULE["id"], by="oid-admin", at="2026-12-05T06:01:00Z", key=key)
    assert revoked, "the untrust reported nothing written"
    assert tr.is_trusted(store, RULE, key=key) is False  # before: True — the untrust sat at <h>.1000000000.json
    listed = tr.listing(store, key)
    assert [e["state"] for e in listed["entries"]] == ["revoked"]
    # and an admin may trust it again afterwards (before: "the alert rule's trust chain is full")
    _, written = tr.trust_rule(store, RULE, by="oid-admin", at="2026-12-05T06:02:00Z", key=key)
    assert written and tr.is_trusted(store, RULE, key=key)


def test_planted_events_above_and_at_the_next_place_are_stepped_over(trusted):
    store, key, h = trusted
    for n in (2, 3, 7):  # the next places taken by unsealed junk
        store.create(f"{tr.PREFIX}{h}.{n}.json", json.dumps({"event": n, "action": "trust"}).encode())
    assert tr.untrust_rule(store, RULE["id"], by="oid-admin", at="t", key=key)
    assert tr.is_trusted(store, RULE, key=key) is False


def test_planted_names_that_sort_first_do_not_hide_the_rule_from_untrust(trusted):
    store, key, _ = trusted
    for i in range(tr.LIST_LIMIT):  # 5,000 small unsealed objects whose names sort before the rule's chain
        store.create(f"{tr.PREFIX}{i:064x}.json", b"{}")
    revoked = tr.untrust_rule(store, RULE["id"], by="oid-admin", at="t", key=key)
    assert [e["rule_id"] for e in revoked] == [RULE["id"]]  # before: [] ("Nothing to revoke")
    assert tr.is_trusted(store, RULE, key=key) is False
