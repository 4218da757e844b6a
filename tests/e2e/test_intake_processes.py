"""Three ``firestop serve`` processes on one FIRESTOP_HOME, one storm: one incident per resource.

Each process has its own intake memory (locks, memo); only the shared Durable store (SQLite) can
make "one incident per attack" hold. The storm is spread over the three servers round-robin, every
resource's alerts arriving at all three at once; afterwards the store must hold exactly one
incident per resource, every alert answered 202 and recorded on the incident of its resource (as
the starting alert or in a batch signalled to its tally entity, ``firestop.lifecycle.tally``), nothing
in its history for joined alerts, and no alert answered with two incidents.
"""

from __future__ import annotations

import copy
import json
import os
import select
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from firestop.intake.events import TALLY_ENTITY, alert_digest
from firestop.lifecycle.tally import tracked
from firestop.settings import REPO_ROOT

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX pipes")

KEY = "local-test-key-0123456789"
GUARD_S = 60.0
SUB = "/subscriptions/11111111-2222-3333-4444-555555555555"
RESOURCES = [f"{SUB}/resourceGroups/rg-storm/providers/Microsoft.CognitiveServices/accounts/storm-{i}" for i in range(3)]


def start_serve(home: Path, err) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items()
           if k not in ("FIRESTOP_KEY_VAULT_URL", "FIRESTOP_LOG_WORKSPACE_ID", "FIRESTOP_PLAYBOOKS")}
    # realtime factor 10: containment takes minutes of wall time, so the incidents stay open through the storm
    env.update(FIRESTOP_HOME=str(home), FIRESTOP_FUNCTION_KEY=KEY, PYTHONUNBUFFERED="1")
    return subprocess.Popen([sys.executable, "-m", "firestop", "serve", "--port", "0", "--realtime-factor", "10"],
                            cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=err, bufsize=0)


def wait_for_address(proc: subprocess.Popen) -> str:
    buffer, deadline = b"", time.monotonic() + GUARD_S
    while True:
        ready, _, _ = select.select([proc.stdout], [], [], max(0.0, deadline - time.monotonic()))
        chunk = os.read(proc.stdout.fileno(), 65536) if ready else b""
        if not chunk:
            pytest.fail(f"firestop serve did not start: {buffer.decode(errors='replace')[-2000:]}")
        buffer += chunk
        for line in buffer.decode(errors="replace").splitlines():
            if line.startswith("Listening on "):
                return line.split()[2]


def post(base: str, body: bytes) -> tuple[int, dict]:
    request = urllib.request.Request(f"{base}/api/alerts", data=body, method="POST",
                                     headers={"Content-Type": "application/json", "x-functions-key": KEY})
    try:
        with urllib.request.urlopen(request, timeout=GUARD_S) as response:  # noqa: S310 - loopback test servers
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, {}


def test_three_serve_processes_on_one_store_open_one_incident_per_resource(tmp_path):
    from firestop.runtime.store import Store
    from firestop.settings import Settings

    home = tmp_path / "home"
    errors = [open(tmp_path / f"serve-{i}.err", "wb") for i in range(3)]
    procs = [start_serve(home, err) for err in errors]
    try:
        bases = [wait_for_address(proc) for proc in procs]
        base_body = json.loads((REPO_ROOT / "examples" / "alerts" / "leaked-key.json").read_text())
        plan = []
        for i in range(36):  # alert i: resource i % 3, sent to another server than the last alert of its resource
            body = copy.deepcopy(base_body)
            body["data"]["essentials"]["alertId"] = f"{SUB}/providers/Microsoft.AlertsManagement/alerts/storm-{i}"
            body["data"]["essentials"]["alertTargetIDs"] = [RESOURCES[i % 3]]
            plan.append((bases[(i // 3 + i) % 3], body["data"]["essentials"]["alertId"], json.dumps(body).encode()))
        plan += [plan[i] for i in range(0, 36, 5)]  # repeats
        with ThreadPoolExecutor(max_workers=12) as pool:
            answers = list(pool.map(lambda p: (p[1], *post(p[0], p[2])), plan))
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()
        for err in errors:
            err.close()

    assert {status for _, status, _ in answers} == {202}, answers
    by_alert: dict[str, set[str]] = {}
    for alert_id, _, body in answers:
        assert set(body) == {"deliveryId", "statusUri"}, body  # the same answer whatever intake did (intake16)
        by_alert.setdefault(alert_id, set()).add(body["deliveryId"])
    assert all(len(ids) == 1 for ids in by_alert.values())  # a repeat gets the same delivery, whichever process

    store = Store(Settings.from_env(home=home).durable_db)
    try:
        incidents = [r for r in store.all_instances() if r.name == "incident_orchestrator"]
        assert len(incidents) == 3
        assert sorted(json.loads(r.input)["alert"]["target_ids"][0] for r in incidents) == sorted(RESOURCES)
        recorded: set[str] = set()  # alert_digest of every alert recorded on an incident
        for row in incidents:
            recorded.add(alert_digest(json.loads(row.input)["alert"]["alert_id"]))
            # joined alerts: in the incident's tally entity once its batch ran, else still queued for it
            entity = f"@{TALLY_ENTITY}@{row.instance_id}"
            found = store.get_entity(entity)
            if found is not None and found[1]:
                recorded.update(tracked(json.loads(found[1])))
            for op in store.entity_ops(entity, 100_000):
                data = json.loads(op.input)
                while isinstance(data, str):
                    data = json.loads(data)
                recorded.update(alert_digest(i) for i in data["alert_ids"])
            # and nothing went into the incident's history
            assert not any(e.get("Name") == "alert_correlated" for e in store.load_history(row.instance_id))
        assert recorded == {alert_digest(a) for a in by_alert}  # 0 lost
    finally:
        store.close()
