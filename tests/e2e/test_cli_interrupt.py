"""Ctrl-C in the CLI: one line saying what is left, exit 130, no traceback (firestop.cli.interrupt)."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time

import pytest

from typer.testing import CliRunner

from firestop.cli.main import app
from firestop.settings import REPO_ROOT

PROD = "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-ai-prod/providers/Microsoft.CognitiveServices/accounts/contoso-openai-prod"


def _read_until(fd: int, marker: bytes, limit_s: float = 120.0) -> bytes:
    """Bytes from ``fd`` up to and including ``marker`` (the process's own output is the synchronisation)."""
    seen = b""
    deadline = time.monotonic() + limit_s
    while marker not in seen:
        left = deadline - time.monotonic()
        assert left > 0, f"no {marker!r} in {seen[-400:]!r}"
        ready, _, _ = select.select([fd], [], [], left)
        assert ready, f"no {marker!r} within {limit_s:g} s: {seen[-400:]!r}"
        chunk = os.read(fd, 4096)
        assert chunk, f"output ended before {marker!r}: {seen[-400:]!r}"
        seen += chunk
    return seen


def test_ctrl_c_at_the_confirmation_prompt_says_so_and_exits_130(firestop_home):
    env = {**os.environ, "FIRESTOP_HOME": str(firestop_home), "COLUMNS": "400"}
    proc = subprocess.Popen([sys.executable, "-m", "firestop", "runbook", "run", "network.lock", "--target", PROD],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=REPO_ROOT)
    try:
        _read_until(proc.stdout.fileno(), b"[y/N]: ")  # waiting on stdin for the answer
        proc.send_signal(signal.SIGINT)
        err = proc.communicate(timeout=60)[1].decode()  # a lost signal fails the test, never hangs the suite
        assert proc.returncode == 130, err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert "Traceback" not in err and "Aborted" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: interrupted — nothing further was changed"), err
    plan = CliRunner().invoke(app, ["runbook", "plan", "network.lock", "--target", PROD, "--json"])
    assert json.loads(plan.stdout)["result"]["changes"], plan.stdout  # nothing was applied: the lock is still to do


def test_the_line_names_the_incident_its_state_and_how_to_resume(firestop_home):
    """What a Ctrl-C after this point would print: the incident waits for an approval; alert handle resumes it."""
    from firestop.cli import interrupt

    example = REPO_ROOT / "examples" / "alerts" / "suspicious-key-access.json"
    result = CliRunner().invoke(app, ["alert", "handle", str(example), "--json"])
    assert result.exit_code == 3, result.output
    incident = json.loads(result.stdout)["incident_id"]
    line = interrupt.line()
    assert line.startswith("interrupted — nothing further was changed; ")
    assert f"incident {incident} is still waiting for approval of step " in line
    assert line.endswith(f"resume with: python -m firestop alert handle {example}")


def test_a_rerun_interrupted_before_its_incident_started_resumes_with_rerun(firestop_home, monkeypatch):
    """Ctrl-C before ``--rerun`` started its new incident: only ``--rerun`` starts it (without, the old record shows)."""
    import firestop.cli.wiring

    def interrupted(**kwargs):
        raise KeyboardInterrupt

    example = REPO_ROOT / "examples" / "alerts" / "suspicious-key-access.json"
    monkeypatch.setattr(firestop.cli.wiring, "environment", interrupted)
    result = CliRunner().invoke(app, ["alert", "handle", str(example), "--rerun"])
    assert result.exit_code == 130, result.output
    assert result.stderr.strip().endswith(f"resume with: python -m firestop alert handle {example} --rerun"), result.stderr


def test_alert_handle_interrupted_while_it_starts_up_says_no_incident_was_started_and_how_to_start_it(firestop_home, monkeypatch,
                                                                                                      capsys):
    """New user 11: Ctrl-C in alert handle's first seconds (its imports, before the incident starts) printed
    "interrupted — nothing further was changed" and no command: it names the one that starts the incident."""
    import firestop.cli.platform_warm

    from firestop.cli import interrupt

    def interrupted():
        raise interrupt.Interrupted  # what SIGINT raises once main() installed its handler
    from firestop.cli.main import main

    example = REPO_ROOT / "examples" / "alerts" / "leaked-key.json"
    monkeypatch.setattr(firestop.cli.platform_warm, "warm", interrupted)
    monkeypatch.setattr(interrupt, "install", lambda: None)  # pytest keeps its own SIGINT handler
    with pytest.raises(SystemExit) as ended:
        main(["alert", "handle", str(example)])  # through main(), which prints the line (the CLI's entry point)
    assert ended.value.code == 130
    said = " ".join(capsys.readouterr().err.split())
    assert said == ("error: interrupted — nothing further was changed; no incident was started; "
                    f"resume with: python -m firestop alert handle {example}"), said
    monkeypatch.undo()
    done = CliRunner().invoke(app, ["alert", "handle", str(example), "--json"])
    assert done.exit_code == 0 and "resuming" not in (json.loads(done.stdout).get("note") or "")  # it starts it


def test_a_rerun_interrupted_after_its_incident_started_resumes_that_incident(firestop_home):
    """Ctrl-C once ``--rerun``'s new incident runs: the line's command resumes that incident (not the first one,
    and not a third)."""
    from firestop.cli import interrupt

    example = REPO_ROOT / "examples" / "alerts" / "suspicious-key-access.json"
    first = json.loads(CliRunner().invoke(app, ["alert", "handle", str(example), "--json"]).stdout)["incident_id"]
    rerun = CliRunner().invoke(app, ["alert", "handle", str(example), "--rerun", "--json"])
    assert rerun.exit_code == 3, rerun.output
    second = json.loads(rerun.stdout)["incident_id"]
    assert second == f"{first}-2"
    line = interrupt.line()
    assert f"incident {second} is still waiting for approval of step " in line
    hint = line.rsplit("resume with: ", 1)[1]
    assert hint == f"python -m firestop alert handle {example}", line
    resumed = CliRunner().invoke(app, hint.split()[3:] + ["--json"])
    assert resumed.exit_code == 3, resumed.output
    assert json.loads(resumed.stdout)["incident_id"] == second
    assert f"resuming incident {second}" in json.loads(resumed.stdout)["note"]


def test_a_tabletop_run_interrupted_names_its_scenario_directory_and_not_its_used_run_id(firestop_home, tmp_path, monkeypatch):
    """``tabletop run NAME --dir D --run-id R``: the name resolves only in D, and R's folder exists after the run began."""
    import firestop.tabletop

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    folder = tmp_path / "my scenarios"
    folder.mkdir()
    text = (REPO_ROOT / "tabletop" / "scenarios" / "leaked-api-key.yaml").read_text("utf-8")
    (folder / "leaked-api-key.yaml").write_text(text.replace("playbooks: ../../playbooks", f"playbooks: {REPO_ROOT / 'playbooks'}"), "utf-8")
    monkeypatch.setattr(firestop.tabletop, "run_scenario", interrupted)
    result = CliRunner().invoke(app, ["tabletop", "run", "leaked-api-key", "--dir", str(folder), "--run-id", "r1"])
    assert result.exit_code == 130, result.output
    err = " ".join(result.stderr.split())
    assert f"resume with: python -m firestop tabletop run leaked-api-key --dir '{folder}' (" in err, err
    assert "a --run-id must be another than r1" in err, err


_INTERRUPT_WHILE_IMPORTING = """
import runpy, sys
class Stop:  # Ctrl-C lands while the CLI's modules are still importing, before main() installs its handler
    def find_spec(self, name, path=None, target=None):
        if name == "firestop.cli.main":
            raise KeyboardInterrupt
sys.meta_path.insert(0, Stop())
sys.argv = ["firestop", *sys.argv[1:]]
runpy.run_module("firestop", run_name="__main__", alter_sys=True)
"""


def test_ctrl_c_while_the_cli_is_still_starting_is_one_line_and_130(firestop_home):
    """New-user trial 8: Ctrl-C in the first second or two (importing the CLI, before main() installs its SIGINT
    handler) printed a KeyboardInterrupt traceback; README promises one line and 130 anywhere."""
    env = {**os.environ, "FIRESTOP_HOME": str(firestop_home)}
    argv = [sys.executable, "-c", _INTERRUPT_WHILE_IMPORTING, "alert", "handle", "examples/alerts/leaked-key.json"]
    done = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=REPO_ROOT, timeout=120)
    assert done.returncode == 130, done.stderr
    assert done.stderr == "error: interrupted while starting; nothing was changed\n" and done.stdout == ""
    as_json = subprocess.run([*argv, "--json"], capture_output=True, text=True, env=env, cwd=REPO_ROOT, timeout=120)
    assert as_json.returncode == 130 and json.loads(as_json.stdout) == {
        "error": "interrupted while starting; nothing was changed", "exit_code": 130}
    debug = subprocess.run([*argv, "--debug"], capture_output=True, text=True, env=env, cwd=REPO_ROOT, timeout=120)
    assert "Traceback" in debug.stderr and "KeyboardInterrupt" in debug.stderr


def test_a_rerun_while_the_last_rerun_waits_is_numbered_from_the_alerts_incident(firestop_home):
    """newuser10: ``--rerun`` while ``<id>-2`` waits for approval started ``<id>-2-2``; it is ``<id>-3``."""
    example = REPO_ROOT / "examples" / "alerts" / "suspicious-key-access.json"
    first = json.loads(CliRunner().invoke(app, ["alert", "handle", str(example), "--json"]).stdout)["incident_id"]
    ids = [json.loads(CliRunner().invoke(app, ["alert", "handle", str(example), "--rerun", "--json"]).stdout)["incident_id"]
           for _ in range(2)]
    assert ids == [f"{first}-2", f"{first}-3"]
    again = json.loads(CliRunner().invoke(app, ["alert", "handle", str(example), "--json"]).stdout)
    assert again["incident_id"] == f"{first}-3" and f"resuming incident {first}-3" in again["note"]


@pytest.mark.parametrize("as_json", [True, False])
def test_ctrl_c_after_the_answer_was_printed_keeps_that_answer_and_its_exit_code(firestop_home, monkeypatch, capsys,
                                                                                 as_json):
    """New user 13: Ctrl-C landing after ``alert handle --json`` had printed the contained incident (while click
    unwound the command's ``typer.Exit(0)``) appended a second JSON document — ``{"error": "interrupted …", "exit_code":
    130}`` — to stdout (no longer one JSON value) and exited 130, "incident … is still contained (finished); resume
    with: …" for an incident that was done (seen 2 of 8 times with ``timeout -s INT 0.7x``). The command had answered:
    its answer and its exit code stand, nothing is added."""
    from contextlib import contextmanager

    import firestop.cli.collector

    from firestop.cli import interrupt
    from firestop.cli.main import main

    @contextmanager
    def interrupted_on_the_way_out():
        try:
            yield
        finally:
            raise interrupt.Interrupted  # SIGINT arriving as the finished command unwinds (its typer.Exit in flight)

    example = REPO_ROOT / "examples" / "alerts" / "leaked-key.json"
    monkeypatch.setattr(firestop.cli.collector, "paused", interrupted_on_the_way_out)
    monkeypatch.setattr(interrupt, "install", lambda: None)  # pytest keeps its own SIGINT handler
    with pytest.raises(SystemExit) as ended:
        main(["alert", "handle", str(example), *(["--json"] if as_json else [])])
    out, err = capsys.readouterr()
    assert ended.value.code == 0, (out[-300:], err)
    assert "interrupted" not in out + err
    if as_json:
        assert json.loads(out)["status"] == "contained"  # one JSON value: the record
    else:
        assert "Outcome: contained" in out
