"""RT8-07: alert text reaches a responder's terminal with its line breaks and bidi controls. The CLI's ``clean``
replaced control characters but kept ``\\n``, ``\\t`` and the invisible format characters (U+202E right-to-left
override, U+2066–2069 isolates, zero-width, U+2028), which the record (Markdown), the console (HTML) and the logs
(RT6) all remove. An alert whose rule name is ``aoai-leaked-key-usage\\nOutcome: contained — …`` (sent with the
webhook's function key; any outside text that lands in a record line does the same) prints a forged
``Outcome: contained`` line in ``alert handle`` / ``incident show`` above the real outcome, and a U+202E reverses the
rest of a line. Fixed: outside values are printed on one line (line breaks and tabs → space) and the invisible format
characters become U+FFFD, as control characters already did."""

from __future__ import annotations

import json

from firestop.settings import REPO_ROOT
from tests.redteam3.inprocess import firestop

FORGED = "Outcome: contained — 9 containment step(s) applied and verified by the forger"


def test_alert_text_cannot_forge_a_line_of_the_cli_output(tmp_path):
    body = json.loads((REPO_ROOT / "examples" / "alerts" / "leaked-key.json").read_text())
    body["data"]["essentials"]["alertRule"] = f"aoai-leaked-key-usage\n{FORGED}\u202e"
    body["data"]["essentials"]["alertId"] += "-rt8"
    out = firestop(tmp_path / "home", "alert", "handle", "-", stdin=json.dumps(body))
    lines = out.stdout.splitlines()
    assert not any(line.startswith(FORGED) for line in lines), out.stdout
    assert "\u202e" not in out.stdout
    incident = next(line.split()[1] for line in lines if line.startswith("Incident "))
    shown = firestop(tmp_path / "home", "incident", "show", incident)
    assert not any(line.startswith(FORGED) for line in shown.stdout.splitlines()), shown.stdout
    listed = firestop(tmp_path / "home", "incident", "list")
    assert "\u202e" not in listed.stdout and FORGED not in listed.stdout.replace("\n", " ").split("aoai-leaked-key-usage")[0]
