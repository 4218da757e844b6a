"""What a new user hit (newuser9): a refused runbook input's line starts with the field it names, as every other
bad-input line does (it read ``error: invalid: --target: …``)."""

from __future__ import annotations

from typer.testing import CliRunner

from firestop.cli.main import app as cli_app


def cli(*args: str):
    return CliRunner().invoke(cli_app, list(args), catch_exceptions=False)


def test_a_refused_target_names_the_field_first(firestop_home):
    for extra in ([], ["--yes"]):
        refused = cli("runbook", "plan" if not extra else "run", "network.lock", "--target", "/bad", *extra)
        assert refused.exit_code == 2, refused.output
        line = " ".join(refused.output.split())
        assert line.startswith("error: --target: '/bad' is not an Azure OpenAI account resource ID"), line
        assert "invalid:" not in line
