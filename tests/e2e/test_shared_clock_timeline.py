"""`firestop serve` and CLI runs sharing one FIRESTOP_HOME share one sandbox clock: a filed record's timeline never
runs backwards (the new-user trial: "revoke-principal done" at 03:18:37 after "select playbook" at 03:20:21)."""

from __future__ import annotations

import json
from datetime import timedelta

from typer.testing import CliRunner

from firestop.cli.main import app
from firestop.sandbox import Tenant
from firestop.sandbox.core.clock import parse_utc
from firestop.settings import REPO_ROOT

ALERT = REPO_ROOT / "examples" / "alerts" / "suspicious-key-access.json"


def _cli(*args: str):
    result = CliRunner().invoke(app, [*args, "--json"], catch_exceptions=False)
    return result.exit_code, json.loads(result.stdout)


def test_a_record_made_by_two_processes_on_one_home_is_monotonic(firestop_home):
    serve = Tenant.open(firestop_home / "sandbox")  # the serve process's handle, opened first
    start = serve.clock.now()
    code, waiting = _cli("alert", "handle", str(ALERT))  # a CLI run moves the shared clock on
    assert code == 3 and waiting["pending_approval"]["step"] == "revoke-principal"
    shared = Tenant.open(firestop_home / "sandbox").clock.now()
    assert shared > start + timedelta(seconds=1)
    serve.clock.advance(1)  # serve's wall-paced projection, from its own (now stale) start, moves its clock
    assert Tenant.open(firestop_home / "sandbox").clock.now() >= shared  # ... which never drags the shared one back
    code, record = _cli("incident", "approve", waiting["incident_id"], "--step", "revoke-principal", "--as", "oid-alice")
    assert code == 0, record
    steps = {(e.get("step"), e.get("outcome")): parse_utc(e["at"]) for e in record["timeline"] if e.get("at")}
    revoked = steps[("revoke-principal", "done")]
    assert revoked >= shared  # after everything the first CLI run did (the shared clock it left)
    assert revoked > steps[("select playbook", "ok")] and revoked > steps[("revoke-principal", "awaiting approval")]
    # what the first run did lies before the shared clock it left; what the approval did, at or after it
    # (entries within a parallel group are in step order, not time order: compare with the cut, not neighbours)
    entries = [(e["step"], e["outcome"], parse_utc(e["at"])) for e in record["timeline"] if e.get("at")]
    cut = next(i for i, e in enumerate(entries) if e[:2] == ("revoke-principal", "approved"))
    assert all(at <= shared for _, _, at in entries[:cut]) and all(at >= shared for _, _, at in entries[cut:])
