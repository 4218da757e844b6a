"""What responders and deployers hit (leftovers9 item 8): ``audit run --account`` takes ``RG/NAME`` as ``infra`` does;
``runbook run --azure`` checks the sign-in before it asks anything; every ``--app`` command on an unknown incident
says the local command's hint, not the API's route."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from firestop.cli.main import app as cli_app
from firestop.cli.remote import RemoteError
from tests.cli.canned_app import canned_remote

ACCOUNT = ("/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-ai-prod/providers/"
           "Microsoft.CognitiveServices/accounts/contoso-openai-prod")


def cli(*args: str, stdin: str | None = None):
    return CliRunner().invoke(cli_app, list(args), input=stdin, catch_exceptions=False)


def test_audit_run_account_takes_rg_slash_name_as_infra_does(firestop_home):
    short = cli("audit", "run", "--account", "rg-ai-prod/contoso-openai-prod", "--no-incidents", "--json")
    assert short.exit_code in (0, 3), short.output
    assert json.loads(short.stdout)["scope"] == [ACCOUNT]
    full = cli("audit", "run", "--account", ACCOUNT, "--no-incidents", "--json")
    assert json.loads(full.stdout)["scope"] == [ACCOUNT]
    missing = cli("audit", "run", "--account", "rg-ai-prod/nope", "--no-incidents", "--json")
    assert missing.exit_code == 2 and "no Azure OpenAI account 'nope'" in json.loads(missing.stdout)["error"]
    bad = cli("audit", "run", "--account", "a/b/c", "--json")
    assert bad.exit_code == 2 and json.loads(bad.stdout)["error"] == "--account: 'a/b/c' is not <resource group>/<name> or a resource ID"


def test_runbook_run_on_azure_without_a_sign_in_refuses_before_asking(firestop_home, monkeypatch):
    from azure.core.exceptions import ClientAuthenticationError

    from firestop.cli import wiring

    class NoSignIn:
        def get_token(self, *scopes, **kwargs):
            raise ClientAuthenticationError("DefaultAzureCredential failed to retrieve a token from the included credentials.")

    def azure_environment(settings=None):
        env = wiring.sandbox_environment(settings)
        env.clients.credential = NoSignIn()
        return env

    monkeypatch.setattr(wiring, "azure_environment", azure_environment)
    result = cli("runbook", "run", "network.lock", "--target", ACCOUNT, "--azure", stdin="y\n")
    assert result.exit_code == 2, result.output
    assert "--azure: no Azure sign-in" in result.output and "az login" in result.output
    assert "Act on REAL Azure" not in result.output  # nothing asked before the sign-in was checked


def unknown(method, path):
    """The app's 404 for an incident it does not know, on every route (http_api._incident_status, the ledger route)."""
    reason = ("INCIDENT: no ledger for 'inc-nope' in the app's ledger store" if "/ledgers/" in path
              else "no incident 'inc-nope'")
    return 404, {"error": "incident_id", "reason": reason, "fix": "list incidents with GET /api/incidents", "status": 404}


@pytest.fixture
def remote(monkeypatch):
    yield from canned_remote(monkeypatch, unknown)


@pytest.mark.parametrize("call", [
    lambda app: app.incident("inc-nope"),
    lambda app: app.decide("inc-nope", "lock-network", "approve", None),
    lambda app: app.stop("inc-nope", "false positive"),
    lambda app: app.undo_preview("inc-nope", None),
    lambda app: app.undo("inc-nope", "lock-network"),
])
def test_every_incident_command_with_app_says_the_local_hint_for_an_unknown_incident(remote, call):
    with pytest.raises(RemoteError) as refused:
        call(remote)
    assert refused.value.exit_code == 2
    assert str(refused.value) == f"ID: no incident 'inc-nope'; list them with: python -m firestop incident list --app {remote.origin}"
    assert "GET /api/incidents" not in str(refused.value)


def test_ledger_verify_with_app_on_an_unknown_incident_says_the_local_hint(remote):
    with pytest.raises(RemoteError) as refused:
        remote.ledger("inc-nope")
    assert refused.value.exit_code == 2 and "GET /api/incidents" not in str(refused.value)
    assert str(refused.value).startswith("INCIDENT: no ledger for 'inc-nope' in the app's ledger store; check the incident ID: "
                                         "python -m firestop incident list --app ")
