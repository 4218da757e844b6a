"""joins18: :func:`firestop.trust.seal.retired_key_of` tells a live input a retired key of the ring sealed (kept before
a rotation) from anything else — the current key's, an unknown key's, a retired key's id with another MAC, junk."""

from __future__ import annotations

from firestop.seal_contract import Purpose
from firestop.trust.seal import SealKey, SealKeyRing, retired_key_of, seal, verify

OLD = SealKey("joins18-retired-key-of-old-key-0123456789abcdef", "test")
NEW = SealKey("joins18-retired-key-of-new-key-0123456789abcdef", "test")
UNKNOWN = SealKey("joins18-retired-key-of-unknown-0123456789abcdef", "test")
RING = SealKeyRing(NEW, (OLD,))
DOC = {"alert": {"alert_id": "a-1"}, "variant_of": "inc-1"}


def test_only_a_retired_keys_own_seal_names_it():
    before = seal(Purpose.INCIDENT, DOC, binding="inc-1-v1", key=SealKeyRing(OLD))
    assert not verify(Purpose.INCIDENT, before, binding="inc-1-v1", key=RING)[0]  # RT20-01: never opened as live
    assert retired_key_of(Purpose.INCIDENT, before, binding="inc-1-v1", key=RING) is OLD
    assert retired_key_of(Purpose.INCIDENT, before, binding="inc-1-v2", key=RING) is None  # another variant's
    assert retired_key_of(Purpose.INCIDENT, {**before, "playbook": {}}, binding="inc-1-v1", key=RING) is None  # changed
    current = seal(Purpose.INCIDENT, DOC, binding="inc-1-v1", key=RING)
    assert retired_key_of(Purpose.INCIDENT, current, binding="inc-1-v1", key=RING) is None
    unknown = seal(Purpose.INCIDENT, DOC, binding="inc-1-v1", key=SealKeyRing(UNKNOWN))
    assert retired_key_of(Purpose.INCIDENT, unknown, binding="inc-1-v1", key=RING) is None
    named = {**unknown, "seal": f"v1.{OLD.kid}.{unknown['seal'].split('.')[2]}"}  # the retired key's id, not its MAC
    assert retired_key_of(Purpose.INCIDENT, named, binding="inc-1-v1", key=RING) is None
    for junk in (None, "x", {"seal": None}, {**DOC, "seal": "v1." + OLD.kid}, {**DOC, "seal": 7}):
        assert retired_key_of(Purpose.INCIDENT, junk, binding="inc-1-v1", key=RING) is None
    assert retired_key_of(Purpose.INCIDENT, before, binding="inc-1-v1", key=NEW) is None  # a lone key has no retired


def test_a_rederived_input_is_a_checked_variant_of_the_run_or_none(firestop_home):
    """What start_pending_joins starts instead of a retired key's kept input: the alert alone, as intake builds a
    variant — nothing else of the kept input; an alert that would re-derive to no checked variant is refused."""
    import pytest

    from firestop.functions.intake_call import rederived_variant_input
    from firestop.trust.seal import load_seal_key

    ring = load_seal_key()
    alert = {"schema_id": "azureMonitorCommonAlertSchema", "alert_id": "/subscriptions/s/alerts/a-1",
             "monitor_condition": "Fired", "fired_at": "2026-12-05T03:00:00Z"}
    kept = {"alert": alert, "variant_of": "inc-1", "playbook": {"name": "pinned"}, "requested_by": "mallory",
            "part_of": "inc-0", "source_ref": "{}", "received_at": "2020-01-01T00:00:00+00:00"}
    fresh = rederived_variant_input(kept, "inc-1-v" + "a" * 16, "inc-1", key=ring)
    assert fresh["variant_of"] == "inc-1" and fresh["source_check"] == "azure-monitor"
    assert not {"playbook", "requested_by", "part_of", "source_ref"} & set(fresh)
    assert fresh["received_at"] != kept["received_at"]
    assert verify(Purpose.INCIDENT, fresh, binding="inc-1-v" + "a" * 16, key=ring)[0]
    for junk in ({}, {"alert": "x"}, {"alert": {"alert_id": "a"}}, {"alert": {**alert, "schema_id": "other"}}):
        with pytest.raises(ValueError):
            rederived_variant_input(junk, "inc-1-v" + "a" * 16, "inc-1", key=ring)
