"""Pages carry the console link (absolute with the app's public origin) and the CLI command, in each format."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from runbooks.notify import OwnLink, WebhookParams, build_payload, console_url

PATH = "/api/console/incidents/inc-33906e911c7aff74"
CLI = "python -m firestop incident approve inc-33906e911c7aff74 --step lock-network --app <app URL>"


def test_the_console_link_uses_the_public_origin_never_a_request():
    assert console_url(PATH, {"FIRESTOP_PUBLIC_URL": "https://firestop.contoso.com"}) == "https://firestop.contoso.com" + PATH
    assert console_url(PATH, {"WEBSITE_HOSTNAME": "fs-prod.azurewebsites.net"}) == "https://fs-prod.azurewebsites.net" + PATH
    assert console_url(PATH, {"FIRESTOP_PUBLIC_URL": "javascript:alert(1)//", "WEBSITE_HOSTNAME": "a b"}) == PATH
    for bad in ("https://evil.example/x", "/api/incidents/x", "/api/console/<script>"):
        with pytest.raises(ValidationError):
            WebhookParams(link=bad)


@pytest.mark.parametrize("fmt", ["text", "slack", "teams"])
def test_each_format_carries_the_link_and_the_command(fmt):
    url = "https://fs-prod.azurewebsites.net" + PATH
    payload = build_payload(fmt, "Approval needed: lock-network", [("Incident", "inc-33906e911c7aff74"), ("Console", OwnLink(url))],
                            f"Decide by 03:29 UTC. Paged: oid-alice. CLI: {CLI}")
    text = str(payload)
    assert url in text and "incident approve inc-33906e911c7aff74 --step lock-network" in text
    assert "<app URL>" not in text  # escaped for Slack (&lt;) and Markdown (\\<)
    if fmt == "teams":
        assert payload["attachments"][0]["contentType"] == "application/vnd.microsoft.card.adaptive"
        import cmarkgfm

        facts = {f["title"]: f["value"] for f in payload["attachments"][0]["content"]["body"][1]["facts"]}
        assert f'<a href="{url}">' in cmarkgfm.github_flavored_markdown_to_html(facts["Console"])  # Firestop's own link
        outside = build_payload(fmt, "t", [("Console", url)], "")["attachments"][0]["content"]["body"][1]["facts"][0]["value"]
        assert "<a " not in cmarkgfm.github_flavored_markdown_to_html(outside)  # the same URL from outside stays text
