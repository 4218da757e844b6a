"""Rough edges a new user hit (issue 17, item 5), each reproduced and kept fixed."""

from __future__ import annotations

import json
import re

import pytest
from azure.core.exceptions import ClientAuthenticationError
from typer.testing import CliRunner

from firestop.cli.main import app
from firestop.settings import REPO_ROOT

EXAMPLE = REPO_ROOT / "examples" / "alerts" / "leaked-key.json"
INCIDENT = "inc-33906e911c7aff74"


def cli(*args: str, stdin: str | None = None):
    return CliRunner().invoke(app, list(args), input=stdin, catch_exceptions=False)


class NoSignIn:
    """A credential with nobody signed in, as DefaultAzureCredential is on a fresh laptop."""

    def get_token(self, *scopes, **kwargs):
        raise ClientAuthenticationError("DefaultAzureCredential failed to retrieve a token from the included credentials.")


@pytest.fixture
def no_sign_in(monkeypatch):
    """``--azure`` wired to the sandbox tenant but with a credential that cannot sign in."""
    from firestop.cli import wiring

    def azure_environment(settings=None):
        env = wiring.sandbox_environment(settings)
        env.clients.credential = NoSignIn()
        return env

    monkeypatch.setattr(wiring, "azure_environment", azure_environment)


def test_break_glass_without_a_sign_in_says_az_login_and_records_nothing(firestop_home, no_sign_in):
    result = cli("alert", "handle", str(EXAMPLE), "--azure", "--yes", "--json")
    assert result.exit_code == 2, result.output
    error = json.loads(result.stdout)["error"]
    assert "az login" in error and "nothing was done" in error
    assert "Attempted credentials" not in result.output and "Traceback" not in result.output
    assert not (firestop_home / "records").exists()


def test_a_failed_break_glass_run_is_retried_without_rerun(firestop_home):
    """needs_responder on the break-glass path: handling the alert again retries (a new incident, the old kept)."""
    from firestop.alerts import parse_alert
    from firestop.cli.incidents import handle_alert
    from firestop.cli.wiring import sandbox_environment

    alert = parse_alert(EXAMPLE.read_bytes())
    env = sandbox_environment()
    try:
        env.tenant.inject_fault("accounts.regenerateKey", status=403, times=1000)
        first, _ = handle_alert(alert, env=env)
        assert first["status"] == "needs_responder"
        env.tenant.clear_faults()
        shown, note = handle_alert(alert, env=env)  # the default (sandbox) path shows the record
        assert shown["incident_id"] == INCIDENT and "--rerun" in note
        retried, note = handle_alert(alert, env=env, retry_unfinished=True)
    finally:
        env.close()
    assert retried["incident_id"] == f"{INCIDENT}-2" and retried["status"] == "contained"
    assert "ended needs_responder" in note and "retrying" in note


def test_a_contained_break_glass_incident_is_not_run_again(firestop_home):
    from firestop.alerts import parse_alert
    from firestop.cli.incidents import handle_alert
    from firestop.cli.wiring import sandbox_environment

    alert = parse_alert(EXAMPLE.read_bytes())
    env = sandbox_environment()
    try:
        assert handle_alert(alert, env=env)[0]["status"] == "contained"
        again, note = handle_alert(alert, env=env, retry_unfinished=True)
    finally:
        env.close()
    assert again["incident_id"] == INCIDENT and "already handled" in note


def test_playbooks_that_fail_to_load_stop_the_run_and_record_nothing(firestop_home, monkeypatch, tmp_path):
    folder = tmp_path / "playbooks"
    folder.mkdir()
    broken = (REPO_ROOT / "playbooks" / "leaked-api-key.yaml").read_text().replace("name: leaked-api-key", "name: [oops")
    (folder / "leaked-api-key.yaml").write_text(broken)
    monkeypatch.setenv("FIRESTOP_PLAYBOOKS", str(folder))
    result = cli("alert", "handle", str(EXAMPLE), "--json")
    assert result.exit_code == 2, result.output
    assert "leaked-api-key.yaml" in json.loads(result.stdout)["error"]
    assert not (firestop_home / "records").exists()
    monkeypatch.setenv("FIRESTOP_PLAYBOOKS", str(tmp_path / "nowhere"))
    result = cli("alert", "handle", str(EXAMPLE))
    assert result.exit_code == 2 and "does not exist" in result.output
    monkeypatch.delenv("FIRESTOP_PLAYBOOKS")  # nothing was recorded, so once fixed the alert simply runs
    assert json.loads(cli("alert", "handle", str(EXAMPLE), "--json").stdout)["status"] == "contained"


def test_playbook_list_of_a_missing_folder_is_bad_input(firestop_home, monkeypatch, tmp_path):
    monkeypatch.setenv("FIRESTOP_PLAYBOOKS", str(tmp_path / "nowhere"))
    result = cli("playbook", "list", "--json")
    assert result.exit_code == 2 and "FIRESTOP_PLAYBOOKS" in json.loads(result.stdout)["error"]
    (tmp_path / "empty").mkdir()
    result = cli("playbook", "list", "--playbooks", str(tmp_path / "empty"))
    assert result.exit_code == 2 and "no playbook files" in result.output


@pytest.mark.parametrize("args", [
    ("playbook", "schema", "--json"),
    ("permissions", "--sandbox", "--json"),
    ("principal", "header", "--as", "00000000-0000-0000-0000-0000000000aa", "--json"),
])
def test_every_command_takes_json(firestop_home, args):
    result = cli(*args)
    assert result.exit_code == 0, result.output
    assert isinstance(json.loads(result.stdout), dict)


def test_principal_header_json_names_the_header(firestop_home):
    from firestop.trust.principal import principal_from_headers

    body = json.loads(cli("principal", "header", "--as", "00000000-0000-0000-0000-0000000000aa", "--json").stdout)
    assert body["header"] == "X-MS-CLIENT-PRINCIPAL"
    assert principal_from_headers({body["header"]: body["value"]}).object_id == "00000000-0000-0000-0000-0000000000aa"


def test_markdown_record_shows_an_alert_fired_before_receipt_as_a_negative_offset(firestop_home):
    assert cli("alert", "handle", str(EXAMPLE)).exit_code == 0
    markdown = (firestop_home / "records" / f"{INCIDENT}.md").read_text()
    assert "+-" not in markdown and "-37.8 s" in markdown


def test_incident_list_keeps_ids_whole_and_times_readable(firestop_home, monkeypatch):
    assert cli("alert", "handle", str(EXAMPLE)).exit_code == 0
    monkeypatch.setenv("COLUMNS", "120")
    listed = cli("incident", "list").output
    assert INCIDENT in listed and "2026-11-29 03:14:40" in listed and "+00:00" not in listed


def _run_main(*args: str) -> tuple[int, str]:
    """The installed entry point (firestop.cli.main.main), as `python -m firestop` runs it."""
    import contextlib
    import io

    from firestop.cli.main import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        try:
            main(list(args))
            code = 0
        except SystemExit as done:
            code = int(done.code or 0)
    return code, out.getvalue()


@pytest.mark.parametrize("command", [("incident", "list"), ("incident", "show", INCIDENT), ("incident", "undo", INCIDENT, "--as", "oid-bob", "--yes"),
                                     ("alert", "handle", str(EXAMPLE))])  # newuser12: "internal error: DatabaseError: …"
def test_a_corrupt_durable_store_is_one_line_never_a_traceback(firestop_home, command):
    assert cli("alert", "handle", str(EXAMPLE)).exit_code == 0
    store = firestop_home / "durable.sqlite"
    data = bytearray(store.read_bytes())
    for i in range(100, len(data), 97):
        data[i] = 0xAB
    store.write_bytes(bytes(data))
    code, output = _run_main(*command, "--json")
    assert code == 1 and "Traceback" not in output
    assert "durable store" in json.loads(output)["error"] and "move durable.sqlite aside" in output


def test_an_unusable_firestop_home_is_named(tmp_path, monkeypatch):
    home = tmp_path / "a-file"
    home.write_text("not a directory")
    monkeypatch.setenv("FIRESTOP_HOME", str(home))
    code, output = _run_main("incident", "list")
    # a wrong FIRESTOP_* value: exit 2 at start with the fix (README, Settings), not 1 as an internal error
    assert code == 2 and "Traceback" not in output and "setting: FIRESTOP_HOME" in output and "point FIRESTOP_HOME at a folder" in output


def test_debug_is_accepted_after_the_command(firestop_home):
    code, output = _run_main("incident", "list", "--json", "--debug")
    assert code == 0 and json.loads(output) == []


@pytest.mark.parametrize("command", [(), ("serve",), ("incident", "approve"), ("incident", "undo"), ("alert", "handle")])
def test_help_has_no_type_column_on_flags_and_every_argument_is_explained(command):
    result = cli(*command, "--help")
    assert result.exit_code == 0
    assert "<bool>" not in result.output and "│" not in result.output  # plain layout, nothing cut off in a box
    if command in (("incident", "approve"), ("incident", "undo")):
        assert "Incident ID" in result.output
    if command == ("incident", "approve"):
        assert "Why you decided" in result.output


def test_an_incident_awaiting_approval_shows_what_already_ran_and_who_holds_the_role(firestop_home):
    suspicious = REPO_ROOT / "examples" / "alerts" / "suspicious-key-access.json"
    handled = cli("alert", "handle", str(suspicious))
    assert handled.exit_code == 3, handled.output
    listed = json.loads(cli("incident", "list", "--json").stdout)
    assert listed[0]["status"] == "awaiting_approval" and listed[0]["rule_name"] == "aoai-suspicious-key-access"
    shown = cli("incident", "show", listed[0]["incident_id"], "--json")
    view = json.loads(shown.stdout)
    ran = [(e["step"], e["outcome"]) for e in view["timeline_so_far"]]
    assert ("rotate-keys", "done") in ran and ("revoke-principal", "awaiting approval") in ran
    text = " ".join(cli("incident", "show", listed[0]["incident_id"]).output.split())
    assert "What has run so far" in text and "rotate-keys" in text
    # the change names the role and who holds it, not only GUIDs
    assert "Cognitive Services Contributor (25fbc0a9-bd7c-42a3-aa1a-3b75d497ee68) held by ServicePrincipal" in text
    assert "approver role" in text


def test_undo_preview_says_what_stays_and_closed_stdin_is_a_no(firestop_home):
    assert cli("alert", "handle", str(EXAMPLE)).exit_code == 0
    answered_no = cli("incident", "undo", INCIDENT, "--as", "oid-bob", stdin="n\n")
    closed = cli("incident", "undo", INCIDENT, "--as", "oid-bob", stdin="")
    assert answered_no.exit_code == closed.exit_code == 2
    preview = " ".join(answered_no.output.split())
    assert "would undo lock-network" in preview
    assert "would undo rotate-keys" not in preview and "stays as it is: rotate-keys (keys.rotate)" in preview
    assert "sha256:" not in preview  # no key fingerprints promised back


def test_undoing_twice_says_what_is_already_undone_and_what_stays(firestop_home):
    assert cli("alert", "handle", str(EXAMPLE)).exit_code == 0
    first = cli("incident", "undo", INCIDENT, "--as", "oid-bob", "--yes", "--json")
    assert first.exit_code == 0, first.output
    assert [u["step_id"] for u in json.loads(first.stdout)["undone"]] == ["lock-network"]
    again = cli("incident", "undo", INCIDENT, "--as", "oid-bob", "--yes", "--json")
    error = json.loads(again.stdout)["error"]
    assert again.exit_code == 2 and "already undone: lock-network" in error and "cannot be undone: rotate-keys" in error
    step = json.loads(cli("incident", "undo", INCIDENT, "--step", "rotate-keys", "--as", "oid-bob", "--yes", "--json").stdout)["error"]
    assert "cannot be undone" in step and "rotate-keys" in step


ACCOUNT = ("/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-ai-prod/providers/"
           "Microsoft.CognitiveServices/accounts/contoso-openai-prod")


def test_a_manual_runbook_run_can_be_undone_exactly_once(firestop_home):
    from firestop.cli.wiring import sandbox_environment

    def acls():
        env = sandbox_environment()
        try:
            return env.tenant.resource(ACCOUNT)["properties"]["networkAcls"]
        finally:
            env.close()

    before = acls()
    ran = cli("runbook", "run", "network.lock", "--target", ACCOUNT, "--yes", "--json")
    assert ran.exit_code == 0, ran.output
    run_id = json.loads(ran.stdout)["run_id"]
    assert acls()["defaultAction"] == "Deny"
    assert cli("runbook", "undo", run_id, stdin="n\n").exit_code == 2 and acls()["defaultAction"] == "Deny"
    undone = cli("runbook", "undo", run_id, "--yes", "--json")
    assert undone.exit_code == 0, undone.output
    assert acls() == before
    again = json.loads(cli("runbook", "undo", run_id, "--yes", "--json").stdout)
    assert again["exit_code"] == 2 and "already undone" in again["error"]
    # the time as every command writes one (firestop.times.instant), not the ledger's raw ISO 8601 with microseconds
    assert re.search(r"already undone \(at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d UTC\)$", again["error"]), again["error"]
    assert "not a manual run id" in json.loads(cli("runbook", "undo", "inc-1/x", "--yes", "--json").stdout)["error"]


def test_an_approved_role_revocation_can_be_undone_after_the_incident(firestop_home):
    """The record keeps a reversible step's params (principal_id here), so incident undo can run its undo."""
    suspicious = REPO_ROOT / "examples" / "alerts" / "suspicious-key-access.json"
    assert cli("alert", "handle", str(suspicious)).exit_code == 3
    incident = json.loads(cli("incident", "list", "--json").stdout)[0]["incident_id"]
    approved = cli("incident", "approve", incident, "--step", "revoke-principal", "--as", "oid-alice", "--json")
    assert approved.exit_code == 0, approved.output
    record = json.loads((firestop_home / "records" / f"{incident}.json").read_text())
    revoke = next(a for a in record["actions"] if a["step_id"] == "revoke-principal")
    assert revoke["params"]["principal_id"] == "d4c3b2a1-6e5f-4a7b-9c8d-0e1f2a3b4c5d"
    assert next(a for a in record["actions"] if a["step_id"] == "rotate-keys")["params"] == {}  # not reversible: none kept
    undone = cli("incident", "undo", incident, "--as", "oid-alice", "--yes", "--json")
    assert undone.exit_code == 0, undone.output
    assert [u["step_id"] for u in json.loads(undone.stdout)["undone"] if u["ok"]] == ["revoke-principal"]


def test_piping_into_head_ends_quietly_with_exit_0(firestop_home):
    """`... | head -1` under `set -o pipefail`: the reader closing the pipe is not an internal error."""
    import fcntl
    import os
    import subprocess
    import sys

    read_end, write_end = os.pipe()
    fcntl.fcntl(write_end, getattr(fcntl, "F_SETPIPE_SZ", 1031), 4096)  # a small pipe: the output (~8 KB) must block
    env = {**os.environ, "FIRESTOP_HOME": str(firestop_home)}
    proc = subprocess.Popen([sys.executable, "-m", "firestop", "runbook", "list"], stdout=write_end,
                            stderr=subprocess.PIPE, env=env, cwd=REPO_ROOT)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as reader:
        first = reader.readline()  # head has what it wanted and goes away
    err = proc.stderr.read()
    assert proc.wait(timeout=120) == 0 and first, err
    assert b"Traceback" not in err and b"internal error" not in err


def test_checklist_gaps_say_they_were_found_before_containment(firestop_home):
    """leaked-key locks the network, and the gap 'public network access open' describes the state before it."""
    out = " ".join(cli("alert", "handle", str(EXAMPLE)).output.split())
    assert "Checklist gaps found before containment" in out and "Gap: public network access open" in out
    markdown = (firestop_home / "records" / f"{INCIDENT}.md").read_text()
    assert "## Security checklist gaps (found before containment" in markdown


def test_an_azure_command_without_a_sign_in_says_run_az_login_in_one_line(tmp_path):
    """`infra --azure` with no credential anywhere: exit 2 and one line naming az login, not DefaultAzureCredential's dump."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "IDENTITY_", "MSI_"))}
    env.update({"FIRESTOP_HOME": str(tmp_path / "home"), "HOME": str(tmp_path), "PATH": "/usr/bin:/bin",
                "AZURE_CONFIG_DIR": str(tmp_path / "no-az")})
    done = subprocess.run([sys.executable, "-m", "firestop", "infra", "--azure", "--subscription",
                           "11111111-2222-3333-4444-555555555555", "--account", "rg/acct"],
                          capture_output=True, text=True, timeout=120, env=env, cwd=str(__import__("pathlib").Path(__file__).resolve().parents[2]))
    assert done.returncode == 2, done.stdout + done.stderr
    assert "run az login" in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr


def test_a_local_auth_run_and_its_undo_spell_the_value_as_the_plan_does(firestop_home):
    """The plan said `false → true` and the undo preview `restore disableLocalAuth = false`; the check and the undo's
    answer said `= True` / `= False` (Python's spelling). Every line now spells it as ARM JSON does."""
    ran = cli("runbook", "run", "auth.disable_local_auth", "--target", ACCOUNT, "--yes")
    assert ran.exit_code == 0, ran.output
    assert "properties.disableLocalAuth: false → true" in ran.output and "disableLocalAuth = true" in ran.output
    run_id = ran.output.split("Undo with: python -m firestop runbook undo ")[1].split()[0]
    undone = cli("runbook", "undo", run_id, "--yes")
    assert undone.exit_code == 0, undone.output
    assert "Undone: restored disableLocalAuth = false" in undone.output
    assert "True" not in ran.output + undone.output and "False" not in ran.output + undone.output


def test_a_finished_incident_is_named_by_its_outcome_not_the_durable_runtime_status(firestop_home):
    """`alert handle` again and `incident approve` of a finished incident said '(Completed)' — Durable's runtime status,
    a word no other output uses; they now say the incident's status, as `incident list` does."""
    assert cli("alert", "handle", str(EXAMPLE)).exit_code == 0
    again = cli("alert", "handle", str(EXAMPLE))
    assert f"alert already handled as incident {INCIDENT} (contained)" in again.output and "Completed" not in again.output
    late = cli("incident", "approve", INCIDENT, "--step", "lock-network", "--as", "oid-alice")
    assert late.exit_code == 2 and "is not waiting for an approval (it is contained)" in late.output, late.output
    assert f"python -m firestop incident show {INCIDENT}" in late.output and "Completed" not in late.output


def test_a_run_that_changes_nothing_says_so_once(firestop_home):
    """`runbook run` of an already-applied change printed "Nothing changed: local auth already disabled; nothing changed"."""
    assert cli("runbook", "run", "auth.disable_local_auth", "--target", ACCOUNT, "--yes").exit_code == 0
    again = cli("runbook", "run", "auth.disable_local_auth", "--target", ACCOUNT, "--yes")
    assert again.exit_code == 0, again.output
    assert "Nothing changed: local auth already disabled\n" in again.output and again.output.lower().count("nothing changed") == 1



def test_a_list_parameter_given_once_is_a_list_of_one(firestop_home):
    """`--param ips=203.0.113.201` once was refused ("--param ips: Input should be a valid list"); twice it collected
    a list. Once now means a list of one, for every runbook parameter that is a list."""
    nsg = "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-ai-prod/providers/Microsoft.Network/networkSecurityGroups/nsg-ai-apps"
    plan = cli("runbook", "plan", "network.block_ips", "--target", nsg, "--param", "ips=203.0.113.201", "--json")
    assert plan.exit_code == 0, plan.output
    assert "firestop-manual-2026-11-29-203.0.113.201_32" in plan.stdout  # the rule the run creates (new user 13)
    bad = cli("runbook", "plan", "network.block_ips", "--target", nsg, "--param", "ips=not-an-ip")
    assert bad.exit_code == 2 and "--param ips" in bad.output  # still validated, and named


def test_blocking_one_ip_says_priority_and_two_say_priorities(firestop_home):
    """content-abuse's step read "denied 203.0.113.200/32 (inbound) at priorities 103"."""
    nsg = "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-ai-prod/providers/Microsoft.Network/networkSecurityGroups/nsg-ai-apps"
    one = cli("runbook", "run", "network.block_ips", "--target", nsg, "--param", "ips=203.0.113.201", "--yes")
    assert one.exit_code == 0, one.output
    assert "(inbound) at priority 1" in one.output and "priorities" not in one.output
    two = cli("runbook", "run", "network.block_ips", "--target", nsg, "--param", "ips=203.0.113.202", "--param", "ips=203.0.113.203", "--yes")
    assert two.exit_code == 0, two.output
    assert "(inbound) at priorities " in two.output


def test_audit_on_azure_without_a_sign_in_says_az_login_and_keeps_nothing(firestop_home, no_sign_in):
    """New-user trial 8: `audit run --azure --subscription ID` with nobody signed in kept an audit of 19 "not
    evaluable" controls and exited 0 — read by a platform engineer as a pass. Now refused first, as break-glass is."""
    result = cli("audit", "run", "--azure", "--subscription", "11111111-2222-3333-4444-555555555555", "--json")
    assert result.exit_code == 2, result.output
    error = json.loads(result.stdout)["error"]
    assert error.startswith("--azure: no Azure sign-in") and "az login" in error and "nothing was done" in error
    assert not (firestop_home / "records" / "audits").exists()


def test_runbook_plan_on_azure_without_a_sign_in_says_az_login_not_http_none(firestop_home, no_sign_in):
    """New-user trial 8: `runbook plan … --azure` with nobody signed in said "failed: Azure answered HTTP None: …"
    and exited 1; it is bad input (no sign-in), exit 2 naming az login, as everywhere else."""
    prod = ("/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-ai-prod/providers/"
            "Microsoft.CognitiveServices/accounts/contoso-openai-prod")
    result = cli("runbook", "plan", "network.lock", "--target", prod, "--azure")
    assert result.exit_code == 2, result.output
    assert "--azure: no Azure sign-in" in result.output and "az login" in result.output and "HTTP None" not in result.output
