"""What the Defender alert receipt (defender18, :mod:`firestop.records.defender_receipts`) costs a webhook.

Run: ``python bench/defender_receipts.py [--n 200] [--rounds 5]``.

``--n`` distinct Defender for Cloud alerts (``examples/alerts/defender-jailbreak.json`` with its own
``systemAlertId`` each, so every one starts an incident) are posted through ``POST /api/alerts`` in this process
(``firestop.runtime.invoke_http_function`` with the local management API, the sandbox tenant and a fresh
``FIRESTOP_HOME``), in ``--rounds`` interleaved rounds (which goes first alternating): one with the receipt kept (this tree), one with
``http_alerts._keep_receipt`` a no-op (the webhook as before defender18), so a busy machine slows both alike. Prints the
median CPU time (``time.thread_time`` of this thread, plus the management server's thread; a shared machine's other
load does not count) per webhook of each and their ratio, and the receipt's own cost (``keep`` alone on the same
records store). A Common Alert Schema alert pays nothing but a frozenset lookup (not measured).
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    os.environ["FIRESTOP_HOME"] = tempfile.mkdtemp(prefix="bench-d18-", dir="/dev/shm" if Path("/dev/shm").is_dir() else None)

    import azure.functions as func

    from firestop.cli.wiring import function_app, sandbox_environment
    import importlib

    http_alerts = importlib.import_module("firestop.functions.http_alerts")  # (the package exports its Blueprint by that name)
    from firestop.records import defender_receipts
    from firestop.records.store import records_store
    from firestop.runtime import ManagementServer, invoke_http_function
    from firestop.trust.seal import load_seal_key

    base = json.loads((ROOT / "examples" / "alerts" / "defender-jailbreak.json").read_text())
    env = sandbox_environment()
    keep, counter = http_alerts._keep_receipt, [0]

    def body() -> bytes:
        counter[0] += 1
        alert = copy.deepcopy(base)
        sid = f"2516935104399999999_{counter[0]:08d}-0000-4000-8000-000000000000"
        alert["name"] = sid
        alert["id"] = alert["id"].rsplit("/", 1)[0] + "/" + sid
        alert["properties"]["systemAlertId"] = sid
        return json.dumps(alert).encode()

    timings: dict[str, list[float]] = {"with receipt": [], "without": []}
    with ManagementServer(env.host) as server:
        app = function_app()

        def post(raw: bytes) -> None:
            request = func.HttpRequest(method="POST", url="http://localhost:7071/api/alerts",
                                       headers={"content-type": "application/json"}, body=raw)
            response = invoke_http_function(app, "post_alert", request, server=server)
            assert response.status_code == 202, response.get_body()

        for _ in range(20):  # warm-up: imports, caches
            post(body())
        for r in range(args.rounds):
            pair = [("with receipt", keep), ("without", lambda *a: None)]
            for label, receipt in pair[::-1] if r % 2 else pair:  # (which goes first alternates)
                http_alerts._keep_receipt = receipt
                bodies = [body() for _ in range(args.n)]
                start = time.process_time()
                for raw in bodies:
                    post(raw)
                timings[label].append((time.process_time() - start) / args.n)
        http_alerts._keep_receipt = keep
    store, key = records_store(env.settings), load_seal_key()
    start = time.process_time()
    for i in range(args.n * 5):
        defender_receipts.keep(store, f"microsoft.security/alerts/bench-{i}", "2026-12-05T10:00:00Z", key)
    alone = (time.process_time() - start) / (args.n * 5)
    env.close()
    with_r, without = statistics.median(timings["with receipt"]), statistics.median(timings["without"])
    print(f"POST /api/alerts, a new Defender alert each, {args.n} x {args.rounds} interleaved rounds (process CPU, median "
          f"of rounds; load {os.getloadavg()[0]:.1f}):")
    print(f"  with the receipt (this tree): {with_r * 1e3:.2f} ms per webhook")
    print(f"  without (before defender18):  {without * 1e3:.2f} ms per webhook")
    print(f"  ratio: {with_r / without:.3f}x; the receipt alone (keep, local records store): {alone * 1e6:.0f} µs")


if __name__ == "__main__":
    main()
