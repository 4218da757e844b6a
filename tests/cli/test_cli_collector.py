"""firestop.cli.collector.paused: the cyclic collector is off for the block and its previous state is back after;
``alert handle`` on the sandbox runs with it off (issue 18's start-up cost) and leaves it on."""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from firestop.cli.collector import paused

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def collector_on():
    was = gc.isenabled()
    gc.enable()
    yield
    (gc.enable if was else gc.disable)()


def test_paused_turns_the_collector_off_and_back_on(collector_on):
    with paused():
        assert gc.isenabled() is False
    assert gc.isenabled() is True


def test_paused_restores_the_collector_after_an_exception(collector_on):
    with pytest.raises(RuntimeError):
        with paused():
            raise RuntimeError("boom")
    assert gc.isenabled() is True


def test_nested_pause_leaves_it_off_for_the_outer_block(collector_on):
    with paused():
        with paused():
            assert gc.isenabled() is False
        assert gc.isenabled() is False
    assert gc.isenabled() is True


def test_a_collector_that_was_off_stays_off(collector_on):
    gc.disable()
    with paused():
        pass
    assert gc.isenabled() is False


def test_alert_handle_runs_without_collections_and_leaves_the_collector_on(tmp_path):
    """In a child interpreter: ``alert handle`` imports ~1,500 modules and runs an incident, which with the collector
    on starts over a hundred collections (124 measured before the pause, one of them full); paused, only those of
    main()'s own start (Typer building the command, before the command's body) and the one due when it comes back
    on remain, none full. The incident is handled (exit 0) and the collector is on afterwards."""
    code = r"""
import gc, json, sys
from firestop.cli.main import main
counts = {"collections": 0, "full": 0}
def count(phase, info):
    if phase == "start":
        counts["collections"] += 1
        counts["full"] += info["generation"] == 2
gc.callbacks.append(count)
try:
    main(["alert", "handle", "examples/alerts/leaked-key.json", "--json"])
except SystemExit as done:
    code = done.code
gc.callbacks.remove(count)
print(json.dumps({"code": code, "enabled": gc.isenabled(), **counts}))
"""
    env = {**os.environ, "PYTHONPATH": str(REPO), "FIRESTOP_HOME": str(tmp_path)}
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["code"] == 0
    assert out["enabled"] is True
    assert out["full"] == 0
    assert out["collections"] <= 10


def test_python_m_firestop_runs_no_collection_once_the_command_has_answered(tmp_path):
    """``python -m firestop`` ends with ``os._exit`` right after the command (firestop.cli.quick_exit): the collection
    that was due when the pause ended walked every object the command made (the imported modules' too), 47.7 ms of
    CPU, and freed nothing the process needed. Run as ``-m`` runs it (runpy): no collection starts after the
    command's answer is written, the collector is left off to the end, the incident is handled (exit 0)."""
    code = r"""
import atexit, gc, json, os, runpy, sys
stats = {"after_answer": 0}
answered = []
class Watched:
    def __init__(self, stream):
        self._stream = stream
    def write(self, text):
        answered.append(True)
        return self._stream.write(text)
    def __getattr__(self, name):
        return getattr(self._stream, name)
def count(phase, info):
    if phase == "start":
        stats["after_answer"] += bool(answered)
def report():
    stats["enabled_at_exit"] = gc.isenabled()
    with open(os.environ["COLLECTOR_REPORT"], "w") as fh:
        json.dump(stats, fh)
atexit.register(report)
gc.callbacks.append(count)
sys.stdout = Watched(sys.stdout)
sys.argv = ["firestop", "alert", "handle", "examples/alerts/leaked-key.json", "--json"]
runpy.run_module("firestop", run_name="__main__", alter_sys=True)
"""
    report = tmp_path / "report.json"
    env = {**os.environ, "PYTHONPATH": str(REPO), "FIRESTOP_HOME": str(tmp_path / "home"),
           "COLLECTOR_REPORT": str(report)}
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert json.loads(proc.stdout)["status"] == "contained"
    stats = json.loads(report.read_text())
    assert stats["after_answer"] == 0, stats  # (1 before: the generation-0 pass over everything made while paused)
    assert stats["enabled_at_exit"] is False
