"""Remote mode parity: every responder command with ``--app`` against ``firestop serve --auth-jwks`` (App Service
authentication's stand-in, the caller proven by a bearer token from azure-identity's ``AzureCliCredential``) prints
what the local command prints on the same store, with the same exit code.

*The same store*: one FIRESTOP_HOME in which the leaked-key incident was handled to the end, copied twice before
serve starts — ``served`` (serve's) and ``local`` (the local commands'). Each case runs its commands in lockstep,
local first then remote, so the two stores stay twins whatever else a worker runs. Normalised, because it must
differ: the two homes' paths, the step ids of manual runs (``cli-run-…`` locally, ``api-run-…`` through the API; both
carry the time and random hex; a local plan's is ``cli-plan``), the hashes of those runs' ledger entries (which hold
the step id and who asked) and audit ids (time and random hex).

The token issuer is :class:`tests.console.test_remote_mode.Issuer` (a key that exists only in this process);
``az`` is a stand-in shell script on PATH printing ``az account get-access-token``'s JSON.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import time

import pytest

from tests.console.test_remote_mode import AUDIENCE, ISSUER, SCOPE, Issuer, Result, _diff
from tests.trust.conftest import ACCOUNT, INCIDENT, handled_home, serve_process  # noqa: F401 — handled_home: fixture

KEY = "remote-parity-test-key-0123456789"
SUBSCRIPTION = "11111111-2222-3333-4444-555555555555"


@pytest.fixture(scope="module")
def twins(tmp_path_factory, handled_home):  # noqa: F811 — the fixture imported above
    """(serve's port, served home, local home, {who: az folder}) — two copies of one handled store."""
    root = tmp_path_factory.mktemp("parity")
    # names of one length: a table wrapped at the console's width (80 under xdist) wraps both homes' paths alike
    served, local = root / "home-a", root / "home-b"
    for home in (served, local):
        shutil.copytree(handled_home, home, ignore=shutil.ignore_patterns("*.lock"))
    issuer = Issuer()
    jwks = root / "jwks.json"
    jwks.write_text(json.dumps(issuer.jwks()))
    callers = {who: _shell_az(root / f"bin-{who}", issuer.token(who)) for who in ("oid-alice", "oid-mallory", "oid-nobody")}
    with serve_process(served, "--auth-jwks", str(jwks), "--auth-issuer", ISSUER, "--auth-audience", AUDIENCE,
                       function_key=KEY, extra_env={"FIRESTOP_AUDIT_SUBSCRIPTION": SUBSCRIPTION, "FIRESTOP_AUDIT_SCHEDULE": "off",
                                                    "FIRESTOP_TABLETOP_SCHEDULE": "off"}) as (port, _, _err):
        yield port, served, local, callers


def _shell_az(folder, token: str) -> str:
    """As :func:`tests.console.test_remote_mode._fake_az`, as a shell script: no Python start per remote command."""
    folder.mkdir(exist_ok=True)
    answer = json.dumps({"accessToken": token, "expires_on": int(time.time()) + 3600, "tokenType": "Bearer"})
    script = folder / "az"
    script.write_text(f"#!/bin/sh\n[ \"$1 $2\" = 'account get-access-token' ] || exit 2\necho '{answer}'\n")
    script.chmod(0o700)
    return str(folder)


def cli(*args: str, home, path: str | None = None, input: str | None = None, **extra: str) -> Result:
    """``python -m firestop *args`` in-process (typer's CliRunner) on FIRESTOP_HOME ``home`` with no other Firestop or
    App Service setting (the sandbox's unrouted-request journal kept), ``path`` first on PATH (the ``az`` stand-in)."""
    from typer.testing import CliRunner

    from firestop.cli.main import app
    from firestop.sandbox.tenant import UNROUTED_JOURNAL_ENV
    from firestop.settings import configure_settings

    env = {k: None for k in os.environ if k.startswith(("WEBSITE_", "FIRESTOP_")) and k != UNROUTED_JOURNAL_ENV}
    env.update(FIRESTOP_HOME=str(home), FIRESTOP_APP_SCOPE=SCOPE, COLUMNS="200",
               PATH=(path + os.pathsep if path else "") + os.environ.get("PATH", ""))
    env.update(extra)
    configure_settings(None)
    try:
        result = CliRunner().invoke(app, list(args), env=env, input=input, catch_exceptions=False)
    finally:
        configure_settings(None)
    return Result(result.exit_code, result.stdout, result.stderr)


#: A manual run's step id (``cli-run-…`` locally, ``api-run-…`` through the API), and a local plan's fixed ``cli-plan``.
_RUN_ID = re.compile(r"\b(?:(?:cli|api)-run-\d{6}-[0-9a-f]{4}|cli-plan)\b")
_AUDIT_ID = re.compile(r"\baudit-\d{8}T\d{6}Z-[0-9a-f]{4}\b")
#: A confirmation question's tenant: "on the sandbox tenant?" locally, "on the app's tenant (http://…)?" remotely.
_PROMPT = re.compile(r" on (?:the sandbox tenant|the app's tenant \(http://127\.0\.0\.1:\d+\))\?")
#: The hash of a manual run's ledger entry (JSON output): the entry holds the run's step id and who asked.
_ENTRY_HASH = re.compile(r'"hash": "[0-9a-f]{64}"')


class Pair:
    """Runs one command locally (on the local twin, ``--as`` where local mode needs it) and remotely (``--app`` on
    serve, as the token's caller) and compares them."""

    def __init__(self, port: int, served, local, callers) -> None:
        self.app, self.served, self.local, self.callers = f"http://127.0.0.1:{port}", served, local, callers

    def normal(self, text: str) -> str:
        text = text.replace(str(self.served), "<home>").replace(str(self.local), "<home>")
        # the app names its files' logical locations, never its paths (cli17); local mode prints the paths the records
        # were filed under (the handled home both twins were copied from)
        text = re.sub(r"(?<![\w<])/[^\s\"'·]*?/(?=(?:records|evidence|ledger)/)", "<home>/", text.replace("FIRESTOP_HOME/", "<home>/"))
        # remote hints name the app (the command to type), local ones do not (at a line's end, it may wrap before --app)
        text = re.sub(r"[ \n]--app[ \n]+" + re.escape(self.app), "", text)
        text = _ENTRY_HASH.sub('"hash": "<entry hash>"', text) if "-run-" in text else text
        return _AUDIT_ID.sub("<audit-id>", _RUN_ID.sub("<run>", text))

    def run(self, args: list[str], *, local_extra: tuple[str, ...] = (), remote_args: list[str] | None = None,
            who: str = "oid-alice", input: str | None = None) -> tuple[Result, Result]:
        near = cli(*args, *local_extra, home=self.local, input=input)
        far = cli(*(remote_args or args), "--app", self.app, home=self.served.parent / "elsewhere", path=self.callers[who], input=input)
        return near, far

    def same(self, args: list[str], **kwargs) -> tuple[Result, Result]:
        near, far = self.run(args, **kwargs)
        local_out, remote_out = self.normal(near.stdout), self.normal(far.stdout)
        if kwargs.get("input") is not None:  # the question names where the change lands: the sandbox, or the app
            local_out, remote_out = (_PROMPT.sub("<prompt>?", out) for out in (local_out, remote_out))
        assert (far.returncode, remote_out) == (near.returncode, local_out), (
            args, near.stderr, far.stderr, _diff(local_out, remote_out))
        if near.returncode not in (0, 3) and "--json" not in args:  # a refusal: one line on stderr (--json: on stdout)
            assert far.stderr.count("\n") == 1 and "Traceback" not in far.stderr, far.stderr
        return near, far


@pytest.fixture(scope="module")
def pair(twins) -> Pair:
    return Pair(*twins)


def _run_id(result: Result) -> str:
    found = re.search(r"runbook undo (manual-\d{4}-\d{2}-\d{2}/(?:cli|api)-run-\d{6}-[0-9a-f]{4})", result.stdout)
    if found is None:
        found = re.search(r'"run_id": "([^"]+)"', result.stdout)
    assert found, result.stdout
    return found.group(1)


def case_reads(pair: Pair) -> None:
    for args in (["incident", "list"], ["incident", "list", "--json"], ["incident", "show", INCIDENT],
                 ["incident", "show", INCIDENT, "--json"], ["ledger", "verify", INCIDENT], ["ledger", "verify", INCIDENT, "--json"],
                 ["audit", "controls"], ["audit", "controls", "--json"]):
        pair.same(args)
    near, far = pair.same(["ledger", "verify", "inc-0000000000000000"])
    assert near.returncode == 2 and "no ledger" in far.stderr
    # an unknown incident: the local refusal, its hint the CLI command (with --app), not the API route the 404 names
    near, far = pair.same(["incident", "show", "nope"])
    assert near.returncode == 2 and near.stderr.rstrip().endswith("list them with: python -m firestop incident list"), near.stderr
    assert far.stderr == near.stderr.replace("incident list", f"incident list --app {pair.app}"), (near.stderr, far.stderr)
    near, far = pair.run(["incident", "show", "nope", "--json"])
    assert (near.returncode, far.returncode) == (2, 2)
    assert json.loads(far.stdout) == {**json.loads(near.stdout), "error": json.loads(near.stdout)["error"] + f" --app {pair.app}"}


def case_runbook_plan(pair: Pair) -> None:
    for args in (["runbook", "plan", "network.lock", "--target", ACCOUNT], ["runbook", "plan", "auth.disable_local_auth", "--target", ACCOUNT, "--json"]):
        near, _ = pair.same(args)
        assert near.returncode == 0
    near, far = pair.same(["runbook", "plan", "network.lock", "--target", ACCOUNT, "--param", "mode=sideways"])
    assert near.returncode == 2 and "--param mode" in near.stderr and "mode" in far.stderr
    near, far = pair.same(["runbook", "plan", "no.such", "--target", ACCOUNT])
    assert near.returncode == 2 and "NAME" in far.stderr


def case_runbook_run_and_undo(pair: Pair) -> None:
    run = ["runbook", "run", "auth.disable_local_auth", "--target", ACCOUNT, "--yes"]
    near, far = pair.same(run[:-1], input="n\n")  # the plan, then "no": nothing applied
    assert near.returncode == 2 and "Would change:" in far.stdout and "Applied" not in far.stdout
    near, far = pair.same(run)
    assert near.returncode == 0 and "Verified." in far.stdout and "api-run-" in far.stdout
    local_id, remote_id = _run_id(near), _run_id(far)
    # new user 13: the remote run's hints said "runbook undo <id>" and "ledger verify manual-<day>" without --app: typed
    # as printed they look in the local store, not the app's ledger where the run is
    said = " ".join(far.stdout.split())  # the console wraps long lines
    assert f"Undo with: python -m firestop runbook undo {remote_id} --app {pair.app}" in said, far.stdout
    assert f"(check: python -m firestop ledger verify {remote_id.split('/')[0]} --app {pair.app})" in said, far.stdout
    assert "--app" not in near.stdout
    undo = ["runbook", "undo"]
    near, far = pair.same([*undo, local_id, "--dry-run"], remote_args=[*undo, remote_id, "--dry-run"])  # nothing changes
    assert near.returncode == 0 and f"to do it: python -m firestop runbook undo {remote_id} --app {pair.app}" in " ".join(far.stdout.split())
    near, far = pair.same([*undo, local_id, "--dry-run", "--json"], remote_args=[*undo, remote_id, "--dry-run", "--json"])
    assert near.returncode == 0 and json.loads(far.stdout)["dry_run"] is True
    near, far = pair.same([*run[:-1], "--dry-run"])  # the plan, as runbook plan; nothing asked
    assert near.returncode == 0 and "Would change:" in far.stdout and f"to apply it: python -m firestop runbook run" in far.stdout
    near, far = pair.same([*undo, local_id, "--yes"], remote_args=[*undo, remote_id, "--yes"])
    assert near.returncode == 0 and far.stdout.startswith("Undone:")
    near, far = pair.same([*undo, local_id, "--yes", "--json"], remote_args=[*undo, remote_id, "--yes", "--json"])
    assert near.returncode == 2 and "already undone" in far.stdout
    near, far = pair.same([*run, "--json"])  # again, as JSON: the run's plan, apply and verify answers
    assert json.loads(far.stdout)["ok"] is True
    near, far = pair.same([*undo, "manual-2026-11-29/nonsense", "--yes"])
    assert near.returncode == 2 and "RUN_ID" in far.stderr


def case_runbook_release(pair: Pair) -> None:
    """A manual lock on the incident's locked account changes nothing: it blocks the incident's undo until released
    (lifecycle7); the release restores nothing, prints the same both ways, and a second one is done already."""
    run = ["runbook", "run", "network.lock", "--target", ACCOUNT, "--yes"]
    near, far = pair.same([*run, "--json"])
    assert near.returncode == 0 and json.loads(far.stdout)["apply"]["result"]["changed"] is False, far.stdout
    local_id, remote_id = _run_id(near), _run_id(far)
    near, far = pair.same(["incident", "undo", INCIDENT, "--step", "lock-network", "--yes"], local_extra=("--as", "oid-alice"))
    assert near.returncode == 3 and "later manual run" in far.stderr and remote_id in far.stderr and local_id in near.stderr
    undo = ["runbook", "undo"]
    near, far = pair.same([*undo, local_id], remote_args=[*undo, remote_id], input="n\n")
    assert near.returncode == 2 and "would release network.lock" in far.stdout
    near, far = pair.same([*undo, local_id, "--yes"], remote_args=[*undo, remote_id, "--yes"])
    assert near.returncode == 0 and far.stdout.startswith(f"released: {remote_id} no longer relies on"), far.stdout
    # a second release is done already; the remote one names who released it (the token's caller), the local one —
    # like a local run and its undo, which record no one — does not
    near, far = pair.run([*undo, local_id, "--yes", "--json"], remote_args=[*undo, remote_id, "--yes", "--json"])
    assert (near.returncode, far.returncode) == (0, 0) and json.loads(near.stdout)["already_released"] is True
    assert "released by oid-alice" in json.loads(far.stdout)["detail"]


def case_incident_undo(pair: Pair) -> None:
    undo = ["incident", "undo", INCIDENT]
    near, far = pair.run([*undo, "--dry-run"], local_extra=("--as", "oid-alice"))  # the preview only; nothing changes
    assert (near.returncode, far.returncode) == (0, 0), (near, far)
    assert pair.normal(far.stdout) == pair.normal(near.stdout).replace(" --as oid-alice", ""), _diff(near.stdout, far.stdout)
    assert f"to do it: python -m firestop incident undo {INCIDENT} --app {pair.app}" in " ".join(far.stdout.split())
    near, far = pair.same([*undo, "--dry-run", "--json"], local_extra=("--as", "oid-alice"))
    assert near.returncode == 0 and json.loads(far.stdout)["dry_run"] is True
    near, far = pair.same([*undo], local_extra=("--as", "oid-alice"), input="n\n")  # the preview, then "no"
    assert near.returncode == 2 and "would undo lock-network (network.lock)" in far.stdout and "stays as it is: rotate-keys" in far.stdout
    assert "not confirmed; nothing was changed" in far.stderr
    near, far = pair.same([*undo, "--step", "rotate-keys", "--yes"], local_extra=("--as", "oid-alice"))
    assert near.returncode == 2 and "cannot be undone" in far.stderr
    near, far = pair.same([*undo, "--step", "lock-network", "--yes"], local_extra=("--as", "oid-alice"))
    assert near.returncode == 0 and "undone lock-network" in far.stdout
    near, far = pair.same([*undo, "--step", "lock-network", "--yes", "--json"], local_extra=("--as", "oid-alice"))
    assert near.returncode == 2 and "already undone" in far.stdout
    near, far = pair.same(["incident", "show", INCIDENT, "--json"])
    assert "undone by oid-alice" in far.stdout  # the record names the signed-in caller, from the token
    # a reader may not undo: exit 2 both ways, naming the role
    near, far = pair.same([*undo, "--yes"], local_extra=("--as", "oid-mallory"), who="oid-mallory")
    assert near.returncode == 2 and "responder role" in far.stderr


def case_incident_stop(pair: Pair) -> None:
    """``incident stop`` on a finished incident: refused both ways before anything is sent (exit 2, one line), with
    and without --yes (the confirmation is not asked for what cannot be stopped)."""
    stop = ["incident", "stop", INCIDENT, "--reason", "drill"]
    for extra in (["--yes"], []):
        near, far = pair.same([*stop, *extra], local_extra=("--as", "oid-alice"), input="y\n" if not extra else None)
        assert near.returncode == 2 and "already finished" in far.stderr and "already finished" in near.stderr, (near, far)
        assert "would stop" not in near.stdout + far.stdout
        # newuser12: with --yes the remote refusal was the stop route's "has already finished (Completed); nothing to
        # stop" — the runtime status, no undo command; now the outcome and the undo as typed, as locally
        assert "(Completed)" not in far.stderr, far.stderr
        assert "already finished (contained); nothing to stop (" in far.stderr, far.stderr
        refusal = near.stderr.splitlines()[-1]  # after the local "SIMULATION: stopping as …" line
        assert far.stderr.replace(f" --app {pair.app}", "").rstrip("\n") == refusal.replace(" --as oid-alice", ""), (near, far)


def case_audit(pair: Pair) -> None:
    for args in (["audit", "run", "--json"], ["audit", "run", "--fix"], ["audit", "show"], ["audit", "show", "--format", "markdown"],
                 ["audit", "show", "--json"]):
        near, _ = pair.same(args)
        assert near.returncode in (0, 3) and near.stdout
    near, far = pair.same(["audit", "run", "--resource-group", "rg-ai-prod"])
    assert near.returncode == 3 and "rg-ai-prod" in far.stdout
    near, far = pair.same(["audit", "show", "audit-20000101T000000Z-0000"])
    assert near.returncode == 2


def case_graph_runbook_bound(pair: Pair) -> None:
    """RT18-02: a non-admin's run of a Graph runbook on a principal with no role on the --target account is refused
    before anything is asked or applied (exit 2: the app's 403, locally the same rule); the plan is shown with the
    same note both ways."""
    bound = ["identity.disable_service_principal", "--param", "service_principal_id=e7d9a3c1-58b2-4f06-9c1a-7b3e2d4f6a80"]
    near, far = pair.same(["runbook", "plan", *bound])
    assert near.returncode == 0 and "a run would be refused: --target:" in " ".join(far.stdout.split()), far.stdout
    near, far = pair.same(["runbook", "plan", *bound, "--target", ACCOUNT, "--json"])
    assert json.loads(far.stdout)["run_refused"]["error"] == "service_principal_id"
    for args in (["runbook", "run", *bound, "--yes"], ["runbook", "run", *bound, "--target", ACCOUNT, "--yes"]):
        near, far = pair.same(args)
        assert near.returncode == 2 and far.stderr == near.stderr and "ask a Firestop admin" in far.stderr, (near.stderr, far.stderr)
        assert "Applied" not in far.stdout


CASES = [case_reads, case_runbook_plan, case_runbook_run_and_undo, case_runbook_release, case_incident_undo, case_incident_stop,
         case_audit, case_graph_runbook_bound]


@pytest.mark.parametrize("case", CASES, ids=[c.__name__[len("case_"):] for c in CASES])
def test_remote_mode_prints_what_local_mode_prints(pair, case):
    case(pair)


def test_identity_comes_from_the_token_only(pair):
    """--as (and the other local-only flags) with --app are refused: the caller is the token's."""
    for args in (["incident", "undo", INCIDENT, "--yes", "--as", "oid-admin"],
                 ["runbook", "run", "network.lock", "--target", ACCOUNT, "--yes", "--azure"],
                 ["audit", "run", "--no-incidents"], ["audit", "run", "--subscription", SUBSCRIPTION]):
        result = cli(*args, "--app", pair.app, home=pair.served.parent / "elsewhere", path=pair.callers["oid-alice"])
        assert result.returncode == 2 and "not with --app" in result.stderr, (args, result.stderr)


@pytest.mark.parametrize("args, role", [
    (["runbook", "run", "auth.disable_local_auth", "--target", ACCOUNT, "--yes"], "responder"),
    (["runbook", "plan", "network.lock", "--target", ACCOUNT], "responder"),
    (["incident", "stop", INCIDENT, "--reason", "drill", "--yes"], "responder"),
    (["audit", "run"], "responder"),
    (["ledger", "verify", INCIDENT], "reader"),
    (["audit", "show"], "reader"),
])
def test_a_caller_without_the_role_is_refused_with_exit_2(pair, args, role):
    who = "oid-mallory" if role == "responder" else "oid-nobody"  # mallory reads; nobody holds no role at all
    result = cli(*args, "--app", pair.app, home=pair.served.parent / "elsewhere", path=pair.callers[who])
    assert result.returncode == 2 and f"does not hold the {role} role" in result.stderr, result.stderr
    assert result.stderr.count("\n") == 1


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("args", [
    ["incident", "undo", INCIDENT, "--yes"], ["runbook", "plan", "network.lock", "--target", ACCOUNT],
    ["runbook", "run", "network.lock", "--target", ACCOUNT, "--yes"], ["runbook", "undo", "manual-2026-11-29/cli-run-031440-ab12", "--yes"],
    ["ledger", "verify", INCIDENT], ["audit", "run"], ["audit", "show"], ["audit", "controls"],
])
def test_an_unreachable_app_is_one_line_and_exit_1(tmp_path, twins, args):
    callers = twins[3]
    result = cli(*args, "--app", f"http://127.0.0.1:{_closed_port()}", home=tmp_path, path=callers["oid-alice"])
    assert result.returncode == 1 and "cannot reach http://127.0.0.1:" in result.stderr, result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def test_tabletop_run_refuses_remote_mode_saying_why_and_what_to_do(tmp_path):
    result = cli("tabletop", "run", "leaked-key", "--app", "https://app.example", home=tmp_path)
    assert result.returncode == 2
    assert "no remote mode" in result.stderr and "without --app" in result.stderr and "/api/console/tabletop" in result.stderr
    assert not (tmp_path / "tabletop").exists()  # nothing ran
