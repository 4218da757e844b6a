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
    """A host with 7 Running instances created one second apart, and its management server (in memory)."""
    host = LocalDurableHost(app, db_path, clock=clock)
    ids = []
    for n in range(7):
        ids.append(host.start_new("waits", f"i-{n}", {"n": n}))
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
    assert code == 200 and CONTINUATION_HEADER not in headers
    assert [p["instanceId"] for p in first + rest] == ids  # oldest first, nothing repeated
    for query in ("top=0", "top=-1", "top=abc", "top=99999999"):
        code, _, payload = server.handle("GET", f"/durabletask/instances/?{query}", {}, b"")
        assert code == 400 and "top" in payload["Message"], query
    code, _, payload = server.handle("GET", "/durabletask/instances/?top=2", {CONTINUATION_HEADER: "not-a-token"}, b"")
    assert code == 400 and CONTINUATION_HEADER in payload["Message"]
    code, _, all_of_them = server.handle("GET", "/durabletask/instances/", {}, b"")
    assert code == 200 and len(all_of_them) == 7  # no top: the whole list, as before


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
        host.start_new("quick", f"q-{n}", {})
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
