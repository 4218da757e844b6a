"""GET /api/incidents is paged (leftovers9 item 6): it read every finished incident's filed record — up to 5,000 — on
every call. A page has at most ``top`` rows and makes at most ``top`` views (records read); ``continuation`` walks the
rest, each incident on exactly one page; a waiting incident is found without reading finished ones' records."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import azure.functions as func
import pytest

from firestop.functions.http_api import (CONTINUATION_HEADER, continuation_token, page_views, parse_continuation)
from firestop.trust import encode_principal, stamp_peer

from .conftest import INCIDENT

T0 = datetime(2026, 11, 29, 3, 0, tzinfo=timezone.utc)


def _statuses(finished: int):
    rows = [SimpleNamespace(instance_id=f"inc-{n:04d}", created_time=T0 + timedelta(seconds=n), runtime_status="Completed",
                            name="incident_orchestrator") for n in range(finished)]
    waiting = SimpleNamespace(instance_id="inc-waiting", created_time=T0 - timedelta(hours=1), runtime_status="Running",
                              name="incident_orchestrator")
    return [*rows, waiting]


class Views:
    def __init__(self):
        self.made = 0

    def __call__(self, status):
        self.made += 1
        done = status.runtime_status == "Completed"
        return {"incident_id": status.instance_id, "status": "contained" if done else "awaiting_approval"}


def test_pages_cover_every_incident_once_and_read_at_most_top_records_each():
    statuses, views = _statuses(250), Views()
    seen, after, pages = [], None, 0
    while True:
        before = views.made
        rows, last = page_views(statuses, top=100, after=after, wanted=None, view_of=views)
        assert len(rows) <= 100 and views.made - before <= 100
        seen += [r["incident_id"] for r in rows]
        pages += 1
        if last is None:
            break
        after = parse_continuation(continuation_token(last))  # through the token, as a caller sends it back
    assert pages == 3 and len(seen) == len(set(seen)) == 251
    assert seen[0] == "inc-0249" and seen[-1] == "inc-waiting"  # newest created first


def test_a_waiting_incident_is_found_without_reading_finished_records():
    statuses, views = _statuses(5000), Views()
    rows, last = page_views(statuses, top=100, after=None, wanted="awaiting_approval", view_of=views)
    assert [r["incident_id"] for r in rows] == ["inc-waiting"] and last is None and views.made == 1


def test_a_filter_that_matches_rarely_still_reads_at_most_top_records_a_page():
    statuses, views = _statuses(1000), Views()
    rows, last = page_views(statuses, top=50, after=None, wanted="needs_responder", view_of=views)
    assert rows == [] and views.made == 50 and last is not None  # more to look at: the caller continues


@pytest.mark.parametrize("token", ["", "x" * 400, "bm90IGpzb24", continuation_token(("a", "b"))[:-2] + "!!"])
def test_a_token_this_app_did_not_give_is_none(token):
    assert parse_continuation(token) is None


def _get(api, params: dict):
    from firestop.runtime import invoke_http_function

    headers = stamp_peer({"accept": "application/json", "X-MS-CLIENT-PRINCIPAL": encode_principal("oid-alice")}, "127.0.0.1")
    request = func.HttpRequest(method="GET", url="http://localhost:7071/api/incidents", headers=headers, body=b"",
                               route_params={}, params=params)
    return invoke_http_function(api.app, "list_incidents_http", request, server=api.server)


def test_the_route_pages_and_refuses_a_bad_top_or_continuation(api):
    one = _get(api, {"top": "1"})
    assert one.status_code == 200 and [v["incident_id"] for v in json.loads(one.get_body())] == [INCIDENT]
    assert CONTINUATION_HEADER not in one.headers  # the last page
    for bad in ("0", "501", "-1", "1e3", "ten"):
        refused = _get(api, {"top": bad})
        assert refused.status_code == 400 and json.loads(refused.get_body())["error"] == "top", bad
    refused = _get(api, {"continuation": "not-a-token"})
    assert refused.status_code == 400 and json.loads(refused.get_body())["error"] == "continuation"
    past = _get(api, {"continuation": continuation_token(("0001-01-01T00:00:00+00:00", ""))})
    assert past.status_code == 200 and json.loads(past.get_body()) == []  # nothing older than the oldest


def test_incident_list_app_follows_the_pages(monkeypatch):
    """``incident list --app`` (RemoteApp.incidents) reads page after page by the continuation header, in order."""
    import threading
    from http.server import BaseHTTPRequestHandler

    from tests.stub_servers import ThreadingHTTPServer
    from urllib.parse import parse_qs, urlparse

    from firestop.cli.remote import RemoteApp

    asked = []

    class Pages(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            query = parse_qs(urlparse(self.path).query)
            asked.append(query)
            page = int((query.get("continuation") or ["0"])[0])
            data = json.dumps([{"incident_id": f"inc-{page}-{n}"} for n in range(2)]).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            if page < 2:
                self.send_header(CONTINUATION_HEADER, str(page + 1))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):  # quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Pages)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        remote = RemoteApp(f"http://127.0.0.1:{server.server_address[1]}", scope="api://firestop/.default")
        monkeypatch.setattr(remote, "_bearer", lambda: "test-token")
        rows = remote.incidents("contained")
    finally:
        server.shutdown()
        server.server_close()
    assert [r["incident_id"] for r in rows] == ["inc-0-0", "inc-0-1", "inc-1-0", "inc-1-1", "inc-2-0", "inc-2-1"]
    assert [q.get("continuation") for q in asked] == [None, ["1"], ["2"]]
    assert all(q["status"] == ["contained"] and q["top"] == [str(RemoteApp.LIST_PAGE_SIZE)] for q in asked)
