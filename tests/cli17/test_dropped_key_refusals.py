"""newuser17: after ``seal-key retire`` drops a key, README says an undo of what only it sealed is refused — and it
is, but the refusal named only "planted or altered … or written before ledger entries were sealed" (runbook undo)
and "Firestop did not file it" (incident undo): at 3 a.m., right after a planned key drop, that reads as an
intrusion. Both now also name the benign cause, a seal key since dropped (``seal-key show`` lists the ring). Fails
before: neither message mentions a dropped key."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from firestop.cli.main import app

ALERT = Path(__file__).resolve().parents[2] / "examples" / "alerts" / "leaked-key.json"
DEV = ("/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-ai-dev/providers/"
       "Microsoft.CognitiveServices/accounts/contoso-openai-dev")


def cli(*args: str):
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "400"}, catch_exceptions=False)


def _rotate_and_drop() -> None:
    assert cli("seal-key", "rotate", "--as", "oid-admin").exit_code == 0
    old = json.loads(cli("seal-key", "show", "--json").stdout)["retired"][0]
    assert cli("seal-key", "retire", old, "--as", "oid-admin", "--yes").exit_code == 0


def test_undo_refusals_after_a_key_drop_name_the_dropped_key(firestop_home):
    assert cli("alert", "handle", str(ALERT)).exit_code == 0
    ran = cli("runbook", "run", "network.lock", "--target", DEV, "--yes")
    assert ran.exit_code == 0, ran.output
    run_id = next(ln.split("runbook undo ", 1)[1].strip() for ln in ran.output.splitlines() if "runbook undo " in ln)
    _rotate_and_drop()
    manual = cli("runbook", "undo", run_id, "--yes")
    assert manual.exit_code != 0 and "seal key since dropped" in manual.output, manual.output
    incident = cli("incident", "undo", "inc-33906e911c7aff74", "--as", "oid-alice", "--yes")
    assert incident.exit_code == 3 and "seal key since dropped" in incident.output, incident.output
