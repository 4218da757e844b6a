"""newuser18: small things a new user read wrong.

* ``rules untrust RULE --as oid-admin`` announced "SIMULATION: trusting as 'oid-admin'" on stderr while it revoked the
  trust: at 3 a.m., revoking a rule after a suspected forgery, that line says the opposite of what is being done.
  It now says "revoking trust as …" (``rules trust`` still says "trusting as …"). Fails before: untrust's line says
  "trusting as"."""

from __future__ import annotations

from typer.testing import CliRunner

from firestop.cli.main import app
from firestop.settings import REPO_ROOT

RULE = ("/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-ai-prod/providers/microsoft.insights/"
        "scheduledqueryrules/aoai-leaked-key-usage")


def cli(*args: str):
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "400"}, catch_exceptions=False)


def test_rules_untrust_says_it_revokes(firestop_home):
    assert cli("alert", "handle", str(REPO_ROOT / "examples" / "alerts" / "leaked-key.json")).exit_code == 0
    trusted = cli("rules", "trust", RULE, "--as", "oid-admin")
    assert trusted.exit_code == 0 and "SIMULATION: trusting as 'oid-admin'" in trusted.stderr, trusted.output
    revoked = cli("rules", "untrust", RULE, "--as", "oid-admin")
    assert revoked.exit_code == 0, revoked.output
    assert "SIMULATION: revoking trust as 'oid-admin'" in revoked.stderr and "trusting as" not in revoked.stderr, revoked.stderr


def test_infra_deploy_parameters_given_as_name_value_says_what_it_takes(firestop_home):
    """``infra deploy --parameters publicUrl=https://firestop.contoso.com`` (az's NAME=VALUE habit) answered
    "publicUrl=https:/firestop.contoso.com is not a file": the value misquoted (the path type folds ``//``) and no word
    that overrides go in the file. It now names the parameter and where it goes, and echoes no value. Fails before: the
    message is the misquoted "is not a file"."""
    import json

    result = CliRunner().invoke(app, ["infra", "deploy", "--parameters", "publicUrl=https://firestop.contoso.com", "--json"])
    assert result.exit_code == 2, result.output
    error = json.loads(result.stdout)["error"]
    assert error.startswith("--parameters: takes an ARM parameters file, not NAME=VALUE: set publicUrl in the file"), error
    assert "https:/firestop" not in error, error
