"""RT20-02: dropping a retired seal key revives a revoked rule trust (and any chain's older decision).

A trusted rule's chain is decided by its newest event that *verifies* (``trusted_rules._newest``): an event sealed by a
key that was dropped (``seal-key retire``) no longer verifies and is stepped over like a planted object. So when the
trust was sealed under an older key that is kept and the untrust under a later key that is dropped — the README's
"suspected exposure" case is exactly the key to drop — the untrust vanishes and the older trust decides again: the
admin's revocation is undone with no admin action, and the customer's rule acts without a responder again. Fail
safe would be: a chain whose newer event no longer verifies does not fall back to an older one (not trusted)."""

from __future__ import annotations

from pathlib import Path

import pytest

from firestop.infra import trusted_rules as tr
from firestop.storage.local import LocalStore
from firestop.trust.seal import SealKey, SealKeyRing

RULE = {"id": "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.Insights/"
              "scheduledQueryRules/copy-of-leaked-key",
        "type": "Microsoft.Insights/scheduledQueryRules", "properties": {"criteria": {"allOf": []}}}

K1, K2, K3 = (SealKey(f"rt20-02-{n}-" + "k" * 40, "test") for n in (1, 2, 3))


@pytest.mark.xfail(strict=True, reason="RT20-02: dropping the key that sealed an untrust makes the older trust decide again")
def test_dropping_the_key_that_sealed_the_untrust_does_not_trust_the_rule_again(tmp_path: Path):
    store = LocalStore(tmp_path / "records", "records")
    _, written = tr.trust_rule(store, RULE, by="oid-admin", at="2026-12-05T06:00:00Z", key=SealKeyRing(K1))
    assert written
    after_first_rotation = SealKeyRing(K2, (K1,))  # K2 current, K1 retired
    assert tr.untrust_rule(store, RULE["id"], by="oid-admin", at="2026-12-05T07:00:00Z", key=after_first_rotation)
    assert tr.is_trusted(store, RULE, key=after_first_rotation) is False
    after_second_rotation = SealKeyRing(K3, (K2, K1))
    assert tr.is_trusted(store, RULE, key=after_second_rotation) is False
    k2_dropped = SealKeyRing(K3, (K1,))  # seal-key retire <K2's id>: the ring the README says to keep K1 in for undo
    assert tr.is_trusted(store, RULE, key=k2_dropped) is False, "the revoked trust is believed again"
