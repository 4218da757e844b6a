"""``incident stop``: a running or waiting incident stopped from the CLI (the API's ``POST /api/incidents/{id}/stop``
had no CLI verb), with the responder role checked, a confirmation unless ``--yes``, and a refusal for a finished one."""

from __future__ import annotations

import json

import pytest

from typer.testing import CliRunner

from firestop.cli.main import app
from tests.trust.conftest import EXAMPLE, INCIDENT
from tests.trust.test_attack_cli import STEP, gated


def cli(*args: str, input: str | None = None):
    return CliRunner().invoke(app, list(args), input=input, catch_exceptions=False)


def _waiting(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("FIRESTOP_PLAYBOOKS", str(gated(tmp_path / "pb", ["oid-alice"])))
    assert cli("alert", "handle", str(EXAMPLE)).exit_code == 3  # waits for approval of lock-network


def test_stop_ends_a_waiting_incident_and_names_who_and_why(firestop_home, tmp_path, monkeypatch):
    _waiting(tmp_path, monkeypatch)
    done = cli("incident", "stop", INCIDENT, "--reason", "false positive: planned rotation", "--as", "oid-bob", "--yes", "--json")
    assert done.exit_code == 0, done.output
    incident = json.loads(done.stdout)
    assert incident["status"] == "stopped"
    assert "oid-bob" in json.dumps(incident["timeline"]) and "planned rotation" in json.dumps(incident["timeline"])
    again = cli("incident", "stop", INCIDENT, "--reason", "again", "--as", "oid-bob", "--yes")
    assert again.exit_code == 2 and "already finished" in again.stderr and "Traceback" not in again.output
    # stopped before anything that acts ran: no undo command that would only answer "nothing left to undo" (new user 11)
    assert "nothing it changed is left to undo" in again.stderr and "incident undo" not in again.stderr


def test_stop_of_a_contained_incident_names_the_undo_that_restores_it(firestop_home):
    from firestop.settings import REPO_ROOT

    handled = cli("alert", "handle", str(REPO_ROOT / "examples" / "alerts" / "leaked-key.json"), "--json")
    incident = json.loads(handled.stdout)
    assert incident["status"] == "contained", handled.output
    again = cli("incident", "stop", incident["incident_id"], "--reason", "late", "--as", "oid-bob")
    assert again.exit_code == 2 and "already finished (contained)" in again.stderr
    assert f"python -m firestop incident undo {incident['incident_id']} --as oid-bob" in again.stderr  # the next step
    undone = cli("incident", "undo", incident["incident_id"], "--as", "oid-bob", "--yes", "--json")
    assert undone.exit_code in (0, 3), undone.output
    after = cli("incident", "stop", incident["incident_id"], "--reason", "late", "--as", "oid-bob", "--yes")
    assert "incident undo" not in after.stderr and "nothing it changed is left to undo" in after.stderr, after.stderr


def test_stop_asks_first_and_no_changes_nothing(firestop_home, tmp_path, monkeypatch):
    _waiting(tmp_path, monkeypatch)
    asked = cli("incident", "stop", INCIDENT, "--reason", "drill", "--as", "oid-bob", input="n\n")
    assert asked.exit_code == 2 and "would stop incident" in asked.stdout and "Stop it on the sandbox tenant?" in asked.stdout
    assert json.loads(cli("incident", "show", INCIDENT, "--json").stdout)["status"] == "awaiting_approval"
    assert cli("incident", "stop", INCIDENT, "--reason", "drill", "--as", "oid-bob", "--json").exit_code == 2  # --json needs --yes


def test_stop_needs_the_responder_role_and_a_reason(firestop_home, tmp_path, monkeypatch):
    _waiting(tmp_path, monkeypatch)
    refused = cli("incident", "stop", INCIDENT, "--reason", "drill", "--as", "oid-mallory", "--yes")
    assert refused.exit_code == 2 and "responder" in refused.stderr
    assert cli("incident", "stop", INCIDENT, "--reason", "  ", "--as", "oid-bob", "--yes").exit_code == 2
    assert cli("incident", "stop", INCIDENT, "--reason", "x" * 501, "--as", "oid-bob", "--yes").exit_code == 2
    assert json.loads(cli("incident", "show", INCIDENT, "--json").stdout)["status"] == "awaiting_approval"


def test_approve_without_as_names_the_steps_approvers_and_the_hint_names_one(firestop_home, tmp_path, monkeypatch):
    """New-user trial: the hint said ``--as <your object id>`` naming no one, and approve without --as did not say who
    may approve on the sandbox."""
    monkeypatch.delenv("FIRESTOP_PRINCIPAL_ID", raising=False)
    monkeypatch.setenv("FIRESTOP_PLAYBOOKS", str(gated(tmp_path / "pb", ["oid-alice"])))
    handled = cli("alert", "handle", str(EXAMPLE))
    assert handled.exit_code == 3 and "--as <your object id, e.g. oid-alice>" in " ".join(handled.stdout.split())
    bare = cli("incident", "approve", INCIDENT, "--step", STEP)
    assert bare.exit_code == 2 and "the step's approvers: oid-alice" in " ".join(bare.stderr.split()), bare.stderr
    stop = cli("incident", "stop", INCIDENT, "--reason", "drill", "--yes")
    text = " ".join(stop.stderr.split())
    assert stop.exit_code == 2 and "the responders in the sandbox's demo roles" in text and "oid-bob" in text, text


def test_a_missing_reason_names_the_option_and_what_it_is_for(firestop_home, capsys):
    """Not click's "Missing option '--reason'" pointing to --help: what to give and why, exit 2, JSON under --json;
    nothing is looked up or stopped first."""
    from firestop.cli.main import main

    said = cli("incident", "stop", INCIDENT, "--as", "oid-bob", "--yes")
    assert said.exit_code == 2
    assert "incident stop needs --reason TEXT: why you stop it, kept in the record" in said.output
    assert "Missing option" not in said.output
    with pytest.raises(SystemExit) as done:
        main(["incident", "stop", INCIDENT, "--as", "oid-bob", "--yes", "--json"])
    assert done.value.code == 2
    body = json.loads(capsys.readouterr().out)
    assert body["exit_code"] == 2 and body["error"].startswith("incident stop needs --reason TEXT: why you stop it")


def test_following_the_hint_with_the_demo_identity_in_FIRESTOP_PRINCIPAL_ID_works(firestop_home, tmp_path, monkeypatch):
    """newuser16: the hint says "--as <object-id> (or set FIRESTOP_PRINCIPAL_ID) — the responders in the sandbox's
    demo roles: … oid-bob"; exporting FIRESTOP_PRINCIPAL_ID=oid-bob then made every command — incident list
    included — stop with "FIRESTOP_PRINCIPAL_ID: 'oid-bob' is not a GUID", exit 2. The setting stands in for --as,
    so it takes what --as takes from a person (a GUID, or a demo identity's id); a value with a space, a control
    character or over 128 characters is still refused, naming the setting."""
    _waiting(tmp_path, monkeypatch)
    monkeypatch.setenv("FIRESTOP_PRINCIPAL_ID", "oid-bob")
    listed = cli("incident", "list", "--json")
    assert listed.exit_code == 0, listed.output
    stopped = cli("incident", "stop", INCIDENT, "--reason", "drill", "--yes")
    assert stopped.exit_code == 0, stopped.output
    assert json.loads(cli("incident", "show", INCIDENT, "--json").stdout)["status"] == "stopped"
    for bad in ("oid bob", "oid-\x1bbob", "x" * 129):
        monkeypatch.setenv("FIRESTOP_PRINCIPAL_ID", bad)
        refused = cli("incident", "list")
        assert refused.exit_code == 2 and "FIRESTOP_PRINCIPAL_ID" in refused.output, (bad, refused.output)
