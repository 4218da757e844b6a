"""RT20-02: dropping a retired seal key revived a revoked rule trust (the chain's older decision decided again).

A trusted rule's chain is decided by its newest event that *verifies* (``trusted_rules._newest``): an event sealed by a
key that was dropped no longer verifies and is stepped over like a planted object. So when the trust was sealed under
an older key that is kept and the untrust under a later key that is dropped — the README's "suspected exposure" case
is exactly the key to drop — the untrust vanished and the older trust decided again: the admin's revocation undone with
no admin action, the customer's rule acting without a responder again.

Fixed for the home's ring (``seal-key retire``, :func:`firestop.trust.keyring.retire`): keys leave oldest first, so K2
is dropped only with K1 (``with_older``), and nothing K1 sealed can decide again; the first two tests failed before
(K2 dropped alone, the rule trusted again). A ring in the settings (``FIRESTOP_SEAL_KEY_RETIRED``, the Key Vault secret
on Azure) from which an operator leaves out a middle key — Firestop keeps no history of the ring to refuse it — was a
strict xfail; for rule trusts it holds since trustkey18 (A18-03): a trust sealed with a retired key (K1's) no longer
makes a rule trusted, so the revived chain's newest event asks for a re-trust instead of acting. Records (RT20-03)
still rely on the README's "drop the oldest first"."""

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


def _revoked_across_rotations(home: Path) -> tuple[LocalStore, str, str]:
    """Trusted under the home's first key K1, untrusted under K2, then K3 current: (store, K1's id, K2's id)."""
    from firestop.trust.keyring import rotate
    from firestop.trust.seal import load_seal_key

    store = LocalStore(home / "records", "records")
    k1 = load_seal_key(home).kid
    assert tr.trust_rule(store, RULE, by="oid-admin", at="2026-12-05T06:00:00Z", key=load_seal_key(home))[1]
    rotate(home)
    k2 = load_seal_key(home).kid
    assert tr.untrust_rule(store, RULE["id"], by="oid-admin", at="2026-12-05T07:00:00Z", key=load_seal_key(home))
    rotate(home)
    assert tr.is_trusted(store, RULE, key=load_seal_key(home)) is False
    return store, k1, k2


def test_the_key_that_sealed_the_untrust_is_not_dropped_alone(firestop_home):
    from firestop.trust.keyring import OlderKeysKept, retire
    from firestop.trust.seal import load_seal_key

    store, k1, k2 = _revoked_across_rotations(firestop_home)
    with pytest.raises(OlderKeysKept) as refused:  # before: dropped, and the K1 trust decided again
        retire(firestop_home, k2)
    assert refused.value.older == [k1] and "--with-older" in str(refused.value)
    assert [k.kid for k in load_seal_key(firestop_home).retired] == [k2, k1]
    assert tr.is_trusted(store, RULE, key=load_seal_key(firestop_home)) is False


def test_with_older_the_revoked_trust_stays_revoked(firestop_home):
    from firestop.trust.keyring import retire
    from firestop.trust.seal import load_seal_key

    store, k1, k2 = _revoked_across_rotations(firestop_home)
    assert retire(firestop_home, k2, with_older=True)["dropped_kids"] == [k2, k1]
    assert load_seal_key(firestop_home).retired == ()
    assert tr.is_trusted(store, RULE, key=load_seal_key(firestop_home)) is False


def test_a_settings_ring_without_the_middle_key_does_not_trust_the_rule_again(tmp_path: Path):
    store = LocalStore(tmp_path / "records", "records")
    assert tr.trust_rule(store, RULE, by="oid-admin", at="2026-12-05T06:00:00Z", key=SealKeyRing(K1))[1]
    assert tr.untrust_rule(store, RULE["id"], by="oid-admin", at="2026-12-05T07:00:00Z", key=SealKeyRing(K2, (K1,)))
    assert tr.is_trusted(store, RULE, key=SealKeyRing(K3, (K2, K1))) is False
    k2_dropped = SealKeyRing(K3, (K1,))  # FIRESTOP_SEAL_KEY_RETIRED="<K1>": K2 left out, K1 kept
    assert tr.is_trusted(store, RULE, key=k2_dropped) is False, "the revoked trust is believed again"
    assert tr.trust_state(store, RULE, key=k2_dropped) == "rekey"  # (A18-03: flagged re-trust, not acting)
