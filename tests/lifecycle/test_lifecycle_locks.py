"""Containment on one resource is serialised across incidents (``firestop/lifecycle/locks.py``).

Two incidents of two playbooks on one account, started at once, both rotate its keys. The first
rotation fails half-way (a 503 on the cut-over ``secrets.set`` after the spare key was regenerated)
and is retried by its step group after a durable timer. Read from the sandbox's request log, in
order, the two rotations must not interleave: the first one's calls (and its retry) all come before
the second one's first call, and each rotation regenerates exactly two keys. Without the lease the
second rotation runs inside the first one's retry wait (the last test shows it does).
"""

from __future__ import annotations

from datetime import datetime

import pytest

from firestop.lifecycle import group
from firestop.lifecycle.locks import LOCK_ENTITY, lock_key

from .conftest import ACCOUNT, ALICE, LOCK, ROTATE, playbook

REGENERATE, SET = "accounts.regenerateKey", "secrets.set"
#: One clean rotation, the calls the sandbox answered 200 (keys.rotate: marker, spare key, cut-over, old key).
ROTATION = [SET, REGENERATE, SET, REGENERATE]
ALERTS = "/subscriptions/11111111-2222-3333-4444-555555555555/providers/Microsoft.AlertsManagement/alerts/"


def _two_rotations_at_once(lab):
    start = len(lab.tenant.requests)
    lab.tenant.inject_fault(SET, status=503, nth=2, times=4)  # the cut-over of the first rotation, every SDK try
    first = lab.start(playbook(ROTATE, name="rotate-a"), alert=lab.alert(alertId=ALERTS + "a"))
    second = lab.start(playbook(ROTATE, name="rotate-b"), alert=lab.alert(alertId=ALERTS + "b"))
    lab.host.run_until_idle(advance_timers=True)
    log = [r for r in lab.tenant.requests[start:] if r.operation in (SET, REGENERATE)]
    records = {iid: lab.host.get_status(iid).output for iid in (first, second)}
    return log, records


def _rotate_events(record):
    return [e for e in record["timeline"] if e["step"] == "rotate-keys" and e["phase"] == "contain"]


def test_two_incidents_rotating_one_account_never_interleave(lab):
    log, records = _two_rotations_at_once(lab)
    assert {r["status"] for r in records.values()} == {"contained"}
    outcomes = {iid: [e["outcome"] for e in _rotate_events(r)] for iid, r in records.items()}
    retried = next(iid for iid, o in outcomes.items() if "retrying" in o)
    waited = next(iid for iid in records if iid != retried)
    assert outcomes[retried] == ["retrying", "done"]
    assert outcomes[waited] == ["queued", "done"]  # it waited for the other's lease

    answered = [r.operation for r in log if r.status == 200]
    assert answered == ROTATION + ROTATION  # two whole rotations, one after the other
    assert sum(1 for op in answered if op == REGENERATE) == 4  # two keys each, none regenerated twice
    failed = [i for i, r in enumerate(log) if r.status != 200]
    second_starts = len(log) - len(ROTATION)
    assert failed and max(failed) < second_starts  # the first rotation's failures and retry all came first
    # in simulated time too: the second rotation's first call after the first rotation's last one
    assert log[second_starts].at >= log[second_starts - 1].at
    done = {iid: datetime.fromisoformat(_rotate_events(r)[-1]["at"]) for iid, r in records.items()}
    assert all(r.at >= done[retried] for r in log[second_starts:])
    # the lease was given back
    exists, state = lab.host.read_entity_state((LOCK_ENTITY, lock_key(ACCOUNT)))
    assert exists and state["holder"] is None and state["resource"].lower() == ACCOUNT.lower()


def test_without_the_lease_the_two_rotations_interleave(lab, monkeypatch):
    """The hazard the lease prevents (this test shows the first one can fail)."""
    monkeypatch.setattr(group, "_locked_targets", lambda runs: [])
    log, records = _two_rotations_at_once(lab)
    answered = [r.operation for r in log if r.status == 200]
    assert answered != ROTATION + ROTATION
    assert sum(1 for op in answered if op == REGENERATE) > 4  # the retried rotation regenerated a key again


@pytest.mark.parametrize("resource", [ACCOUNT, ACCOUNT.upper(), ACCOUNT + "/"])
def test_one_lease_per_resource_whatever_the_spelling_and_a_key_azure_storage_accepts(resource):
    key = lock_key(resource)
    assert key == lock_key(ACCOUNT)
    assert len(key) == 32 and not set(key) & set("/\\#?@")
    assert lock_key(ACCOUNT.replace("contoso-openai-prod", "other")) != key


# -- a responder's undo takes the same lease ----------------------------------------------------------------
def _undo_during_a_rotation(lab):
    """Incident B locked the account's network and finished; incident A's rotation of the same account fails
    half-way and waits (durable timer) to retry, holding the lease; then B's lock is undone. Returns the
    sandbox calls in order, as (who, operation): "rotation" for keys.rotate's writes, "undo" for the undo's."""
    import asyncio

    from firestop.lifecycle.locks import HostLeasePort
    from firestop.lifecycle.undo import undo_under_lease

    b = lab.start(playbook(LOCK, name="lock-b"), alert=lab.alert(alertId=ALERTS + "b"))
    from firestop.cli.undo import undo_candidates

    lab.run(b, advance_timers=True)
    record, actions = undo_candidates(lab.env, b)  # what `incident undo` restores: network.lock's change
    assert [a["runbook"] for a in actions] == ["network.lock"] and lab.acls()["defaultAction"] == "Deny"
    start = len(lab.tenant.requests)
    lab.tenant.inject_fault(SET, status=503, nth=2, times=4)  # the cut-over of A's rotation, every SDK try
    a = lab.start(playbook(ROTATE, name="rotate-a"), alert=lab.alert(alertId=ALERTS + "a"))
    lab.host.run_until_idle()  # A fails its first try and waits for its retry timer, holding the lease
    assert lab.host.get_status(a).runtime_status == "Running"
    holder = lab.host.read_entity_state((LOCK_ENTITY, lock_key(ACCOUNT)))[1]["holder"]
    assert holder and holder.startswith(a)
    mark = len(lab.tenant.requests)
    result = asyncio.run(undo_under_lease(HostLeasePort(lab.host), lab.env, b, record, actions, by=ALICE))
    lab.host.run_until_idle(advance_timers=True)
    assert lab.host.get_status(a).output["status"] == "contained"
    assert [u["ok"] for u in result["undone"]] == [True], result
    assert lab.acls()["defaultAction"] != "Deny"
    rotation_ops = (SET, REGENERATE)
    calls = []
    for i, r in enumerate(lab.tenant.requests[start:], start):
        if r.operation in rotation_ops:
            calls.append(("rotation", r.operation))
        elif i >= mark and r.operation == "accounts.update":  # the undo's write (networkAcls restored)
            calls.append(("undo", r.operation))
    return calls


def test_an_undo_waits_for_the_containment_holding_its_resource(lab):
    calls = _undo_during_a_rotation(lab)
    who = [w for w, _ in calls]
    assert "undo" in who
    first_undo = who.index("undo")
    assert all(w == "rotation" for w in who[:first_undo]) and all(w == "undo" for w in who[first_undo:])
    assert [op for w, op in calls if w == "rotation" and op == REGENERATE].count(REGENERATE) == 2  # one whole rotation
    exists, state = lab.host.read_entity_state((LOCK_ENTITY, lock_key(ACCOUNT)))
    assert exists and state["holder"] is None  # both gave the lease back


def test_without_the_lease_the_undo_runs_inside_the_rotation(lab, monkeypatch):
    """The hazard the lease prevents (this test shows the first one can fail)."""
    from firestop.lifecycle import locks

    async def no_lease(port, resources, owner, **kw):
        return 0.0

    async def no_release(port, resources, owner):
        return None

    monkeypatch.setattr(locks, "hold_outside", no_lease)
    monkeypatch.setattr(locks, "release_outside", no_release)
    from firestop.lifecycle import undo

    monkeypatch.setattr(undo, "open_reliance", no_release)  # and without the open-incident refusal (RT6-03) that would stop it
    who = [w for w, _ in _undo_during_a_rotation(lab)]
    first_undo = who.index("undo")
    assert "rotation" in who[first_undo:]  # the rotation's retry came after the undo: interleaved
