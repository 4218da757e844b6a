"""Entity instances in the instance listing, as the Durable extension lists them, and why incident listings ask for
``instanceIdPrefix`` (:data:`firestop.alerts.alert.INCIDENT_ID_PREFIX`).

The extension's ``GET runtime/webhooks/durabletask/instances/`` lists entity instances too (``@name@key``, named
after the same id, Running): ``HttpApiHandler.HandleGetStatusRequestAsync`` at Azure/azure-functions-durable-extension
v3.x 92fecfc sets no ``ExcludeEntities`` (only the gRPC path does), and ``Entities.AutoStart`` (Azure/durabletask
5217032) names an entity's ExecutionStarted after its instance id. Firestop keeps a ``resource_lock`` entity per
contained resource and an ``incident_alerts`` tally per incident for good, so on Azure a listing of every instance
passes :data:`firestop.instance_listing.MAX_PAGES` pages in time, and an undo (which fails closed on a cut listing)
would always refuse. Here more entities than the listing's bound run on the local host (the real entity path:
signals, batches; about 2 s of CPU for 5,001), and the local management server lists them as the extension does.
"""

from __future__ import annotations

from datetime import timedelta

import azure.durable_functions as df
import azure.functions as func
import pytest

from firestop import instance_listing
from firestop.alerts.alert import INCIDENT_ID_PREFIX, incident_key_for
from firestop.instance_listing import list_instances
from firestop.intake.correlation import slot_id
from firestop.lifecycle.incident import ORCHESTRATOR_NAME
from firestop.lifecycle.locks import LOCK_ENTITY, ClientLeasePort
from firestop.lifecycle.tally import TALLY_ENTITY
from firestop.lifecycle.undo import UndoListingCut, UndoOpenIncident, later_incidents, open_reliance
from firestop.runtime import LocalDurableHost, ManagementServer
from firestop.runtime.management import _WorkerLoop
from tests.runtime.conftest import ManualClock

app = df.DFApp(http_auth_level=func.AuthLevel.ANONYMOUS)
TARGET = "/subscriptions/0000/resourceGroups/rg/providers/Microsoft.CognitiveServices/accounts/relied-on"
ELSEWHERE = "/subscriptions/0000/resourceGroups/rg/providers/Microsoft.CognitiveServices/accounts/elsewhere"
NO_ONES = "/subscriptions/0000/resourceGroups/rg/providers/Microsoft.CognitiveServices/accounts/no-ones"


@app.orchestration_trigger(context_name="context", orchestration=ORCHESTRATOR_NAME)
def open_incident(context: df.DurableOrchestrationContext):
    yield context.wait_for_external_event("Go")  # stays Running: an incident still open
    return "done"


@app.entity_trigger(context_name="context", entity_name=LOCK_ENTITY)
def resource_lock(context: df.DurableEntityContext):
    context.set_state({"holder": None})  # released: the row stays, as on Azure


@app.entity_trigger(context_name="context", entity_name=TALLY_ENTITY)
def incident_alerts(context: df.DurableEntityContext):
    context.set_state({"alerts": 1})


def _client(server):
    return df.DurableOrchestrationClient(server.client_binding_json())


def _run(coro):
    return _WorkerLoop.run(coro)


def _incidents(host, clock) -> list[str]:
    """Three open incidents with the product's own ids (intake's slot, the CLI's alert key, a second slot
    generation); the second targets TARGET."""
    ids = [slot_id("route|acct"), incident_key_for("alert-2"), slot_id("route|other", 2)]
    for n, instance_id in enumerate(ids):
        host.start_new(ORCHESTRATOR_NAME, instance_id, {"alert": {"target_ids": [TARGET if n == 1 else ELSEWHERE]}})
        clock.advance(1)
    return ids


def test_the_management_server_lists_entities_as_the_extension_does(db_path, clock):
    host = LocalDurableHost(app, db_path, clock=clock)
    [incident] = _incidents(host, clock)[:1]
    host.signal_entity((LOCK_ENTITY, "acct"), "acquire", {})
    host.run_until_idle()
    with ManagementServer(host) as server:
        everything = _run(list_instances(_client(server))).statuses
        entity = next(s for s in everything if s.instance_id == "@resource_lock@acct")
        assert entity.name == "@resource_lock@acct" and entity.runtime_status.value == "Running"
        assert len(everything) == 4  # 3 incidents, 1 entity
        incidents = _run(list_instances(_client(server), instance_id_prefix=INCIDENT_ID_PREFIX)).statuses
        assert len(incidents) == 3 and incident in {s.instance_id for s in incidents}
        assert all(s.instance_id.startswith(INCIDENT_ID_PREFIX) for s in incidents)
        only = _run(list_instances(_client(server), instance_id_prefix="@resource_lock@")).statuses
        assert [s.instance_id for s in only] == ["@resource_lock@acct"]
        assert not _run(list_instances(_client(server), runtime_status=["Completed"])).statuses
        later = clock.now() + timedelta(seconds=1)  # created time = the entity's last batch
        assert not _run(list_instances(_client(server), created_time_from=later)).statuses
        clock.advance(5)
        host.signal_entity((LOCK_ENTITY, "acct"), "release", {})
        host.run_until_idle()
        assert [s.instance_id for s in _run(list_instances(_client(server), created_time_from=later)).statuses] \
            == ["@resource_lock@acct"]
        one_page = _run(list_instances(_client(server), page_size=1))
        assert one_page.complete and one_page.pages == 4 and len(one_page.statuses) == 4  # entities page like the rest


@pytest.fixture(scope="module")
def flooded(tmp_path_factory):
    """A host with 3 open incidents and more entity instances than a listing reads (PAGE_SIZE * MAX_PAGES + 1,
    locks and tallies), and its management server."""
    clock = ManualClock()
    host = LocalDurableHost(app, tmp_path_factory.mktemp("flooded") / "durable.db", clock=clock)
    ids = _incidents(host, clock)
    count = instance_listing.PAGE_SIZE * instance_listing.MAX_PAGES + 1
    for n in range(count):
        host.signal_entity((LOCK_ENTITY, f"res-{n}") if n % 2 else (TALLY_ENTITY, f"inc-{n:016x}"), "touch", {})
    host.run_until_idle()
    assert len(host.list_entity_instances()) == count
    server = ManagementServer(host).start()
    try:
        yield host, server, clock, ids
    finally:
        server.stop()
        host.close()


def test_undo_sees_every_open_incident_past_more_entities_than_the_listing_bound(flooded):
    host, server, clock, ids = flooded
    port = ClientLeasePort(_client(server), clock)
    assert sorted(i for i, _, _ in _run(port.open_instances(ORCHESTRATOR_NAME, 10))) == sorted(ids)
    _run(open_reliance(port, "mine", [NO_ONES]))  # the undo goes ahead: no open incident targets NO_ONES
    with pytest.raises(UndoOpenIncident) as relied:  # and the incident relying on TARGET is still seen
        _run(open_reliance(port, "mine", [TARGET]))
    assert relied.value.later == ids[1]
    record = {"incident_id": "mine", "received_at": host.get_status(ids[0]).created_time.isoformat()}
    assert sorted(_run(later_incidents(port, record))) == sorted(ids)


def test_without_the_prefix_the_entities_cut_the_listing_and_undo_refuses(flooded):
    """What every undo on Azure would answer once the entities outnumber the bound, without instanceIdPrefix."""
    host, server, clock, ids = flooded
    assert not _run(list_instances(_client(server))).complete
    port = ClientLeasePort(_client(server), clock, instance_id_prefix=None)
    with pytest.raises(UndoListingCut):
        _run(open_reliance(port, "mine", [NO_ONES]))
    record = {"incident_id": "mine", "received_at": host.get_status(ids[0]).created_time.isoformat()}
    with pytest.raises(UndoListingCut):
        _run(later_incidents(port, record))
