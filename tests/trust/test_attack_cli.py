"""The CLI's ``--as``: a labelled sandbox simulation only; anywhere else the identity is the sign-in's token."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from firestop.cli.main import app
from firestop.settings import REPO_ROOT

from .conftest import EXAMPLE, INCIDENT

STEP = "lock-network"


def cli(*args: str):
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def gated(folder, approvers: list[str]):
    text = (REPO_ROOT / "playbooks" / "leaked-api-key.yaml").read_text().replace(
        f"      - id: {STEP}\n", f"      - id: {STEP}\n        approval: {{mode: required, approvers: {json.dumps(approvers)}}}\n")
    folder.mkdir(exist_ok=True)
    (folder / "leaked-api-key.yaml").write_text(text)
    return folder


def real_azure_like_env():
    """The local host with clients that say they are NOT the sandbox (``sandbox=False``), as ``--azure`` builds them —
    here still sent to the simulated tenant, so nothing leaves the machine. Its credential issues JWTs with an ``oid``."""
    from firestop.azure.clients import ClientFactory, configure_clients
    from firestop.cli.wiring import Environment, function_app
    from firestop.runtime import LocalDurableHost
    from firestop.sandbox import Tenant
    from firestop.settings import Settings, configure_settings

    settings = Settings.from_env()
    settings.home.mkdir(parents=True, exist_ok=True)
    tenant = Tenant.open(settings.sandbox_dir)
    clients = ClientFactory(credential=tenant.credential, transport=tenant.transport, clock=tenant.clock, sandbox=False)
    settings = settings.model_copy(update={"key_vault_url": "https://kv-contoso-ai.vault.azure.net",
                                           "log_workspace_id": "0a6c2f6e-7f1c-4f61-9d3a-5c1f2d9e8b7a"})
    configure_settings(settings)
    configure_clients(clients)
    return Environment(settings=settings, tenant=tenant, clients=clients, host=LocalDurableHost(function_app(), settings.durable_db, clock=tenant.clock))


@pytest.fixture
def signed_in_oid(firestop_home):
    env = real_azure_like_env()
    try:
        return env.clients.caller_object_id()
    finally:
        env.close()


def test_as_is_labelled_a_simulation_in_help_and_output(firestop_home, tmp_path, monkeypatch):
    monkeypatch.setenv("FIRESTOP_PLAYBOOKS", str(gated(tmp_path / "pb", ["oid-alice"])))
    for command in ("approve", "reject"):
        assert "SANDBOX SIMULATION" in " ".join(cli("incident", command, "--help").output.split())
    assert cli("alert", "handle", str(EXAMPLE)).exit_code == 3
    done = cli("incident", "approve", INCIDENT, "--step", STEP, "--as", "oid-alice", "--json")
    assert done.exit_code == 0, done.output
    assert "SIMULATION: deciding as 'oid-alice'" in done.stderr and "no sign-in checked" in done.stderr
    assert json.loads(done.stdout)["approvals"][-1]["by"] == "oid-alice"


def test_an_oversized_comment_is_refused_before_anything_is_decided(firestop_home):
    result = cli("incident", "approve", INCIDENT, "--step", STEP, "--as", "oid-alice", "--comment", "x" * 1001)
    assert result.exit_code == 2 and "--comment" in result.output and "1,000" in result.output


@pytest.mark.parametrize("flags", [["--as", "oid-alice"], ["--group", "grp-secops-oncall"], ["--as", "x", "--group", "y"]])
def test_as_and_group_never_combine_with_azure(firestop_home, flags):
    result = cli("incident", "approve", INCIDENT, "--step", STEP, "--azure", *flags)
    assert result.exit_code == 2 and "--as/--group: a sandbox simulation" in result.output


def test_as_is_refused_when_running_on_azure(firestop_home, monkeypatch):
    monkeypatch.setenv("WEBSITE_SITE_NAME", "fs-prod")
    result = cli("incident", "approve", INCIDENT, "--step", STEP, "--as", "oid-alice")
    assert result.exit_code == 2 and "running on Azure" in result.output


def test_on_a_real_azure_incident_only_the_sign_in_decides(firestop_home, tmp_path, monkeypatch, signed_in_oid):
    import firestop.cli.wiring as wiring
    from firestop.alerts import parse_alert
    from firestop.cli.incidents import handle_alert

    assert signed_in_oid
    monkeypatch.setenv("FIRESTOP_PLAYBOOKS", str(gated(tmp_path / "pb", [signed_in_oid, "grp-secops-oncall"])))
    env = real_azure_like_env()
    try:
        waiting, _ = handle_alert(parse_alert(EXAMPLE.read_bytes()), env=env)
    finally:
        env.close()
    assert waiting["status"] == "awaiting_approval" and waiting["pending_approval"]["step"] == STEP
    # --as (even with a group the step lists) cannot decide an incident that acted on real Azure
    refused = cli("incident", "approve", INCIDENT, "--step", STEP, "--as", signed_in_oid, "--group", "grp-secops-oncall")
    assert refused.exit_code == 2 and "acted on real Azure" in refused.output and "--azure" in refused.output
    monkeypatch.setattr(wiring, "azure_environment", lambda settings=None: real_azure_like_env())
    unassigned = cli("incident", "approve", INCIDENT, "--step", STEP, "--azure", "--json")  # signed in, but no role
    assert unassigned.exit_code == 2 and "does not hold the approver role" in unassigned.output
    monkeypatch.setenv("FIRESTOP_ROLES", json.dumps({"principals": {signed_in_oid: ["approver"]}}))
    done = cli("incident", "approve", INCIDENT, "--step", STEP, "--azure", "--json")
    assert done.exit_code == 0, done.output
    record = json.loads(done.stdout)
    assert record["status"] == "contained" and record["approvals"][-1]["by"] == signed_in_oid  # the token's oid
    assert "SIMULATION" not in done.output


def test_azure_refuses_a_sandbox_incident(firestop_home, tmp_path, monkeypatch):
    import firestop.cli.wiring as wiring

    monkeypatch.setenv("FIRESTOP_PLAYBOOKS", str(gated(tmp_path / "pb", ["oid-alice"])))
    assert cli("alert", "handle", str(EXAMPLE)).exit_code == 3
    monkeypatch.setattr(wiring, "azure_environment", lambda settings=None: real_azure_like_env())
    result = cli("incident", "approve", INCIDENT, "--step", STEP, "--azure")
    assert result.exit_code == 2 and "ran on the sandbox tenant" in result.output


def test_a_sign_in_without_an_object_id_decides_nothing():
    """A TokenCredential whose token has no ``oid`` (or is no JWT) gives no identity; nothing falls back to a flag."""
    import base64

    from azure.core.credentials import AccessToken

    from firestop.trust import CredentialIdentityError, principal_from_credential

    class Issued:  # a TokenCredential (azure.core protocol) handing out a fixed token
        def __init__(self, token: str) -> None:
            self.token = token

        def get_token(self, *scopes, **kwargs):
            return AccessToken(self.token, 0)

    payload = base64.urlsafe_b64encode(json.dumps({"name": "alice", "groups": ["grp-secops"]}).encode()).decode().rstrip("=")
    for token in (f"h.{payload}.s", "not-a-jwt"):
        with pytest.raises(CredentialIdentityError):
            principal_from_credential(Issued(token))
    good = base64.urlsafe_b64encode(json.dumps({"oid": "3f2a", "groups": ["grp-secops"]}).encode()).decode().rstrip("=")
    caller = principal_from_credential(Issued(f"h.{good}.s"))
    assert (caller.object_id, caller.groups) == ("3f2a", ("grp-secops",))


@pytest.mark.parametrize("who", ["oid-mallory", "nobody-at-all"])
def test_a_cli_decision_needs_the_approver_role_like_the_api(firestop_home, tmp_path, monkeypatch, who):
    """Red team / new user: ``incident approve --as oid-mallory`` (a reader) approved and applied a step that
    lists no approvers. The CLI checks the same role table as the API (firestop.trust.roles_held)."""
    monkeypatch.setenv("FIRESTOP_PLAYBOOKS", str(gated(tmp_path / "pb", [])))
    assert cli("alert", "handle", str(EXAMPLE)).exit_code == 3
    for command in ("approve", "reject"):
        refused = cli("incident", command, INCIDENT, "--step", STEP, "--as", who, "--json")
        assert refused.exit_code == 2 and "does not hold the approver role" in refused.output, refused.output
    shown = json.loads(cli("incident", "show", INCIDENT, "--json").stdout)
    assert shown["status"] == "awaiting_approval" and (shown.get("pending_approval") or {}).get("step") == STEP
    done = cli("incident", "approve", INCIDENT, "--step", STEP, "--as", "oid-alice", "--json")  # responder + approver
    assert done.exit_code == 0, done.output


def test_undo_without_an_identity_names_the_flags_undo_has(firestop_home, monkeypatch):
    """``incident undo`` has no ``--azure``: its refusal names ``--as`` and ``--app``, and its label says undoing."""
    monkeypatch.delenv("FIRESTOP_PRINCIPAL_ID", raising=False)
    assert cli("alert", "handle", str(EXAMPLE)).exit_code == 0
    refused = cli("incident", "undo", INCIDENT, "--yes")
    assert refused.exit_code == 2 and "who undoes?" in refused.output
    assert "--app" in refused.output and "--azure" not in refused.output
    assert "No such option" in cli("incident", "undo", INCIDENT, "--azure").output  # what the old message sent people to
    done = cli("incident", "undo", INCIDENT, "--as", "oid-bob", "--yes", "--json")
    assert done.exit_code == 0, done.output
    assert "SIMULATION: undoing as 'oid-bob'" in done.stderr


def test_undo_on_azure_points_to_the_app_not_to_azure(firestop_home, monkeypatch):
    monkeypatch.setenv("WEBSITE_SITE_NAME", "fs-prod")
    result = cli("incident", "undo", INCIDENT, "--as", "oid-bob", "--yes")
    assert result.exit_code == 2 and "running on Azure" in result.output
    assert "/undo" in result.output and "--azure" not in result.output
