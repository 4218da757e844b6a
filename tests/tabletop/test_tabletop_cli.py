"""``python -m firestop tabletop list|run`` and the Function App's timer trigger."""

from __future__ import annotations

import json
import logging
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from firestop.cli.main import app
from firestop.settings import REPO_ROOT

from .conftest import SCENARIOS, leaked_key


def cli(*args: str):
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def test_list_shows_every_shipped_scenario(firestop_home):
    result = cli("tabletop", "list", "--json")
    assert result.exit_code == 0, result.output
    listed = json.loads(result.stdout)
    assert listed["valid"] is True
    assert sorted(s["name"] for s in listed["scenarios"]) == sorted(p.stem for p in SCENARIOS.glob("*.yaml"))
    table = cli("tabletop", "list")
    assert "leaked-api-key" in table.output and "python -m firestop tabletop run" in table.output


def test_list_says_what_drives_each_scenario(firestop_home, monkeypatch, write_scenario, tmp_path):
    """An attack-driven scenario has no alert payloads (its alerts come from the rules): the table says "attack, N
    steps", never "0" alerts; an alert-driven one says how many alerts."""
    import yaml

    from firestop.cli import output

    monkeypatch.setattr(output.console, "width", 200)  # the CLI's console took its width at import (COLUMNS then)
    rows = {r["name"]: r for r in json.loads(cli("tabletop", "list", "--json").stdout)["scenarios"]}
    attack = yaml.safe_load((SCENARIOS / "leaked-api-key.yaml").read_text())["attack"]
    assert (rows["leaked-api-key"]["driven_by"], rows["leaked-api-key"]["attack_steps"], rows["leaked-api-key"]["alerts"]) == ("attack", len(attack), 0)
    lines = {line.split("│")[1].strip(): line.split("│")[2].strip() for line in cli("tabletop", "list").output.splitlines()
             if line.startswith("│") and line.split("│")[1].strip()}
    assert lines["leaked-api-key"] == f"attack, {len(attack)} step{'' if len(attack) == 1 else 's'}"
    # every shipped scenario is attack-driven (issue 13): an alert-driven one of the user's own
    write_scenario(leaked_key(), "typed-alerts.yaml")
    rows = {r["name"]: r for r in json.loads(cli("tabletop", "list", "--dir", str(tmp_path), "--json").stdout)["scenarios"]}
    assert (rows["test-leaked-key"]["driven_by"], rows["test-leaked-key"]["alerts"]) == ("alerts", 1)
    lines = {line.split("│")[1].strip(): line.split("│")[2].strip() for line in cli("tabletop", "list", "--dir", str(tmp_path)).output.splitlines()
             if line.startswith("│") and line.split("│")[1].strip()}
    assert lines["test-leaked-key"] == "1 alert"


def test_list_flags_an_invalid_file_and_exits_2(firestop_home, write_scenario, tmp_path):
    write_scenario(leaked_key(), "good.yaml")
    write_scenario("name: broken\nalerts: []\nexpect: {}\n", "broken.yaml")
    result = cli("tabletop", "list", "--dir", str(tmp_path), "--json")
    assert result.exit_code == 2
    rows = {r["file"].rsplit("/", 1)[-1]: r for r in json.loads(result.stdout)["scenarios"]}
    assert rows["good.yaml"]["valid"] and not rows["broken.yaml"]["valid"]
    assert any("alerts" in p for p in rows["broken.yaml"]["problems"])
    assert cli("tabletop", "list", "--dir", str(tmp_path / "nope")).exit_code == 2


def test_run_by_name_prints_the_scorecard_and_exits_0(firestop_home):
    result = cli("tabletop", "run", "leaked-api-key", "--run-id", "cli")
    assert result.exit_code == 0, result.output
    assert "Tabletop scorecard" in result.output and "MTTC" in result.output
    assert str(firestop_home / "tabletop" / "cli" / "scorecard.md") in result.output.replace("\n", "")


def test_run_json_with_missed_expectations_exits_3(firestop_home, write_scenario):
    path = write_scenario(leaked_key(expect={"status": "contained", "contained_within": 1}))
    result = cli("tabletop", "run", str(path), "--json")
    assert result.exit_code == 3
    card = json.loads(result.stdout)
    assert card["result"] == "missed" and [e["met"] for e in card["expectations"]] == [True, False]


def test_run_bad_scenario_exits_2_with_file_line_and_field(firestop_home, write_scenario):
    path = write_scenario("name: bad\nalerts:\n  - at: -1\n    file: x.json\nexpect: {status: contained}\n")
    result = cli("tabletop", "run", str(path))
    assert result.exit_code == 2
    assert f"{path}:3: alerts.0.at" in result.output.replace("\n", "")
    missing = cli("tabletop", "run", "no-such-scenario", "--json")
    assert missing.exit_code == 2 and "tabletop list" in json.loads(missing.stdout)["error"]
    assert cli("tabletop", "run", "leaked-api-key", "--run-id", "../escape").exit_code == 2


def test_run_in_a_subprocess_like_a_user(firestop_home):
    done = subprocess.run([sys.executable, "-m", "firestop", "tabletop", "run", "rejected-approval", "--json"],
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    card = json.loads(done.stdout)
    assert card["approvals"][0]["outcome"] == "rejected"
    assert card["run_dir"].startswith(str(firestop_home / "tabletop"))


# ---------------------------------------------------------------------------- timer trigger
def test_schedule_comes_from_the_app_setting():
    from firestop.functions.tabletop_timer import DEFAULT_SCHEDULE, schedule_from_env

    assert schedule_from_env({}) == DEFAULT_SCHEDULE == "0 0 6 * * 1"
    assert schedule_from_env({"FIRESTOP_TABLETOP_SCHEDULE": "0 30 2 * * Sat"}) == "0 30 2 * * Sat"
    assert schedule_from_env({"FIRESTOP_TABLETOP_SCHEDULE": "off"}) is None


@pytest.mark.parametrize("bad", ["0 0 6 * *", "61 0 6 * * 1", "0 0 24 * * *", "0 0 6 * * 1/0", "every monday"])
def test_an_invalid_schedule_falls_back_to_the_default_and_says_so(bad, caplog):
    from firestop.functions.tabletop_timer import DEFAULT_SCHEDULE, schedule_from_env

    with caplog.at_level(logging.ERROR, logger="firestop.tabletop"):
        assert schedule_from_env({"FIRESTOP_TABLETOP_SCHEDULE": bad}) == DEFAULT_SCHEDULE
    assert "FIRESTOP_TABLETOP_SCHEDULE" in caplog.text


def test_the_function_app_registers_the_timer():
    from firestop.cli.wiring import function_app
    from firestop.runtime.functions import index_app

    entry = index_app(function_app()).others["tabletop_timer"]
    assert entry.kind == "timerTrigger"
    assert entry.function.get_trigger().schedule == "0 0 6 * * 1"


def test_the_child_process_gets_no_credentials():
    from firestop.functions.tabletop_timer import child_environment

    env = child_environment({"AZURE_CLIENT_SECRET": "s", "IDENTITY_ENDPOINT": "http://x", "FIRESTOP_NOTIFY_WEBHOOK_URL": "https://h",
                             "FIRESTOP_STORAGE_BLOB_URL": "https://a.blob.core.windows.net", "PATH": "/bin"})
    assert env["PATH"] == "/bin" and "FIRESTOP_HOME" in env
    assert not {"AZURE_CLIENT_SECRET", "IDENTITY_ENDPOINT", "FIRESTOP_NOTIFY_WEBHOOK_URL", "FIRESTOP_STORAGE_BLOB_URL"} & set(env)


def test_the_child_process_gets_only_what_it_needs():
    """leftovers10: the child kept every variable not on a deny list — the seal key (it signs decisions and ledger
    entries), the function and system keys, App Service's own secrets. Now only the OS's, Python's, the App Service
    markers and Firestop's non-secret settings pass."""
    from firestop.functions.tabletop_timer import child_environment

    given = {"FIRESTOP_SEAL_KEY": "seal-" + "k" * 40, "FIRESTOP_FUNCTION_KEY": "f", "FIRESTOP_SYSTEM_KEY": "s",
             "WEBSITE_AUTH_ENCRYPTION_KEY": "e", "AzureWebJobsStorage": "DefaultEndpointsProtocol=https;AccountKey=x",
             "APPLICATIONINSIGHTS_CONNECTION_STRING": "InstrumentationKey=x", "MY_SECRET": "x",
             "PATH": "/bin", "LC_ALL": "C.UTF-8", "PYTHONPATH": "/app", "WEBSITE_SITE_NAME": "fn",
             "FIRESTOP_PLAYBOOKS": "/app/playbooks", "FIRESTOP_CORRELATION_WINDOW_SECONDS": "600"}
    env = child_environment(given)
    assert set(env) == {"PATH", "LC_ALL", "PYTHONPATH", "WEBSITE_SITE_NAME", "FIRESTOP_PLAYBOOKS",
                        "FIRESTOP_CORRELATION_WINDOW_SECONDS", "FIRESTOP_HOME"}, env


def test_timer_runs_each_scenario_in_a_child_and_logs_the_results(firestop_home, write_scenario, tmp_path, caplog, monkeypatch):
    from firestop.cli.wiring import function_app
    from firestop.runtime.functions import index_app

    write_scenario(leaked_key(name="good"), "a-good.yaml")
    write_scenario(leaked_key(name="slow", expect={"contained_within": 1}), "b-slow.yaml")
    write_scenario("name: broken\n", "c-broken.yaml")
    timer = index_app(function_app()).others["tabletop_timer"].fn
    monkeypatch.setenv("FIRESTOP_TABLETOP_SCENARIOS", str(tmp_path))
    with caplog.at_level(logging.INFO, logger="firestop.tabletop"):
        timer(type("T", (), {"past_due": False})())
    lines = [r.getMessage() for r in caplog.records if r.name == "firestop.tabletop"]
    assert any(line.startswith("tabletop 'a-good.yaml': every expectation met") for line in lines)
    assert any(line.startswith("tabletop 'b-slow.yaml': expectations missed: 'contained_within") for line in lines)
    assert any(line.startswith("tabletop 'c-broken.yaml': could not run") for line in lines)
    assert lines[-1] == "tabletop: 3 scenario(s) run, 2 with missed expectations or errors"
    assert len(list((firestop_home / "tabletop").iterdir())) == 2  # the broken one never ran
