"""Red team: an alert that joins an open incident must not lose its own containment.

With only the function key, a sender posts a decoy alert that selects a weaker,
approval-gated playbook on the production account (public-network-exposure: its
``disable-local-auth`` waits up to 30 min for approval, then escalates). The real
leaked-key alert on the same account then *correlates* into that incident
(``FIRESTOP_CORRELATION_KEY=resource``, 1 h window) and is only recorded as
"alert joined": the leaked-key playbook (``rotate-keys``) never runs. If the
on-call approves the decoy's step, the record even reads ``contained`` while the
leaked key was never rotated. Found on ``firestop serve``; replayed here over HTTP.

Fixed: alerts correlate only when routed the same way (same ``firestop-playbook``,
else the same alert rule; :func:`firestop.intake.correlation.route_of`).
"""

from __future__ import annotations

import json
import sys
import time
import urllib.error
import urllib.request

import pytest

from firestop.settings import REPO_ROOT
from firestop.trust import encode_principal

from .conftest import serve_process

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX select on pipes")

KEY = "redteam-test-key-0123456789"
GUARD_S = 30.0
ALERTS = REPO_ROOT / "examples" / "alerts"
PROD = ("/subscriptions/11111111-2222-3333-4444-555555555555/resourcegroups/rg-ai-prod/providers/"
        "microsoft.cognitiveservices/accounts/contoso-openai-prod")


def call(url: str, *, method: str = "GET", body=None, who: str | None = None):
    sent = {"x-functions-key": KEY, "content-type": "application/json"}
    if who:
        sent["X-MS-CLIENT-PRINCIPAL"] = encode_principal(who)
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers=sent)
    try:
        with urllib.request.urlopen(request, timeout=GUARD_S) as response:  # noqa: S310 - loopback test server
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        raw = error.read()
        return error.code, (json.loads(raw) if raw else None)


@pytest.fixture
def served(tmp_path):
    """``firestop serve --port 0 --realtime-factor 0`` (approvals wait: no --advance-timers); yields (base, home)."""
    home = tmp_path / "home"
    with serve_process(home, function_key=KEY, timeout=GUARD_S) as (port, _, _):
        yield f"http://127.0.0.1:{port}", home


def incidents_listed(base: str) -> list[dict]:
    """The incidents a responder reads (``GET /api/incidents``, a reader's role): the webhook's 202 names none
    since intake16, so what intake did is read here. Newest first or not, as the route lists them."""
    status, page = call(f"{base}/api/incidents", who="oid-mallory")
    assert status == 200, page
    return page if isinstance(page, list) else page["incidents"]


def _rotated(home) -> bool:
    for path in (home / "ledger").glob("*.jsonl"):
        for line in path.read_text().splitlines():
            entry = json.loads(line)
            if entry.get("runbook") == "keys.rotate" and entry.get("action") == "apply":
                return True
    return False


def test_a_decoy_alert_on_the_account_does_not_swallow_a_leaked_key_containment(served):
    base, home = served
    decoy = json.loads((ALERTS / "public-network-exposure.json").read_text())
    decoy["data"]["essentials"]["alertTargetIDs"] = [PROD]
    status, _ = call(f"{base}/api/alerts", method="POST", body=decoy)
    assert status == 202
    [started] = [{"id": row["incident_id"]} for row in incidents_listed(base)]
    deadline = time.monotonic() + GUARD_S
    while True:  # bounded: until the decoy waits for approval
        _, view = call(f"{base}/api/incidents/{started['id']}", who="oid-mallory")
        if (view or {}).get("pending_approval"):
            break
        assert time.monotonic() < deadline, view
        time.sleep(0.2)
    status, _ = call(f"{base}/api/alerts", method="POST", body=json.loads((ALERTS / "leaked-key.json").read_text()))
    assert status == 202
    listed = incidents_listed(base)
    assert len(listed) == 2, f"the leaked-key alert joined the decoy incident {started['id']}: {listed}"
    deadline = time.monotonic() + GUARD_S
    while not _rotated(home):  # bounded: its own containment rotates the keys
        assert time.monotonic() < deadline, "keys.rotate never applied"
        time.sleep(0.2)
