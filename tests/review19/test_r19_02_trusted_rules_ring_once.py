"""R19-02 (low): trustkey18 (A18-03) told a trust sealed with a retired key in ``trusted_rules._retired_kid``, which
parsed the seal's ``v1.<kid>.<mac>`` format itself (the seal layer's ``_kid_of`` and ``retired_key_of`` already do) and,
called with no key — as every caller does (the alert's source check ``is_trusted``, ``rules list``/``rules check``,
the audit's ``monitoring.alert-rules``) — loaded the seal ring again for each event read, besides ``verify``'s own load:
two ring loads (each a stat of ``seal-key`` and an access/stat of ``seal-key.retired`` locally) per event, so a
``rules list`` over N events loaded it 2N times. Now the ring is resolved once per call (only when there is an event
to read) and the retired key comes from :func:`firestop.trust.seal.retired_key_of` (no MAC for a current-key seal).

Fails before the fix (main f9b1818): ``listing`` of three events loads the ring 6 times, ``trust_state`` 2 per event.
"""

from __future__ import annotations

import pytest

from firestop.infra import trusted_rules as tr
from firestop.storage.local import LocalStore

RULE = {"id": "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/"
              "Microsoft.Insights/scheduledQueryRules/r19-02",
        "type": "Microsoft.Insights/scheduledQueryRules",
        "properties": {"criteria": {"allOf": []}, "firestop-playbook": "leaked-api-key"}}


@pytest.fixture
def counted(firestop_home, monkeypatch):
    """The records store with RULE trusted, untrusted and trusted again (three events), and a list that grows by one
    at each load of the app's seal ring."""
    from firestop.trust import seal

    store = LocalStore(firestop_home / "records", "records")
    assert tr.trust_rule(store, RULE, by="oid-admin", at="2026-12-05T00:00:00Z")[1]
    assert tr.untrust_rule(store, RULE["id"], by="oid-admin", at="2026-12-05T00:01:00Z")
    assert tr.trust_rule(store, RULE, by="oid-admin", at="2026-12-05T00:02:00Z")[1]
    loads: list[int] = []
    real = seal.load_seal_key

    def load(*args, **kwargs):
        loads.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(seal, "load_seal_key", load)
    return store, loads


def test_a_listing_loads_the_seal_ring_once(counted):
    store, loads = counted
    [entry] = tr.listing(store)["entries"]
    assert entry["state"] == "trusted" and len(loads) == 1


def test_a_trust_state_loads_the_seal_ring_at_most_once_per_chain(counted):
    store, loads = counted
    assert tr.trust_state(store, RULE) == "trusted" and len(loads) == 1  # (the version 2 chain decides)
    del loads[:]
    assert tr.untrust_rule(store, RULE["id"], by="oid-admin", at="2026-12-05T00:03:00Z") and len(loads) == 1


def test_a_trust_sealed_with_the_retired_key_still_reads_rekey(firestop_home):
    """Guard (A18-03 unchanged): the retired key is told through the seal layer now."""
    from firestop.trust.keyring import rotate
    from firestop.trust.seal import load_seal_key

    store = LocalStore(firestop_home / "records", "records")
    assert tr.trust_rule(store, RULE, by="oid-admin", at="2026-12-05T00:00:00Z")[1]
    rotate(firestop_home)
    assert tr.trust_state(store, RULE) == "rekey"
    [entry] = tr.listing(store)["entries"]
    assert entry["state"] == "re-trust"
    assert tr.trust_rule(store, RULE, by="oid-admin", at="2026-12-05T00:05:00Z", key=load_seal_key(firestop_home))[1]
    assert tr.trust_state(store, RULE) == "trusted"
