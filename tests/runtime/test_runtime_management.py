"""HTTP functions with a durable client, against the local management API."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import azure.durable_functions as df
import azure.functions as func
import pytest

from firestop.runtime import LocalDurableHost, ManagementServer, invoke_http_function

app = df.DFApp(http_auth_level=func.AuthLevel.ANONYMOUS)


@app.route(route="incidents/{orchestrator}", methods=["POST"])
@app.durable_client_input(client_name="client")
async def http_start(req: func.HttpRequest, client) -> func.HttpResponse:
    instance_id = await client.start_new(req.route_params["orchestrator"], req.params.get("id"), req.get_json())
    return client.create_check_status_response(req, instance_id)


@app.route(route="incidents/{instance_id}/approve", methods=["POST"])
@app.durable_client_input(client_name="client")
async def http_approve(req: func.HttpRequest, client) -> func.HttpResponse:
    await client.raise_event(req.route_params["instance_id"], "Approval", req.get_json())
    status = await client.get_status(req.route_params["instance_id"])
    return func.HttpResponse(json.dumps({"status": status.runtime_status.value}), status_code=200)


@app.route(route="incidents/{instance_id}/stop", methods=["POST"])
@app.durable_client_input(client_name="client")
async def http_stop(req: func.HttpRequest, client) -> func.HttpResponse:
    await client.terminate(req.route_params["instance_id"], "stopped by analyst")
    return func.HttpResponse(status_code=202)


@app.route(route="incidents/{instance_id}", methods=["GET"])
@app.durable_client_input(client_name="client")
async def http_status(req: func.HttpRequest, client) -> func.HttpResponse:
    status = await client.get_status(req.route_params["instance_id"], show_history=True)
    if not status:
        return func.HttpResponse("not found", status_code=404)
    body = {"runtimeStatus": status.runtime_status.value, "output": status.output,
            "customStatus": status.custom_status, "input": status.input_,
            "events": len(status.historyEvents)}
    return func.HttpResponse(json.dumps(body), status_code=200)


@app.orchestration_trigger(context_name="context")
def approval(context: df.DurableOrchestrationContext):
    alert = context.get_input()
    context.set_custom_status("awaiting approval")
    decision = yield context.wait_for_external_event("Approval")
    result = yield context.call_activity("contain", {"alert": alert, "decision": decision})
    return result


@app.activity_trigger(input_name="payload")
def contain(payload: dict) -> dict:
    return {"contained": payload["alert"]["account"], "decision": payload["decision"],
            "decision_type": type(payload["decision"]).__name__}


def _request(method, path, body=None):
    data = json.dumps(body).encode() if body is not None else b""
    return func.HttpRequest(method, f"http://localhost:7071/api/{path}", body=data,
                            headers={"Content-Type": "application/json"},
                            route_params=_route_params(path), params={})


def _route_params(path):
    parts = path.split("/")
    if len(parts) == 2 and parts[0] == "incidents":
        return {"orchestrator": parts[1], "instance_id": parts[1]}
    return {"instance_id": parts[1]}


def _get(url):
    try:
        with urllib.request.urlopen(url) as resp:
            return resp.status, json.loads(resp.read() or b"null"), dict(resp.headers)
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"null"), dict(err.headers)


@pytest.fixture
def running(db_path, clock):
    host = LocalDurableHost(app, db_path, clock=clock)
    with ManagementServer(host) as server:
        yield host, server
    host.close()


def test_http_start_returns_check_status_links_that_work(running):
    host, server = running
    resp = invoke_http_function(app, "http_start", _request("POST", "incidents/approval", {"account": "aoai-prod"}),
                                server=server)
    assert resp.status_code == 202
    links = json.loads(resp.get_body())
    iid = links["id"]
    assert resp.headers["Location"] == links["statusQueryGetUri"]
    assert links["statusQueryGetUri"].startswith(f"{server.base_url}/runtime/webhooks/durabletask/instances/{iid}?")
    assert host.get_status(iid).runtime_status == "Pending"

    host.run_until_idle()
    code, body, headers = _get(links["statusQueryGetUri"])
    assert code == 202 and headers["Retry-After"] == "5"
    assert body["runtimeStatus"] == "Running" and body["customStatus"] == "awaiting approval"
    assert body["input"] == {"account": "aoai-prod"} and body["createdTime"] == "2024-05-24T12:00:00Z"

    # the orchestrator's view of the input is the value (the SDK decodes the client's double encoding)
    resp = invoke_http_function(app, "http_approve", _request("POST", f"incidents/{iid}/approve", {"ok": True}),
                                server=server)
    assert json.loads(resp.get_body()) == {"status": "Running"}
    host.run_until_idle()
    code, body, _ = _get(links["statusQueryGetUri"])
    assert code == 200 and body["runtimeStatus"] == "Completed"
    # event data sent through the SDK client arrives as JSON text, as in Azure (durable-python#295)
    assert body["output"] == {"contained": "aoai-prod", "decision": '{"ok": true}', "decision_type": "str"}

    resp = invoke_http_function(app, "http_status", _request("GET", f"incidents/{iid}"), server=server)
    status = json.loads(resp.get_body())
    assert status["runtimeStatus"] == "Completed" and status["events"] > 5


def test_http_start_with_explicit_id_and_conflict(running):
    host, server = running
    req = _request("POST", "incidents/approval", {"account": "a"})
    req = func.HttpRequest("POST", req.url + "?id=inc-9", body=req.get_body(), headers=dict(req.headers),
                           route_params=dict(req.route_params), params={"id": "inc-9"})
    assert json.loads(invoke_http_function(app, "http_start", req, server=server).get_body())["id"] == "inc-9"
    with pytest.raises(Exception, match="inc-9"):
        invoke_http_function(app, "http_start", req, server=server)  # 409 while Pending


def test_http_start_unknown_orchestrator_surfaces_the_extension_message(running):
    _, server = running
    with pytest.raises(Exception, match="doesn't exist"):
        invoke_http_function(app, "http_start", _request("POST", "incidents/nope", {}), server=server)


def test_http_terminate_and_status_codes(running):
    host, server = running
    iid = host.start_new("approval", "inc-t", {"account": "a"})
    host.run_until_idle()
    resp = invoke_http_function(app, "http_stop", _request("POST", f"incidents/{iid}/stop"), server=server)
    assert resp.status_code == 202
    status = host.get_status(iid)
    assert (status.runtime_status, status.output) == ("Terminated", "stopped by analyst")
    # terminating again: 410 Gone, which the SDK client accepts silently
    invoke_http_function(app, "http_stop", _request("POST", f"incidents/{iid}/stop"), server=server)
    code, body, _ = _get(f"{server.base_url}/durabletask/instances/{iid}")
    assert code == 200 and body["runtimeStatus"] == "Terminated"
    code, _, _ = _get(f"{server.base_url}/durabletask/instances/ghost")
    assert code == 404
    resp = invoke_http_function(app, "http_status", _request("GET", "incidents/ghost"), server=server)
    assert resp.status_code == 404


def test_raise_event_on_finished_instance_is_gone(running):
    host, server = running
    iid = host.start_new("approval", "inc-g", {"account": "a"})
    host.terminate(iid, "x")
    with pytest.raises(Exception, match="is gone"):
        invoke_http_function(app, "http_approve", _request("POST", f"incidents/{iid}/approve", {"ok": 1}),
                             server=server)


def test_list_and_purge_routes(running):
    host, server = running
    a = host.start_new("approval", "list-a", {"account": "a"})
    host.start_new("approval", "list-b", {"account": "b"})
    host.terminate(a, "done")
    code, body, _ = _get(f"{server.base_url}/durabletask/instances/?runtimeStatus=Terminated")
    assert code == 200 and [s["instanceId"] for s in body] == ["list-a"]
    req = urllib.request.Request(f"{server.base_url}/durabletask/instances/list-b", method="DELETE")
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(req)
    assert err.value.code == 412
    req = urllib.request.Request(f"{server.base_url}/durabletask/instances/list-a", method="DELETE")
    with urllib.request.urlopen(req) as resp:
        assert json.loads(resp.read()) == {"instancesDeleted": 1}


def test_client_binding_json_shape(db_path, clock):
    host = LocalDurableHost(app, db_path, clock=clock)
    binding = json.loads(host.client_binding_json("http://127.0.0.1:7071"))
    assert binding["rpcBaseUrl"] == "http://127.0.0.1:7071/durabletask/"
    assert binding["managementUrls"]["id"] == "INSTANCEID"
    assert "{functionName}[/{instanceId}]" in binding["creationUrls"]["createNewInstancePostUri"]
    client = df.DurableOrchestrationClient(json.dumps(binding))
    assert client._orchestration_bindings.task_hub_name == "FirestopLocal"


# -- the SDK client reaches a ManagementServer of this process in memory (firestop.runtime.inprocess) ----------
@pytest.mark.parametrize("in_process", [True, False])
def test_sdk_client_in_memory_or_over_the_socket(db_path, clock, in_process):
    host = LocalDurableHost(app, db_path, clock=clock)
    server = ManagementServer(host, path_secret="rpc-secret", in_process=in_process).start()
    accepted = []
    accept = server._httpd.get_request
    server._httpd.get_request = lambda: accepted.append(1) or accept()  # counts loopback connections
    try:
        binding = server.client_binding_json()
        resp = invoke_http_function(app, "http_start", _request("POST", "incidents/approval", {"account": "a"}),
                                    client_binding_json=binding)
        assert resp.status_code == 202
        iid = json.loads(resp.get_body())["id"]
        host.run_until_idle()
        resp = invoke_http_function(app, "http_approve", _request("POST", f"incidents/{iid}/approve", {"ok": 1}),
                                    client_binding_json=binding)
        assert json.loads(resp.get_body()) == {"status": "Running"}
        host.run_until_idle()
        resp = invoke_http_function(app, "http_status", _request("GET", f"incidents/{iid}"), client_binding_json=binding)
        body = json.loads(resp.get_body())
        assert body["runtimeStatus"] == "Completed" and body["output"]["decision"] == '{"ok": 1}'
        # in memory: not one loopback connection; over the socket: the SDK's keep-alive pool opened some
        assert (len(accepted) == 0) is in_process
    finally:
        server.stop()
        host.close()


def test_in_memory_path_checks_the_path_secret_and_reports_errors(db_path, clock):
    import asyncio

    import aiohttp

    from firestop.runtime.inprocess import InProcessConnector

    host = LocalDurableHost(app, db_path, clock=clock)
    server = ManagementServer(host, path_secret="rpc-secret").start()

    async def calls():
        async with aiohttp.ClientSession(connector=InProcessConnector()) as session:
            async with session.get(f"{server.base_url}/durabletask/instances/") as no_secret:
                first = no_secret.status
            async with session.get(f"{server.rpc_url}/durabletask/instances/nobody") as unknown:
                second = unknown.status
            async with session.post(f"{server.rpc_url}/durabletask/orchestrators/approval", data=b"{not json",
                                    headers={"Content-Type": "application/json"}) as bad:
                third = bad.status, await bad.json()
            async with session.post(f"{server.rpc_url}/durabletask/orchestrators/approval", json='{"account": "b"}') as ok:
                fourth = ok.status, (await ok.json())["id"], ok.headers["Location"]
            return first, second, third, fourth

    try:
        server._httpd.shutdown()  # the socket stops answering: what follows can only be served in memory
        first, second, third, fourth = asyncio.run(calls())
        assert first == 404 and second == 404
        assert third[0] == 400 and third[1]["ExceptionMessage"] == "Invalid JSON content"
        assert fourth[0] == 202 and fourth[2].endswith(f"/instances/{fourth[1]}?taskHub=FirestopLocal&connection=Storage")
        assert host.get_status(fourth[1]).input == {"account": "b"}
    finally:
        server.stop()
        host.close()


def test_reads_are_answered_on_the_loop_only_when_the_store_lock_is_free(db_path, clock):
    import threading

    host = LocalDurableHost(app, db_path, clock=clock)
    server = ManagementServer(host)
    iid = host.start_new("approval", None, {"account": "c"})
    try:
        code, _, body = server.answer_now("GET", f"/durabletask/instances/{iid}", {}, b"")
        assert code == 202 and json.loads(body)["runtimeStatus"] == "Pending"
        assert server.answer_now("POST", "/durabletask/orchestrators/approval", {}, b"") is None  # writes: executor
        held, release = threading.Event(), threading.Event()

        def hold():
            with host.store_lock:
                held.set()
                release.wait()

        holder = threading.Thread(target=hold)
        holder.start()
        held.wait()
        assert server.answer_now("GET", f"/durabletask/instances/{iid}", {}, b"") is None  # never waits
        release.set()
        holder.join()
    finally:
        server.stop()
        host.close()


def test_kept_alive_in_memory_connections_die_with_their_server(db_path, clock):
    host = LocalDurableHost(app, db_path, clock=clock)
    first = ManagementServer(host).start()
    resp = invoke_http_function(app, "http_start", _request("POST", "incidents/approval", {"account": "d"}), server=first)
    iid = json.loads(resp.get_body())["id"]
    binding = first.client_binding_json()
    first.stop()  # its pooled in-memory connection must not answer for it any more
    try:
        with pytest.raises(Exception):  # nothing listens there now: the SDK's call fails, never a stale answer
            invoke_http_function(app, "http_status", _request("GET", f"incidents/{iid}"), client_binding_json=binding)
    finally:
        host.close()
