"""``python -m firestop`` ends through firestop.cli.quick_exit.leave: what a normal exit does that can be observed
(non-daemon threads and executors joined, atexit callbacks, buffered stdout flushed, the exit status) still
happens; the module teardown does not. Each case runs in a child interpreter."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

CHILD = r"""
import atexit, sys, threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from firestop.cli.quick_exit import leave

out = Path(sys.argv[1])
gate = threading.Event()
executor = ThreadPoolExecutor(max_workers=1)
executor.submit(lambda: (gate.wait(), (out / "executor").write_text("ran")))  # runs only once the gate opens
threading.Thread(target=lambda: (gate.wait(), (out / "thread").write_text("ran"))).start()
atexit.register(lambda: (out / "atexit").write_text("thread" if (out / "thread").exists() else "before the thread"))

class Teardown:
    def __del__(self):  # runs when the interpreter clears this module at a normal exit
        sys.stderr.write("module teardown\n")

keep = Teardown()
sys.stdout.write("buffered, no newline")  # a pipe: block-buffered until flushed
gate.set()
code = {"none": None, "int": 3, "text": "stopped: why", "big": 256 + 4}[sys.argv[2]]
if sys.argv[3] == "leave":
    leave(code)
raise SystemExit(code)
"""


def _child(tmp_path: Path, code: str, how: str) -> subprocess.CompletedProcess:
    out = tmp_path / how / code
    out.mkdir(parents=True)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run([sys.executable, "-c", CHILD, str(out), code, how], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=60)
    proc.files = {p.name: p.read_text() for p in out.iterdir()}  # type: ignore[attr-defined]
    return proc


@pytest.mark.parametrize("code", ["none", "int", "text", "big"])
def test_leave_does_what_a_normal_exit_shows(tmp_path, code):
    normal, quick = _child(tmp_path, code, "raise"), _child(tmp_path, code, "leave")
    assert quick.returncode == normal.returncode == {"none": 0, "int": 3, "text": 1, "big": 4}[code]
    assert quick.stdout == normal.stdout == "buffered, no newline"
    assert quick.files == normal.files == {"executor": "ran", "thread": "ran", "atexit": "thread"}
    assert "module teardown" in normal.stderr and "module teardown" not in quick.stderr
    assert quick.stderr == normal.stderr.replace("module teardown\n", "")  # "stopped: why" for the text code


def test_python_m_firestop_leaves_quickly_with_the_commands_status(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(REPO), "FIRESTOP_HOME": str(tmp_path)}
    run = [sys.executable, "-m", "firestop"]
    bad = subprocess.run([*run, "alert", "handle", str(tmp_path / "missing.json")], cwd=REPO, env=env,
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "does not exist" in bad.stderr
    helped = subprocess.run([*run, "--help"], cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert helped.returncode == 0 and helped.stdout.startswith("Usage: python -m firestop")
    # under a profiler the normal exit stays (cProfile writes its output after the program returns)
    stats = tmp_path / "help.prof"
    profiled = subprocess.run([sys.executable, "-m", "cProfile", "-o", str(stats), "-m", "firestop", "--help"], cwd=REPO,
                              env=env, capture_output=True, text=True, timeout=120)
    assert profiled.returncode == 0 and stats.stat().st_size > 0
