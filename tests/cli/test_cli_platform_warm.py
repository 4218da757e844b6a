"""firestop.cli.platform_warm: ``alert handle`` looks up the platform azure-core's User-Agent describes (``uname -p``
in a child process) on a thread at its start, so the SDK's clients find it cached (issue 18's start-up cost).

Each check runs in a fresh interpreter: the test process has long cached the platform module's answers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _run(code: str, home: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": str(REPO), "FIRESTOP_HOME": str(home)}
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_warm_caches_the_same_platform_so_the_sdk_starts_no_child(tmp_path):
    """After warm()'s thread is done, platform.platform() answers with no child process (subprocess refused) and
    the same text a fresh interpreter computes; warm() starts one thread per process."""
    code = r"""
import json, platform, subprocess
from firestop.cli.platform_warm import warm
thread = warm()
again = warm()
thread.join()
def refuse(*a, **k):
    raise AssertionError("a child process was started")
subprocess.Popen = refuse
print(json.dumps({"platform": platform.platform(), "same_thread": thread is again, "daemon": thread.daemon}))
"""
    fresh = subprocess.run([sys.executable, "-c", "import platform; print(platform.platform())"],
                           capture_output=True, text=True, check=True).stdout.strip()
    out = _run(code, tmp_path)
    assert out == {"platform": fresh, "same_thread": True, "daemon": True}


def test_alert_handle_builds_its_sdk_clients_without_starting_uname_on_the_main_thread(tmp_path):
    """``alert handle`` (sandbox) starts the lookup; its SDK clients' User-Agent policies are built without a
    child process on the main thread, and the incident is still handled (exit 0)."""
    code = r"""
import json, subprocess, sys, threading
real = subprocess.Popen
main_thread = []
class Watch(real):
    def __init__(self, *a, **k):
        if threading.current_thread() is threading.main_thread():
            main_thread.append(a[0] if a else k.get("args"))
        super().__init__(*a, **k)
subprocess.Popen = Watch
from firestop.cli import platform_warm
from firestop.cli.main import main
try:
    main(["alert", "handle", "examples/alerts/leaked-key.json", "--json"])
except SystemExit as done:
    code = done.code
print(json.dumps({"code": code, "main_thread": [str(c) for c in main_thread],
                  "warmed": platform_warm._started is not None}))
"""
    out = _run(code, tmp_path)
    assert out == {"code": 0, "main_thread": [], "warmed": True}
