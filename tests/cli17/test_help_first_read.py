"""cli17: ``--help`` read as a new responder. What misled (fails before on each): the root help named no exit codes
nor where to start; ``rules --help`` explained itself by an internal finding id ("(RT17-01)"); ``ledger verify``'s
INCIDENT named only incident ids while ``runbook run`` tells responders to verify ``manual-<day>``, and its exit codes
left out 2 and 1; ``incident list --since`` said "simulated time" without which clock."""

from __future__ import annotations

import re

from typer.testing import CliRunner

from firestop.cli.main import app


def helped(*args: str) -> str:
    result = CliRunner().invoke(app, [*args, "--help"], env={"COLUMNS": "400"}, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return " ".join(result.output.split())


def test_the_root_help_says_where_to_start_and_the_exit_codes():
    said = helped()
    assert "Start with: python -m firestop incident list" in said
    assert ("Exit codes: 0 done, 2 bad input (the message names the field and the fix), 3 a responder is needed, "
            "4 no playbook matched, 1 internal error (--debug for the traceback), 130 interrupted.") in said


def test_no_help_explains_itself_by_an_internal_finding_id():
    for noun in ("rules", "alert", "incident", "runbook", "ledger", "audit", "sandbox", "playbook", "tabletop", "principal"):
        assert not re.search(r"\b(?:RT|R|A)\d{1,2}-\d{2}\b", helped(noun)), noun


def test_ledger_verify_names_manual_ledgers_and_every_exit_code():
    said = helped("ledger", "verify")
    assert "manual-<YYYY-MM-DD> (as runbook run prints it)" in said
    assert "Exit 0 intact, 3 tampered or broken, 2 no such ledger, 1 the ledger store cannot be read." in said


def test_since_help_names_its_clock():
    assert "Counted back from the sandbox clock" in helped("incident", "list")
