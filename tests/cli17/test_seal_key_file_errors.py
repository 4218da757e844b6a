"""seal-key show/rotate/retire when FIRESTOP_HOME's key files cannot be read or written: exit 1, one line naming the
files and what was left undone, no traceback, no key (the --json error object)."""

from __future__ import annotations

import json

from typer.testing import CliRunner


def _cli(*args):
    from firestop.cli.main import app

    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def test_rotate_and_retire_name_the_unwritable_key_files_and_what_was_left(firestop_home):
    assert _cli("seal-key", "rotate", "--as", "oid-admin", "--json").exit_code == 0
    old = json.loads(_cli("seal-key", "show", "--json").stdout)["retired"][0]
    keys = (firestop_home / "seal-key").read_text().split() + (firestop_home / "seal-key.retired").read_text().split()
    lock = firestop_home / ".seal-key.lock"
    lock.unlink()
    lock.mkdir()  # the lock cannot be opened: an OSError (IsADirectoryError)
    rotated = _cli("seal-key", "rotate", "--as", "oid-admin", "--json")
    retired = _cli("seal-key", "retire", old, "--as", "oid-admin", "--yes", "--json")
    for answer, left in ((rotated, "nothing was rotated, or run it again to finish"), (retired, "nothing was retired")):
        error = json.loads(answer.stdout)
        assert answer.exit_code == 1 and error["exit_code"] == 1, answer.output
        assert error["error"].startswith("FIRESTOP_HOME's seal key files cannot be written (IsADirectoryError: ")
        assert error["error"].endswith(f"); {left}")
        assert not any(k in answer.output for k in keys)


def test_show_names_the_unreadable_key_files(firestop_home):
    firestop_home.mkdir(parents=True, exist_ok=True)
    (firestop_home / "seal-key").mkdir()  # the key file cannot be read: an OSError
    shown = _cli("seal-key", "show", "--json")
    error = json.loads(shown.stdout)
    assert shown.exit_code == 1 and error == {
        "error": "FIRESTOP_HOME's seal key files cannot be read (IsADirectoryError: Is a directory)", "exit_code": 1}
