"""The responder's CLI: alert handle stopping at an approval, incident list/show/approve/reject/undo."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from firestop.cli.main import app
from firestop.settings import REPO_ROOT
from tests.gated_playbook import gated_leaked_key

EXAMPLE = REPO_ROOT / "examples" / "alerts" / "leaked-key.json"
ACCOUNT = "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-ai-prod/providers/Microsoft.CognitiveServices/accounts/contoso-openai-prod"
INCIDENT = "inc-33906e911c7aff74"


def cli(*args: str):
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


@pytest.fixture
def gated_playbooks(firestop_home, tmp_path, monkeypatch):
    folder = gated_leaked_key(tmp_path / "playbooks", "{mode: required, approvers: [oid-alice], two_person: true, timeout: 900}")
    monkeypatch.setenv("FIRESTOP_PLAYBOOKS", str(folder))
    return folder


def acls(home):
    from firestop.sandbox import Tenant

    return Tenant.open(home / "sandbox").resource(ACCOUNT)["properties"]["networkAcls"]


def test_alert_waiting_for_approval_exits_3_and_says_how_to_decide(gated_playbooks, firestop_home):
    result = cli("alert", "handle", str(EXAMPLE))
    assert result.exit_code == 3
    assert f"python -m firestop incident approve {INCIDENT} --step lock-network" in result.output
    # the change awaiting approval in JSON, as runbook plan shows it (not Python's repr: 'Allow', None, True)
    # a long change shows before and after on lines of their own (cli17)
    assert "would change properties.networkAcls:\n" in result.output and "'defaultAction'" not in result.output
    assert '      before: {"defaultAction": "Allow"' in result.output
    waiting = json.loads(cli("incident", "show", INCIDENT, "--json").stdout)
    assert waiting["status"] == "awaiting_approval" and waiting["pending_approval"]["approvers"] == ["oid-alice"]
    listed = json.loads(cli("incident", "list", "--status", "awaiting_approval", "--json").stdout)
    assert [i["incident_id"] for i in listed] == [INCIDENT]


def test_approval_from_another_command_completes_the_incident(gated_playbooks, firestop_home):
    cli("alert", "handle", str(EXAMPLE))
    refused = cli("incident", "approve", INCIDENT, "--step", "lock-network", "--as", "oid-admin")  # holds the approver role, not listed
    assert refused.exit_code == 2 and "not among the approvers" in refused.output
    wrong_step = cli("incident", "approve", INCIDENT, "--step", "rotate-keys", "--as", "oid-alice")
    assert wrong_step.exit_code == 2 and "waiting for step 'lock-network'" in wrong_step.output
    nobody = cli("incident", "approve", INCIDENT, "--step", "lock-network")
    assert nobody.exit_code == 2 and "--as" in nobody.output
    done = cli("incident", "approve", INCIDENT, "--step", "lock-network", "--as", "oid-alice", "--comment", "ok", "--json")
    assert done.exit_code == 0, done.output
    record = json.loads(done.stdout)
    assert record["status"] == "contained" and record["approvals"][-1]["by"] == "oid-alice"
    assert acls(firestop_home)["defaultAction"] == "Deny"


def test_reject_leaves_the_account_open_and_needs_a_responder(gated_playbooks, firestop_home):
    cli("alert", "handle", str(EXAMPLE))
    result = cli("incident", "reject", INCIDENT, "--step", "lock-network", "--as", "oid-alice", "--json")
    assert result.exit_code == 3
    assert json.loads(result.stdout)["status"] == "needs_responder"
    assert acls(firestop_home)["defaultAction"] == "Allow"


def test_undo_restores_the_network_and_updates_the_record(firestop_home):
    cli("alert", "handle", str(EXAMPLE))
    before = json.loads(cli("incident", "show", INCIDENT, "--json").stdout)
    original = next(a for a in before["actions"] if a["step_id"] == "lock-network")["before"]["networkAcls"]
    first_filing = (firestop_home / "records" / f"{INCIDENT}.json").read_bytes()
    result = cli("incident", "undo", INCIDENT, "--step", "lock-network", "--as", "oid-bob", "--yes", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["undone"][0]["ok"] is True
    assert acls(firestop_home) == original
    assert (firestop_home / "records" / f"{INCIDENT}.json").read_bytes() == first_filing  # never replaced
    record = json.loads((firestop_home / "records" / f"{INCIDENT}.rev2.json").read_text())  # the undo's revision
    assert record["timeline"][-1]["step"] == "undo lock-network" and record["timeline"][-1]["outcome"] == "undone"
    assert record["timeline"][-1]["by"] == "oid-bob" and "lock-network undone by oid-bob" in record["reason"]
    ledger = [json.loads(line) for p in (firestop_home / "ledger").rglob("*") if p.is_file() and INCIDENT in str(p)
              for line in p.read_text().splitlines() if line.strip()]
    assert any(e.get("action") == "undo" and e.get("data", {}).get("requested_by") == "oid-bob" for e in ledger), ledger
    shown = json.loads(cli("incident", "show", INCIDENT, "--json").stdout)  # views see the undo too
    assert not any(h.startswith("lock-network") for h in shown["holds"])
    assert "lock-network (network.lock): undone by oid-bob" in shown["does_not_hold"]
    again = cli("incident", "undo", INCIDENT, "--step", "lock-network", "--as", "oid-bob", "--yes")
    assert again.exit_code == 2 and "already undone" in again.output


def test_undo_shows_what_it_would_restore_and_a_no_changes_nothing(firestop_home):
    cli("alert", "handle", str(EXAMPLE))
    result = CliRunner().invoke(app, ["incident", "undo", INCIDENT, "--step", "lock-network", "--as", "oid-bob"], input="n\n", catch_exceptions=False)
    assert result.exit_code == 2 and "nothing was changed" in result.output
    assert "would undo lock-network" in result.output and '"defaultAction": "Allow"' in result.output and "'defaultAction'" not in result.output  # JSON, as plans show state
    assert acls(firestop_home)["defaultAction"] == "Deny"
    assert cli("incident", "undo", INCIDENT, "--json").exit_code == 2  # --json never acts without --yes


def test_undo_needs_a_responder_named(firestop_home, monkeypatch):
    monkeypatch.delenv("FIRESTOP_PRINCIPAL_ID", raising=False)
    cli("alert", "handle", str(EXAMPLE))
    nobody = cli("incident", "undo", INCIDENT, "--yes")
    assert nobody.exit_code == 2 and "--as" in nobody.output
    reader = cli("incident", "undo", INCIDENT, "--as", "oid-mallory", "--yes")
    assert reader.exit_code == 2 and "responder" in reader.output
    assert acls(firestop_home)["defaultAction"] == "Deny"  # neither changed anything


def test_principal_header_is_what_the_api_reads():
    from firestop.trust import principal_from_headers

    value = cli("principal", "header", "--as", "oid-alice", "--group", "grp-secops").stdout.strip()
    caller = principal_from_headers({"X-MS-CLIENT-PRINCIPAL": value})
    assert caller.object_id == "oid-alice" and caller.groups == ("grp-secops",)


def test_unknown_incident_and_bad_since(firestop_home):
    assert cli("incident", "show", "inc-nope").exit_code == 2
    bad = cli("incident", "list", "--since", "yesterday")
    assert bad.exit_code == 2 and "--since" in bad.output
    assert json.loads(cli("incident", "list", "--since", "2h", "--json").stdout)["incidents"] == []  # with --since: the window beside the rows (cli17)


def test_azure_target_needs_confirmation_before_anything_happens(firestop_home, monkeypatch):
    from firestop.cli import wiring

    def no_azure(*args, **kwargs):  # the test must never reach real Azure (or its metadata endpoint)
        raise AssertionError("an Azure environment was built")

    monkeypatch.setattr(wiring, "azure_environment", no_azure)
    result = cli("alert", "handle", str(EXAMPLE), "--azure", "--json")
    assert result.exit_code == 2 and "--yes" in json.loads(result.stdout)["error"]
    both = cli("alert", "handle", str(EXAMPLE), "--azure", "--tenant", str(EXAMPLE), "--yes")
    assert both.exit_code == 2 and "--tenant" in both.output


def test_sandbox_reset_restores_the_seed(firestop_home):
    cli("alert", "handle", str(EXAMPLE))
    assert acls(firestop_home)["defaultAction"] == "Deny"
    result = cli("sandbox", "reset", "--json")
    assert result.exit_code == 0 and json.loads(result.stdout)["reset"] is True
    assert acls(firestop_home)["defaultAction"] == "Allow"
    bad = cli("sandbox", "reset", "--tenant", str(firestop_home / "nope.yaml"))
    assert bad.exit_code == 2 and "--tenant" in bad.output


def test_list_refuses_an_unknown_status_naming_the_choices(firestop_home):
    """New user: ``--status contianed`` printed an empty table with exit 0 (nothing waiting, it seemed)."""
    result = cli("incident", "list", "--status", "awaiting-approval")
    assert result.exit_code == 2 and "--status" in result.output and "awaiting_approval" in result.output
    assert cli("incident", "list", "--status", "awaiting_approval").exit_code == 0


def test_the_decide_hint_names_how_you_are_known_where_the_incident_lives(gated_playbooks, firestop_home, monkeypatch):
    """Sandbox incident, local store: --as (the simulation). The same view fetched with --app: --app and that origin
    (--as and --azure are refused with --app). One wording, the console's (firestop.lifecycle.cli_hints)."""
    import firestop.cli.remote

    handled = cli("alert", "handle", str(EXAMPLE))
    decide = f"Decide: python -m firestop incident approve {INCIDENT} --step lock-network"
    local = " ".join(handled.output.split())
    as_ = "--as <your object id, e.g. oid-alice>"  # the step's approver, named (new-user trial)
    assert f"{decide} {as_} (or: incident reject {INCIDENT} --step lock-network {as_})" in local, local
    assert f"{decide} {as_}" in " ".join(cli("incident", "show", INCIDENT).output.split())
    waiting = json.loads(cli("incident", "show", INCIDENT, "--json").stdout)
    monkeypatch.setenv("FIRESTOP_APP_SCOPE", "api://firestop/.default")
    monkeypatch.setattr(firestop.cli.remote.RemoteApp, "incident", lambda self, incident_id: waiting)
    far = " ".join(cli("incident", "show", INCIDENT, "--app", "https://fs-prod.azurewebsites.net").output.split())
    assert f"{decide} --app https://fs-prod.azurewebsites.net (or: incident reject" in far, far
    assert "--as" not in far and "--azure" not in far


def test_after_an_undo_list_and_show_say_what_holds_now(firestop_home, monkeypatch):
    from firestop.cli import output

    monkeypatch.setattr(output.console, "width", 200)  # whole table cells, whatever the runner's terminal
    cli("alert", "handle", str(EXAMPLE))
    listed = json.loads(cli("incident", "list", "--json").stdout)
    assert listed[0]["status"] == "contained" and listed[0]["containment"] is None
    assert cli("incident", "undo", INCIDENT, "--step", "lock-network", "--as", "oid-bob", "--yes").exit_code == 0
    listed = json.loads(cli("incident", "list", "--json").stdout)
    # the outcome stays (exit codes, --status); what holds now is its own field: keys.rotate cannot be undone
    assert listed[0]["status"] == "contained" and listed[0]["containment"] == "partly undone"
    assert json.loads(cli("incident", "show", INCIDENT, "--json").stdout)["containment"] == "partly undone"
    table = cli("incident", "list").stdout
    assert "partly undone (was contained)" in table
    shown = cli("incident", "show", INCIDENT).stdout
    assert "Outcome: partly undone (was contained) — " in shown
    assert cli("incident", "list", "--status", "contained", "--json").stdout.count(INCIDENT) == 1
