"""The Durable SDK's HTTP helpers load on first use (firestop/runtime/sdk_http.py), and start-up stays light.

Each check runs in a fresh interpreter: the test process has long imported the SDK and aiohttp.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _run(code: str, *, home: Path, timeout: float = 120, args: tuple[str, ...] = ()) -> dict:
    env = {**os.environ, "PYTHONPATH": str(REPO), "FIRESTOP_HOME": str(home)}
    proc = subprocess.run([sys.executable, "-c", code, *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_sdk_client_http_loads_the_sdk_module_on_first_call(tmp_path):
    """With the stand-in in place the SDK imports without aiohttp; the client's first request loads the SDK's
    own http_utils (and aiohttp) and is answered through it."""
    code = r"""
import asyncio, http.server, json, sys, threading
import firestop.runtime
from firestop.runtime import sdk_http
import azure.durable_functions
before = {"aiohttp": "aiohttp" in sys.modules, "deferred": sdk_http.deferred()}

class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b'{"ok": true}'
        self.send_response(200); self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
    def log_message(self, *a):
        pass

server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
threading.Thread(target=server.serve_forever, daemon=True).start()
import importlib
client_module = importlib.import_module("azure.durable_functions.models.DurableOrchestrationClient")

async def call():
    try:
        return await client_module.get_async_request(f"http://127.0.0.1:{server.server_address[1]}/x")
    finally:
        await sdk_http.module()._close_session()

status, body = asyncio.run(call())
real = sys.modules[sdk_http.NAME]
print(json.dumps({**before, "status": status, "body": body, "after_aiohttp": "aiohttp" in sys.modules,
                  "after_deferred": sdk_http.deferred(), "real_file": getattr(real, "__file__", ""),
                  "same": sdk_http.module() is real}))
"""
    out = _run(code, home=tmp_path)
    assert out["aiohttp"] is False and out["deferred"] is True
    assert out["status"] == 200 and out["body"] == {"ok": True}
    assert out["after_aiohttp"] is True and out["after_deferred"] is False
    assert out["real_file"].endswith(os.path.join("azure", "durable_functions", "models", "utils", "http_utils.py"))
    assert out["same"] is True


#: What ``alert handle`` must leave unimported (see the test below) and the runbooks it must have loaded.
HEAVY = ("aiohttp", "firestop.runtime.management", "firestop.runtime.inprocess", "firestop.audit.registry",
         "firestop.audit.controls", "runbooks.apim", "runbooks.auth", "runbooks.defender", "runbooks.deployment",
         "runbooks.entra", "runbooks.identity", "runbooks.network_narrow", "runbooks.notify", "runbooks.sentinel",
         "firestop.sandbox.deployments.engine", "firestop.sandbox.deployments.expressions",
         "firestop.alerts.large", "werkzeug.serving", "werkzeug.wrappers", "http.server")
USED = ("runbooks.keys", "runbooks.network", "runbooks.evidence", "runbooks.records")


@pytest.fixture(scope="module")
def handled_fresh(tmp_path_factory) -> dict:
    """``alert handle examples/alerts/leaked-key.json --json`` in a fresh interpreter, with the seed tenant's document
    cached first (as on every run after the first on a machine): its exit code, which of :data:`HEAVY` and
    :data:`USED` it had imported, and its YAML modules. One child for the two start-up guards below (each ran its own
    ``alert handle`` child, ~1.5 s of CPU); the result is plain data, and each test gets its own copy. With the seed
    cache off (``FIRESTOP_SEED_CACHE=off``) nothing is cached first and ``cached`` is false."""
    from firestop.sandbox import seed

    cached = seed._cache_dir() is not None
    home = tmp_path_factory.mktemp("sdk_http")
    if cached:
        _run("import json\nfrom firestop.sandbox.seed import seed_document\nseed_document()\nprint(json.dumps({}))",
             home=home / "warm")
    code = r"""
import json, sys
from firestop.cli.main import main
try:
    main(["alert", "handle", "examples/alerts/leaked-key.json", "--json"])
except SystemExit as done:
    code = done.code
heavy, used = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print(json.dumps({"code": code, "loaded": sorted(m for m in heavy if m in sys.modules),
                  "used": sorted(m for m in used if m in sys.modules),
                  "yaml": sorted(m for m in sys.modules if m == "yaml" or m.startswith("yaml."))}))
"""
    return {"cached": cached, **_run(code, home=home / "home", args=(json.dumps(HEAVY), json.dumps(USED)))}


def test_alert_handle_does_not_import_what_it_does_not_use(handled_fresh):
    """Behaviour guard for start-up cost (issue 18): ``alert handle`` on the sandbox drives the local host in
    process, so aiohttp (the Durable client's HTTP, two TLS contexts built at import), the management server and
    the audit controls stay unimported; so do the runbooks its playbook (leaked-api-key: keys.rotate, network.lock,
    evidence.snapshot_logs; records.file files the record) does not run — other playbooks' steps are checked by
    runbook name only (runbooks.registry.SHIPPED) — the sandbox's ARM template engine (no deployment) and the
    large-body path (a 2 KB alert), and werkzeug's development server and wrappers (its package
    ``__init__``, deferred by firestop.runtime.sdk_werkzeug: azure.functions needs only submodules). The
    incident is still handled, with the runbooks it ran loaded. (msgspec itself is loaded: the sandbox's KQL nodes and
    the local host's records are msgspec Structs, ~18 M instructions of import against ~96 M of dataclass classes
    they replace — startup16b.)"""
    out = copy.deepcopy(handled_fresh)
    assert out["code"] == 0
    assert out["loaded"] == []
    assert out["used"] == ["runbooks.evidence", "runbooks.keys", "runbooks.network", "runbooks.records"]


def test_alert_handle_parses_no_yaml_when_the_seed_cache_holds_the_tenant(handled_fresh):
    """Behaviour guard for start-up cost (issue 18): with the seed tenant's document cached (every run after the
    first on a machine) ``alert handle`` routes with the shipped playbooks' compiled documents
    (firestop/playbooks/compiled.py) and imports no YAML parser (~26 ms of CPU); the incident is still handled."""
    if not handled_fresh["cached"]:
        pytest.skip("the seed cache is off (FIRESTOP_SEED_CACHE=off): the seed tenant is parsed from YAML")
    out = copy.deepcopy(handled_fresh)
    assert {"code": out["code"], "yaml": out["yaml"]} == {"code": 0, "yaml": []}
