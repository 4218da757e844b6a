"""A FIRESTOP_HOME that cannot be created or written is bad input named with its fix (exit 2), never "internal error"."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from firestop.cli.main import main
from firestop.settings import REPO_ROOT

UNCREATABLE = "/proc/firestop-home-nu13"  # mkdir answers ENOENT under /proc (root included): no home can be made there


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux's /proc")
@pytest.mark.parametrize("args", [
    ["incident", "list"],
    ["alert", "handle", str(REPO_ROOT / "examples" / "alerts" / "leaked-key.json")],
    ["tabletop", "run", "leaked-api-key"],
    ["serve", "--port", "0"],
])
def test_a_home_that_cannot_be_created_is_exit_2_naming_firestop_home(monkeypatch, capsys, args):
    """New user 13: FIRESTOP_HOME=/proc/nope (any folder mkdir refuses with ENOENT or EROFS: a read-only file system)
    made alert handle, incident list, serve and tabletop run print "internal error: FileNotFoundError: [Errno 2] No
    such file or directory: '/proc/nope' (run with --debug for the traceback)", exit 1 — while doctor and infra deploy
    said exit 2 naming FIRESTOP_HOME and the fix."""
    monkeypatch.setenv("FIRESTOP_HOME", UNCREATABLE)
    with pytest.raises(SystemExit) as ended:
        main(args)
    err = capsys.readouterr().err
    assert ended.value.code == 2, err
    assert err.startswith(f"error: FIRESTOP_HOME ({UNCREATABLE}) is not usable: ") and "writable directory" in err, err
    assert "internal error" not in err and "Traceback" not in err
    if args[0] == "serve":
        return  # a server: no --json (its lines are logs)
    with pytest.raises(SystemExit) as ended:
        main([*args, "--json"])
    out = json.loads(capsys.readouterr().out)
    assert ended.value.code == 2 and out["exit_code"] == 2 and "FIRESTOP_HOME" in out["error"]
