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
