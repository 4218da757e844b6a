"""A18-03 (open): a retired seal key still *makes* standing decisions — an admin's rule trust — after the rotation.

Attacker: whoever holds the rotated-out key (the README's reason to rotate is a suspected exposure; the key is kept
retired up to a year for undo) and Storage Blob Data write on the records container (C). seal18 / RT20-01 made the
four purposes that command an action *now* (LIVE_PURPOSES) current-key only, and left "everything sealed for the
record" to every key of the ring. A trusted-rule entry (``Purpose.TRUSTED_RULE``) is not a record: it decides, at
every later alert, that the rule's incidents run without a responder. Sealed with the retired key and planted, it is
believed — the attacker's own alert rule routed to ``leaked-api-key`` acts unattended; an ``action: trust`` event
after an admin's untrust revives the trust. The same holds for defender18's receipts (a forged receipt per alert
keeps the relay "proven" while diverted) and RT19-04's claims.

Not fixed here (strict xfail): a trust sealed before the rotation must still be believed, and nothing tells a trust
sealed then from one forged after. Fix direction: ``seal-key rotate`` (and the Azure rotation's step) re-seals the
standing trusts under the new key — as seal18 carries the manual-run marker — then ``trusted-rule`` joins
LIVE_PURPOSES; or a retired key opens only events dated before the key's retirement, the ring keeping when each key
was retired.
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


@pytest.mark.xfail(strict=True, reason="A18-03 open: a retired seal key still seals a standing trust (TRUSTED_RULE is "
                                       "opened by every key of the ring); needs re-sealing at rotation or retirement times")
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


def test_a_trust_sealed_before_the_rotation_is_still_believed(firestop_home):
    from firestop.trust.keyring import rotate
    from firestop.trust.seal import load_seal_key

    store = LocalStore(firestop_home / "records", "records")
    assert tr.trust_rule(store, ATTACKERS_RULE, by="oid-admin", at="2026-12-05T00:00:00Z",
                         key=load_seal_key(firestop_home))[1]
    rotate(firestop_home)
    assert tr.is_trusted(store, ATTACKERS_RULE, key=load_seal_key(firestop_home)) is True
