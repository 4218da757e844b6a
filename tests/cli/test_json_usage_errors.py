"""``--json`` holds for a command line click itself refuses (README: every command takes ``--json``): an unknown
option or command, a missing argument or a missing option value is the JSON error object every command prints on
stdout (``{"error", "exit_code": 2}``, exit 2), naming the problem and the command's ``--help`` — not click's usage
text on stderr with nothing on stdout. Without ``--json`` click's usage text stays as it is. Run through
:func:`firestop.cli.main.main`, where click's standalone handling happens and which typer's test runner does not go
through: in this process for the usage errors (the ``firestop_main`` fixture: same argv, same environment, ~1 s of
CPU less per command), as a user runs it (``python -m firestop``) for the test without ``--json``."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from firestop.settings import REPO_ROOT


def _env(home) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WEBSITE_", "FIRESTOP_"))}
    env.update(FIRESTOP_HOME=str(home), COLUMNS="200")
    return env


def _firestop(home, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "firestop", *args], cwd=REPO_ROOT, env=_env(home), capture_output=True,
                          text=True, timeout=120, stdin=subprocess.DEVNULL)


@pytest.mark.parametrize("args, problem, help_of", [
    (["incident", "show", "--json"], "Missing argument 'ID'", "python -m firestop incident show --help"),
    (["incident", "list", "--json", "--bogus"], "No such option: --bogus", "python -m firestop incident list --help"),
    (["incident", "approve", "inc-1", "--json"], "Missing option '--step'", "python -m firestop incident approve --help"),
    (["nosuchcommand", "--json"], "No such command 'nosuchcommand'", "python -m firestop --help"),
])
def test_a_usage_error_with_json_is_the_json_error_object(tmp_path, firestop_main, args, problem, help_of):
    done = firestop_main(*args, env=_env(tmp_path))
    assert done.returncode == 2, (done.stdout, done.stderr)
    answer = json.loads(done.stdout)
    assert answer["exit_code"] == 2 and problem in answer["error"] and help_of in answer["error"], answer
    assert "Traceback" not in done.stderr and "internal error" not in done.stdout


def test_without_json_the_usage_text_is_clicks_and_a_command_keeps_its_exit_code(tmp_path):
    done = _firestop(tmp_path, "incident", "show")
    assert done.returncode == 2 and done.stdout == "" and "Missing argument 'ID'" in done.stderr
    listed = _firestop(tmp_path, "incident", "show", "inc-nope", "--json")  # the command's own error: unchanged
    assert listed.returncode == 2 and json.loads(listed.stdout)["error"].startswith("ID: no incident 'inc-nope'")
