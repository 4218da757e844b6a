"""serve remembers which route takes a path: the same answers as matching every route each time, one match per
distinct path."""

from __future__ import annotations

import azure.durable_functions as df
import azure.functions as func

from firestop.runtime import LocalDurableHost
from firestop.runtime import serve as serve_module
from firestop.runtime.serve import FunctionsServer

app = df.DFApp(http_auth_level=func.AuthLevel.ANONYMOUS)


@app.route(route="items/{id:int}", methods=["GET"])
def item(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse(req.route_params["id"])


@app.route(route="items/{name}", methods=["GET", "POST"])
def named(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse("named " + req.route_params["name"])


def test_remembered_routes_answer_as_matching_does(db_path, monkeypatch):
    host = LocalDurableHost(app, db_path)
    server = FunctionsServer(app, host, function_key="test-key_123", port=0, realtime_factor=0)
    calls = []
    original = serve_module.HttpRoute.match

    def counted(self, path):
        calls.append(path)
        return original(self, path)

    monkeypatch.setattr(serve_module.HttpRoute, "match", counted)
    try:
        for _ in range(3):
            route, values = server._route_for("GET", "items/7")
            assert (route.function, values) == ("item", {"id": "7"})
            route, values = server._route_for("POST", "items/7")  # the int route takes GET only
            assert (route.function, values) == ("named", {"name": "7"})
            assert server._route_for("DELETE", "items/7") is None
            assert server._route_for("GET", "nothing/here") is None
        # matched against the routes the first time only: GET 1 route, POST and DELETE 2 each, the unknown path 2
        assert calls.count("items/7") == 1 + 2 + 2 and calls.count("nothing/here") == 2
        values["id"] = "changed"  # a caller's copy: the remembered values stay
        assert server._route_for("POST", "items/7")[1] == {"name": "7"}
        assert server.handle("GET", "/api/items/7", {}, b"").body == b"7"
        assert server.handle("DELETE", "/api/items/7", {}, b"").status == 404
    finally:
        server.stop()
        host.close()
