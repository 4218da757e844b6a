"""Ctrl-C in the CLI: one line saying what is left, exit 130, no traceback (firestop.cli.interrupt)."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time

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
        err = proc.stderr.read().decode()
        assert proc.wait(timeout=60) == 130, err
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
