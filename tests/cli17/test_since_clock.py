"""cli17: ``incident list --since 2h`` counted back from the sandbox clock (days behind the wall clock) and listed an
incident received six days ago by the wall clock without saying so. The list now says which clock the window counts
back from, and both clocks when they differ by more than a minute, in text and in ``--json`` (fails before: no
``Window:`` line; ``--json`` was a bare list)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

from typer.testing import CliRunner

from firestop.cli.main import app

ALERT = Path(__file__).resolve().parents[2] / "examples" / "alerts" / "leaked-key.json"


def cli(*args: str):
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "400"}, catch_exceptions=False)


def test_since_says_it_counts_from_the_sandbox_clock_and_names_the_wall_clock(firestop_home):
    assert cli("alert", "handle", str(ALERT)).exit_code == 0
    listed = cli("incident", "list", "--since", "2h")
    assert listed.exit_code == 0, listed.output
    window = next(ln for ln in listed.output.splitlines() if ln.startswith("Window:"))
    assert "2h before the sandbox clock, now 2026-11-29 " in window, window
    assert "the wall clock reads " in window and "later" in window, window  # the machine's clock is past 2026-11-29
    as_json = cli("incident", "list", "--since", "2h", "--json")
    body = json.loads(as_json.stdout)
    assert [r["incident_id"] for r in body["incidents"]] and body["window"]["counted_from"] == "sandbox clock"
    assert body["window"]["clock_now"].startswith("2026-11-29T") and body["window"]["clocks_differ_s"] < -60
    start = datetime.fromisoformat(body["window"]["from"])
    assert datetime.fromisoformat(body["window"]["clock_now"]) - start == timedelta(hours=2)


def test_the_window_with_no_incidents_says_its_clock_too(firestop_home):
    empty = cli("incident", "list", "--since", "5m")
    assert empty.exit_code == 0 and empty.output.startswith("No incidents since 5m ")
    assert "5m before the sandbox clock" in empty.output


def test_clocks_within_a_minute_name_one_clock_only():
    from firestop.cli.since_window import SANDBOX_CLOCK, WALL_CLOCK, text, window

    now = datetime(2026, 12, 5, 8, 0, tzinfo=timezone.utc)
    close = text(window("2h", now, now + timedelta(seconds=30), SANDBOX_CLOCK))
    assert close == "Window: received since 2026-12-05 06:00:00.0 UTC (2h before the sandbox clock, now 2026-12-05 08:00:00.0 UTC)"
    far = text(window("2h", now, now + timedelta(days=6), SANDBOX_CLOCK))
    assert far.endswith("; the wall clock reads 2026-12-11 08:00:00.0 UTC, 6 days later)"), far
    remote = text(window("30m", now, now, WALL_CLOCK))
    assert remote == "Window: received since 2026-12-05 07:30:00.0 UTC (30m before the wall clock, now 2026-12-05 08:00:00.0 UTC)"
