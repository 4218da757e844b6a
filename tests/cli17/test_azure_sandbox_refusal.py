"""cli17: ``incident stop ID --azure`` of a sandbox incident was refused telling the responder to "decide it without
--azure" — stop decides nothing. The refusal names the verb used (fails before: "decide it without --azure")."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from firestop.cli.main import app

ALERT = Path(__file__).resolve().parents[2] / "examples" / "alerts" / "suspicious-key-access.json"


def cli(*args: str):
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "400"}, catch_exceptions=False)


def test_azure_is_refused_for_a_sandbox_incident_naming_the_verb(firestop_home, monkeypatch):
    import firestop.trust

    def no_sign_in(*args, **kwargs):  # refused before any sign-in is read
        raise AssertionError("the Azure sign-in was read")

    monkeypatch.setattr(firestop.trust, "principal_from_credential", no_sign_in)
    handled = cli("alert", "handle", str(ALERT), "--json")
    incident = __import__("json").loads(handled.stdout)["incident_id"]
    stopped = cli("incident", "stop", incident, "--reason", "drill", "--azure")
    assert stopped.exit_code == 2 and f"incident {incident} ran on the sandbox tenant; stop it without --azure" in stopped.output
    approved = cli("incident", "approve", incident, "--step", "revoke-principal", "--azure")
    assert approved.exit_code == 2 and "ran on the sandbox tenant; decide it without --azure" in approved.output
