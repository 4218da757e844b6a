"""seal18 / RT20-01: a retired key opens history, never a new command.

tests/redteam20/test_rt20_01_retired_key_live_commands.py (the red team's, copied without its strict xfails) drives
the attack through the orchestrations: a decision and an incident input sealed with the rotated-out key, after the
rotation. Here the ring's rule for every purpose: the four that authorise an action now (LIVE_PURPOSES) take the
current key only — no grace, so an input sealed just before a rotation and checked just after is refused (fail
closed: handle it again) — and everything sealed for the record a retired key still opens. Fails before (a retired
key's seal of each live purpose was ok).
"""

from __future__ import annotations

import pytest

from firestop.seal_contract import Purpose
from firestop.trust.seal import LIVE_PURPOSES, SealKey, SealKeyRing

OLD = SealKey("seal18-live-purposes-old-key-0123456789abcdef", "test")
NEW = SealKey("seal18-live-purposes-new-key-0123456789abcdef", "test")
RING = SealKeyRing(NEW, (OLD,))
DIGEST = "0" * 64


@pytest.mark.parametrize("purpose", [Purpose.INCIDENT, Purpose.STEP_GROUP, Purpose.APPROVAL, Purpose.STOP])
def test_a_live_purpose_is_opened_by_the_current_key_only(purpose):
    assert purpose.value in LIVE_PURPOSES
    sealed_before = OLD.sign(purpose, "inc-1", DIGEST)  # e.g. sealed just before the rotation, checked just after
    ok, reason = RING.check(purpose, "inc-1", DIGEST, sealed_before)
    assert not ok and OLD.kid in reason and "handle it again" in reason
    assert not RING.check(str(purpose), "inc-1", DIGEST, sealed_before)[0]  # as the verify_seal activity passes it
    assert RING.check(purpose, "inc-1", DIGEST, NEW.sign(purpose, "inc-1", DIGEST))[0]
    assert OLD.check(purpose, "inc-1", DIGEST, sealed_before)[0]  # before the rotation it was the app's


@pytest.mark.parametrize("purpose", [p for p in Purpose if p.value not in LIVE_PURPOSES] + ["record", "ledger-entry"])
def test_what_was_sealed_for_the_record_a_retired_key_still_opens(purpose):
    ok, reason = RING.check(purpose, "inc-1", DIGEST, OLD.sign(purpose, "inc-1", DIGEST))
    assert ok and OLD.kid in reason
