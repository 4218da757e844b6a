"""newuser10: ``incident list`` on a fresh FIRESTOP_HOME printed a table of headers only, which reads as a failure; it
says there are none (and under which filter). ``--json`` stays ``[]``; exit 0 either way."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from firestop.cli.main import app


def cli(*args: str):
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def test_no_incidents_says_so(firestop_home):
    listed = cli("incident", "list")
    assert listed.exit_code == 0, listed.output
    assert listed.output == "No incidents (tabletop exercises are never listed).\n"
    filtered = cli("incident", "list", "--status", "awaiting_approval", "--since", "2h")
    assert filtered.exit_code == 0 and filtered.output.startswith("No incidents with status awaiting_approval and since 2h ")
    as_json = cli("incident", "list", "--json")
    assert as_json.exit_code == 0 and json.loads(as_json.stdout) == []
