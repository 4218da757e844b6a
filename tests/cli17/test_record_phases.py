"""cli17: the console and the ``.md`` record did not name an incident's parts — the response plan's detect → analyze
→ contain → resolve → learn was only a column of the timeline. Both now open with the record's phases, in the plan's
order, each with what it covers, its steps, outcomes and times, every value escaped where it lands (fails before: no
"Phases" section on either)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from typer.testing import CliRunner

from firestop.cli.main import app

ALERT = Path(__file__).resolve().parents[2] / "examples" / "alerts" / "leaked-key.json"


def test_the_md_record_and_the_console_name_the_phases(firestop_home):
    from firestop.console.pages import incident_page

    handled = CliRunner().invoke(app, ["alert", "handle", str(ALERT), "--json"], catch_exceptions=False)
    record = json.loads(handled.stdout)
    md = Path(record["record_files"]["markdown_path"]).read_text()
    section = md.split("## Phases: detect → analyze → contain → resolve → learn", 1)[1].split("\n## ", 1)[0]
    rows = [r for r in section.splitlines() if r.startswith("| ") and not r.startswith("| phase")]
    assert [r.split(" | ")[0].strip("| ") for r in rows] == ["Detect", "Analyze", "Contain", "Resolve", "Learn"], section
    contain = rows[2]
    assert "runbooks acted on the target" in contain and "rotate-keys" in contain and "lock-network" in contain, contain
    html = incident_page(record, caller=None)
    phases = html.split('<h2 id="phases">', 1)[1].split("</table>", 1)[0]
    assert re.findall(r'<tr><td class="id">(\w+)</td>', phases) == ["Detect", "Analyze", "Contain", "Resolve", "Learn"]


def test_phase_values_from_outside_are_escaped():
    from firestop.console.pages import incident_page
    from firestop.records.render import render_markdown

    hostile = {"incident_id": "inc-1", "status": "contained", "timeline": [
        {"phase": "contain", "step": "<img src=x onerror=alert(1)>", "outcome": "done | forged", "offset_s": 1.0},
        {"phase": "<b>pwn</b>", "step": "s", "outcome": "ok", "offset_s": 2.0}]}
    md = render_markdown(hostile)
    phases = md.split("## Phases", 1)[1].split("\n## ", 1)[0]
    assert not re.search(r"(?<!\\)<(img|b)", phases) and "done | forged" not in phases, phases  # md_cell: \< and \|
    assert "| \\<b\\>pwn\\</b\\> |" in phases and all(row.count(" | ") == 5 for row in phases.splitlines() if row.startswith("| "))
    html = incident_page(hostile, caller=None)
    assert "<img src=x" not in html and "<b>pwn</b>" not in html and "&lt;b&gt;pwn&lt;/b&gt;" in html.split('id="phases"')[1]
