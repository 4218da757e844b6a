"""A wrong setting stops every command at start-up (README: settings are validated at start-up): one line naming the
variable, its value as ``repr`` escapes it (never a secret's) and the fix, exit 2, nothing done, no traceback —
``serve`` included. ``doctor`` still runs: it reports every wrong setting."""

from __future__ import annotations

import os

import pytest
from typer.testing import CliRunner

from firestop.settings import REPO_ROOT, configure_settings

ALERT = str(REPO_ROOT / "examples" / "alerts" / "leaked-key.json")


def _run(home, *args: str, **settings: str):
    from firestop.cli.main import app

    env = {k: None for k in os.environ if k.startswith(("WEBSITE_", "FIRESTOP_"))}
    env.update(FIRESTOP_HOME=str(home), COLUMNS="200", **settings)
    configure_settings(None)
    try:
        return CliRunner().invoke(app, list(args), env=env)
    finally:
        configure_settings(None)


@pytest.mark.parametrize("args, name, value, shown", [
    (["alert", "handle", ALERT], "FIRESTOP_CORRELATION_WINDOW_SECONDS", "abc", "'abc' is not a number of seconds"),
    (["alert", "handle", ALERT], "FIRESTOP_CORRELATION_KEY", "tenant\x1b[31m", r"'tenant\x1b[31m' is not one of"),
    (["incident", "list"], "FIRESTOP_EVIDENCE_MAX_WINDOW_SECONDS", "5", "'5' must be whole seconds"),
    (["incident", "list"], "FIRESTOP_AUDIT_SCHEDULE", "weekly", "'weekly' is not a six-field NCRONTAB"),
    (["serve", "--port", "0"], "FIRESTOP_SERVE_PER_PEER", "many", "'many' must be a whole number"),
    (["serve", "--port", "0"], "FIRESTOP_LOG_FORMAT", "xml", "'xml' is not one of text, json"),
])
def test_a_wrong_setting_is_one_line_exit_2_naming_it(tmp_path, args, name, value, shown):
    home = tmp_path / "home"
    result = _run(home, *args, **{name: value})
    assert result.exit_code == 2, (result.stdout, result.stderr)
    line = result.stderr.strip()
    assert line.count("\n") == 0 and "Traceback" not in result.stderr, result.stderr
    assert line.startswith(f"error: setting: {name}: ") and shown in line and f"unset {name}" in line, line
    assert "\x1b" not in line  # the value is escaped, never a terminal control sequence
    assert not (home / "records").exists() and not (home / "durable.sqlite").exists()  # nothing was done


def test_a_secret_setting_is_named_but_never_shown(tmp_path):
    result = _run(tmp_path, "incident", "list", FIRESTOP_SEAL_KEY="short-secret-value")
    assert result.exit_code == 2 and "FIRESTOP_SEAL_KEY" in result.stderr
    assert "short-secret-value" not in result.stderr + result.stdout


def test_doctor_runs_with_a_wrong_setting_and_reports_it(tmp_path):
    result = _run(tmp_path, "doctor", "--json", FIRESTOP_CORRELATION_WINDOW_SECONDS="abc")
    assert "setting:" not in result.stderr and "FIRESTOP_CORRELATION_WINDOW_SECONDS" in result.stdout


def test_good_settings_pass(tmp_path):
    result = _run(tmp_path, "incident", "list", "--json", FIRESTOP_CORRELATION_WINDOW_SECONDS="600", FIRESTOP_CORRELATION_KEY="none")
    assert result.exit_code == 0, result.stderr


@pytest.mark.parametrize("args", [
    ["incident", "--help"], ["incident", "list", "--help"], ["alert", "handle", "--help"], ["serve", "--help"],
    ["runbook", "plan", "--help"], ["--debug", "incident", "show", "--help"],
])
def test_help_shows_help_whatever_the_settings(tmp_path, args):
    # in-process (CliRunner): the command line is the one given here, not the test runner's sys.argv
    result = _run(tmp_path, *args, FIRESTOP_LOG_FORMAT="xml")
    assert result.exit_code == 0, (result.stdout, result.stderr)
    assert result.stdout.startswith("Usage: ") and "setting:" not in result.stderr + result.stdout


def test_a_group_without_its_command_shows_its_help_not_the_setting(tmp_path):
    result = _run(tmp_path, "incident", FIRESTOP_LOG_FORMAT="xml")
    assert "Usage: " in result.stdout + result.stderr and "setting:" not in result.stderr + result.stdout


@pytest.mark.parametrize("args", [
    ["incident", "list"],
    # --help as an option's value is that value: the command would run, so the setting still stops it
    ["incident", "approve", "inc-x", "--step", "s", "--as", "oid-a", "--comment", "--help"],
    ["incident", "list", "--", "--help"],
])
def test_a_command_that_would_run_still_stops_on_the_setting(tmp_path, args):
    result = _run(tmp_path, *args, FIRESTOP_LOG_FORMAT="xml")
    assert result.exit_code == 2 and result.stderr.startswith("error: setting: FIRESTOP_LOG_FORMAT"), result.stderr


@pytest.mark.parametrize("args", [["incident", "list"], ["alert", "handle", ALERT, "--json"]])
def test_a_file_where_firestop_home_should_be_is_a_setting_error_not_an_internal_one(tmp_path, args):
    from firestop.cli.main import app

    taken = tmp_path / "home"
    taken.write_text("not a folder\n")
    for home, shown in ((taken, f"{str(taken)!r} is a file"), (taken / "sub", f"{str(taken)!r} in its path is a file")):
        env = {k: None for k in os.environ if k.startswith(("WEBSITE_", "FIRESTOP_"))}
        env.update(FIRESTOP_HOME=str(home), COLUMNS="200")
        configure_settings(None)
        try:
            result = CliRunner().invoke(app, args, env=env)
        finally:
            configure_settings(None)
        assert result.exit_code == 2, (result.stdout, result.stderr)  # was 1: "internal error: FileExistsError"
        said = result.stdout + result.stderr  # the JSON error under python -m firestop (_root reads sys.argv)
        assert "setting: FIRESTOP_HOME: " in said and shown in said and "point FIRESTOP_HOME at a folder" in said, said
        assert "internal error" not in said and "Traceback" not in result.stderr
    assert taken.read_text() == "not a folder\n"
