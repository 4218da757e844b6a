"""RT17-04 (attacker D — whoever writes text that lands in an alert: a Sentinel incident's title, an alert rule's
name, a message a playbook builds from alert fields; low): the Slack message turned a delivered URL into a link.

``notify.webhook`` escapes every outside value for where it lands: a Teams card through ``md_text`` (``http\\://``,
``www\\.``: never a link), Slack through ``slack_text`` (``&``, ``<``, ``>``: no ``<url|text>`` link, no
``<!channel>``). But Slack's Block Kit ``mrkdwn`` text object is *not verbatim* by default, and then "URLs will be
auto-converted into links, conversation names will be link-ified, and certain mentions will be automatically parsed"
(Slack, "Text object", docs.slack.dev/reference/block-kit/composition-objects/text-object): an alert titled
"Reset your key at https://login.contoso-support.example" reached the on-call channel as a clickable link in
Firestop's own message. PoC (main 2fcae0a): the section's text object has no ``verbatim``. Fixed: ``verbatim: true``
(Slack still renders the formatting Firestop writes and the escaped entities).
"""

from __future__ import annotations

from runbooks.notify import build_payload

LURE = "Reset your key at https://login.contoso-support.example or www.contoso-support.example"


def test_a_delivered_url_is_text_in_the_slack_section_as_in_the_teams_card():
    slack = build_payload("slack", "Firestop incident inc-1", [("Alert rule", LURE)], LURE)
    section = slack["blocks"][1]["text"]
    assert section["type"] == "mrkdwn" and "https://login.contoso-support.example" in section["text"]
    assert section.get("verbatim") is True  # Slack makes no link of it

    teams = build_payload("teams", "Firestop incident inc-1", [("Alert rule", LURE)], LURE)
    facts = teams["attachments"][0]["content"]["body"][1]["facts"]
    assert "https\\://" in facts[0]["value"] and "www\\." in facts[0]["value"]  # (as before: never a link)
