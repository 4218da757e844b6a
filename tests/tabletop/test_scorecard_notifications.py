"""The scorecard's Notifications section shows what the on-call channel would display."""
from __future__ import annotations

from rich.console import Console
from rich.markdown import Markdown

from firestop.markup import slack_text
from firestop.tabletop.scorecard import _notification_text, _quote_lines


def test_slack_escaping_is_undone_for_display():
    sent = {"text": slack_text("CLI: python -m firestop incident approve inc-1 --step s --app <app URL>\nA & B")}
    assert "&lt;" in sent["text"]  # what the webhook carries (Slack's escaping)
    assert _notification_text(sent) == "CLI: python -m firestop incident approve inc-1 --step s --app <app URL>\nA & B"
    # an entity typed by the sender stays literal text: &amp;lt; decodes to &lt;, never to <
    assert _notification_text({"text": slack_text("x &lt; y")}) == "x &lt; y"


def test_quote_keeps_each_line_and_shows_angle_brackets_in_the_terminal():
    lines = _quote_lines("Approval needed: lock-network\nIncident: inc-1\nCLI: ... --app <app URL>")
    console = Console(width=200, record=True, color_system=None)
    console.print(Markdown("\n".join(lines)))
    out = console.export_text()
    rows = [line.strip(" ▌") for line in out.splitlines() if line.strip(" ▌")]
    assert rows == ["Approval needed: lock-network", "Incident: inc-1", "CLI: ... --app <app URL>"]
