"""RT20-01: a retired seal key still authorises *new* commands — an approval, a stop, an incident input — for
incidents that started after the rotation.

The ring "seals with the current key only" (README "Rotating the seal key"), so no genuine approval, stop or incident
input of an incident started after a rotation can carry a retired key's id. Yet ``verify_seal`` checks every purpose
with whichever key of the ring the seal names. Whoever holds the old key — the reason keys are rotated — plus the
Durable system key (or write access to the task hub's queue) approves a waiting step as any approver, or starts an
orchestration with a pinned playbook, for as long as the key is kept retired (README advises keeping retired keys a
year for undo): the rotation revoked nothing live. What a retired key must keep opening is history (ledgers,
filings, markers, status links handed out before)."""

from __future__ import annotations

import pytest

from tests.trust.test_attack_links import ALICE, GATED, LOCK_ONLY, MALLORY, PROD, lab  # noqa: F401 (fixture)


def _rotate(home):
    from firestop.trust.keyring import rotate
    from firestop.trust.seal import load_seal_key

    old = load_seal_key(home).current  # what the attacker holds: the key that was rotated out
    assert rotate(home)["rotated"] is True
    ring = load_seal_key(home)
    assert old.kid in [k.kid for k in ring.retired] and ring.kid != old.kid
    return old


def test_a_decision_sealed_with_the_retired_key_does_not_approve_an_incident_started_after_rotation(lab, firestop_home):  # noqa: F811
    from firestop.lifecycle.approvals import decision_event
    from firestop.trust.seal import seal_decision

    old = _rotate(firestop_home)
    iid = lab.start_sealed(GATED)  # intake seals with the new, current key
    pending = lab.run(iid).custom_status["pending_approval"]
    assert pending["step"] == "lock-network"

    forged = seal_decision(decision_event(iid, pending, decision="approve", by=ALICE, decision_id="rt20-01", at="x"), key=old)
    lab.host.raise_event(iid, "approval:lock-network", forged)
    status = lab.run(iid)
    assert lab.prop(PROD, "networkAcls", "defaultAction") == "Allow", "the forged approval was acted on"
    assert status.custom_status["pending_approval"]["refused_decisions"] == 1


def test_an_incident_input_sealed_with_the_retired_key_after_rotation_is_refused(lab, firestop_home):  # noqa: F811
    from firestop.lifecycle import ORCHESTRATOR_NAME
    from firestop.trust.seal import Purpose, seal

    old = _rotate(firestop_home)
    inp = lab.incident_input(LOCK_ONLY)
    inp["requested_by"] = MALLORY
    iid = lab.host.start_new(ORCHESTRATOR_NAME, inp["incident_id"], seal(Purpose.INCIDENT, inp, binding=inp["incident_id"], key=old))
    lab.run(iid)
    assert lab.prop(PROD, "networkAcls", "defaultAction") == "Allow", "the forged input's playbook ran"
