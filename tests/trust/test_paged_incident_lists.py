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


def test_the_incident_lists_are_not_cut_by_entity_instances(api, monkeypatch):
    """The backend lists entity instances too (``@resource_lock@…``, ``@incident_alerts@…``: the handled incident's
    lease and tally, Running for good; Azure/azure-functions-durable-extension v3.x 92fecfc ``HttpApiHandler``), so
    the lists ask for ``instanceIdPrefix=inc-``: with a bound of exactly the incident instances, nothing is cut."""
    import azure.durable_functions as df

    from firestop.runtime.management import _WorkerLoop

    total = len(api.env.host.list_instances())
    entities = api.env.host.list_entity_instances()
    assert {s.name.split("@")[1] for s in entities} >= {"resource_lock", "incident_alerts"}
    monkeypatch.setattr(instance_listing, "PAGE_SIZE", 1)
    monkeypatch.setattr(instance_listing, "MAX_PAGES", total)
    client = df.DurableOrchestrationClient(api.server.client_binding_json())
    assert not _WorkerLoop.run(instance_listing.list_instances(client)).complete  # every instance: cut by the entities
    whole = _get(api, "list_incidents_http", "incidents", "application/json")
    assert whole.status_code == 200 and [v["incident_id"] for v in json.loads(whole.get_body())] == [INCIDENT]
    assert "X-Firestop-More-Not-Shown" not in whole.headers
    page = _get(api, "console_home", "console", "text/html").get_body().decode()
    assert INCIDENT in page and "More incidents not shown" not in page
