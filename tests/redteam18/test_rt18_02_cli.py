"""RT18-02 in the CLI: a local ``runbook run`` / ``runbook undo`` of a Graph runbook follows the API's rule
(:mod:`runbooks.graph_scope`). Locally the identity these clients act as (the sandbox credential's object id) is the
caller: a responder's rule unless the role table makes it admin. A refusal is exit 2, as the app's 403 is through
``--app`` (:mod:`firestop.cli.remote`)."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from firestop.cli.main import app

SUB = "/subscriptions/11111111-2222-3333-4444-555555555555"
ACCOUNT = SUB + "/resourceGroups/rg-ai-prod/providers/Microsoft.CognitiveServices/accounts/contoso-openai-prod"
BUILD_AGENT = "e7d9a3c1-58b2-4f06-9c1a-7b3e2d4f6a80"  # no role on any account
REPORT_EXPORTER = "d4c3b2a1-6e5f-4a7b-9c8d-0e1f2a3b4c5d"  # Cognitive Services Contributor on contoso-openai-prod
SANDBOX_CALLER = "5b0c7d0e-1f2a-4b3c-8d4e-5f6a7b8c9d0e"  # the sandbox credential's oid (Firestop's own identity)
DISABLE = "identity.disable_service_principal"


def cli(*args: str):
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def _enabled(sp_id: str) -> bool:
    result = cli("runbook", "plan", DISABLE, "--param", f"service_principal_id={sp_id}", "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)["result"]["before"]["accountEnabled"]


def test_a_local_run_on_an_unrelated_principal_is_refused_with_exit_2_and_nothing_done(firestop_home):
    result = cli("runbook", "run", DISABLE, "--param", f"service_principal_id={BUILD_AGENT}", "--yes")
    assert result.exit_code == 2, result.output
    assert "--target" in result.output and "admin" in result.output and "Applied" not in result.output
    result = cli("runbook", "run", DISABLE, "--target", ACCOUNT, "--param", f"service_principal_id={BUILD_AGENT}", "--yes", "--json")
    assert result.exit_code == 2, result.output
    out = json.loads(result.stdout)
    assert out["refused"]["error"] == "service_principal_id" and out["apply"] is None
    assert _enabled(BUILD_AGENT) is True


def test_a_local_plan_is_shown_and_says_a_run_would_be_refused(firestop_home):
    result = cli("runbook", "plan", DISABLE, "--param", f"service_principal_id={BUILD_AGENT}")
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert "accountEnabled: true → false" in said and "a run would be refused: --target:" in said


def test_a_local_run_with_the_account_the_principal_holds_a_role_on_applies(firestop_home):
    result = cli("runbook", "run", DISABLE, "--target", ACCOUNT, "--param", f"service_principal_id={REPORT_EXPORTER}", "--yes")
    assert result.exit_code == 0, result.output
    assert _enabled(REPORT_EXPORTER) is False


def test_an_admin_runs_on_any_principal_and_a_responder_cannot_undo_it(firestop_home, monkeypatch):
    monkeypatch.setenv("FIRESTOP_ROLES", json.dumps({"principals": {SANDBOX_CALLER: ["admin"]}, "groups": {}}))
    result = cli("runbook", "run", DISABLE, "--param", f"service_principal_id={BUILD_AGENT}", "--yes", "--json")
    assert result.exit_code == 0, result.output
    run_id = json.loads(result.stdout)["run_id"]
    assert _enabled(BUILD_AGENT) is False
    monkeypatch.setenv("FIRESTOP_ROLES", json.dumps({"principals": {SANDBOX_CALLER: ["responder"]}, "groups": {}}))
    result = cli("runbook", "undo", run_id, "--yes")
    assert result.exit_code == 2 and "--target" in result.output, result.output
    assert _enabled(BUILD_AGENT) is False
    monkeypatch.setenv("FIRESTOP_ROLES", json.dumps({"principals": {SANDBOX_CALLER: ["admin"]}, "groups": {}}))
    result = cli("runbook", "undo", run_id, "--yes")
    assert result.exit_code == 0, result.output
    assert _enabled(BUILD_AGENT) is True
