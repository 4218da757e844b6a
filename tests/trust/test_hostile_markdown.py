"""Markdown/HTML injection (issue 11, item 8): hostile values rendered into the record, the scorecard and
notifications keep the document's structure — parsed with markdown-it-py, no HTML, link or image token
appears and no heading or table column is added."""

from __future__ import annotations

import json

import pytest
from markdown_it import MarkdownIt

from firestop.markup import md_cell, md_code, md_text, slack_text
from firestop.records.render import render_markdown

HOSTILE = [
    "aoai-leaked-key-<img src=x onerror=alert(1)>",
    "[x](javascript:alert(1))",
    "![](http://attacker.example/pixel.png)",
    "\r# HEADING\r<script>alert(1)</script>",
    "a`b``c` `",
    "line\n# injected heading\n- item",
    "cell | extra | columns",
    "<http://attacker.example>",
    "&lt;img src=x onerror=alert(1)&gt;",
    "*bold* _em_ ~~del~~ \\[esc\\]",
    "\u2028# after a line separator\u2029<b>x</b>",
]
_BAD = {"html_inline", "html_block", "link_open", "image"}


def tokens(text: str):
    md = MarkdownIt("commonmark").enable("table").enable("strikethrough")
    out = []
    for token in md.parse(text):
        out.append(token)
        out.extend(token.children or [])
    return out


def test_helpers_keep_any_value_literal():
    for value in HOSTILE:
        for rendered in (md_text(value), f"| {md_cell(value)} |", md_code(value)):
            seen = tokens(f"- {rendered}")
            assert not {t.type for t in seen} & _BAD, (value, rendered)
            assert [t.type for t in seen if t.type.endswith("_open") and t.block][:2] == ["bullet_list_open", "list_item_open"]
            assert not any(t.type == "heading_open" for t in seen)
    code = tokens(md_code("a`b``c` `"))
    assert [t.content for t in code if t.type == "code_inline"] == ["a`b``c` `"]


def record(value: str) -> dict:
    return {
        "incident_id": "inc-1", "status": "contained", "reason": value,
        "alert": {"alert_id": "/alerts/`x`\n# H " + value, "rule_name": value, "severity": 1, "monitoring_service": value,
                  "target_ids": ["/subscriptions/s/providers/x/y/" + value], "fired_at": value},
        "playbook": {"name": value, "version": value}, "metrics": {},
        "approvals": [{"step": value, "verdict": "approve", "by": "oid\r# H", "at": value, "reason": "comment\r# H\r<script>" + value}],
        "checklist_gaps": [{"gap": value, "target": "/x/" + value, "advice": value}],
        "correlated_alerts": [{"rule_name": value, "alert_id": value}],
        "holds": [value], "does_not_hold": [value], "evidence_gaps": [value],
        "recent_activity": {"callers": [{"ip": value, "requests": 1, "key_auth": 1, "statuses": {value: 1}}],
                            "key_operations": [{"operation": value, "time": value, "ip": value, "principal": value}]},
        "timeline": [{"offset_s": 1.0, "phase": "contain", "step": value, "target": "/a/" + value, "outcome": value, "detail": value}],
        "actions": [{"step_id": value, "runbook": value, "target": value, "summary": value, "verified": True,
                     "checks": [{"ok": True, "name": value, "detail": value}], "before": {value: value}, "after": {}}],
        "evidence": [{"path": value, "rows": 1, "size_bytes": 1, "sha256": value, "collected_at": value}],
    }


@pytest.mark.parametrize("value", HOSTILE)
def test_a_record_with_hostile_values_keeps_its_structure(value):
    text = render_markdown(record(value))
    baseline = render_markdown(record("plain"))
    seen, expected = tokens(text), tokens(baseline)
    assert not {t.type for t in seen} & _BAD
    headings = lambda ts: [t.tag for t in ts if t.type == "heading_open"]  # noqa: E731
    assert headings(seen) == headings(expected)
    cells = lambda ts: sum(1 for t in ts if t.type in ("td_open", "th_open"))  # noqa: E731
    assert cells(seen) == cells(expected)
    codes = [t for t in seen if t.type == "code_inline"]
    assert any(c.content.startswith("/alerts/`x`") for c in codes)  # the alert id stays one code span


def test_scorecard_with_hostile_values_keeps_its_structure():
    from firestop.tabletop.scorecard import render_markdown as scorecard

    value = HOSTILE[3] + HOSTILE[0] + HOSTILE[2]
    card = {
        "scenario": {"name": value, "description": ""}, "result": "met", "met": 1, "missed": 0, "run_id": "r`1",
        "started_at": "t0", "finished_at": "t1", "wall_seconds": 1.0, "metrics": {},
        "expectations": [{"met": True, "check": value, "expected": value, "actual": value, "evidence": value}],
        "incidents": [{"incident_id": value, "alerts": [value], "status": value, "playbook": value, "metrics": {}, "record_files": {}}],
        "alerts": [{"index": 0, "at": 0, "delivered_offset_s": 0, "rule_name": value, "outcome": value}],
        "approvals": [], "faults": {"fired": [], "armed": []}, "permissions_missing": [{"action": value, "data_action": False, "count": 1, "first_at": value}],
        "checklist": {"coverage": [{"item": value, "status": value, "targets": ["/a/" + value]}], "gaps": [{"gap": value, "target": value, "advice": value}]},
        "notifications": [{"at": value, "text": "title\n" + value}], "notes": [value],
    }
    seen = tokens(scorecard(card))
    assert not {t.type for t in seen} & _BAD
    assert [t.tag for t in seen if t.type == "heading_open"] == ["h1"] + ["h2"] * 10  # … Pages (who was paged)


def test_notifications_escape_for_slack_and_teams():
    from runbooks.notify import build_payload

    value = "<https://attacker.example|click> <!channel> " + HOSTILE[2]
    slack = build_payload("slack", "t " + value, [("Alert rule", value + "\nline")], value)
    section = slack["blocks"][1]["text"]["text"]
    assert "<" not in section and "<" not in slack["text"] and "&lt;!channel&gt;" in section
    assert section.count("\n") == 1  # one fact line, one body line: the value's newline did not add a fact
    teams = build_payload("teams", value, [("Alert rule", value)], value)
    for block in teams["attachments"][0]["content"]["body"]:
        texts = [block.get("text")] + [f["value"] for f in block.get("facts", [])]
        for text in filter(None, texts):
            assert not {t.type for t in tokens(text)} & _BAD
    assert slack_text("a\r\nb") == "a \nb"


def test_bidi_overrides_and_zero_width_characters_never_pass_into_text():
    """Adversarial review: U+202E / U+2066 in an alert field passed through and could visually reorder an
    approval card or a log line; zero-width characters could hide text."""
    from firestop.markup import md_text, one_line, slack_text

    hostile = "rule\u202eexe.txt\u2066x\u200by\ufeffz\u2069"
    for escape in (md_text, one_line, slack_text):
        out = escape(hostile)
        assert not any(ch in out for ch in "\u202e\u2066\u200b\ufeff\u2069"), (escape.__name__, out)


BARE_URLS = ["see http://attacker.example/login", "HTTPS://attacker.example", "ftp://attacker.example/x",
             "www.attacker.example/pay", "(www.attacker.example)", "_www.attacker.example_", "x https://a.example?q=1#f y"]


def gfm_links(markdown: str) -> int:
    """``<a`` elements GitHub's own renderer (cmark-gfm, with its autolink extension) makes of ``markdown``."""
    import cmarkgfm

    return cmarkgfm.github_flavored_markdown_to_html(markdown).count("<a ")


@pytest.mark.parametrize("value", BARE_URLS)
def test_bare_urls_from_outside_never_autolink_in_gfm(value):
    """GFM (and Teams) turn a bare http(s)://, ftp:// or www. text into a link: an outside value must stay text,
    shown as it was (the escape only breaks the autolink trigger)."""
    import cmarkgfm

    assert gfm_links(value) == 1  # what the renderer does with the raw value
    for rendered in (md_text(value), md_cell(value), md_code(value)):
        assert gfm_links(f"- {rendered}") == 0, rendered
    shown = cmarkgfm.github_flavored_markdown_to_html(md_text(value))
    assert value.split()[-1].replace("_", "") in shown.replace("_", "")  # the text is still there, literally
    assert gfm_links(render_markdown(record(value))) == gfm_links(render_markdown(record("plain")))
