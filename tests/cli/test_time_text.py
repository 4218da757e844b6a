"""Every CLI text output writes time one way (firestop.times): durations ``21.2 s``, offsets ``+21.2 s``, instants
``2026-11-29 03:14:40.0 UTC``; ``--json`` keeps ISO 8601 UTC. (serve's banner: tests/runtime/test_runtime_serve_process.py.)"""

from __future__ import annotations

import json
import re

import pytest
from typer.testing import CliRunner

from firestop.cli.main import app
from firestop.settings import REPO_ROOT

EXAMPLE = REPO_ROOT / "examples" / "alerts" / "leaked-key.json"
INCIDENT = "inc-33906e911c7aff74"
STAMP = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d UTC"
ISO = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d"
#: what no output may write any more: a number glued to its unit ("21.2s"), or an ISO time in text
GLUED = re.compile(r"[+-]?\d+\.\ds\b")


@pytest.fixture
def wide(monkeypatch):
    from firestop.cli import output

    monkeypatch.setattr(output.console, "width", 220)  # whole table cells, whatever the runner's terminal


def cli(*args: str):
    result = CliRunner().invoke(app, list(args), catch_exceptions=False)
    return result


def test_alert_handle_incident_show_and_list(firestop_home, wide):
    handled = cli("alert", "handle", str(EXAMPLE))
    shown = cli("incident", "show", INCIDENT).stdout
    for text in (handled.stdout, shown):
        assert not GLUED.search(text), GLUED.search(text)
        assert re.search(r"│ -\d+\.\d s ", text) and "│ +0.0 s " in text  # the timeline: before and at receipt
        assert re.search(r"MTTD \d+\.\d s · MTTA — · MTTC \d+\.\d s · MTTR \d+\.\d s", text), text
    listed = cli("incident", "list").stdout
    assert re.search(rf"│ {STAMP} ", listed) and "received " in listed and "(UTC)" not in listed, listed
    as_json = json.loads(cli("incident", "list", "--json").stdout)
    assert re.fullmatch(ISO + r".*", as_json[0]["received_at"])  # --json keeps ISO 8601
    record = json.loads(cli("incident", "show", INCIDENT, "--json").stdout)
    assert isinstance(record["metrics"]["mttc_s"], float) and re.match(ISO, record["received_at"])


def test_alert_show_text_and_json(firestop_home, wide):
    text = cli("alert", "show", str(EXAMPLE)).stdout
    assert re.search(rf"│ Fired +│ {STAMP} ", text) and re.search(rf"│ Window +│ {STAMP} → {STAMP} ", text), text
    assert not re.search(ISO, text.replace(INCIDENT, "")), text  # no ISO time left in the text
    assert re.match(ISO, json.loads(cli("alert", "show", str(EXAMPLE), "--json").stdout)["fired_at"])


def test_an_undo_already_done_names_when_as_an_instant(firestop_home):
    cli("alert", "handle", str(EXAMPLE))
    assert cli("incident", "undo", INCIDENT, "--step", "lock-network", "--as", "oid-bob", "--yes").exit_code == 0
    again = cli("incident", "undo", INCIDENT, "--as", "oid-bob", "--yes")
    assert again.exit_code == 2 and re.search(rf"already undone: lock-network \(network\.lock, at {STAMP}\)", again.output), again.output


def test_audit_text_and_json(firestop_home, wide):
    text = cli("audit", "run").stdout
    assert re.match(rf"Audit audit-\S+ — \S+ — {STAMP}\n", text), text[:200]
    assert re.match(ISO, json.loads(cli("audit", "run", "--json").stdout)["at"])


def test_sandbox_simulate_text_and_json(firestop_home, wide):
    scenario = str(REPO_ROOT / "tabletop" / "scenarios" / "ai-credential-theft.yaml")
    lines = cli("sandbox", "simulate", scenario).stdout.splitlines()
    assert re.match(rf"{STAMP}  Fired ", lines[0]) and re.search(rf"sandbox clock now {STAMP}$", lines[-1]), lines
    assert re.match(ISO, json.loads(cli("sandbox", "simulate", scenario, "--json").stdout)["clock"])


def test_the_records_markdown_and_the_console_write_time_the_same_way():
    from firestop.console import pages
    from firestop.records.render import render_markdown

    record = {"incident_id": INCIDENT, "status": "contained", "received_at": "2026-11-29T03:14:40+00:00",
              "alert": {"fired_at": "2026-11-29T03:14:02.2+00:00"}, "metrics": {"mttc_s": 21.25, "mttd_s": 154.0},
              "timeline": [{"offset_s": -37.8, "step": "alert fired"}, {"offset_s": 21.2, "step": "lock"}]}
    md = render_markdown(record)
    assert "- Fired: 2026-11-29 03:14:02.2 UTC; received: 2026-11-29 03:14:40.0 UTC;" in md
    assert "| 154.0 s | — | 21.2 s | — |" in md and "| -37.8 s | " in md and "| +21.2 s | " in md
    page = pages.incident_page(record, caller=None)
    assert "2026-11-29 03:14:40.0 UTC" in page and "154.0 s · — · 21.2 s · —" in page and "+21.2 s" in page
    assert not GLUED.search(md + page)
