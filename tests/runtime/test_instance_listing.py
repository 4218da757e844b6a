"""Instance listings that see every page (firestop.instance_listing), through the SDK client's own session and
the local management server's ``top`` + ``x-ms-continuation-token`` paging; undo fails closed past the bound."""

from __future__ import annotations

import json

import azure.durable_functions as df
import azure.functions as func
import pytest

from firestop import instance_listing
from firestop.instance_listing import InstanceListingError, list_instances
from firestop.lifecycle.locks import ClientLeasePort
from firestop.lifecycle.undo import UndoListingCut, UndoReliedOn, later_incidents, open_reliance
from firestop.runtime import LocalDurableHost, ManagementServer
from firestop.runtime.management import CONTINUATION_HEADER, _WorkerLoop

app = df.DFApp(http_auth_level=func.AuthLevel.ANONYMOUS)
TARGET = "/subscriptions/0000/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/acct"


@app.orchestration_trigger(context_name="context")
def waits(context: df.DurableOrchestrationContext):
    yield context.wait_for_external_event("Go")  # stays Running: an open incident
    return "done"


@pytest.fixture
def started(db_path, clock):
    """A host with 7 Running instances created one second apart (incident ids: ``inc-<n>``), and its management
    server (in memory)."""
    host = LocalDurableHost(app, db_path, clock=clock)
    ids = []
    for n in range(7):
        ids.append(host.start_new("waits", f"inc-{n}", {"n": n}))
        clock.advance(1)
    host.run_until_idle()
    server = ManagementServer(host).start()
    try:
        yield host, server, ids
    finally:
        server.stop()


def _client(server):
    return df.DurableOrchestrationClient(server.client_binding_json())


def _run(coro):
    return _WorkerLoop.run(coro)


def test_pages_are_followed_to_the_end(started):
    host, server, ids = started
    listing = _run(list_instances(_client(server), page_size=2))
    assert listing.complete and listing.pages == 4  # 2 + 2 + 2 + 1
    assert sorted(s.instance_id for s in listing.statuses) == sorted(ids)  # each once, none lost between pages
    filtered = _run(list_instances(_client(server), page_size=3, runtime_status=["Running"],
                                   created_time_from=host.list_instances()[2].created_time))
    assert filtered.complete and filtered.pages == 2
    assert sorted(s.instance_id for s in filtered.statuses) == sorted(ids[2:])


def test_one_page_is_the_sdk_listing_unchanged(started):
    _, server, ids = started
    client = _client(server)
    listing = _run(list_instances(client))
    assert listing.complete and listing.pages == 1
    sdk = _run(client.get_status_all())
    assert [s.instance_id for s in listing.statuses] == [s.instance_id for s in sdk]
    assert [s.runtime_status for s in listing.statuses] == [s.runtime_status for s in sdk]


def test_a_listing_stops_at_its_bound_and_says_so(started):
    _, server, ids = started
    listing = _run(list_instances(_client(server), page_size=2, max_pages=2))
    assert not listing.complete and listing.pages == 2 and len(listing.statuses) == 4
    with pytest.raises(instance_listing.InstanceListingIncomplete):
        listing.require_complete()


def test_the_management_server_pages_and_refuses_bad_paging(started):
    _, server, ids = started
    code, headers, first = server.handle("GET", "/durabletask/instances/?top=5", {}, b"")
    assert code == 200 and len(first) == 5 and headers.get(CONTINUATION_HEADER)
    code, headers, rest = server.handle("GET", "/durabletask/instances/?top=5",
                                        {CONTINUATION_HEADER: headers[CONTINUATION_HEADER]}, b"")
    assert code == 200 and headers[CONTINUATION_HEADER] == ""  # the extension always sends it: empty at the end
    assert [p["instanceId"] for p in first + rest] == ids  # instance-id order, nothing repeated
    for query in ("top=0", "top=-1", "top=abc", "top=99999999", "runtimeStatus=running", "runtimeStatus=Running,Nope"):
        code, _, payload = server.handle("GET", f"/durabletask/instances/?{query}", {}, b"")
        assert code == 400 and query.split("=")[0] in payload["Message"], query
    code, _, payload = server.handle("GET", "/durabletask/instances/?top=2", {CONTINUATION_HEADER: "not-a-token"}, b"")
    assert code == 400 and CONTINUATION_HEADER in payload["Message"]


def test_the_management_server_answers_as_the_extension_does(db_path, clock):
    """What HttpApiHandler.HandleGetStatusRequestAsync (extension v3.x 92fecfc) and the Azure Storage backend do:
    no ``top`` is a page of 100 (OrchestrationStatusQueryCondition.PageSize), pages come in instance-id order
    (PartitionKey), not creation order, ``showInput`` defaults to true, and the token header is always there."""
    host = LocalDurableHost(app, db_path, clock=clock)
    created = [f"z-{n:03d}" for n in range(103, -1, -1)]  # 104 instances, each created before an id smaller than it
    for instance_id in created:
        host.start_new("waits", instance_id, {"n": instance_id})
        clock.advance(1)
    host.run_until_idle()
    with ManagementServer(host) as server:
        code, headers, page = server.handle("GET", "/durabletask/instances/", {}, b"")
        assert code == 200 and len(page) == 100 and headers[CONTINUATION_HEADER]
        assert [p["instanceId"] for p in page] == sorted(created)[:100]
        assert all(p["input"] is not None for p in page)  # showInput: default true
        code, headers, rest = server.handle("GET", "/durabletask/instances/", {CONTINUATION_HEADER: headers[CONTINUATION_HEADER]}, b"")
        assert [p["instanceId"] for p in rest] == sorted(created)[100:] and headers[CONTINUATION_HEADER] == ""
        code, headers, page = server.handle("GET", "/durabletask/instances/?showInput=false&top=3", {}, b"")
        assert [p["input"] for p in page] == [None] * 3
        # the SDK's own get_status_all sees the first page only: 100 of 104
        assert len(_run(_client(server).get_status_all())) == 100
        listing = _run(list_instances(_client(server)))  # PAGE_SIZE 100: two pages, every instance once
        assert listing.complete and listing.pages == 2
        assert sorted(s.instance_id for s in listing.statuses) == sorted(created)


@pytest.mark.parametrize("end", ["", "null", "bnVsbA==", None])
def test_every_end_of_list_the_extension_has_sent_ends_the_listing(started, monkeypatch, end):
    """An empty header (a null token through .NET's Headers.Add), no header, and the JSON-null token of older
    Azure Storage backends (extension#1174: base64 of 'null') each end the listing complete; the request carries
    the token back unchanged, and every request asks for top=100 without inputs."""
    _, server, ids = started
    seen = []
    original = server.handle

    def handle(method, path, headers, body, **kwargs):
        seen.append((path, headers.get(CONTINUATION_HEADER) if headers else None))
        code, out, payload = original(method, path, headers, body, **kwargs)
        if out.get(CONTINUATION_HEADER) == "":
            out = {k: v for k, v in out.items() if k != CONTINUATION_HEADER}
            if end is not None:
                out[CONTINUATION_HEADER] = end
        return code, out, payload

    monkeypatch.setattr(server, "handle", handle)
    listing = _run(list_instances(_client(server), page_size=4))
    assert listing.complete and listing.pages == 2 and sorted(s.instance_id for s in listing.statuses) == ids
    assert seen[0][1] is None and seen[1][1]  # the first page's token went back as the request header
    assert all("top=4" in path and "showInput=false" in path for path, _ in seen)
    assert all(s.input_ is None for s in listing.statuses)


def test_the_listing_asks_in_utc(started):
    """The SDK writes createdTimeFrom with a literal Z and no conversion: a non-UTC time is converted first."""
    from datetime import timedelta, timezone

    host, server, ids = started
    third = host.list_instances()[2].created_time
    local = third.astimezone(timezone(timedelta(hours=5)))
    listing = _run(list_instances(_client(server), created_time_from=local))
    assert sorted(s.instance_id for s in listing.statuses) == sorted(ids[2:])


def test_a_backend_error_is_raised_not_read_as_empty(started):
    _, server, _ = started
    client = _client(server)
    client._orchestration_bindings._rpc_base_url += "nosuch/"  # a route the backend answers 404
    with pytest.raises(InstanceListingError):
        _run(list_instances(client))


def test_undo_refuses_when_the_open_listing_is_cut(started, clock, monkeypatch):
    _, server, _ = started
    port = ClientLeasePort(_client(server), clock)
    monkeypatch.setattr(instance_listing, "PAGE_SIZE", 2)
    monkeypatch.setattr(instance_listing, "MAX_PAGES", 4)  # 8 readable: all 7 seen, none targets TARGET
    _run(open_reliance(port, "mine", [TARGET]))
    monkeypatch.setattr(instance_listing, "MAX_PAGES", 3)  # 6 readable of 7: an unread one may rely on it
    with pytest.raises(UndoListingCut) as refused:
        _run(open_reliance(port, "mine", [TARGET]))
    assert isinstance(refused.value, UndoReliedOn)  # the 409 relied_on every undo entry point answers
    assert "nothing was undone" in str(refused.value)


def test_undo_refuses_when_the_later_listing_is_cut(started, clock, monkeypatch):
    host, server, ids = started
    port = ClientLeasePort(_client(server), clock)
    record = {"incident_id": "mine", "received_at": host.list_instances()[0].created_time.isoformat()}
    monkeypatch.setattr(instance_listing, "PAGE_SIZE", 3)
    monkeypatch.setattr(instance_listing, "MAX_PAGES", 3)
    port_name = "waits"
    assert sorted(_run(port.instances_since(port_name, host.list_instances()[0].created_time))) == sorted(ids)
    monkeypatch.setattr(instance_listing, "MAX_PAGES", 2)
    with pytest.raises(UndoListingCut):
        _run(later_incidents(port, record))


@app.orchestration_trigger(context_name="context")
def quick(context: df.DurableOrchestrationContext):
    return {"status": "contained"}
    yield  # an orchestrator is a generator


def test_intake_answers_503_when_the_finished_listing_is_cut(db_path, clock, monkeypatch):
    """The aftermath read (finished incidents in the window) through the real HTTP path: every page read, and a
    listing cut at its bound is IntakeUnavailable (503, the sender retries), not 'no aftermath' from a part."""
    from firestop.intake.accept import IntakeUnavailable, _aftermath, _Call
    from firestop.intake.correlation import CorrelationSettings
    from tests.intake.conftest import make_alert

    host = LocalDurableHost(app, db_path, clock=clock)
    for n in range(7):
        host.start_new("quick", f"inc-q{n}", {})
        clock.advance(1)
    host.run_until_idle()
    assert all(s.runtime_status == "Completed" for s in host.list_instances())
    with ManagementServer(host) as server:
        call = _Call(client=_client(server), now=clock.now(), settings=CorrelationSettings(window_seconds=3600),
                     orchestrator_name="quick", start_input=lambda *a, **k: None, scope="")
        monkeypatch.setattr(instance_listing, "PAGE_SIZE", 2)
        monkeypatch.setattr(instance_listing, "MAX_PAGES", 4)
        assert _run(_aftermath(call, make_alert("late"))) is None  # all 7 read, none is its containment
        monkeypatch.setattr(instance_listing, "MAX_PAGES", 3)
        with pytest.raises(IntakeUnavailable, match="cut at 6"):
            _run(_aftermath(call, make_alert("late")))
