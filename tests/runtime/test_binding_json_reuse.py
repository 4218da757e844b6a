"""ManagementServer.client_binding_json is built once and reused, and built again when what it names changes."""

from __future__ import annotations

import json

import azure.durable_functions as df

from firestop.runtime import LocalDurableHost, ManagementServer
from firestop.runtime.management import client_binding


def _app() -> df.DFApp:
    return df.DFApp()


def test_binding_json_is_the_binding_of_the_server_and_reused(db_path, clock):
    host = LocalDurableHost(_app(), db_path, clock=clock)
    server = ManagementServer(host, path_secret="s1", in_process=False)
    try:
        first = server.client_binding_json()
        assert json.loads(first) == client_binding(server.base_url, task_hub=server.task_hub,
                                                   connection=server.connection, rpc_base_url=server.rpc_url)
        assert server.client_binding_json() is first  # the same string, not rebuilt

        server.path_secret = "s2"  # the RPC URL changes: so does the binding
        second = json.loads(server.client_binding_json())
        assert second["rpcBaseUrl"] == f"{server.base_url}/s2/durabletask/"

        server.task_hub = "OtherHub"
        third = json.loads(server.client_binding_json())
        assert third["taskHubName"] == "OtherHub"
        assert "taskHub=OtherHub" in third["managementUrls"]["statusQueryGetUri"]
        assert df.DurableOrchestrationClient(json.dumps(third))._orchestration_bindings.task_hub_name == "OtherHub"
    finally:
        server.stop()
        host.close()


def test_rebase_puts_each_request_on_the_base_it_is_given():
    import azure.functions as func

    from firestop.runtime.management import _rebase

    request = func.HttpRequest("POST", "http://public.example:7071/api/alerts?code=k#f", headers={"X-A": "1"},
                               params={"code": "k"}, route_params={"r": "v"}, body=b"{}")
    first = _rebase(request, "http://127.0.0.1:5001")
    again = _rebase(request, "http://127.0.0.1:5001")  # remembered
    other = _rebase(request, "http://127.0.0.1:5002")  # another server: its own origin at once
    moved = _rebase(func.HttpRequest("GET", "http://public.example:7071/api/alerts/x/status", body=b""),
                    "http://127.0.0.1:5001")
    assert first.url == again.url == "http://127.0.0.1:5001/api/alerts?code=k#f"
    assert other.url == "http://127.0.0.1:5002/api/alerts?code=k#f"
    assert moved.url == "http://127.0.0.1:5001/api/alerts/x/status" and moved.method == "GET"
    assert (first.method, first.get_body(), dict(first.headers), dict(first.params), dict(first.route_params)) == (
        "POST", b"{}", {"x-a": "1"}, {"code": "k"}, {"r": "v"})
