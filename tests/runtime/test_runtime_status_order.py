"""When an episode's custom status becomes visible, compared with the activities that episode schedules (listing14).

The local host commits an episode's new work and its custom status in one transaction: an activity it scheduled
reads that custom status in the instance's status. DurableTask.AzureStorage enqueues the activity's message first
and writes the Instances row (the custom status) after the history (``firestop/runtime/host.py``'s docstring gives
the source), so there the activity may read the previous custom status. ``hold_custom_status`` makes the local host
meet Azure's order for tests; ``publish_custom_status`` is the Instances write.
"""

from __future__ import annotations

import azure.durable_functions as df
import pytest

from firestop.runtime import LocalDurableHost, ManagementServer

app = df.DFApp()


@app.orchestration_trigger(context_name="context")
def publisher(context: df.DurableOrchestrationContext):
    context.set_custom_status({"stage": "published"})
    seen = yield context.call_activity("read_own_status", context.instance_id)
    context.set_custom_status({"stage": "after", "seen": seen})
    yield context.wait_for_external_event("go")
    return seen


@app.activity_trigger(input_name="instance")
@app.durable_client_input(client_name="client")
async def read_own_status(instance: str, client) -> object:
    return (await client.get_status(instance)).custom_status


@pytest.fixture
def host(db_path, clock):
    h = LocalDurableHost(app, db_path, clock=clock)
    with ManagementServer(h):
        yield h
    h.close()


def test_the_local_host_shows_an_episode_s_custom_status_to_the_activities_it_schedules(host):
    iid = host.start_new("publisher", "p1")
    host.run_until_idle()
    assert host.get_status(iid).custom_status == {"stage": "after", "seen": {"stage": "published"}}


def test_held_the_activity_reads_the_previous_custom_status_until_it_is_published(host):
    host.hold_custom_status()
    iid = host.start_new("publisher", "p2")
    host.run_until_idle()  # both episodes ran, the activity too; neither custom status is visible yet
    status = host.get_status(iid)
    assert status.runtime_status == "Running" and status.custom_status is None
    assert host.publish_custom_status() == [iid]  # the newest one held: the second episode's
    assert host.get_status(iid).custom_status == {"stage": "after", "seen": None}
    host.raise_event(iid, "go")
    host.run_until_idle()
    done = host.get_status(iid)
    assert done.runtime_status == "Completed" and done.output is None  # the activity saw none: Azure's order


def test_an_ending_episode_writes_its_status_at_once_and_drops_the_held_one(host):
    iid = host.start_new("publisher", "p3")
    host.run_until_idle()
    host.hold_custom_status()
    host.raise_event(iid, "go")
    host.run_until_idle()
    status = host.get_status(iid)
    assert status.runtime_status == "Completed" and status.output == {"stage": "published"}
    assert host.publish_custom_status() == []  # nothing held for a finished instance
