"""``incident undo ID --step STEP``'s preview: the incident's other steps are not part of this undo or release.

Session 13's note: a release preview with ``--step`` listed the incident's other steps as "stays as it is", which
reads as if this release decided they stay; they are simply not part of it, and each has its own way back (its own
``--step``), or none (a rotated key). The preview now says so, with the command (carrying the ``--as`` given), and
asks "Release this?" — the same locally and from the app's preview route (``others``).
"""

from __future__ import annotations

import json

from typer.testing import CliRunner

from firestop.settings import REPO_ROOT
from tests.trust.conftest import api, handled_home  # noqa: F401 — fixtures

LEAKED = REPO_ROOT / "examples" / "alerts" / "leaked-key.json"
ANOMALOUS = REPO_ROOT / "examples" / "alerts" / "anomalous-usage.json"


def _cli(*args, input=None):
    from firestop.cli.main import app

    return CliRunner().invoke(app, list(args), input=input, catch_exceptions=False)


def test_a_step_release_preview_names_the_other_steps_as_not_part_of_it(firestop_home):
    assert _cli("alert", "handle", str(LEAKED), "--json").exit_code == 0
    later = json.loads(_cli("alert", "handle", str(ANOMALOUS), "--json").stdout)["incident_id"]

    preview = _cli("incident", "undo", later, "--step", "lock-network", "--as", "oid-bob", input="n\n")
    said = " ".join(preview.output.split())
    assert preview.exit_code == 2 and "would release lock-network" in said, said
    assert "stays as it is" not in said
    assert (f"not part of this release: block-ips (network.block_ips) — undo it with: python -m firestop incident undo "
            f"{later} --step block-ips --as oid-bob") in said
    assert "not part of this release: rotate-keys (keys.rotate) — cannot be undone: a revoked key is gone for good" in said
    assert "not part of this release: lock-network" not in said
    assert "Release this on the sandbox tenant?" in said and "Undo these" not in said

    whole = _cli("incident", "undo", later, "--as", "oid-bob", input="n\n")  # no --step: what no undo restores
    said = " ".join(whole.output.split())
    assert whole.exit_code == 2 and "stays as it is: rotate-keys (keys.rotate)" in said and "not part of" not in said


def test_outside_step_reads_each_other_step():
    from firestop.lifecycle.undo import outside_step

    record = {"actions": [
        {"step_id": "lock-network", "runbook": "network.lock", "ok": True, "changed": False},
        {"step_id": "block-ips", "runbook": "network.block_ips", "ok": True, "changed": True},
        {"step_id": "block-ips", "runbook": "network.block_ips", "ok": True, "changed": True},  # one line a step
        {"step_id": "rotate-keys", "runbook": "keys.rotate", "ok": True, "changed": True},
        {"step_id": "disable-local-auth", "runbook": "auth.disable_local_auth", "ok": True, "changed": True, "undone": True},
        {"step_id": "failed-one", "runbook": "network.lock", "ok": False, "changed": False},
    ]}
    got = {o["step_id"]: o["why"] for o in outside_step("inc-1", record, "lock-network")}
    assert got == {
        "block-ips": "undo it with: python -m firestop incident undo inc-1 --step block-ips",
        "rotate-keys": got["rotate-keys"],
        "disable-local-auth": "already undone",
    } and got["rotate-keys"].startswith("cannot be undone: a revoked key")
    released = outside_step("inc-1", record, "block-ips")
    assert released[0] == {"step_id": "lock-network", "runbook": "network.lock",
                           "why": "release it with: python -m firestop incident undo inc-1 --step lock-network "
                                  "(it changed nothing; nothing is restored)"}


def test_the_app_preview_route_sends_the_other_steps(api):
    from tests.trust.conftest import INCIDENT

    status, body = api.call("undo_preview_http", "GET", f"incidents/{INCIDENT}/undo", who="oid-bob",
                            route={"incident_id": INCIDENT}, params={"step": "lock-network"})
    assert status == 200, body
    assert [a["step_id"] for a in body["actions"]] == ["lock-network"]
    assert {o["step_id"]: o["why"].split(":")[0] for o in body["others"]} == {"rotate-keys": "cannot be undone"}
    status, whole = api.call("undo_preview_http", "GET", f"incidents/{INCIDENT}/undo", who="oid-bob",
                             route={"incident_id": INCIDENT})
    assert status == 200 and whole["others"] == [] and [s["step_id"] for s in whole["stays"]] == ["rotate-keys"], whole


def test_undo_of_an_incident_waiting_for_approval_says_how_to_end_it_first(firestop_home):
    """A 3 a.m. responder: ``incident undo`` of an incident waiting for an approval answered "has not finished
    (Running)" — the Durable runtime's word, and no way on. It now says what it is and the command that ends it."""
    waiting = _cli("alert", "handle", str(REPO_ROOT / "examples" / "alerts" / "suspicious-key-access.json"), "--json")
    assert waiting.exit_code == 3, waiting.output
    incident = json.loads(waiting.stdout)["incident_id"]
    refused = _cli("incident", "undo", incident, "--as", "oid-bob", "--yes", "--json")
    assert refused.exit_code == 2, refused.output
    error = json.loads(refused.stdout)["error"]
    assert "(Running)" not in error and "running or waiting for an approval" in error, error
    # as typed it runs: the --as given goes with it (without, the local stop asks who stops)
    assert f"python -m firestop incident stop {incident} --reason TEXT --as oid-bob (" in error and "then undo it" in error


def test_undo_selection_of_an_incident_that_ended_without_a_record():
    import pytest

    from firestop.lifecycle.undo import UndoRefused, undo_selection

    with pytest.raises(UndoRefused) as refused:
        undo_selection("inc-1", "Failed", None, None)
    assert "ended without filing its record (Failed)" in str(refused.value)
    assert "python -m firestop incident show inc-1" in str(refused.value)


def test_undo_of_a_step_the_incident_does_not_have_names_its_steps():
    """``incident undo ID --step nope`` answered "'nope' changed nothing that can be undone" — as if the step had run.
    A step the incident does not have is named as such, with its steps."""
    import pytest

    from firestop.lifecycle.undo import UndoRefused, undo_selection

    record = {"actions": [{"step_id": "lock-network", "runbook": "network.lock", "ok": True, "changed": True},
                          {"step_id": "snapshot-logs", "runbook": "evidence.snapshot_logs", "ok": True, "changed": False}],
              "timeline": []}
    with pytest.raises(UndoRefused) as refused:
        undo_selection("inc-1", "Completed", record, record, step="lock-netwrok")
    assert str(refused.value) == ("--step: incident inc-1 has no step 'lock-netwrok'; its steps: lock-network, snapshot-logs "
                                  "(see: python -m firestop incident show inc-1)")
    assert refused.value.field == "step"
    with pytest.raises(UndoRefused, match="'snapshot-logs' changed nothing that can be undone"):
        undo_selection("inc-1", "Completed", record, record, step="snapshot-logs")
