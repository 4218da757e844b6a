"""Fixtures for the trust attack suite: the responders' API in-process (as firestop serve would call it) on a
sandbox with one real, finished incident."""

from __future__ import annotations

import contextlib
import json
import os
import select
import subprocess
import sys
import time

import azure.functions as func
import pytest

from firestop.settings import REPO_ROOT
from firestop.trust import encode_principal, stamp_peer

EXAMPLE = REPO_ROOT / "examples" / "alerts" / "leaked-key.json"
SUB = "/subscriptions/11111111-2222-3333-4444-555555555555"
ACCOUNT = SUB + "/resourceGroups/rg-ai-prod/providers/Microsoft.CognitiveServices/accounts/contoso-openai-prod"
INCIDENT = "inc-33906e911c7aff74"

#: route function -> (method, url, route values, body) of a well-formed call, and the role it needs.
ROUTES = {
    "list_incidents_http": ("GET", "incidents", {}, None, "reader"),
    "get_incident_http": ("GET", f"incidents/{INCIDENT}", {"incident_id": INCIDENT}, None, "reader"),
    "decide_http": ("POST", f"incidents/{INCIDENT}/approvals/lock-network", {"incident_id": INCIDENT, "step": "lock-network"},
                    {"decision": "approve"}, "approver"),
    "run_runbook_http": ("POST", "runbooks/network.lock", {"name": "network.lock"}, {"target": ACCOUNT, "mode": "apply"},
                         "responder"),
    "stop_http": ("POST", f"incidents/{INCIDENT}/stop", {"incident_id": INCIDENT}, {"reason": "drill"}, "responder"),
    # the web console (HTML for browsers; refusals as JSON for a client that accepts only JSON, as Api.call does)
    "console_home": ("GET", "console", {}, None, "reader"),
    "console_incident": ("GET", f"console/incidents/{INCIDENT}", {"incident_id": INCIDENT}, None, "reader"),
    "console_decide": ("POST", f"console/incidents/{INCIDENT}/approvals/lock-network",
                       {"incident_id": INCIDENT, "step": "lock-network"}, {"decision": "approve"}, "approver"),
    "console_undo": ("POST", f"console/incidents/{INCIDENT}/undo", {"incident_id": INCIDENT}, None, "responder"),
    "console_undo_confirm": ("GET", f"console/incidents/{INCIDENT}/undo", {"incident_id": INCIDENT}, None, "responder"),
    "console_stop_confirm": ("GET", f"console/incidents/{INCIDENT}/stop", {"incident_id": INCIDENT}, None, "responder"),
    "console_stop": ("POST", f"console/incidents/{INCIDENT}/stop", {"incident_id": INCIDENT}, {"reason": "drill"}, "responder"),
    "console_tabletop": ("GET", "console/tabletop", {}, None, "reader"),
    "console_scorecard": ("GET", "console/tabletop/20261129T031440Z-drill-0000", {"run_id": "20261129T031440Z-drill-0000"},
                          None, "reader"),
    # the checklist audit (firestop/functions/audit.py)
    "latest_audit_http": ("GET", "audits/latest", {}, None, "reader"),
    "get_audit_http": ("GET", "audits/audit-20261129T031440Z-ab12", {"audit_id": "audit-20261129T031440Z-ab12"}, None, "reader"),
    "run_audit_http": ("POST", "audits", {}, None, "responder"),
    "audit_controls_http": ("GET", "audits/controls", {}, None, "reader"),
    # remote mode's undo, manual-run undo and ledger check (firestop/functions/http_responders.py)
    "undo_preview_http": ("GET", f"incidents/{INCIDENT}/undo", {"incident_id": INCIDENT}, None, "responder"),
    "undo_http": ("POST", f"incidents/{INCIDENT}/undo", {"incident_id": INCIDENT}, {"step": "lock-network"}, "responder"),
    "manual_run_http": ("GET", "runbook-runs/manual-2026-11-29/api-run-031440-ab12",
                        {"day": "manual-2026-11-29", "step": "api-run-031440-ab12"}, None, "responder"),
    "manual_run_undo_http": ("POST", "runbook-runs/manual-2026-11-29/api-run-031440-ab12/undo",
                             {"day": "manual-2026-11-29", "step": "api-run-031440-ab12"}, {}, "responder"),
    "ledger_verify_http": ("GET", f"ledgers/{INCIDENT}", {"incident_id": INCIDENT}, None, "reader"),
}


class Api:
    """Calls the app's HTTP functions the way firestop serve does (peer stamped), with a chosen principal."""

    def __init__(self, env, server, app) -> None:
        self.env, self.server, self.app = env, server, app

    def call(self, function: str, method: str, url: str, *, who: str | None = "oid-alice", groups=(), app_roles=(),
             body=None, route=None, params=None, peer: str | None = "127.0.0.1", headers=None, raw_principal=None):
        from firestop.runtime import invoke_http_function

        sent = {"content-type": "application/json", "accept": "application/json", **(headers or {})}
        if raw_principal is not None:
            sent["X-MS-CLIENT-PRINCIPAL"] = raw_principal
        elif who:
            sent["X-MS-CLIENT-PRINCIPAL"] = encode_principal(who, groups=tuple(groups), app_roles=tuple(app_roles))
        request = func.HttpRequest(method=method, url=f"http://localhost:7071/api/{url}", headers=stamp_peer(sent, peer),
                                   body=json.dumps(body).encode() if body is not None else b"", route_params=route or {},
                                   params=params or {})
        response = invoke_http_function(self.app, function, request, server=self.server)
        return response.status_code, json.loads(response.get_body() or b"null")

    def has(self, function: str) -> bool:
        from firestop.runtime import FunctionNotFound
        from firestop.runtime.functions import index_app

        try:
            index_app(self.app).function(function)
        except FunctionNotFound:
            return False
        return True

    def route(self, function: str, **kwargs):
        if not self.has(function):
            pytest.fail(f"the app has no {function} route: every route in ROUTES must exist")
        method, url, route, body, _ = ROUTES[function]
        return self.call(function, method, url, route=route, body=body, **kwargs)


@pytest.fixture(scope="session")
def handled_home(tmp_path_factory):
    """A FIRESTOP_HOME in which the leaked-key incident was handled to the end (record filed, ledger written),
    made once per session; each test gets its own copy (:func:`api`)."""
    import os

    from firestop.alerts import parse_alert
    from firestop.cli.incidents import handle_alert
    from firestop.cli.wiring import sandbox_environment
    from firestop.settings import Settings, configure_settings

    home = tmp_path_factory.mktemp("trust") / "home"
    saved = {k: os.environ.pop(k, None) for k in ("FIRESTOP_KEY_VAULT_URL", "FIRESTOP_LOG_WORKSPACE_ID", "FIRESTOP_PLAYBOOKS",
                                                  "FIRESTOP_KEY_SECRET_NAME")}
    try:
        env = sandbox_environment(Settings.from_env(home=home))
        try:
            incident, _ = handle_alert(parse_alert(EXAMPLE.read_bytes()), env=env)
        finally:
            env.close()
    finally:
        os.environ.update({k: v for k, v in saved.items() if v is not None})
        configure_settings(None)
    assert incident["status"] == "contained" and incident["incident_id"] == INCIDENT
    return home


@pytest.fixture
def api(firestop_home, handled_home, monkeypatch):
    """The API on a copy of :func:`handled_home` (as ``firestop_home``), with no Azure markers and no role table set."""
    import shutil

    for name in ("WEBSITE_SITE_NAME", "WEBSITE_INSTANCE_ID", "WEBSITE_AUTH_ENABLED", "FIRESTOP_ROLES"):
        monkeypatch.delenv(name, raising=False)
    shutil.copytree(handled_home, firestop_home, ignore=shutil.ignore_patterns("*.lock"))
    from firestop.cli.wiring import function_app, sandbox_environment
    from firestop.runtime import ManagementServer

    env = sandbox_environment()
    try:
        # entity operations signalled through the API (the console undo's resource lease) run as a backend's
        # entity workers would run them; nothing else is driven
        with ManagementServer(env.host, on_change=env.host.run_entity_operations) as server:
            yield Api(env, server, function_app())
    finally:
        env.close()


def later_exposure_incident(api, tag: str, target: str = ACCOUNT) -> str:
    """Handle a public-network-exposure alert on ``target`` (ACCOUNT: a later incident whose containment relies on
    INCIDENT's lock) after INCIDENT (alert id ending ``tag``), approving its gated step as oid-alice, and return its
    incident id."""
    from firestop.alerts import parse_alert
    from firestop.cli.incidents import handle_alert

    payload = json.loads((REPO_ROOT / "examples" / "alerts" / "public-network-exposure.json").read_text())
    essentials = payload["data"]["essentials"]
    essentials["alertTargetIDs"] = [target]
    essentials["alertId"] = essentials["alertId"].rsplit("/", 1)[0] + "/" + tag
    later, _ = handle_alert(parse_alert(json.dumps(payload).encode()), env=api.env)
    other = later["incident_id"]
    if later["status"] == "awaiting_approval":
        status, decided = api.call("decide_http", "POST", f"incidents/{other}/approvals/disable-local-auth",
                                   who="oid-alice", route={"incident_id": other, "step": "disable-local-auth"},
                                   body={"decision": "approve"})
        assert status == 202, decided
        api.env.host.run_until_idle(other, advance_timers=True)
    return other



def handle_example(home):
    """Handle the leaked-key example alert on the sandbox of ``home`` as ``alert handle`` does, in this process:
    ``(incident, the protected account's resource after it)``. The settings are reset after."""
    from firestop.alerts import parse_alert
    from firestop.cli.incidents import handle_alert
    from firestop.cli.wiring import sandbox_environment
    from firestop.settings import Settings, configure_settings

    env = sandbox_environment(Settings.from_env(home=home))
    try:
        incident, _ = handle_alert(parse_alert(EXAMPLE.read_bytes()), env=env)
        return incident, env.tenant.resource(ACCOUNT)
    finally:
        env.close()
        configure_settings(None)


def snapshot(home, tenant) -> dict:
    """Everything an attack on the incident could change: its record files, ledger and evidence, and the tenant."""
    files = {}
    for folder in ("records", "ledger", "evidence", "notifications"):
        root = home / folder
        if root.exists():
            files.update({str(p.relative_to(home)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
                          and not p.name.endswith(".lock")})
    return {"files": files, "keys": tenant.account_keys(ACCOUNT), "account": tenant.resource(ACCOUNT)}


#: How long :func:`serve_process` waits for a ``serve`` that is alive and has neither said it listens nor ended: a hang
#: guard only (the wait ends on the readiness line, or at once when the process ends), never the synchronisation —
#: under load 15 a start took over 30 s, and a start-time budget failed a serve that was merely slow.
SERVE_HANG_GUARD_S = 600.0


@contextlib.contextmanager
def serve_process(home, *args: str, function_key: str, timeout: float | None = None, extra_env: dict[str, str] | None = None):
    """``python -m firestop serve --port 0 --realtime-factor 0 *args`` in a child process on its own
    FIRESTOP_HOME (``home``; no WEBSITE_*/FIRESTOP_* from this process, then ``extra_env``), until it prints ``Listening on``;
    yields (port, stdout lines so far, stderr path). Terminated (then killed after 20 s) on exit.

    Event-driven: the wait returns on the readiness line, and fails at once — with the exit status and stderr — when
    the process ends first (its stdout reaches end of file); ``timeout`` (default :data:`SERVE_HANG_GUARD_S`) only
    bounds a process that stays alive without either, and its failure says it is still running."""
    home.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WEBSITE_", "FIRESTOP_"))}
    env.update(FIRESTOP_HOME=str(home), FIRESTOP_FUNCTION_KEY=function_key, PYTHONUNBUFFERED="1", **(extra_env or {}))
    err_path = home.parent / f"{home.name}-serve.err"
    guard = SERVE_HANG_GUARD_S if timeout is None else timeout
    with open(err_path, "wb") as err:
        proc = subprocess.Popen([sys.executable, "-m", "firestop", "serve", "--port", "0", "--realtime-factor", "0", *args],
                                cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=err, bufsize=0)
        lines: list[str] = []
        buffer, port = b"", None
        started = time.monotonic()
        try:
            while port is None:  # woken by output or by the end of the process (EOF); the guard only bounds a hang
                left = guard - (time.monotonic() - started)
                ready, _, _ = select.select([proc.stdout], [], [], max(0.0, left))
                if not ready:
                    pytest.fail(f"firestop serve (pid {proc.pid}) is still running after {guard:g} s without 'Listening on' "
                                f"(hang guard):\n{err_path.read_text(errors='replace')[-3000:]}")
                chunk = os.read(proc.stdout.fileno(), 65536)
                if not chunk:  # end of file: the process ended before it listened
                    pytest.fail(f"firestop serve ended (exit status {proc.wait()}) before it listened:\n"
                                f"{err_path.read_text(errors='replace')[-3000:]}")
                buffer += chunk
                while b"\n" in buffer:
                    line, buffer = buffer.split(b"\n", 1)
                    lines.append(line.decode(errors="replace"))
                    if lines[-1].startswith("Listening on "):
                        port = int(lines[-1].split()[2].rsplit(":", 1)[1])
            yield port, lines, err_path
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
