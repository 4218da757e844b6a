"""RT8-02: two refused decisions sent together make an approval gate deaf; the listed approvers can no longer approve.

Attack: a person holding the approver role (here through group ``grp-secops``) but not among the step's ``approvers``
sends two decisions at once (two clicks, two API calls). Each is sealed and raised (the API raised refused decisions
too, so the timeline showed them; since approvals9 it answers 403 and raises nothing, but a sender's stale read of
``pending_approval`` or the Durable system key can still deliver such a pair — the lab raises them directly); the
orchestrator reads the first while the second waits unread, buffered by the
Durable Python SDK (1.7), which hands a buffered event to every later wait on its name. The gate took the repeat for
the SDK's replay and stopped listening: the listed approver's decision was never read, the step timed out and the
account stayed open (``needs_responder``) — containment blocked by someone the playbook never allowed to decide.

Fixed: the gate moves to a fresh event name (``approval:<step>:<n>``, published in ``pending_approval["event"]``,
where the API, console, CLI and tabletop read the name they raise) instead of going deaf.
"""

from __future__ import annotations

from tests.lifecycle.conftest import ALICE, lab  # noqa: F401 — the fixture
from tests.lifecycle.test_lifecycle_approvals import gated

CAROL = "oid-carol"  # approver role through grp-secops (the sandbox's demo table), not among the step's approvers


def test_two_refused_decisions_do_not_deafen_the_gate(lab):  # noqa: F811
    iid = lab.start(gated())  # approvers: alice, bob
    assert lab.run(iid).custom_status["pending_approval"]["step"] == "lock-network"
    lab.decide(iid, "lock-network", "approve", CAROL, groups=["grp-secops"])
    lab.decide(iid, "lock-network", "approve", CAROL, groups=["grp-secops"])
    waiting = lab.run(iid)
    assert waiting.runtime_status == "Running"
    assert waiting.custom_status["pending_approval"]["refused_decisions"] == 2
    lab.decide(iid, "lock-network", "approve", ALICE, comment="contain it")  # to the name the gate publishes
    done = lab.run(iid, advance_timers=True)
    assert [(a["by"], a["verdict"]) for a in done.output["approvals"]] == [(CAROL, "refused"), (CAROL, "refused"), (ALICE, "approve")]
    assert done.output["status"] == "contained"
    assert lab.acls()["defaultAction"] == "Deny"


def test_the_gate_still_reads_decisions_after_many_refusals(lab):  # noqa: F811
    iid = lab.start(gated())
    lab.run(iid)
    for _ in range(3):  # three rounds of two
        lab.decide(iid, "lock-network", "reject", CAROL, groups=["grp-secops"])
        lab.decide(iid, "lock-network", "reject", CAROL, groups=["grp-secops"])
        lab.run(iid)
    lab.decide(iid, "lock-network", "approve", ALICE)
    done = lab.run(iid, advance_timers=True)
    assert done.output["status"] == "contained"
    assert [a["verdict"] for a in done.output["approvals"]].count("refused") == 6


def test_no_number_of_refusal_pairs_deafens_the_gate(lab):  # noqa: F811
    """Moving to a fresh name has no cap: a cap would give the deafness back after as many pairs of refusals."""
    iid = lab.start(gated())
    lab.run(iid)
    for _ in range(60):
        lab.decide(iid, "lock-network", "reject", CAROL, groups=["grp-secops"])
        lab.decide(iid, "lock-network", "reject", CAROL, groups=["grp-secops"])
        lab.run(iid)
    lab.decide(iid, "lock-network", "approve", ALICE)
    assert lab.run(iid, advance_timers=True).output["status"] == "contained"
