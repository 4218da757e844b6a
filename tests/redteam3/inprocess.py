"""``python -m firestop`` as the red-team regression tests drive it, in this process.

Each call is the real CLI (typer's ``CliRunner`` on ``firestop.cli.main.app``: argument parsing, wiring, the sandbox
tenant under ``home``, the exit code) with ``FIRESTOP_HOME=home`` for the call; an exception the CLI does not turn
into an exit code propagates (as a traceback did in a child). The findings are about what Firestop writes to the
tenant, not about process start-up, which tests/e2e already covers with real child processes (exit codes, no
traceback); a child's ~1.5 s of imports per call was most of these tests' cost.
"""

from __future__ import annotations

import subprocess
from pathlib import Path


def firestop(home: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    """Run ``firestop *args`` with ``stdin``; returns returncode (the exit code), stdout and stderr (text)."""
    from typer.testing import CliRunner

    from firestop.cli.main import app

    result = CliRunner().invoke(app, list(args), input=stdin, env={"FIRESTOP_HOME": str(home)}, catch_exceptions=False)
    return subprocess.CompletedProcess(["firestop", *args], result.exit_code, result.stdout, result.stderr)
