"""Incident lists (GET /api/incidents, the console's front page) read every page of the Durable backend's listing
(firestop.instance_listing) and say "more not shown" when it stopped at its bound (RT7: the SDK read one page)."""

from __future__ import annotations

import json

import azure.functions as func

from firestop import instance_listing
from firestop.trust import encode_principal, stamp_peer

from .conftest import INCIDENT


def _get(api, function: str, url: str, accept: str):
    from firestop.runtime import invoke_http_function

    headers = stamp_peer({"accept": accept, "X-MS-CLIENT-PRINCIPAL": encode_principal("oid-alice")}, "127.0.0.1")
    request = func.HttpRequest(method="GET", url=f"http://localhost:7071/api/{url}", headers=headers, body=b"",
                               route_params={}, params={})
    return invoke_http_function(api.app, function, request, server=api.server)


def test_incident_lists_read_every_page_and_say_when_more_were_not_shown(api, monkeypatch):
    total = len(api.env.host.list_instances())
    assert total >= 2  # the incident and its entities / sub-orchestrations: enough to page
    monkeypatch.setattr(instance_listing, "PAGE_SIZE", 1)
    monkeypatch.setattr(instance_listing, "MAX_PAGES", total)  # one instance a page, every page read
    whole = _get(api, "list_incidents_http", "incidents", "application/json")
    assert whole.status_code == 200 and [v["incident_id"] for v in json.loads(whole.get_body())] == [INCIDENT]
    assert "X-Firestop-More-Not-Shown" not in whole.headers
    page = _get(api, "console_home", "console", "text/html").get_body().decode()
    assert INCIDENT in page and "More incidents not shown" not in page

    monkeypatch.setattr(instance_listing, "MAX_PAGES", total - 1)  # cut one short
    cut = _get(api, "list_incidents_http", "incidents", "application/json")
    assert cut.status_code == 200 and cut.headers.get("X-Firestop-More-Not-Shown") == "true"
    assert isinstance(json.loads(cut.get_body()), list)  # the body keeps its shape
    page = _get(api, "console_home", "console", "text/html").get_body().decode()
    assert "More incidents not shown" in page
