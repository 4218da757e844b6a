"""serve calls the app's warmupTrigger function once, before it listens, as the Functions host does on a new
instance; a failing one is logged and serving goes on."""

from __future__ import annotations

import urllib.request

import azure.durable_functions as df
import azure.functions as func
from azure.functions.warmup import WarmUpContext

from firestop.runtime import LocalDurableHost
from firestop.runtime.serve import FunctionsServer

KEY = "test-key_123"
CALLS: list[str] = []

app = df.DFApp(http_auth_level=func.AuthLevel.FUNCTION)


@app.warm_up_trigger("warmup")
def warmup(warmup: WarmUpContext) -> None:
    CALLS.append(type(warmup).__name__)
    if len(CALLS) > 1:
        raise RuntimeError("warmup ran twice")


@app.route(route="ping", methods=["GET"])
def ping(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse(f"calls={len(CALLS)}")


broken = df.DFApp(http_auth_level=func.AuthLevel.FUNCTION)


@broken.warm_up_trigger("warmup")
def failing(warmup: WarmUpContext) -> None:
    raise RuntimeError("cannot warm up")


@broken.route(route="ping", methods=["GET"])
def pong(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse("pong")


def _get(server: FunctionsServer) -> str:
    request = urllib.request.Request(f"{server.base_url}/api/ping", headers={"x-functions-key": KEY})
    with urllib.request.urlopen(request, timeout=30) as answer:
        return answer.read().decode()


def test_warmup_runs_once_before_the_first_request(db_path):
    CALLS.clear()
    host = LocalDurableHost(app, db_path)
    server = FunctionsServer(app, host, function_key=KEY, port=0, realtime_factor=0)
    try:
        assert CALLS == []
        server.start()
        assert CALLS == ["WarmUpContext"]
        assert _get(server) == "calls=1"  # it ran before this request, and not again
        server.start()
        assert CALLS == ["WarmUpContext"]
    finally:
        server.stop()
        host.close()


def test_a_failing_warmup_is_logged_and_serving_goes_on(db_path, caplog):
    host = LocalDurableHost(broken, db_path)
    server = FunctionsServer(broken, host, function_key=KEY, port=0, realtime_factor=0)
    try:
        server.start()
        assert _get(server) == "pong"
        assert any("warmup function failing failed" in r.getMessage() for r in caplog.records)
    finally:
        server.stop()
        host.close()


def test_firestops_warmup_loads_the_playbook_routes(firestop_home, monkeypatch):
    from firestop.functions import intake_call
    from firestop.functions.warmup import warmup as firestop_warmup

    monkeypatch.setattr(intake_call, "_checked", {})
    firestop_warmup(WarmUpContext())
    assert any(routes for _, routes, _ in intake_call._checked.values())
    assert (firestop_home / "seal-key").exists()


_FIRST_ACTIVITY_CHILD = """
import json, sys
from azure.functions.warmup import WarmUpContext
from firestop.azure.clients import PRELOADED_SDKS
from firestop.functions.warmup import warmup
names = ["firestop.analysis", *PRELOADED_SDKS]
before = [n in sys.modules for n in names]
warmup(WarmUpContext())
print(json.dumps({"before": before, "after": [n in sys.modules for n in names]}))
"""


def test_firestops_warmup_loads_what_the_first_incidents_first_activity_imports(firestop_home):
    """The first activity (describe_targets) builds a Cognitive Services client: its SDK is imported before traffic
    (in a child process: this one may have imported it already)."""
    import json
    import os
    import subprocess
    import sys

    from firestop.settings import REPO_ROOT

    out = subprocess.run([sys.executable, "-c", _FIRST_ACTIVITY_CHILD], cwd=REPO_ROOT, capture_output=True, text=True,
                         timeout=120, check=True, env=dict(os.environ, FIRESTOP_HOME=str(firestop_home))).stdout
    got = json.loads(out.strip().splitlines()[-1])
    assert got["before"] == [False, False] and got["after"] == [True, True]
