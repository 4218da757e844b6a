"""``python -m firestop serve`` as a real process: POST a Common Alert Schema payload to /api/alerts.

The test learns the server's address from the ``Listening on`` line it prints
(read through a pipe), then talks HTTP to it like Azure Monitor and a
responder would. Polling the status URL is the Durable HTTP async pattern
itself, not a stand-in for synchronisation.
"""

from __future__ import annotations

import json
import os
import re
import select
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from firestop.settings import REPO_ROOT

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals and select on pipes")

EXAMPLE = REPO_ROOT / "examples" / "alerts" / "leaked-key.json"
KEY = "local-test-key-0123456789"
GUARD_S = 60.0


def call(url: str, *, method: str = "GET", body: bytes | None = None, headers: dict | None = None):
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=GUARD_S) as response:  # noqa: S310 - loopback test server
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


@pytest.fixture
def served(tmp_path: Path):
    """A running ``firestop serve`` (port 0, key from the environment); yields (base_url, process, stdout lines)."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("FIRESTOP_KEY_VAULT_URL", "FIRESTOP_LOG_WORKSPACE_ID", "FIRESTOP_PLAYBOOKS")}
    env.update(FIRESTOP_HOME=str(tmp_path / "home"), FIRESTOP_FUNCTION_KEY=KEY, PYTHONUNBUFFERED="1")
    err = open(tmp_path / "serve.err", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "firestop", "serve", "--port", "0", "--realtime-factor", "0"],
                            cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=err, bufsize=0)
    lines: list[str] = []
    buffer = b""
    deadline = time.monotonic() + GUARD_S
    base = None
    while base is None:
        ready, _, _ = select.select([proc.stdout], [], [], max(0.0, deadline - time.monotonic()))
        chunk = os.read(proc.stdout.fileno(), 65536) if ready else b""
        if not chunk:
            proc.kill()
            proc.wait()
            pytest.fail(f"firestop serve did not start: {b''.join([buffer]).decode()}\n"
                        f"{(tmp_path / 'serve.err').read_text(errors='replace')[-3000:]}")
        buffer += chunk
        while b"\n" in buffer:
            line, buffer = buffer.split(b"\n", 1)
            lines.append(line.decode())
            if lines[-1].startswith("Listening on "):
                base = lines[-1].split()[2]
    try:
        yield base, proc, lines
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        err.close()


def test_alert_webhook_with_a_function_key_completes_and_the_status_route_says_received(served, tmp_path):
    base, proc, lines = served
    assert base.startswith("http://127.0.0.1:")
    assert "Function key (environment): " + KEY in lines
    assert any("post_alert: [POST] " + base + "/api/alerts  (function key (function level))" in line for line in lines)
    # the people's routes print the role their function checks, never a bare "anonymous"
    assert any("decide_http: [POST] " in line and line.endswith("(role approver; caller: loopback; a claimed identity also "
                                                                  "needs the function key)") for line in lines), lines
    assert not any("anonymous" in line or "public:" in line or "NO ROLE" in line for line in lines), lines
    # times as every command writes them (firestop.times.instant): the timers' next run and the sandbox clock
    stamp = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d UTC"
    timers = [line for line in lines if ": timer '" in line]
    assert timers and all(re.search(rf", next {stamp}$", line) for line in timers), timers
    assert any(re.search(rf"clock: sandbox virtual clock at {stamp}, ", line) for line in lines), lines
    payload = EXAMPLE.read_bytes()
    json_type = {"Content-Type": "application/json"}

    code, _, body = call(f"{base}/api/alerts", method="POST", body=payload, headers=json_type)
    assert (code, body) == (401, b"")  # no key
    assert call(f"{base}/api/alerts?code=wrong", method="POST", body=payload, headers=json_type)[0] == 401

    code, headers, body = call(f"{base}/api/alerts", method="POST", body=payload,
                               headers={**json_type, "x-functions-key": KEY})
    assert code == 202, body
    links = json.loads(body)
    assert set(links) == {"deliveryId", "statusUri"} and links["deliveryId"].startswith("dlv-")  # no incident named
    assert headers["Location"] == links["statusUri"]
    assert links["statusUri"].startswith(f"{base}/api/alerts/{links['deliveryId']}/status?token=")
    assert "code=" not in body.decode() and "runtime/webhooks" not in body.decode()
    code, _, body = call(links["statusUri"], headers={"x-functions-key": KEY})
    assert (code, json.loads(body)["status"]) == (200, "received")  # the delivery was taken; nothing of the incident

    from firestop.records.store import filed_record
    from firestop.runtime.store import Store
    from firestop.settings import Settings

    settings = Settings.from_env(home=tmp_path / "home")  # serve's FIRESTOP_HOME (the fixture's)
    deadline = time.monotonic() + GUARD_S  # the server's own driver runs the incident; its store says how far
    while True:
        store = Store(settings.durable_db)
        try:
            rows = [r for r in store.all_instances() if r.name == "incident_orchestrator"]
        finally:
            store.close()
        if rows and rows[0].runtime_status not in ("Pending", "Running"):
            break
        assert time.monotonic() < deadline, rows
        time.sleep(0.05)  # polling a background process: the deadline bounds it
    assert [r.runtime_status for r in rows] == ["Completed"]
    assert filed_record(settings, rows[0].instance_id)["status"] == "contained"
    assert call(links["statusUri"])[0] == 401  # the sender's own key, nothing in the link
    bare = links["statusUri"].split("?", 1)[0]
    assert call(bare, headers={"x-functions-key": KEY})[0] == 403  # the key alone reads nothing
    again = call(f"{base}/api/alerts?code={KEY}", method="POST", body=payload, headers=json_type)
    assert again[0] == 202 and json.loads(again[2]) == links  # redelivery: the same answer

    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=GUARD_S) == 0
    rest = proc.stdout.read().decode()
    assert "Stopped (SIGTERM)." in rest


def test_sandbox_reset_refuses_while_serve_runs_on_the_same_home(served, tmp_path, monkeypatch):
    """serve holds FIRESTOP_HOME/serve.<pid>.lock; reset names the pid and refuses (exit 2) unless --force;
    once serve has stopped (Ctrl+C), reset runs."""
    from typer.testing import CliRunner

    from firestop.cli.main import app

    base, proc, _ = served
    monkeypatch.setenv("FIRESTOP_HOME", str(tmp_path / "home"))
    refused = CliRunner().invoke(app, ["sandbox", "reset", "--json"])
    assert refused.exit_code == 2, refused.output
    error = json.loads(refused.stdout)["error"]
    assert f"pid {proc.pid} ({base})" in error and "--force" in error
    forced = CliRunner().invoke(app, ["sandbox", "reset", "--force", "--json"])
    assert forced.exit_code == 0 and json.loads(forced.stdout)["reset"] is True
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=GUARD_S) == 0
    assert not list((tmp_path / "home").glob("serve.*.lock"))
    assert CliRunner().invoke(app, ["sandbox", "reset"]).exit_code == 0


def test_a_lock_left_by_a_killed_serve_does_not_refuse(tmp_path):
    """kill -9 leaves the file, not the lock: it is not a running server, and the file is cleared."""
    from firestop.cli import serve_lock

    child = subprocess.Popen([sys.executable, "-c", "import sys, pathlib; from firestop.cli import serve_lock; "
                              "h = serve_lock.hold(pathlib.Path(sys.argv[1]), url='http://x'); print('held', flush=True); "
                              "sys.stdin.read()", str(tmp_path)], cwd=REPO_ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert child.stdout.readline() == b"held\n"
        assert serve_lock.running(tmp_path) == [{"pid": child.pid, "url": "http://x"}]
    finally:
        child.kill()
        child.wait()
    assert list(tmp_path.glob("serve.*.lock")) and serve_lock.running(tmp_path) == []
    assert not list(tmp_path.glob("serve.*.lock"))
