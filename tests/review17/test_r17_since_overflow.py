"""R17-05 (low, pre-existing; cli17 reworked the path): ``incident list --since 9999999d`` (a duration past the
calendar) raised OverflowError out of ``parse_since``, which ``_window`` does not catch (it takes ValueError only): exit
1 "internal error" instead of exit 2 naming ``--since`` and the fix."""

from __future__ import annotations

import json

from typer.testing import CliRunner


def test_a_window_past_the_calendar_is_bad_input_naming_since(firestop_home):
    from firestop.cli.main import app

    result = CliRunner().invoke(app, ["incident", "list", "--since", "9999999d", "--json"])
    assert result.exit_code == 2, result.output
    body = json.loads(result.stdout)
    assert body["error"].startswith("--since:") and "internal error" not in body["error"], body


def test_parse_since_says_value_error_for_it():
    from datetime import datetime, timezone

    import pytest

    from firestop.cli.since_window import parse_since

    with pytest.raises(ValueError):
        parse_since("9999999d", datetime(2026, 11, 29, tzinfo=timezone.utc))
    assert parse_since("2h", datetime(2026, 11, 29, 3, tzinfo=timezone.utc)).hour == 1  # guard
