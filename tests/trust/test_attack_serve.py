"""The same attacks against a real ``firestop serve`` process over HTTP (listening on all interfaces, so a
non-loopback peer can be tried when this machine has a non-loopback address)."""

from __future__ import annotations

import base64
import json
import socket
import sys
import time
import urllib.error
import urllib.request

import pytest

from firestop.trust import PEER_HEADER, encode_principal

from .conftest import serve_process

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX select on pipes")

KEY = "trust-test-key-0123456789"
GUARD_S = 60.0
ACCOUNT = ("/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-ai-prod/providers/"
           "Microsoft.CognitiveServices/accounts/contoso-openai-prod")


def call(url: str, *, method: str = "GET", body=None, who: str | None = None, headers: dict | None = None):
    sent = {"x-functions-key": KEY, "content-type": "application/json", **(headers or {})}
    if who:
        sent["X-MS-CLIENT-PRINCIPAL"] = encode_principal(who)
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers=sent)
    try:
        with urllib.request.urlopen(request, timeout=GUARD_S) as response:  # noqa: S310 - test server
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        raw = error.read()
        return error.code, (json.loads(raw) if raw else None)


def logged_within(err_path, found, deadline_s: float = GUARD_S) -> str:
    """serve's stderr once ``found(text)`` holds, or as it is at the deadline."""
    deadline = time.monotonic() + deadline_s
    while True:
        text = err_path.read_text(errors="replace")
        if found(text) or time.monotonic() >= deadline:
            return text
        time.sleep(0.02)  # polling a file another process appends to: there is nothing to wait on


def outward_address() -> str | None:
    """This machine's non-loopback IPv4 address (no packet is sent), or None."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect(("192.0.2.1", 9))
        address = probe.getsockname()[0]
    except OSError:
        return None
    finally:
        probe.close()
    return None if address.startswith("127.") or address == "0.0.0.0" else address


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """``firestop serve --host 0.0.0.0 --port 0``; yields (port, stdout lines, stderr path)."""
    with serve_process(tmp_path_factory.mktemp("serve") / "home", "--host", "0.0.0.0", function_key=KEY, timeout=GUARD_S) as started:
        yield started


def test_serve_says_it_trusts_the_principal_header_from_loopback_only(served):
    _, lines, _ = served
    assert any("X-MS-CLIENT-PRINCIPAL header from loopback peers that also send the function key" in line
               for line in lines), lines


@pytest.mark.parametrize("method,path", [("GET", "incidents"), ("GET", "console"),
                                         ("POST", "incidents/inc-33906e911c7aff74/approvals/lock-network")])
def test_a_loopback_caller_without_the_function_key_cannot_claim_an_identity(served, method, path):
    """The people's routes are ANONYMOUS for the Functions host (App Service authentication guards them on Azure);
    locally, without --auth-jwks, the function key is what keeps another local process from claiming an approver."""
    port, _, _ = served
    request = urllib.request.Request(f"http://127.0.0.1:{port}/api/{path}", method=method,
                                     data=b'{"decision": "approve"}' if method == "POST" else None,
                                     headers={"X-MS-CLIENT-PRINCIPAL": encode_principal("oid-alice"),
                                              "content-type": "application/json"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=GUARD_S)  # noqa: S310 - test server
    assert refused.value.code == 401
    answer = json.loads(refused.value.read())  # says why and what to send, as every refusal of the API does
    assert answer["error"] == "x-functions-key" and "function key" in answer["reason"] and "x-functions-key" in answer["fix"], answer


@pytest.mark.parametrize("method,path,body,role", [
    ("GET", "incidents", None, "reader"),
    ("GET", "incidents/inc-33906e911c7aff74", None, "reader"),
    ("POST", "incidents/inc-33906e911c7aff74/approvals/lock-network", {"decision": "approve"}, "approver"),
    ("POST", "runbooks/keys.revoke", {"target": ACCOUNT, "mode": "apply"}, "responder"),
])
def test_each_route_refuses_a_caller_without_its_role(served, method, path, body, role):
    port, _, err_path = served
    status, answer = call(f"http://127.0.0.1:{port}/api/{path}", method=method, body=body, who="oid-nobody")
    assert status == 403 and answer["error"] == "role" and f"the {role} role" in answer["reason"], answer
    if role != "reader":
        status, answer = call(f"http://127.0.0.1:{port}/api/{path}", method=method, body=body, who="oid-mallory")
        assert status == 403 and f"the {role} role" in answer["reason"]
    # the refusal is logged, values as repr; serve's access log is written after the answer is sent, so the line is
    # awaited (bounded by GUARD_S), not assumed to be there when the response arrives
    logged = logged_within(err_path, lambda text: f"(needs {role}) with 403" in text and "'oid-nobody'" in text)
    assert f"(needs {role}) with 403" in logged and "'oid-nobody'" in logged


def test_the_readers_route_answers_a_reader(served):
    port, _, _ = served
    assert call(f"http://127.0.0.1:{port}/api/incidents", who="oid-mallory") == (200, [])


def test_incident_only_runbooks_and_incident_ids_are_refused(served):
    port, _, _ = served
    for name in ("records.file", "notify.webhook", "evidence.snapshot_logs"):
        status, answer = call(f"http://127.0.0.1:{port}/api/runbooks/{name}", method="POST", who="oid-alice",
                              body={"params": {}, "mode": "apply"})
        assert status == 403 and "own orchestration" in answer["reason"], answer
    status, answer = call(f"http://127.0.0.1:{port}/api/runbooks/keys.revoke", method="POST", who="oid-alice",
                          body={"target": ACCOUNT, "mode": "apply", "incident_id": "inc-33906e911c7aff74"})
    assert status == 400 and answer["error"] == "incident_id"


def test_no_fallback_and_no_forged_peer(served):
    port, _, _ = served
    url = f"http://127.0.0.1:{port}/api/incidents"
    status, answer = call(url, headers={"X-MS-CLIENT-PRINCIPAL-ID": "oid-alice"})
    assert status == 401 and "missing" in answer["reason"]
    status, answer = call(url, who="oid-alice", headers={PEER_HEADER: "10.9.8.7 " + "0" * 64})
    assert status == 200  # a client's own stamp is dropped; the server stamps the real (loopback) peer


def test_hostile_principal_headers_are_400(served):
    port, _, _ = served
    url = f"http://127.0.0.1:{port}/api/incidents"
    for value in (base64.b64encode(b"[" * 12000).decode(), "A" * (16 * 1024 + 1)):
        status, answer = call(url, headers={"X-MS-CLIENT-PRINCIPAL": value})
        assert status == 400 and answer["error"] == "X-MS-CLIENT-PRINCIPAL"


def test_a_principal_from_a_non_loopback_peer_is_401(served):
    port, _, _ = served
    address = outward_address()
    if address is None:
        pytest.skip("this machine has no non-loopback IPv4 address to call from")
    url = f"http://{address}:{port}/api/incidents"
    status, answer = call(url, who="oid-alice")
    assert status == 401 and "loopback only" in answer["reason"] and address in answer["reason"], answer
    status, _ = call(url, who="oid-alice", headers={PEER_HEADER: "127.0.0.1"})  # claiming loopback does not help
    assert status == 401
