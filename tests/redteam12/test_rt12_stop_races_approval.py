"""RT12-02 (medium): a stop that reached the incident together with an approval lost to it: the approved step was
applied after the stop had arrived, and the record still said ``stopped``.

Attack (a race, not a forgery — two people, no coordination): an incident waits for an approval on a gated step
(approval-gated steps are the risky ones: disabling key auth on production, locking the network). Approver Alice
clicks Approve; at the same moment responder Bob, who has just learned the alert is a planned change, clicks Stop
(``POST /api/incidents/{id}/stop``, answered 202 "stopping"). Both events are in the orchestration's history before
its next episode (the Durable backend delivers events that arrive while the orchestrator is not running as one batch;
on a loaded Consumption plan that window is hundreds of milliseconds to seconds). The approval gate
(:func:`firestop.lifecycle.incident._approval_gate`) takes the decision, which is first in the history, and returns
``approve``; :func:`~firestop.lifecycle.incident._phase` then checked only ``inc.stop`` — a stop already *verified* —
and ran the step group, although the stop wait had completed in the same episode and nothing had been applied yet.
The orchestrator's own contract (module docstring: "no further step runs — checked before every step group and while
waiting for an approval") was checked before the approval wait, which may last the approval's whole timeout, not
after it. Result on the sandbox: ``networkAcls.defaultAction`` Deny, the record ``stopped`` by Bob, the timeline
"approved, done, verified, stopped" — the brake was pressed before anything moved and did not hold.

Fixed: after the gates of a group and before anything of it runs, the stop wait is looked at again
(:func:`firestop.lifecycle.incident._stop_requested`, a checkpoint that adds history only when a stop came): a stop
that arrived with the approval ends the incident with the step "not run". A stop that arrives once the group is
running is handled at the next checkpoint, as before; an approval alone still runs the step (the control).
"""

from __future__ import annotations

from tests.lifecycle.conftest import ALICE, BOB, lab  # noqa: F401 — the fixture
from tests.lifecycle.test_lifecycle_approvals import events, gated
from tests.lifecycle.test_lifecycle_stop_in_gate import _stop


def test_a_stop_delivered_with_the_approval_keeps_the_approved_step_from_running(lab):  # noqa: F811
    iid = lab.start(gated())
    waiting = lab.run(iid)
    assert waiting.custom_status["pending_approval"]["step"] == "lock-network"
    lab.decide(iid, "lock-network", "approve", ALICE)  # first in the history …
    _stop(lab, iid)  # … and the stop right behind it, before the orchestrator's next episode
    done = lab.run(iid)
    assert done.output["status"] == "stopped" and done.output["stopped"]["by"] == BOB
    assert lab.acls()["defaultAction"] == "Allow", "the approved step ran after the stop had arrived"
    assert "done" not in events(done) and "not run" in events(done)


def test_control_an_approval_alone_still_runs_the_step(lab):  # noqa: F811
    iid = lab.start(gated())
    lab.run(iid)
    lab.decide(iid, "lock-network", "approve", ALICE)
    done = lab.run(iid)  # the new checkpoint finds no stop: it adds nothing and the step runs
    assert done.output["status"] == "contained" and lab.acls()["defaultAction"] == "Deny"
    assert events(done)[:3] == ["awaiting approval", "approved", "done"]
