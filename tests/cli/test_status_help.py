"""newuser12: ``incident list --help`` named ten statuses for ``--status`` while the command accepts twelve (its own
refusal lists ``joined`` and ``nothing_to_contain`` too): a user reading the help could not filter the variants that
joined a confirmed incident. The help names every status the option accepts."""

from __future__ import annotations

import re

from typer.testing import CliRunner


def test_the_status_help_names_every_accepted_status():
    from firestop.cli.main import app
    from firestop.lifecycle.view import INCIDENT_STATUSES

    result = CliRunner().invoke(app, ["incident", "list", "--help"], env={"COLUMNS": "400"}, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    text = " ".join(re.sub(r"[│|]", " ", result.output).split())
    start = text.index("One of:")
    listed = set(re.findall(r"\b[a-z_]+\b", text[start:start + 400]))
    missing = set(INCIDENT_STATUSES) - listed
    assert not missing, (missing, text[start:start + 400])
