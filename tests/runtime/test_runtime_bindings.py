"""Activity output bindings on the local host: each binding type as the worker encodes it."""

from __future__ import annotations

import json

import azure.durable_functions as df
import azure.functions as func
import pytest

from firestop.runtime import LocalDurableHost

app = df.DFApp()


@app.orchestration_trigger(context_name="context")
def run_one(context: df.DurableOrchestrationContext):
    spec = context.get_input()
    return (yield context.call_activity(spec["activity"], spec.get("input")))


@app.activity_trigger(input_name="payload")
@app.queue_output(arg_name="messages", queue_name="Fanned-Out", connection="AzureWebJobsStorage")
def fan_messages(payload: list, messages: func.Out[list]) -> int:
    messages.set([f"item {k}" for k in payload])
    return len(payload)


@app.activity_trigger(input_name="payload")
@app.table_output(arg_name="row", table_name="audit", connection="AzureWebJobsStorage")
@app.generic_output_binding(arg_name="reply", type="http")
def mixed_outputs(payload: dict, row: func.Out[str], reply: func.Out[func.HttpResponse]) -> str:
    row.set(json.dumps({"PartitionKey": "p", "RowKey": payload["id"]}))
    reply.set(func.HttpResponse("accepted", status_code=201))
    return "ok"


@app.activity_trigger(input_name="payload")
@app.blob_output(arg_name="blob", path="evidence/{rand-guid}.bin", connection="AzureWebJobsStorage")
@app.queue_output(arg_name="unused", queue_name="never", connection="AzureWebJobsStorage")
def blob_only(payload: str, blob: func.Out[bytes], unused: func.Out[str]) -> str:
    blob.set(payload.encode() * 2)
    return "written"  # ``unused`` is never set: nothing is sent


@app.activity_trigger(input_name="payload")
@app.blob_output(arg_name="blob", path="evidence/{nosuch}.txt", connection="AzureWebJobsStorage")
def bad_expression(payload: str, blob: func.Out[str]) -> str:
    blob.set(payload)
    return "never"


@pytest.fixture
def host(db_path, clock):
    h = LocalDurableHost(app, db_path, clock=clock)
    yield h
    h.close()


def _run(host, activity, value):
    iid = host.start_new("run_one", input={"activity": activity, "input": value})
    host.run_until_idle(iid)
    return host.get_status(iid)


def test_a_list_on_a_queue_output_is_one_message_per_item(host):
    assert _run(host, "fan_messages", [1, 2, 3]).output == 3
    rows = host.binding_outputs("queue")
    assert [(r["target"], r["data"]) for r in rows] == [("fanned-out", f"item {k}".encode()) for k in (1, 2, 3)]
    assert {r["function"] for r in rows} == {"fan_messages"}


def test_table_and_http_outputs_are_recorded_with_their_encoding(host):
    assert _run(host, "mixed_outputs", {"id": "r1"}).output == "ok"
    table = host.binding_outputs("table")
    assert json.loads(table[0]["data"]) == {"PartitionKey": "p", "RowKey": "r1"}
    assert json.loads(table[0]["target"])["tableName"] == "audit"
    http = host.binding_outputs("http")
    assert json.loads(http[0]["data"])["status_code"] == 201
    assert json.loads(http[0]["data"])["body"] == "accepted"


def test_only_outputs_that_were_set_are_sent_and_blobs_land_as_files(host):
    assert _run(host, "blob_only", "ab").output == "written"
    assert host.binding_outputs("queue") == []
    (blob,) = host.binding_outputs("blob")
    assert blob["target"].startswith("evidence/") and blob["data"] == b"abab"
    assert (host.bindings_dir / "blob" / blob["target"]).read_bytes() == b"abab"


def test_an_unresolvable_path_expression_fails_the_activity_naming_it(host):
    status = _run(host, "bad_expression", "x")
    assert status.runtime_status == "Failed"
    assert "{nosuch}" in status.output
    assert host.binding_outputs() == []
