"""A17-01 (attacker E, Monitoring Contributor; high): ``monitoring.webhook-key`` passes a webhook whose ``?code=`` the
host does not accept.

The control read the receiver's query with ``parse_qs(query)``: blank values dropped, key names case-sensitive, and it
compared the one ``code`` left. The app's own host reads the query otherwise: the local runtime
(``firestop.runtime.serve``) parses it with ``keep_blank_values=True`` and takes the *last* ``code``, and ASP.NET's
query collection (the Functions host on Azure) is case-insensitive and keeps every value. So a Monitoring Contributor
appending ``&code=`` (or ``&Code=x``) to the action group's URI keeps the right key visible to the audit — which
passes ("sends the alerts key the deployment set") — while every alert is answered 401, which Azure Monitor does not
retry: exactly the silent break the control exists to tell. The control's own rule ("two codes: not what the
deployment wrote") now counts every ``code`` key in any case, blank ones included.
"""

from __future__ import annotations

from urllib.parse import parse_qs

import pytest

from tests.events17.test_e17_webhook_key import KEY, _result, deployed  # noqa: F401 - the fixture
from tests.events17.test_e17_webhook_key import _set_code, _shows_no_key


@pytest.mark.parametrize("tail", ["&code=", "&code", "&code=%20", "&Code=Zq7wrong", "&CODE="],
                         ids=["blank", "bare", "space", "other-case", "upper-blank"])
def test_a_second_code_the_host_reads_is_not_passed_as_the_key(deployed, caplog, tail):  # noqa: F811
    _set_code(deployed, KEY + tail)
    # what the local host offers as the key for this query (firestop.runtime.serve: Server.authorized's reading)
    offered = (parse_qs(f"code={KEY}{tail}", keep_blank_values=True).get("code") or [None])[-1]
    if tail.startswith("&code"):
        assert offered != KEY  # the app's own host would answer every alert 401
    result = _result(deployed)
    assert result.status.value == "fail", result.detail
    assert "not the alerts key" in result.detail
    _shows_no_key(result, caplog)


def test_the_key_alone_still_passes(deployed, caplog):  # noqa: F811
    _set_code(deployed, KEY)
    assert _result(deployed).status.value == "pass"
