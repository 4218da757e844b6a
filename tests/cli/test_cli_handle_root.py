"""``alert handle`` runs under a root that holds only the ``alert`` group (firestop.cli.main._app_for: Typer builds
every command of its app before parsing, ~40 ms of CPU for the whole CLI; issue 18's start-up cost). What such a
command line prints, refuses and exits with is what the whole app gives.

Each command line runs twice through the CLI's entry point in this process (``firestop_main``), as ``python -m
firestop`` does and with the whole app forced; a handled alert runs twice in child interpreters (the process boundary)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer

from firestop.cli import main as cli_main

REPO = Path(__file__).resolve().parents[2]

_RUN = r"""
import sys
from firestop.cli import main as cli_main
if sys.argv[1] == "whole":
    cli_main._app_for = lambda args: cli_main.app
cli_main.main(sys.argv[2:])
"""


def _run(args: list[str], *, whole: bool, home: Path) -> tuple[int, str, str]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "FIRESTOP_HOME": str(home), "COLUMNS": "100", "NO_COLOR": "1"}
    proc = subprocess.run([sys.executable, "-c", _RUN, "whole" if whole else "as-is", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=300)
    return proc.returncode, proc.stdout, proc.stderr


@pytest.mark.parametrize("args", [
    ["alert", "handle", "--help"],
    ["--debug", "alert", "handle", "--help"],
    ["alert", "handle"],
    ["alert", "handle", "--nope", "x.json", "--json"],
    ["alert", "handle", "missing.json"],
], ids=lambda a: " ".join(a))
def test_alert_handle_command_lines_answer_as_the_whole_app_does(args, tmp_path, firestop_main, monkeypatch):
    def answer(whole: bool, home: Path) -> tuple[int, str, str]:
        env = {**os.environ, "FIRESTOP_HOME": str(home), "COLUMNS": "100", "NO_COLOR": "1"}
        with monkeypatch.context() as patch:
            if whole:
                patch.setattr(cli_main, "_app_for", lambda argv: cli_main.app)
            done = firestop_main(*args, env=env)
        return done.returncode, done.stdout, done.stderr

    as_is, whole = answer(False, tmp_path / "a"), answer(True, tmp_path / "b")
    assert as_is == whole


def test_a_handled_alert_is_the_same_incident_under_either_root(tmp_path):
    args = ["alert", "handle", "examples/alerts/leaked-key.json", "--json"]
    code_a, out_a, _ = _run(args, whole=False, home=tmp_path / "a")
    code_b, out_b, _ = _run(args, whole=True, home=tmp_path / "b")
    a, b = json.loads(out_a), json.loads(out_b)
    assert code_a == code_b == 0
    assert (a["incident_id"], a["status"]) == (b["incident_id"], b["status"])


def test_only_alert_handle_gets_the_narrow_root():
    narrow = cli_main._app_for(["alert", "handle", "x.json"])
    assert narrow is not cli_main.app
    assert cli_main._app_for(["--debug", "alert", "handle", "x.json"]) is narrow
    assert set(typer.main.get_command(narrow).commands) == {"alert"}
    for args in (["--help"], ["alert", "list"], ["incident", "show", "x"], ["--help", "alert", "handle"], []):
        assert cli_main._app_for(args) is cli_main.app
