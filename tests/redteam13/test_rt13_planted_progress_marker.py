"""RT13-02 (high): a planted (or replayed) progress marker chose the "before" an undo writes back to Azure.

A runbook that changes Azure in more than one call keeps the state it read before its first change as a ``marker``
entry on the incident's ledger (:mod:`runbooks.markers`), and every apply starts from the *first* marker of its
(incident, step, runbook, target): its ``before`` is what the apply reports, what the sealed record then carries and
what an undo restores. :func:`runbooks.markers.recall` believed any such entry. Ledger9 seals entries and made undo
believe only sealed ones, but not the markers:

- a principal with Storage Blob Data write and no Firestop role lists the ledger container, sees an incident's
  ledger appear (its evidence entries name the target) — or creates it beforehand: an incident's id is
  ``inc-`` + SHA-256 of its correlation slot key (:func:`firestop.intake.correlation.slot_id`, the resource ID by
  default) with ``-g<n>`` from the second on, so the next incidents' ledger names on an account are known — and appends — protected appends are allowed under WORM — a
  ``marker`` for a step it has not run yet (step ids are the shipped playbooks'; an approval gate gives it hours),
  ``before``: public access on, default Allow, its own IP allowed. The step locks the account and reports that
  ``before``; the record is filed and sealed with it; the undo (a responder closing a false positive) writes it to
  the account: the attacker's address is now on the allow list of the production model account;
- or it copies a sealed marker of an earlier incident on the same account (same playbook step id) into the new
  incident's ledger: the seal checked out (it names its own incident and seq, and nobody compared them with the
  ledger it was read from), the apply found the account locked and reported the old open state as its before, and the
  undo of a step that changed nothing reopened the account.

Fixed: :func:`runbooks.markers.recall` believes a marker only when it carries the app's seal
(:meth:`runbooks.ledger.Ledger.sealed`) *and* names this incident (the entry's ``incident_id``; the seal binds the
entry to ``<incident_id>/<seq>``, so a copy from another ledger keeps naming its own). A planted or copied marker is
ignored (logged): the apply starts from what it reads and keeps its own marker — containment is not held up by it.
"""

from __future__ import annotations

import json

from tests.runbooks.conftest import ACCOUNT, Sandbox, sandbox  # noqa: F401 — the fixture

OPEN = {"publicNetworkAccess": "Enabled",
        "networkAcls": {"defaultAction": "Allow", "ipRules": [{"value": "203.0.113.66"}], "virtualNetworkRules": []}}


def _account(sb: Sandbox) -> dict:
    state = sb.run("network.lock", "plan")["result"]["before"]
    return {k: state[k] for k in ("publicNetworkAccess", "networkAcls")}


def test_a_planted_marker_is_not_the_before_an_undo_restores(sandbox):  # noqa: F811
    from runbooks.ledger import Ledger

    original = _account(sandbox)
    bare = Ledger(sandbox.settings.ledger_dir)  # the blob writer: a well-chained entry, no seal
    bare.append("inc-test", kind="marker", runbook="network.lock", action="apply", step_id="step", target=ACCOUNT,
                at="2026-12-04T10:00:00+00:00", data={"before": OPEN, "plan": {}})
    lock = sandbox.run("network.lock", "apply")
    assert lock["ok"] and lock["result"]["changed"]
    assert {k: lock["result"]["before"][k] for k in OPEN} == original  # before: the planted OPEN
    undo = sandbox.run("network.lock", "undo", applied=lock["result"])
    assert undo["ok"]
    assert _account(sandbox) == original  # before: 203.0.113.66 allowed, default Allow


def test_a_sealed_marker_copied_from_another_incident_is_not_believed(sandbox):  # noqa: F811
    from runbooks.ledger import Ledger

    first = sandbox.run("network.lock", "apply", incident_id="inc-first")  # sealed marker, before = the open account
    assert first["ok"] and first["result"]["changed"]
    store = Ledger.of(sandbox.settings).store
    marker = next(line for line in store.read("inc-first.jsonl").decode().splitlines()
                  if json.loads(line)["kind"] == "marker")
    bare = Ledger(sandbox.settings.ledger_dir)
    bare.append("inc-second", kind="evidence", runbook="evidence.snapshot_config", action="apply", step_id="snap",
                target=ACCOUNT, at="2026-12-04T10:00:00+00:00", data={})
    raw = store.read("inc-second.jsonl")
    store.append("inc-second.jsonl", marker.encode() + b"\n", at=len(raw))  # the copy, its seal intact
    second = sandbox.run("network.lock", "apply", incident_id="inc-second")  # the account is locked already
    assert second["ok"] and not second["result"]["changed"]
    fields = ("publicNetworkAccess", "networkAcls")
    assert [second["result"]["before"][k] for k in fields] == [second["result"]["after"][k] for k in fields]  # before:
    # the first incident's open state
    locked = _account(sandbox)
    undo = sandbox.run("network.lock", "undo", incident_id="inc-second", applied=second["result"])
    assert undo["ok"] and not undo["result"]["changed"]
    assert _account(sandbox) == locked  # before: reopened by the undo of a step that changed nothing


def test_firestops_own_marker_still_holds_across_a_retry(sandbox):  # noqa: F811
    """The retry the marker exists for: a PATCH that landed whose answer was lost — the retry reports the original."""
    from runbooks.markers import recall, remember
    from runbooks.base import RunContext

    original = sandbox.run("network.lock", "plan")["result"]["before"]
    ctx = RunContext(clients=sandbox.clients, settings=sandbox.settings, incident_id="inc-test", step_id="step")
    remember(ctx, "network.lock", ACCOUNT, original)
    assert recall(ctx, "network.lock", ACCOUNT)["before"] == original
