"""A stop raised while the approval gate is between waits is seen and ends the incident (local durable host).

The gate waits on its timer, the decision event and the incident's stop wait (one task, armed at the start and
re-armed after a stop that does not count). Between two waits it runs activities (a decision's seal check, a
reminder's page), and a stop raised meanwhile completes the stop wait there; the next wait must see it. The
Durable Python SDK (1.7) keeps an event raised while no wait on its name is open as a deferred completion it never
clears (``firestop.lifecycle.incident._drain_events``), and hands it to every later wait on that name: a stop that
does not count (forged, for another incident) raised twice at once leaves such a completion behind, which must not
make the gate take it again and again (the orchestrator failed: "maximum recursion depth exceeded"), nor hide a
later stop that counts for longer than ``STOP_POLL_SECONDS``.
"""

from __future__ import annotations

import uuid

from firestop.lifecycle import EVENT_STOP
from firestop.lifecycle.incident import STOP_POLL_SECONDS
from tests.lifecycle.conftest import ALICE, BOB, lab  # noqa: F401 — the fixture
from tests.lifecycle.test_lifecycle_approvals import gated

CAROL = "oid-carol"  # approver role through grp-secops, not among the step's approvers: her decisions are refused


def _stop(lab, iid: str, *, by: str = BOB, incident_id: str | None = None, sealed: bool = True) -> None:  # noqa: F811
    from firestop.trust.seal import seal_stop

    event = {"incident_id": incident_id or iid, "by": by, "groups": [], "reason": "drill", "stop_id": uuid.uuid4().hex,
             "at": lab.tenant.clock.now().isoformat()}
    lab.host.raise_event(iid, EVENT_STOP, seal_stop(event) if sealed else event)


def _stopped(done) -> None:
    assert done.runtime_status == "Completed", done.runtime_status
    assert done.output["status"] == "stopped" and done.output["stopped"]["by"] == BOB
    assert [a["verdict"] for a in done.output["approvals"] if a["by"] == ALICE] == []


def test_a_stop_raised_with_a_refused_pair_after_the_gate_moved_names_ends_the_incident(lab):  # noqa: F811
    iid = lab.start(gated())
    lab.run(iid)
    lab.decide(iid, "lock-network", "approve", CAROL, groups=["grp-secops"])
    lab.decide(iid, "lock-network", "approve", CAROL, groups=["grp-secops"])
    assert lab.run(iid).custom_status["pending_approval"]["event"] == "approval:lock-network:2"  # RT8-02: moved
    _stop(lab, iid)
    _stopped(lab.run(iid))
    assert lab.acls()["defaultAction"] == "Allow"


def test_a_stop_raised_in_the_same_episode_as_a_refused_pair_ends_the_incident(lab):  # noqa: F811
    iid = lab.start(gated())
    lab.run(iid)
    lab.decide(iid, "lock-network", "approve", CAROL, groups=["grp-secops"])
    lab.decide(iid, "lock-network", "approve", CAROL, groups=["grp-secops"])
    _stop(lab, iid)  # delivered with the pair: completes the stop wait while the gate checks the first decision
    _stopped(lab.run(iid))


def test_a_stop_raised_when_the_gates_timer_fires_ends_the_incident(lab):  # noqa: F811
    iid = lab.start(gated(remind_every_seconds=120, page=["https://hooks.example/oncall"]))
    lab.run(iid)
    lab.tenant.clock.advance(121)  # the reminder is due: the gate pages (an activity) and waits again
    _stop(lab, iid)
    _stopped(lab.run(iid, advance_timers=False))


def test_a_stop_after_the_gates_deadline_escalated_ends_the_incident(lab):  # noqa: F811
    iid = lab.start(gated(on_timeout="escalate"))
    lab.run(iid)
    lab.tenant.clock.advance(601)
    lab.run(iid)  # escalated: a page, then a fresh timer
    _stop(lab, iid)
    _stopped(lab.run(iid))


def _refused_pair(lab) -> str:  # noqa: F811
    """An incident waiting at its gate that has been sent two stops that do not count (refused: not sealed). The first
    completes the stop wait; the second arrives while its seal is being checked (an activity: no stop wait open), so
    the SDK keeps it as a deferred completion it hands to every later wait. Returns the incident id."""
    iid = lab.start(gated())
    lab.run(iid)
    _stop(lab, iid, by="oid-mallory", sealed=False)
    _stop(lab, iid, by="oid-mallory", sealed=False)
    return iid


def test_a_stop_that_does_not_count_sent_twice_neither_spins_the_gate_nor_hides_a_real_stop(lab):  # noqa: F811
    iid = _refused_pair(lab)
    waiting = lab.run(iid)
    assert waiting.runtime_status == "Running", (waiting.output, getattr(waiting, "failure", None))
    assert waiting.custom_status["pending_approval"]["step"] == "lock-network"
    _stop(lab, iid)  # buffered behind the refused one: no wait takes it until the gate looks again
    lab.tenant.clock.advance(STOP_POLL_SECONDS + 1)
    _stopped(lab.run(iid))


def test_a_stop_that_does_not_count_sent_twice_leaves_the_approvers_able_to_decide(lab):  # noqa: F811
    iid = _refused_pair(lab)
    lab.run(iid)
    lab.decide(iid, "lock-network", "approve", ALICE)
    done = lab.run(iid)
    assert done.output["status"] == "contained" and lab.acls()["defaultAction"] == "Deny"
    outcomes = [e["outcome"] for e in done.output["timeline"] if e["step"] == "stop"]
    assert outcomes.count("stop refused") == 2  # each refused once: the buffered repeat is not taken again
