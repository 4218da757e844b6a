"""cli17: ``incident undo --app`` runs as the app's identity, which never holds roleAssignments/write, so on Azure a
revoked role assignment is not restored by it — only by a person's own sign-in (``az role assignment create``; for a
manual run ``runbook undo --azure``). The preview said who may restore it but not that --app cannot, nor how; the
result said "not undone" and the 403. Both now say so and give the exact ``az`` command, built from the step's
before-state and quoted for a shell (fails before: neither line nor command; ``--json`` without
``restore_by_hand``)."""

from __future__ import annotations

import io
import json
import shlex
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from firestop.cli.main import app

ALERT = Path(__file__).resolve().parents[2] / "examples" / "alerts" / "suspicious-key-access.json"
ASSIGNMENT = "5e6f7a8b-9c0d-4e1f-8a2b-4c5d6e7f8a9b"  # the sandbox seed's build-pipeline-sp assignment
PRINCIPAL = "d4c3b2a1-6e5f-4a7b-9c8d-0e1f2a3b4c5d"


def cli(*args: str):
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "400"}, catch_exceptions=False)


@pytest.fixture
def revoked(firestop_home):
    """(incident id, the undo's actions as the app's preview carries them) after revoke-principal was approved."""
    handled = json.loads(cli("alert", "handle", str(ALERT), "--json").stdout)
    incident = handled["incident_id"]
    assert cli("incident", "approve", incident, "--step", "revoke-principal", "--as", "oid-alice").exit_code == 0
    from firestop.cli.undo import undo_candidates
    from firestop.cli.wiring import sandbox_environment

    env = sandbox_environment()
    try:
        _, actions = undo_candidates(env, incident, step="revoke-principal")
    finally:
        env.close()
    return incident, [{"step_id": a["step_id"], "runbook": a["runbook"], "target": a["target"], "before": a["before"]}
                      for a in actions]


def _command(before: dict) -> str:
    props = before["assignments"][0]["properties"]
    return shlex.join(["az", "role", "assignment", "create", "--assignee-object-id", PRINCIPAL,
                       "--assignee-principal-type", "ServicePrincipal", "--role", "25fbc0a9-bd7c-42a3-aa1a-3b75d497ee68",
                       "--scope", props["scope"], "--name", ASSIGNMENT]
                      + (["--description", props["description"]] if props.get("description") else []))


def test_the_preview_through_the_app_says_it_cannot_and_gives_the_command(revoked, monkeypatch):
    from firestop.cli.incident_cmd import _undo_preview
    from firestop.cli.output import console

    incident, actions = revoked
    monkeypatch.setattr("sys.stdin", io.StringIO("n\n"))
    with console.capture() as captured, pytest.raises(typer.Exit):
        _undo_preview(actions, [], "the app's tenant (https://firestop.example)", step="revoke-principal", others=[], by_app=True)
    lines = captured.get().splitlines()
    said = " ".join(captured.get().split())
    assert "through --app the undo runs as the app's identity, which never holds that permission: on Azure this step is " \
           "not restored (403); restore it with your own sign-in holding one of those roles:" in said, said
    assert f"    {_command(actions[0]['before'])}" in lines, lines
    local = io.StringIO("n\n")
    monkeypatch.setattr("sys.stdin", local)
    with console.capture() as captured, pytest.raises(typer.Exit):  # the sandbox's local undo: no such line
        _undo_preview(actions, [], "the sandbox tenant", step="revoke-principal", others=[])
    assert "through --app" not in captured.get() and "az role assignment create" not in captured.get()


def test_the_result_through_the_app_says_it_too(revoked, capsys):
    from firestop.cli.incident_cmd import _undo_done

    incident, actions = revoked
    refused = {"incident_id": incident, "undone": [{"step_id": "revoke-principal", "runbook": "identity.revoke_role_assignment",
                                                    "ok": False, "detail": "forbidden: roleAssignments/write (403)"}]}
    with pytest.raises(typer.Exit) as ended:
        _undo_done(refused, False, by_app=actions)
    assert ended.value.exit_code == 3
    out = capsys.readouterr().out
    assert "not undone revoke-principal" in out and "through --app the undo runs as the app's identity" in out
    assert f"    {_command(actions[0]['before'])}" in out.splitlines(), out
    with pytest.raises(typer.Exit):
        _undo_done(refused, True, by_app=actions)
    item = json.loads(capsys.readouterr().out)["undone"][0]
    assert item["restore_by_hand"] == [_command(actions[0]["before"])]


def test_restore_commands_quote_what_came_from_the_tenant():
    from runbooks.identity import restore_commands

    before = {"assignments": [{"name": ASSIGNMENT, "properties": {
        "principalId": PRINCIPAL, "principalType": "User", "scope": "/subscriptions/x/resourceGroups/rg",
        "roleDefinitionId": "/subscriptions/x/providers/Microsoft.Authorization/roleDefinitions/abc",
        "description": "it's $(rm -rf ~)", "condition": "@Resource[x] StringEquals 'y'", "conditionVersion": "2.0"}}]}
    [command] = restore_commands(before)
    assert shlex.split(command) == ["az", "role", "assignment", "create", "--assignee-object-id", PRINCIPAL,
                                    "--assignee-principal-type", "User", "--role", "abc", "--scope", "/subscriptions/x/resourceGroups/rg",
                                    "--name", ASSIGNMENT, "--description", "it's $(rm -rf ~)",
                                    "--condition", "@Resource[x] StringEquals 'y'", "--condition-version", "2.0"]
    assert restore_commands({"assignments": [{"properties": {}}]}) == [] and restore_commands(None) == []
