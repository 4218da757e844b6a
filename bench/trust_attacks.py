"""Replay issue 11's management-link attacks against a real ``firestop serve`` and count forged actions accepted.

    python bench/trust_attacks.py [--json]

Starts ``python -m firestop serve`` (port 0, simulated time only through
simulated work) in a fresh temporary ``FIRESTOP_HOME`` on the sandbox tenant,
with the approval-gated leaked-key playbook
(``tabletop/scenarios/playbooks/approval``), then attacks as issue 11 did:

* **sender level** — what an alert sender has: the function key and the 202
  answer. The 202 must carry no Durable management link; every
  ``/runtime/webhooks/durabletask`` route (status, raise event, terminate,
  purge, start, list) must refuse the function key.
* **system-key level** — someone holding the Durable extension's system key
  (``FIRESTOP_HOME/system-key``; before issue 11 the function key was it):
  a forged ``approval:<step>`` event naming an approver, a direct
  ``incident_orchestrator`` start with a pinned playbook (disable local auth
  on ``contoso-openai-dev``) and ``requested_by``, a direct
  ``incident_step_group`` start (lock ``contoso-openai-dev``). Accepted = the
  sandbox tenant changed, or the step was approved.

Then the legitimate path: an approval through ``POST
/api/incidents/{id}/approvals/{step}`` (must approve) and a stop through
``POST /api/incidents/{id}/stop`` (must be recorded). Prints one row per
attack and ``forged actions accepted: N of M`` (goal 0). Runs against any
revision of the repository (no Firestop import beyond the sandbox tenant and
alert parser), so the same script measures before and after.
:func:`run_attacks` is what ``tests/trust/test_attack_serve.py`` asserts on.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import select
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

EXAMPLE = REPO / "examples" / "alerts" / "leaked-key.json"
APPROVAL_PLAYBOOKS = REPO / "tabletop" / "scenarios" / "playbooks" / "approval"
SUB = "/subscriptions/11111111-2222-3333-4444-555555555555"
PROD = f"{SUB}/resourceGroups/rg-ai-prod/providers/Microsoft.CognitiveServices/accounts/contoso-openai-prod"
DEV = f"{SUB}/resourceGroups/rg-ai-dev/providers/Microsoft.CognitiveServices/accounts/contoso-openai-dev"
HOOKS = "/runtime/webhooks/durabletask"
FUNCTION_KEY = "bench-function-key-0123456789"
GUARD_S = 60.0


def call(url: str, *, method: str = "GET", body: Any = None, headers: dict | None = None) -> tuple[int, dict, bytes]:
    data = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode()
    hdrs = {"Content-Type": "application/json", **(headers or {})}
    request = urllib.request.Request(url, data=data, method=method, headers=hdrs)
    try:
        with urllib.request.urlopen(request, timeout=GUARD_S) as response:  # noqa: S310 — loopback server
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def principal(object_id: str, groups: tuple[str, ...] = ()) -> str:
    """The X-MS-CLIENT-PRINCIPAL header App Service would send (local serve reads it as sent)."""
    claims = [{"typ": "http://schemas.microsoft.com/identity/claims/objectidentifier", "val": object_id},
              *({"typ": "groups", "val": g} for g in groups)]
    return base64.b64encode(json.dumps({"auth_typ": "aad", "claims": claims}).encode()).decode()


def start_serve(home: Path, *, err_path: Path) -> tuple[subprocess.Popen, str]:
    """``firestop serve`` on a free port; returns (process, base URL) once it listens."""
    env = {k: v for k, v in os.environ.items() if k not in ("FIRESTOP_KEY_VAULT_URL", "FIRESTOP_LOG_WORKSPACE_ID")}
    # correlation off: every alert is its own incident (one of the same route after a held incident would be
    # recorded onto it, firestop.intake.accept, and the bench needs a second incident waiting for approval)
    env.update(FIRESTOP_HOME=str(home), FIRESTOP_FUNCTION_KEY=FUNCTION_KEY, FIRESTOP_PLAYBOOKS=str(APPROVAL_PLAYBOOKS),
               FIRESTOP_CORRELATION_WINDOW_SECONDS="0", PYTHONUNBUFFERED="1")
    env.pop("FIRESTOP_SYSTEM_KEY", None)
    err = open(err_path, "wb")  # noqa: SIM115 — closed with the process
    proc = subprocess.Popen([sys.executable, "-m", "firestop", "serve", "--port", "0", "--realtime-factor", "0"],
                            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=err, bufsize=0)
    buffer, deadline = b"", time.monotonic() + GUARD_S
    while True:
        ready, _, _ = select.select([proc.stdout], [], [], max(0.0, deadline - time.monotonic()))
        chunk = os.read(proc.stdout.fileno(), 65536) if ready else b""
        if not chunk:
            proc.kill()
            proc.wait()
            raise RuntimeError(f"firestop serve did not start: {buffer.decode(errors='replace')}\n"
                               f"{err_path.read_text(errors='replace')[-2000:]}")
        buffer += chunk
        for line in buffer.decode(errors="replace").splitlines():
            if line.startswith("Listening on "):
                return proc, line.split()[2]


def wait_until(probe, what: str, timeout: float = GUARD_S):
    """Poll ``probe()`` (an HTTP status read: the async pattern, not a sleep standing in for sync) until truthy."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up waiting for {what}")
        time.sleep(0.05)


def run_attacks(base: str, home: Path) -> dict[str, Any]:
    """Every attack once; ``{"rows": [{"attack", "level", "accepted", "detail"}], "legit": {...}, "accepted", "total"}``."""
    from firestop.sandbox.tenant import Tenant

    tenant = Tenant.open(home / "sandbox")
    system_file = home / "system-key"
    admin = system_file.read_text().strip() if system_file.exists() else FUNCTION_KEY  # before issue 11: one key
    fkey = {"x-functions-key": FUNCTION_KEY}
    alice = {**fkey, "X-MS-CLIENT-PRINCIPAL": principal("oid-alice")}
    rows: list[dict[str, Any]] = []

    def row(attack: str, level: str, accepted: bool, detail: str) -> None:
        rows.append({"attack": attack, "level": level, "accepted": bool(accepted), "detail": detail})

    def view(iid: str) -> dict:
        code, _, body = call(f"{base}/api/incidents/{iid}", headers=alice)
        return json.loads(body) if code == 200 else {}

    def alert(alert_id: str) -> tuple[int, dict, bytes]:
        payload = json.loads(EXAMPLE.read_text())
        payload["data"]["essentials"]["alertId"] = f"{SUB}/providers/Microsoft.AlertsManagement/alerts/{alert_id}"
        payload["data"]["customProperties"] = {"firestop-playbook": "leaked-api-key-approval"}
        return call(f"{base}/api/alerts", method="POST", body=payload, headers=fkey)

    seen: set[str] = set()

    def started() -> str:
        """The incident the last alert started, as a responder lists it (the 202 names none since intake16)."""
        def new() -> str | None:
            code, _, body = call(f"{base}/api/incidents", headers=alice)
            fresh = [row["incident_id"] for row in (json.loads(body) if code == 200 else []) if row["incident_id"] not in seen]
            return fresh[0] if fresh else None
        iid = wait_until(new, "the alert's incident to be listed")
        seen.add(iid)
        return iid

    def waiting(iid: str) -> dict | None:
        v = view(iid)
        return v if (v.get("pending_approval") or {}).get("step") == "lock-network" else None

    # -- sender level ------------------------------------------------------------------
    code, headers, raw = alert(str(uuid.uuid4()))
    answer = json.loads(raw)
    iid = started()
    leaked = [v for v in (*answer.values(), headers.get("Location", "")) if isinstance(v, str) and (HOOKS in v or "code=" in v)]
    row("202 answer carries Durable management links", "sender", bool(leaked), f"{code}; links: {len(leaked)}")
    wait_until(lambda: waiting(iid), "the incident to wait for approval of lock-network")
    q = "taskHub=FirestopLocal&connection=Storage"
    probes = [
        ("status", "GET", f"{HOOKS}/instances/{iid}?{q}", None),
        ("list instances", "GET", f"{HOOKS}/instances/?{q}", None),
        ("raise approval event", "POST", f"{HOOKS}/instances/{iid}/raiseEvent/approval:lock-network?{q}",
         {"decision": "approve", "by": "oid-alice"}),
        ("start orchestrator", "POST", f"{HOOKS}/orchestrators/incident_orchestrator/inc-sender-start?{q}", {}),
        ("terminate", "POST", f"{HOOKS}/instances/{iid}/terminate?reason=x&{q}", None),
        ("purge", "DELETE", f"{HOOKS}/instances/{iid}?{q}", None),
    ]
    for name, method, path, body in probes:
        got = call(f"{base}{path}&code={FUNCTION_KEY}", method=method, body=body)[0]
        row(f"function key on durabletask: {name}", "sender", got != 401, f"HTTP {got}")
    still = view(iid)
    if (still.get("pending_approval") or {}).get("step") != "lock-network":
        # the sender-level calls got through (before issue 11): start a fresh incident for the next attacks
        code, _, raw = alert(str(uuid.uuid4()))
        iid = started()
        wait_until(lambda: waiting(iid), "a fresh incident to wait for approval")

    # -- system-key level ------------------------------------------------------------------
    def admin_call(method: str, path: str, body: Any = None) -> int:
        return call(f"{base}{path}?{q}&code={admin}", method=method, body=body)[0]

    def completed(instance: str) -> dict | None:
        code, _, body = call(f"{base}{HOOKS}/instances/{instance}?{q}&code={admin}")
        status = json.loads(body) if body else {}
        return status if status.get("runtimeStatus") in ("Completed", "Failed", "Terminated") else None

    acls_before = tenant.resource(PROD)["properties"]["networkAcls"]["defaultAction"]
    got = admin_call("POST", f"{HOOKS}/instances/{iid}/raiseEvent/approval:lock-network",
                     {"decision": "approve", "by": "oid-alice", "groups": [], "decision_id": uuid.uuid4().hex})

    def settled() -> dict | None:
        v = view(iid)
        pending = v.get("pending_approval") or {}
        if pending.get("step") == "lock-network" and not pending.get("refused_decisions"):
            return None  # not judged yet
        return v

    after = wait_until(settled, "the forged decision to be judged")
    pending = after.get("pending_approval") or {}
    approved = pending.get("step") != "lock-network"  # the gate let the step through
    gate = "passed" if approved else f"still waiting, {pending.get('refused_decisions')} decision(s) refused"
    row("forged approval:lock-network event naming oid-alice", "system key", approved,
        f"raiseEvent HTTP {got}; gate {gate}; networkAcls {acls_before} → {tenant.resource(PROD)['properties']['networkAcls']['defaultAction']}")

    from firestop.alerts import parse_alert

    payload = json.loads(EXAMPLE.read_text())
    payload["data"]["essentials"]["alertTargetIDs"] = [DEV]
    forged_alert = parse_alert(payload).model_dump(mode="json", exclude={"context", "essentials"})
    local_auth_before = tenant.resource(DEV)["properties"].get("disableLocalAuth")
    forged = {"incident_id": "inc-forged-start", "alert": forged_alert, "received_at": "2026-11-29T03:14:40+00:00",
              "sandbox": True, "requested_by": "oid-mallory",
              "playbook": {"name": "pinned", "match": {"rule_names": ["x"]},
                           "contain": [{"id": "disable-auth", "runbook": "auth.disable_local_auth"}]}}
    got = admin_call("POST", f"{HOOKS}/orchestrators/incident_orchestrator/inc-forged-start", forged)
    done = wait_until(lambda: completed("inc-forged-start"), "the forged incident to finish") if got == 202 else {}
    local_auth_after = tenant.resource(DEV)["properties"].get("disableLocalAuth")
    row("direct incident_orchestrator start, pinned playbook + requested_by", "system key",
        local_auth_after != local_auth_before,
        f"start HTTP {got}; output status {(done.get('output') or {}).get('status')!r}; "
        f"dev disableLocalAuth {local_auth_before} → {local_auth_after}")

    dev_acls_before = tenant.resource(DEV)["properties"].get("networkAcls", {}).get("defaultAction")
    group = {"incident_id": "inc-forged-group", "runs": [{"request": {
        "runbook": "network.lock", "action": "apply", "target": DEV, "params": {}, "incident_id": "inc-forged-group",
        "step_id": "lock", "alert": {}}, "retry": {}, "timeout_seconds": None}]}
    got = admin_call("POST", f"{HOOKS}/orchestrators/incident_step_group/grp-forged", group)
    done = wait_until(lambda: completed("grp-forged"), "the forged step group to finish") if got == 202 else {}
    dev_acls_after = tenant.resource(DEV)["properties"].get("networkAcls", {}).get("defaultAction")
    row("direct incident_step_group start (lock contoso-openai-dev)", "system key", dev_acls_after != dev_acls_before,
        f"start HTTP {got}; output {json.dumps(done.get('output'))[:120]}; dev networkAcls {dev_acls_before} → {dev_acls_after}")

    # -- the legitimate paths ------------------------------------------------------------------
    legit: dict[str, Any] = {}
    if waiting(iid):
        code, _, body = call(f"{base}/api/incidents/{iid}/approvals/lock-network", method="POST",
                             body={"decision": "approve", "comment": "bench"}, headers=alice)
        final = wait_until(lambda: (lambda v: v if v.get("status") not in ("awaiting_approval", "running", None) else None)(view(iid)),
                           "the approved incident to finish")
        legit["approval"] = {"http": code, "status": final.get("status"),
                             "networkAcls": tenant.resource(PROD)["properties"]["networkAcls"]["defaultAction"]}
    else:
        legit["approval"] = {"http": None, "status": view(iid).get("status"), "networkAcls": None}
    code, _, raw = alert(str(uuid.uuid4()))
    second = started()
    wait_until(lambda: waiting(second), "a second incident to wait for approval")
    code, _, body = call(f"{base}/api/incidents/{second}/stop", method="POST", body={"reason": "bench: false positive"},
                         headers={**fkey, "X-MS-CLIENT-PRINCIPAL": principal("oid-bob")})
    stopped = {}
    if code == 202:
        stopped = wait_until(lambda: (lambda v: v if v.get("status") not in ("awaiting_approval", "running", None) else None)(view(second)),
                             "the stopped incident to finish")
    legit["stop"] = {"http": code, "status": stopped.get("status"), "stopped": stopped.get("stopped"),
                     "timeline": [e.get("detail") for e in stopped.get("timeline") or [] if e.get("outcome") == "stopped"]}
    accepted = sum(r["accepted"] for r in rows)
    return {"rows": rows, "legit": legit, "accepted": accepted, "total": len(rows)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="firestop-trust-") as tmp:
        home = Path(tmp) / "home"
        proc, base = start_serve(home, err_path=Path(tmp) / "serve.err")
        try:
            result = run_attacks(base, home)
        finally:
            proc.terminate()
            proc.wait(timeout=GUARD_S)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for r in result["rows"]:
            print(f"{'ACCEPTED' if r['accepted'] else 'refused '}  [{r['level']:<10}] {r['attack']}: {r['detail']}")
        print(f"legit approval through the API: {result['legit']['approval']}")
        print(f"stop through the API: {result['legit']['stop']}")
        print(f"forged actions accepted: {result['accepted']} of {result['total']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
