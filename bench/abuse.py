"""Abuse benchmark of ``firestop serve``: route fuzz, connection burst, slow bodies, sequential latency.

Run: ``python bench/abuse.py [fuzz|burst|slow|latency|all] [--repo PATH] [options]`` (default ``all``).

Each part starts ``python -m firestop serve --port 0 --realtime-factor 0`` as a
child process on loopback (fresh ``FIRESTOP_HOME``, key from
``FIRESTOP_FUNCTION_KEY``) from the checkout ``--repo`` (default: this one), so
the same script measures a baseline side by side: ``--repo /work/main``.

* **fuzz** — ``--requests`` (10,000) raw HTTP/1.1 requests on ``--concurrency``
  (16) client threads, each on its own connection: random methods (incl.
  unknown tokens), paths built from the app's routes with hostile segments
  (dot segments raw and percent-encoded, encoded ``/`` ``\\`` NUL CR LF,
  broken escapes, very long segments, doubled slashes), with and without the
  function key, with a valid / garbage / missing principal header, bodies
  that are valid alerts, hostile alerts (segmentless targets, year-9999 and
  year-1 times, a window from years back, markup in names), deep nesting
  (100,000 levels), invalid UTF-8, random bytes, and a ``Content-Length``
  over the server's body limit. Goal: every answer 2xx/4xx — reports the
  count by status class, **5xx** and **no answer** (connection closed or
  reset without a status line).
* **burst** — ``--connections`` (1,000) TCP connections opened at once, then
  a ``GET`` on each; reports connections **reset or refused** (goal 0) and
  how many were answered.
* **slow** — ``--slow`` (300) requests declaring ``Content-Length: 100`` and
  sending 10 bytes; reports the server's thread count while they hang
  (``/proc/<pid>/status``) and how they end (408 after the body timeout).
* **latency** — ``--sequential`` (200) webhooks one after another on one
  kept-alive connection (the same alert: the first starts the incident, the
  rest are duplicates), p50/p90 in ms — Nagle's algorithm plus delayed ACKs
  show here when a server writes headers and body in two sends.

A benchmark, not a test: it reports; exit 1 when the fuzz saw a 5xx or no
answer, or the burst saw a reset.
"""

from __future__ import annotations

import argparse
import base64
import concurrent.futures
import json
import os
import random
import select
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]
KEY = "bench-abuse-key-0123456789"
EXAMPLE = HERE / "examples" / "alerts" / "leaked-key.json"
ACCOUNT = ("/subscriptions/11111111-2222-3333-4444-555555555555/resourcegroups/rg-ai-prod/providers/"
           "microsoft.cognitiveservices/accounts/contoso-openai-prod")


# ---------------------------------------------------------------- the server
class Served:
    """``firestop serve`` in a child process; ``.port``, ``.pid``; stop with :meth:`close`."""

    def __init__(self, repo: Path) -> None:
        self.home = tempfile.mkdtemp(prefix="firestop-abuse-")
        env = {k: v for k, v in os.environ.items()
               if k not in ("FIRESTOP_KEY_VAULT_URL", "FIRESTOP_LOG_WORKSPACE_ID", "FIRESTOP_PLAYBOOKS")}
        env.update(FIRESTOP_HOME=self.home, FIRESTOP_FUNCTION_KEY=KEY, PYTHONUNBUFFERED="1", PYTHONPATH=str(repo))
        self.err = open(Path(self.home) / "serve.err", "wb")
        self.proc = subprocess.Popen([sys.executable, "-m", "firestop", "serve", "--port", "0", "--realtime-factor", "0"],
                                     cwd=repo, env=env, stdout=subprocess.PIPE, stderr=self.err, bufsize=0)
        self.pid = self.proc.pid
        buffer, deadline = b"", time.monotonic() + 120
        while True:
            ready, _, _ = select.select([self.proc.stdout], [], [], max(0.0, deadline - time.monotonic()))
            chunk = os.read(self.proc.stdout.fileno(), 65536) if ready else b""
            if not chunk:
                self.close()
                raise SystemExit(f"firestop serve did not start:\n{(Path(self.home) / 'serve.err').read_text()[-2000:]}")
            buffer += chunk
            for line in buffer.decode(errors="replace").splitlines():
                if line.startswith("Listening on "):
                    self.port = int(line.split()[2].rsplit(":", 1)[1])
                    return

    def threads(self) -> int:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("Threads:"):
                return int(line.split()[1])
        return -1

    def tracebacks(self) -> int:
        self.err.flush()
        return (Path(self.home) / "serve.err").read_text(errors="replace").count("Traceback")

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.err.close()


# ---------------------------------------------------------------- requests
def raw_exchange(port: int, request: bytes, timeout: float = 60.0) -> int | None:
    """Send ``request`` on a new connection; the answer's status code, or None (closed/reset without one)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as conn:
            conn.sendall(request)
            data = b""
            while b"\r\n" not in data:
                chunk = conn.recv(4096)
                if not chunk:
                    break
                data += chunk
    except OSError:
        return None
    parts = data.split(b" ", 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/") or not parts[1].isdigit():
        return None
    return int(parts[1])


def principal(object_id: str) -> str:
    claims = [{"typ": "http://schemas.microsoft.com/identity/claims/objectidentifier", "val": object_id}]
    return base64.b64encode(json.dumps({"auth_typ": "aad", "claims": claims}).encode()).decode()


_SEGMENTS = [".", "..", "%2e", "%2E%2e", "%2f", "a%2fb", "%5c", "%00", "%0a", "%0d%0a", "%25", "%zz", "%",
             "%C3%A9", "%ff", "inc-33906e911c7aff74", "inc-0000000000000000", "x" * 3000, "", "~", "'", "%22",
             "<script>", "%3Cimg%20src%3Dx%3E", "a;b", "a?b", "network.lock", "keys.revoke", "records.file",
             "tabletop_timer", "snapshot-logs", "-", "0", "%20", "+"]
_ROUTES = ["/api/alerts", "/api/incidents", "/api/incidents/{}", "/api/incidents/{}/approvals/{}", "/api/runbooks/{}",
           "/runtime/webhooks/durabletask/instances/{}", "/runtime/webhooks/durabletask/instances/{}/raiseEvent/{}",
           "/runtime/webhooks/durabletask/instances/{}/terminate", "/admin/functions/{}", "/{}", "/api/{}/{}",
           "/durabletask/instances/{}"]
_PLAUSIBLE = [("POST", "/api/alerts"), ("POST", "/api/alerts"), ("POST", "/api/alerts"), ("GET", "/api/incidents"),
              ("GET", "/api/incidents/{}"), ("POST", "/api/incidents/{}/approvals/{}"), ("POST", "/api/runbooks/{}"),
              ("GET", "/runtime/webhooks/durabletask/instances/{}"), ("POST", "/runtime/webhooks/durabletask/instances/{}/raiseEvent/{}"),
              ("POST", "/admin/functions/{}")]
_METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "FOO", "get", "TRACE", "CONNECT"]


def _alert(rng: random.Random) -> dict:
    doc = json.loads(EXAMPLE.read_text())
    essentials = doc["data"]["essentials"]
    essentials["alertId"] = f"/subscriptions/x/providers/Microsoft.AlertsManagement/alerts/bench-{rng.randrange(8)}"
    hostile = rng.randrange(10)
    condition = doc["data"]["alertContext"]["condition"]
    if hostile == 0:
        essentials["alertTargetIDs"] = [rng.choice(["/", "///", " / ", "", "//x//"])]
    elif hostile == 1:
        essentials["firedDateTime"] = rng.choice(["9999-12-31T23:59:59Z", "0001-01-01T00:30:00Z", "2026-13-45T99:00:00Z"])
    elif hostile == 2:
        condition["windowEndTime"] = "9999-12-31T23:59:59Z"
    elif hostile == 3:
        condition["windowStartTime"] = rng.choice(["0001-01-01T00:00:00Z", "2020-01-01T00:00:00Z", "2026-10-29T03:00:00Z"])
    elif hostile == 4:
        essentials["alertRule"] = "aoai-leaked-key-<img src=x onerror=alert(1)>[x](javascript:alert(1))\r# H\r<script>"
        essentials["alertId"] += "`\n# injected"
    elif hostile == 5:
        essentials["monitorCondition"] = rng.choice(["Resolved", "Maybe", None, 7])
    return doc


def _body(rng: random.Random) -> tuple[bytes, int | None]:
    """(body, declared Content-Length or None for the true length)."""
    kind = rng.randrange(9)
    if kind == 0:
        return b"", None
    if kind in (1, 2):
        return json.dumps(_alert(rng)).encode(), None
    if kind == 3:
        depth = rng.choice([65, 1000, 100_000])
        return (b"[" * depth + b"]" * depth) if rng.random() < 0.5 else (b'{"a":' * depth + b"1" + b"}" * depth), None
    if kind == 4:
        return bytes(rng.randrange(256) for _ in range(rng.randrange(1, 200))), None
    if kind == 5:
        return b'{"decision": "approve", "comment": "\\r# H\\r<script>", "by": "oid-carol"}', None
    if kind == 6:
        return json.dumps({"target": rng.choice([ACCOUNT, "/", "../../etc", None, 7]), "mode": rng.choice(["plan", "apply", "x"]),
                           "params": rng.choice([{}, [], {"mode": "deny_by_default"}, "x"])}).encode(), None
    if kind == 7:
        return b"{}", rng.choice([10 * 1024 * 1024, 2**40, 99999999999999])  # declared far over the limit
    return b'{"a": 1e999999, "b": NaN, "c": ' + b"9" * 5000 + b"}", None


def fuzz_request(rng: random.Random) -> tuple[bytes, bool]:
    """One raw request and whether it carries a principal header deep enough to be the principal parser's case."""
    plausible = rng.random() < 0.6  # a real route, its method and the key, with hostile values inside
    if plausible:
        method, route = rng.choice(_PLAUSIBLE)
        segments = _SEGMENTS[15:] if rng.random() < 0.7 else _SEGMENTS
    else:
        method, route, segments = rng.choice(_METHODS), rng.choice(_ROUTES), _SEGMENTS
    path = route.format(*(rng.choice(segments) for _ in range(route.count("{}"))))
    if not plausible and rng.random() < 0.2:
        path = path.replace("/", rng.choice(["//", "/./", "/%2e/", "/"]), 1)
    query = rng.choice(["", f"?code={KEY}", "?code=wrong", "?status=contained", "?%zz=%zz", "?a=" + "b" * 2000, "?code="])
    headers = {"Host": rng.choice(["127.0.0.1", "evil.example", "[::1]:1", "a b", ""])}
    if plausible or rng.random() < 0.6:
        headers["x-functions-key"] = KEY
    choice = rng.randrange(5)
    if choice == 0:
        headers["X-MS-CLIENT-PRINCIPAL"] = principal(rng.choice(["oid-alice", "oid-x\nWARNING forged", "oid-carol"]))
    elif choice == 1:
        headers["X-MS-CLIENT-PRINCIPAL"] = rng.choice(["!!!", "e30=", base64.b64encode(b"[1,2]").decode(), ""])
    headers["Content-Type"] = rng.choice(["application/json"] * 6 + ["text/plain", "application/json; charset=latin-1", ""])
    body, declared = _body(rng)
    headers["Content-Length"] = str(declared if declared is not None else len(body))
    if rng.random() < 0.05:
        headers["Content-Length"] = rng.choice(["-1", "abc", "1, 2"])
        body = b""
    head = f"{method} {path}{query} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "Connection: close\r\n\r\n"
    return head.encode("utf-8", "surrogateescape") + (b"" if declared is not None else body), False


def run_fuzz(port: int, requests: int, concurrency: int, seed: int = 11, timeout: float = 60.0) -> dict:
    rng = random.Random(seed)
    batch = [fuzz_request(rng)[0] for _ in range(requests)]
    statuses: dict[str, int] = {}
    codes: dict[str, int] = {}
    fives: list[str] = []
    started = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(concurrency) as pool:
        for request, status in zip(batch, pool.map(lambda r: raw_exchange(port, r, timeout), batch)):
            label = "no answer" if status is None else f"{status // 100}xx"
            statuses[label] = statuses.get(label, 0) + 1
            codes[str(status)] = codes.get(str(status), 0) + 1
            if status is None or status >= 500:
                fives.append(f"{status}: {request[:160]!r}")
    return {"requests": requests, "by_class": dict(sorted(statuses.items())), "by_status": dict(sorted(codes.items())), "5xx": sum(1 for f in fives if not f.startswith("None")),
            "no_answer": statuses.get("no answer", 0), "examples": fives[:10],
            "seconds": round(time.perf_counter() - started, 1)}


# ---------------------------------------------------------------- burst
def run_burst(port: int, connections: int) -> dict:
    """Open ``connections`` sockets at once (non-blocking connects), then GET on each; count resets/refusals."""
    socks, refused = [], 0
    for _ in range(connections):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        err = s.connect_ex(("127.0.0.1", port))
        if err not in (0, 115, 11):  # EINPROGRESS, EAGAIN
            refused += 1
            s.close()
            continue
        socks.append(s)
    request = b"GET /api/incidents HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    answered, reset = 0, 0

    def finish(s: socket.socket) -> str:
        try:
            s.setblocking(True)
            s.settimeout(120)
            s.sendall(request)
            data = s.recv(64)
            return "answered" if data.startswith(b"HTTP/1.1 ") else "reset"
        except (ConnectionResetError, ConnectionRefusedError, BrokenPipeError):
            return "reset"
        except OSError:
            return "reset"
        finally:
            s.close()

    with concurrent.futures.ThreadPoolExecutor(64) as pool:
        for outcome in pool.map(finish, socks):
            if outcome == "answered":
                answered += 1
            else:
                reset += 1
    return {"connections": connections, "answered": answered, "reset_or_refused": reset + refused}


# ---------------------------------------------------------------- slow bodies
def run_slow(served: Served, count: int) -> dict:
    before = served.threads()
    socks = []
    for _ in range(count):
        s = socket.create_connection(("127.0.0.1", served.port), timeout=120)
        s.sendall(b"POST /api/alerts HTTP/1.1\r\nHost: 127.0.0.1\r\nx-functions-key: " + KEY.encode()
                  + b"\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n0123456789")
        socks.append(s)
    time.sleep(2.0)  # let the server pick up what it will
    during = served.threads()
    started = time.monotonic()
    outcomes: dict[str, int] = {}
    deadline = started + 60.0  # a server without a body timeout holds them forever: stop looking after a minute
    for s in socks:
        try:
            s.settimeout(max(0.01, deadline - time.monotonic()))
            data = s.recv(64)
            key = data.split(b" ")[1].decode() if data.startswith(b"HTTP/") else "closed"
        except TimeoutError:
            key = "still hanging after 60 s"
        except OSError:
            key = "reset"
        outcomes[key] = outcomes.get(key, 0) + 1
        s.close()
    return {"requests": count, "threads_before": before, "threads_while_hanging": during,
            "outcomes": outcomes, "all_ended_after_s": round(time.monotonic() - started + 2.0, 1)}


# ---------------------------------------------------------------- latency
def run_latency(port: int, count: int) -> dict:
    import http.client

    body = EXAMPLE.read_bytes()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    times = []
    for _ in range(count):
        started = time.perf_counter()
        conn.request("POST", "/api/alerts", body=body, headers={"x-functions-key": KEY, "Content-Type": "application/json"})
        response = conn.getresponse()
        response.read()
        times.append((time.perf_counter() - started) * 1000)
        if response.status >= 300:
            raise SystemExit(f"latency: unexpected {response.status}")
    conn.close()
    times.sort()
    return {"requests": count, "p50_ms": round(statistics.median(times), 1), "p90_ms": round(times[int(0.9 * len(times))], 1)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("part", nargs="?", default="all", choices=["fuzz", "burst", "slow", "latency", "all"])
    parser.add_argument("--repo", type=Path, default=HERE, help="checkout whose firestop serve is measured")
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--connections", type=int, default=1_000)
    parser.add_argument("--slow", type=int, default=300)
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds a fuzz request may wait for its answer")
    parser.add_argument("--sequential", type=int, default=200)
    args = parser.parse_args(argv)
    report: dict = {"repo": str(args.repo)}
    parts = ["latency", "burst", "fuzz", "slow"] if args.part == "all" else [args.part]
    failed = False
    for part in parts:
        served = Served(args.repo)
        try:
            if part == "fuzz":
                report[part] = run_fuzz(served.port, args.requests, args.concurrency, timeout=args.timeout)
                report[part]["server_tracebacks"] = served.tracebacks()
                failed |= bool(report[part]["5xx"] or report[part]["no_answer"])
            elif part == "burst":
                report[part] = run_burst(served.port, args.connections)
                failed |= bool(report[part]["reset_or_refused"])
            elif part == "slow":
                report[part] = run_slow(served, args.slow)
            else:
                report[part] = run_latency(served.port, args.sequential)
        finally:
            served.close()
        print(json.dumps({part: report[part]}), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
