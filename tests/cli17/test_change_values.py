"""cli17: the ``suspicious-key-access`` approval card's "would change" line read ``… held by ServicePrincipal … at
/subscriptions/…/resourceGrou… → null``: the runbook's label spelled the scope as its resource id, the approval's
200-character bound cut it mid-path, and ``null`` stood for "the assignment is removed". The label names the scope
(``at account contoso-openai-prod``), a long change shows before and after on lines of their own, and ``None`` reads
``(removed)`` / ``(absent)`` on every surface (fails before: ``→ null`` and a cut path on the CLI card, an empty
"after" cell in the console, Python's repr in ``audit fix``)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from firestop.cli.main import app

ALERT = Path(__file__).resolve().parents[2] / "examples" / "alerts" / "suspicious-key-access.json"


def cli(*args: str, columns: int = 80):
    return CliRunner().invoke(app, list(args), env={"COLUMNS": str(columns)}, catch_exceptions=False)


def _waiting(firestop_home) -> dict:
    handled = cli("alert", "handle", str(ALERT), "--json")
    assert handled.exit_code == 3, handled.output
    return json.loads(handled.stdout)


def test_the_card_shows_the_removed_assignment_whole_and_never_null(firestop_home):
    view = _waiting(firestop_home)
    change = view["pending_approval"]["changes"][0]
    assert change["before"].endswith(" at account contoso-openai-prod") and "…" not in change["before"], change
    shown = cli("incident", "show", view["incident_id"])
    lines = shown.output.splitlines()
    at = next(i for i, ln in enumerate(lines) if ln.startswith("  would change roleAssignments/"))
    assert lines[at].endswith(":"), lines[at]
    assert lines[at + 1].strip() == f"before: {change['before']}"  # one line, not folded at 80 columns
    assert lines[at + 2].strip() == "after:  (removed)"
    assert "null" not in shown.output and "resourceGrou…" not in shown.output


def test_the_console_card_says_removed_too(firestop_home):
    from firestop.console.pages import approval_card

    view = _waiting(firestop_home)
    html = approval_card(view["incident_id"], view["pending_approval"], may_decide=False, why_not="reader", token=None)
    assert 'data-label="after">(removed)</td>' in html, html
    assert "at account contoso-openai-prod</td>" in html


def test_value_words():
    from firestop.lifecycle.change_words import value_words

    assert value_words(None, "after") == "(removed)" and value_words(None, "before") == "(absent)"
    assert value_words({"defaultAction": "Deny"}, "after") == '{"defaultAction": "Deny"}'
    assert value_words(True, "after") == "true" and value_words("Deny", "before") == "Deny"


def test_a_short_change_stays_on_one_line(capsys):
    from firestop.cli.output import print_change

    print_change({"field": "properties.disableLocalAuth", "before": False, "after": True}, "  would change ")
    print_change({"field": "raiBlocklists/x", "before": None, "after": "created"}, "  ")
    assert capsys.readouterr().out.splitlines() == ["  would change properties.disableLocalAuth: false → true",
                                                    "  raiBlocklists/x: (absent) → created"]
