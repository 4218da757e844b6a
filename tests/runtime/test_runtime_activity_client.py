"""An activity with a Durable client binding on the local host (joins14: ``start_pending_joins`` starts variants).

Any function may hold an orchestration client binding (Azure Durable Functions, "Orchestration client" binding),
activities too; the local host gives it the binding JSON of a management server started for it and runs the
activity's coroutine on the functions worker loop (where the SDK's shared session lives). No server: the activity
fails, naming why.
"""

from __future__ import annotations

import azure.durable_functions as df
import pytest

from firestop.runtime import LocalDurableHost, ManagementServer

app = df.DFApp()


@app.orchestration_trigger(context_name="context")
def starter(context: df.DurableOrchestrationContext):
    return (yield context.call_activity("start_child", context.get_input()))


@app.orchestration_trigger(context_name="context")
def child(context: df.DurableOrchestrationContext):
    return f"child of {context.get_input()}"


@app.activity_trigger(input_name="payload")
@app.durable_client_input(client_name="client")
async def start_child(payload: str, client) -> dict:
    before = bool(await client.get_status(payload))
    if not before:
        await client.start_new("child", payload, "starter")
    return {"existed": before}


@pytest.fixture
def host(db_path, clock):
    h = LocalDurableHost(app, db_path, clock=clock)
    yield h
    h.close()


def test_an_activity_with_a_client_binding_starts_an_instance_once(host):
    with ManagementServer(host):
        first = host.start_new("starter", "s1", "kid")
        host.run_until_idle()
        assert host.get_status(first).output == {"existed": False}
        assert host.get_status("kid").output == "child of starter"
        again = host.start_new("starter", "s2", "kid")
        host.run_until_idle()
        assert host.get_status(again).output == {"existed": True}  # start-if-absent: found, not restarted
    assert host.activity_client is None  # the server stopped: its binding is no longer handed out


def test_without_a_management_server_the_activity_fails_naming_why(host):
    iid = host.start_new("starter", "s3", "kid2")
    host.run_until_idle()
    status = host.get_status(iid)
    assert status.runtime_status == "Failed" and "no management server" in str(status.output), status.output
