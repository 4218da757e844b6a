"""newuser17: ``audit run --fix`` prints, for each fixable finding, the ``runbook run`` command that applies it — and
on a terminal narrower than that command Rich broke it with a real newline after ``--target``, so the line a
responder copies at 3 a.m. ran ``runbook run keys.rotate --target`` with no target (and the resource ID as a second
command). The command is now printed unbroken (the terminal may still wrap it visually). Fails before: the
``apply:`` line ends at ``--target``."""

from __future__ import annotations

from typer.testing import CliRunner

from firestop.cli.main import app


def test_each_apply_command_is_one_line_on_a_narrow_terminal(firestop_home):
    ran = CliRunner().invoke(app, ["audit", "run", "--fix"], env={"COLUMNS": "80"}, catch_exceptions=False)
    assert ran.exit_code == 3, ran.output
    applies = [ln for ln in ran.output.splitlines() if ln.startswith("  apply: ")]
    assert applies, ran.output
    for ln in applies:
        assert ln.startswith("  apply: python -m firestop runbook run "), ln
        target = ln.split("--target ", 1)[1] if "--target " in ln else ""
        assert target.startswith("/subscriptions/"), ln
