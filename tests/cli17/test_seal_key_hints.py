"""newuser17: the commands ``seal-key rotate`` hands out — "After a suspected exposure: python -m firestop seal-key
retire <kid>" and, on a full ring, "retire the oldest first: python -m firestop seal-key retire <kid>" — lacked
``--as``, which ``retire`` requires (admin role): copied as printed they answered "--as: who retires…", exit 2.
Both now name ``--as <admin object id>``, as README's "Rotating the seal key" shows the verb. Fails before: no
``--as`` in either hint."""

from __future__ import annotations

import re

from typer.testing import CliRunner

from firestop.cli.main import app


def cli(*args: str):
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "400"}, catch_exceptions=False)


def _retire_hint(output: str) -> str:
    m = re.search(r"python -m firestop seal-key retire [0-9a-f]{8}[^\n]*", output)
    assert m, output
    return m.group(0)


def test_the_retire_commands_rotate_hands_out_name_who_retires(firestop_home):
    rotated = cli("seal-key", "rotate", "--as", "oid-admin")
    assert rotated.exit_code == 0, rotated.output
    assert "--as <admin object id>" in _retire_hint(rotated.output), rotated.output
    for _ in range(2):
        assert cli("seal-key", "rotate", "--as", "oid-admin").exit_code == 0
    full = cli("seal-key", "rotate", "--as", "oid-admin")
    assert full.exit_code == 2 and "retire the oldest first" in full.output, full.output
    hint = _retire_hint(full.output)
    assert "--as <admin object id>" in hint, hint
    # the hint, with an admin's id filled in, is a command retire takes (a dry run: nothing dropped)
    kid = hint.split("retire ", 1)[1].split()[0]
    dry = cli("seal-key", "retire", kid, "--as", "oid-admin", "--dry-run")
    assert dry.exit_code == 0 and f"Would drop retired seal key {kid}" in dry.output, dry.output
