"""``sentinel-analyze`` wrote a comment holding the delivery's own text into the real Sentinel incident (leftovers12
item 2, noticed by red team 15): anyone holding the alerts webhook key re-posted the real incident 4211 with a
made-up account entity — a Markdown link, an image beacon, HTML — and Firestop wrote it into the SOC's incident, in
Firestop's name, before anyone decided the alert genuine. Sentinel renders comments as HTML *and* Markdown ("What's
new: HTML and Markdown support for incident comment", Microsoft Sentinel blog, techcommunity.microsoft.com, 2020:
comments up to 3,000 characters then), so HTML escaping alone left ``[text](url)`` and ``![](url)`` live.

Now: a write-back step's parameters are rendered from what Firestop decided or confirmed only — an alert not
confirmed at its source (and not decided genuine) has its delivered fields replaced by "(not confirmed at its
source)" — and the comment escapes Markdown as well as HTML and is bounded."""

from __future__ import annotations

import copy
import html

import pytest

from firestop.lifecycle.incident import GENUINE_STEP, NOT_CONFIRMED
from tests.e2e.test_webhook import served  # noqa: F401 (fixture)
from tests.verify11.test_defender_source_check import check_on, start  # noqa: F401 (fixture)
from tests.verify11.test_sentinel_source_check import INCIDENT

pytestmark = pytest.mark.usefixtures("check_on")
FORGED_USER = "[Open the case file](https://evil.example/x) ![](https://evil.example/beacon.png) <b>admin</b> **now**"


def _comments(env) -> list[str]:
    """The messages of the comments on the real Sentinel incident 4211, read back from the sandbox's Sentinel."""
    return [c["properties"]["message"] for c in env.clients.sentinel().list_comments(INCIDENT["object"]["id"])]


def _forged(body: dict, severity: str | None) -> dict:
    out = copy.deepcopy(body)
    if severity:
        out["object"]["properties"]["severity"] = severity  # one fact changed: not confirmed at its source
    out["object"]["properties"]["relatedEntities"].append(
        {"id": out["object"]["properties"]["relatedEntities"][0]["id"][:-2] + "e9", "name": "e9",
         "type": "Microsoft.SecurityInsights/Entities", "kind": "Account",
         "properties": {"name": FORGED_USER, "friendlyName": "x"}})
    return out



def test_a_forged_delivery_writes_none_of_its_words_into_the_sentinel_incident(served):  # noqa: F811
    env, _, _ = served
    before = _comments(env)
    incident_id = start(served, _forged(INCIDENT, "High"))
    env.host.run_until_idle()
    status = env.host.get_status(incident_id)
    assert status.custom_status["pending_approval"]["step"] == GENUINE_STEP  # not confirmed: nobody decided yet
    written = [m for m in _comments(env) if m not in before]
    assert len(written) == 1, written  # sentinel-analyze still tells the SOC Firestop took it
    shown = html.unescape(written[0])
    assert "evil.example" not in shown and "Open the case file" not in shown and "admin" not in shown, shown
    assert "203.0.113.66" not in shown  # not confirmed either: the delivery's, not Firestop's
    assert NOT_CONFIRMED in shown and incident_id in shown


def test_the_comment_shows_html_and_markdown_as_text():
    from types import SimpleNamespace

    from runbooks.sentinel import MAX_COMMENT_TEXT, comment_text

    settings = SimpleNamespace(storage_blob_url=None, records_dir=__import__("pathlib").Path("/records"),
                               records_container="records")
    ctx = SimpleNamespace(incident_id="inc-1", settings=settings)
    text = comment_text(ctx, "analyze", FORGED_USER + "\n# heading\nwww.evil.example")
    body = text.split("</b>: ", 1)[1].split("</p>", 1)[0]
    for live in ("[", "](", "![", "<", "**", "http://", "www.", "\n", "#  "):
        assert live not in body, (live, body)
    assert html.unescape(body) == FORGED_USER + " # heading www.evil.example"  # shown, whole, as the characters
    assert len(comment_text(ctx, "analyze", "[" * 2000)) <= MAX_COMMENT_TEXT


def test_a_message_too_long_is_cut_and_firestops_own_paragraph_kept(monkeypatch):
    """Review 12: the bound cut the whole text, so past it Firestop's own paragraph (incident id, record) was the part
    dropped; now the message is cut, at a character reference's start, and that paragraph stays whole."""
    from types import SimpleNamespace

    import runbooks.sentinel as sentinel

    monkeypatch.setattr(sentinel, "MAX_COMMENT_TEXT", 400)
    settings = SimpleNamespace(storage_blob_url=None, records_dir=__import__("pathlib").Path("/records"),
                               records_container="records")
    ctx = SimpleNamespace(incident_id="inc-1", settings=settings)
    text = sentinel.comment_text(ctx, "analyze", "[x](y) " * 200)
    assert len(text) <= 400 and text.endswith("</p>") and "<p>Firestop incident inc-1 · record: " in text
    body = text.split("</b>: ", 1)[1].split("</p>", 1)[0]
    assert body.endswith(" …") and html.unescape(body[:-2]) == ("[x](y) " * 200)[:len(html.unescape(body[:-2]))]
