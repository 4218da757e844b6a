"""newuser17: ``incident list --since 9999999999d`` was an internal error (exit 1, ``OverflowError: Python int too
large to convert to C int``) and ``--since 1000000d`` too (a window starting before year 1): an outside value the
CLI did not bound. A duration now reaches back at most :data:`firestop.cli.since_window.MAX_BACK` (100 years), and
anything further is refused as bad input naming ``--since`` and the bound (exit 2; fails before: exit 1)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from typer.testing import CliRunner

from firestop.cli.main import app


def cli(*args: str):
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "400"}, catch_exceptions=False)


@pytest.mark.parametrize("since", ["9999999999d", "1000000d", "99999999999999999999999s", "36501d"])
def test_a_window_too_far_back_is_bad_input_naming_the_bound(firestop_home, since):
    listed = cli("incident", "list", "--since", since)
    assert listed.exit_code == 2, listed.output
    assert f"--since: {since!r}" in listed.output and "36500d" in listed.output, listed.output
    assert "internal error" not in listed.output and "Traceback" not in listed.output


def test_the_bound_itself_is_a_window(firestop_home):
    listed = cli("incident", "list", "--since", "36500d", "--json")
    assert listed.exit_code == 0, listed.output


def test_parse_since_raises_value_error_never_overflow():
    from firestop.cli.since_window import parse_since

    now = datetime(2026, 11, 29, 3, 14, 40, tzinfo=timezone.utc)
    for since in ("9999999999d", "1000000d", "3153600001s"):
        with pytest.raises(ValueError):
            parse_since(since, now)


def test_with_app_a_bad_since_is_refused_before_signing_in(firestop_home, monkeypatch):
    """With ``--app`` a malformed ``--since`` was only read after signing in and fetching every page of incidents
    (here: the sign-in's own error, FIRESTOP_APP_SCOPE not set, hid it). It is now refused first, as ``--status`` is
    (fails before: the answer named FIRESTOP_APP_SCOPE, not ``--since``)."""
    monkeypatch.delenv("FIRESTOP_APP_SCOPE", raising=False)
    for since in ("2x", "9999999999d"):
        listed = cli("incident", "list", "--app", "https://firestop-x.azurewebsites.net", "--since", since)
        assert listed.exit_code == 2, listed.output
        assert f"--since: {since!r}" in listed.output and "FIRESTOP_APP_SCOPE" not in listed.output, listed.output
