"""newuser10: ``incident list --app URL --auth nope`` without FIRESTOP_APP_SCOPE said the scope was missing; fixed, the
next try said --auth was wrong. The flag on the command line is named first; each is exit 2 with its fix."""

from __future__ import annotations

from typer.testing import CliRunner

from firestop.cli.main import app


def test_a_bad_auth_is_named_before_a_missing_scope(firestop_home, monkeypatch):
    monkeypatch.delenv("FIRESTOP_APP_SCOPE", raising=False)
    monkeypatch.delenv("FIRESTOP_APP_AUTH", raising=False)
    bad = CliRunner().invoke(app, ["incident", "list", "--app", "https://example.invalid", "--auth", "nope"])
    assert bad.exit_code == 2 and "--auth: 'nope' is not a sign-in method; use one of: cli, device-code, browser" in bad.output
    unscoped = CliRunner().invoke(app, ["incident", "list", "--app", "https://example.invalid", "--auth", "cli"])
    assert unscoped.exit_code == 2 and "FIRESTOP_APP_SCOPE is not set" in unscoped.output
