"""What a new user hit (newuser9): a refused runbook input's line starts with the field it names, as every other
bad-input line does (it read ``error: invalid: --target: …``)."""

from __future__ import annotations

from typer.testing import CliRunner

from firestop.cli.main import app as cli_app


def cli(*args: str):
    return CliRunner().invoke(cli_app, list(args), catch_exceptions=False)


def test_a_refused_target_names_the_field_first(firestop_home):
    for extra in ([], ["--yes"]):
        refused = cli("runbook", "plan" if not extra else "run", "network.lock", "--target", "/bad", *extra)
        assert refused.exit_code == 2, refused.output
        line = " ".join(refused.output.split())
        assert line.startswith("error: --target: '/bad' is not an Azure OpenAI account resource ID"), line
        assert "invalid:" not in line


def test_handling_a_waiting_alert_again_says_the_incidents_status(firestop_home):
    """Handling again an alert whose incident waits for an approval said "resuming incident … (Running)" — the Durable
    runtime status — beside "awaiting_approval" everywhere else; it says the incident's own status."""
    import json

    from firestop.settings import REPO_ROOT

    payload = str(REPO_ROOT / "examples" / "alerts" / "suspicious-key-access.json")
    first = cli("alert", "handle", payload, "--json")
    assert first.exit_code == 3 and json.loads(first.stdout)["status"] == "awaiting_approval", first.output
    again = cli("alert", "handle", payload, "--json")
    assert again.exit_code == 3, again.output
    note = json.loads(again.stdout)["note"]
    assert note.startswith("resuming incident ") and note.endswith("(awaiting approval)"), note


def test_stopping_a_finished_incident_names_the_undo_with_the_as_given(firestop_home):
    """``incident stop`` of a finished incident names ``incident undo ID`` to restore what it changed; with ``--as`` it
    carries it (as typed, without it, the command asked "who undoes?"), asked or with ``--yes``."""
    import json

    from firestop.settings import REPO_ROOT

    done = cli("alert", "handle", str(REPO_ROOT / "examples" / "alerts" / "leaked-key.json"), "--json")
    incident = json.loads(done.stdout)["incident_id"]
    for extra in (["--yes"], []):
        refused = CliRunner().invoke(cli_app, ["incident", "stop", incident, "--reason", "test", "--as", "oid-alice", *extra],
                                     input="n\n", catch_exceptions=False)
        assert refused.exit_code == 2, refused.output
        said = " ".join(refused.output.split())
        assert f"python -m firestop incident undo {incident} --as oid-alice)" in said, said
