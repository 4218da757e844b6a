"""Benchmark of the persisted sandbox tenant, before and after side by side in one run.

Run: ``python bench/sandbox.py [--before REF] [--requests 300] [--repeat 3]``

"before" is the tree of git ``REF`` (default: the commit before the one that
added ``firestop/sandbox/core/store.py``, i.e. the whole-file rewrite on every
request), extracted with ``git archive`` into a temporary directory; "after"
is this working tree. Every measurement runs in a fresh subprocess whose
working directory (and so ``firestop``) is that tree, so both run the same
machine at the same time.

Measurements:

* ``requests/s`` — ``Tenant.open(tmpdir)`` (persisted, the default seed) and
  ``N`` requests: ``accounts.get`` sent straight to ``tenant.transport`` (the
  sandbox alone), then through the real ``CognitiveServicesManagementClient``
  (SDK pipeline included): ``accounts.get`` (a read: changes the request log
  and clock) and ``accounts.listKeys`` (with side effects: Activity Log rows
  and events). Rates per wall second and per CPU second of the process (the
  latter is steadier on a shared machine); bytes the process wrote per
  request (Linux ``/proc/self/io`` ``wchar``).
* ``alert handle`` — wall time of ``python -m firestop alert handle
  examples/alerts/leaked-key.json`` on a fresh ``FIRESTOP_HOME`` next to
  ``python -m firestop --help`` (median of ``repeat``), and their ratio
  (issue 18 target: within 2x). The runs alternate between the trees and the
  two commands (before help, before handle, after help, after handle, …) so a
  change of the machine's load hits both alike; bytecode is compiled once
  beforehand (a user's second run; ``PYTHONDONTWRITEBYTECODE`` would make every
  run compile the whole tree).

``--only cli`` / ``--only requests`` runs one of the two parts.

This is a benchmark, not a test: nothing here asserts on timings.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

REQUESTS_SCRIPT = r"""
import json, sys, tempfile, time
from azure.mgmt.cognitiveservices import CognitiveServicesManagementClient
from firestop.sandbox import Tenant

def wchar():
    try:
        for line in open("/proc/self/io"):
            if line.startswith("wchar:"):
                return int(line.split()[1])
    except OSError:
        return 0
    return 0

from azure.core.rest import HttpRequest

n = int(sys.argv[1])
out = {}
with tempfile.TemporaryDirectory() as home:
    tenant = Tenant.open(home)
    cs = CognitiveServicesManagementClient(tenant.credential, tenant.subscription_id, transport=tenant.transport)
    cs.accounts.get("rg-ai-prod", "contoso-openai-prod")  # warm-up
    token = tenant.credential.get_token("https://management.azure.com/.default").token
    url = (f"https://management.azure.com/subscriptions/{tenant.subscription_id}/resourceGroups/rg-ai-prod/providers/"
           "Microsoft.CognitiveServices/accounts/contoso-openai-prod?api-version=2024-10-01")
    raw = HttpRequest("GET", url, headers={"Authorization": f"Bearer {token}"})
    for name, call in (
        ("transport accounts.get", lambda: tenant.transport.send(raw)),
        ("SDK accounts.get", lambda: cs.accounts.get("rg-ai-prod", "contoso-openai-prod")),
        ("SDK accounts.listKeys", lambda: cs.accounts.list_keys("rg-ai-prod", "contoso-openai-prod")),
    ):
        w0, t0, c0 = wchar(), time.perf_counter(), time.process_time()
        for _ in range(n):
            call()
        seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
        out[name] = {"per_s": n / seconds, "per_cpu_s": n / cpu, "bytes_per_request": (wchar() - w0) / n}
    again = Tenant.open(home)  # a second instance sees every request
    out["reopened_requests"] = len(again.requests)
print(json.dumps(out))
"""


def _default_before() -> str:
    """The commit before ``core/store.py`` was added (falls back to ``main``)."""
    try:
        added = subprocess.run(
            ["git", "log", "--diff-filter=A", "--format=%H", "--", "firestop/sandbox/core/store.py"],
            cwd=ROOT, capture_output=True, text=True, check=True,
        ).stdout.split()
    except (OSError, subprocess.CalledProcessError):
        added = []
    return f"{added[-1]}^" if added else "main"


def _extract(ref: str, into: Path) -> None:
    """``git archive REF`` unpacked into ``into``."""
    data = subprocess.run(["git", "archive", "--format=tar", ref], cwd=ROOT, capture_output=True, check=True).stdout
    with tarfile.open(fileobj=BytesIO(data)) as tar:
        tar.extractall(into, filter="data")


def _env(tree: Path, home: str | None = None) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIRESTOP_")}
    env["PYTHONPATH"] = str(tree)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # a user's second run reads .pyc files: measure that
    if home is not None:
        env["FIRESTOP_HOME"] = home
    return env


def _wall(cmd: list[str], tree: Path, home: str | None = None) -> float:
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=tree, env=_env(tree, home), capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode not in (0, 3):  # 3 = handled, needs a responder (the leaked-key playbook asks for approval)
        raise RuntimeError(f"{' '.join(cmd)} in {tree} exited {done.returncode}: {done.stderr[-2000:]}")
    return seconds


def measure_requests(tree: Path, requests: int) -> dict:
    done = subprocess.run([sys.executable, "-c", REQUESTS_SCRIPT, str(requests)], cwd=tree, env=_env(tree),
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure_cli(trees: dict[str, Path], repeat: int) -> dict[str, dict]:
    """``--help`` and ``alert handle`` (fresh FIRESTOP_HOME) wall times per tree, runs alternating."""
    helps: dict[str, list[float]] = {label: [] for label in trees}
    handles: dict[str, list[float]] = {label: [] for label in trees}
    for tree in trees.values():  # compile the bytecode once (and warm the file cache)
        subprocess.run([sys.executable, "-m", "firestop", "--help"], cwd=tree, env=_env(tree), capture_output=True)
        with tempfile.TemporaryDirectory() as home:
            _wall([sys.executable, "-m", "firestop", "alert", "handle", "examples/alerts/leaked-key.json"], tree, home)
    for _ in range(repeat):
        for label, tree in trees.items():
            helps[label].append(_wall([sys.executable, "-m", "firestop", "--help"], tree))
            with tempfile.TemporaryDirectory() as home:
                handles[label].append(_wall([sys.executable, "-m", "firestop", "alert", "handle",
                                             "examples/alerts/leaked-key.json"], tree, home))
    out = {}
    for label in trees:
        ratios = [h / p for h, p in zip(handles[label], helps[label])]
        out[label] = {"help_s": statistics.median(helps[label]), "alert_handle_s": statistics.median(handles[label]),
                      "ratio": statistics.median(ratios)}
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", default=None, help="git ref of the 'before' tree (default: the commit before core/store.py)")
    parser.add_argument("--requests", type=int, default=300, help="requests per operation (default 300)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each CLI command; the median is shown (default 3)")
    parser.add_argument("--only", choices=["cli", "requests"], help="run one part only")
    args = parser.parse_args(argv)
    ref = args.before or _default_before()
    with tempfile.TemporaryDirectory(prefix="firestop-before-") as tmp:
        before_tree = Path(tmp)
        _extract(ref, before_tree)
        trees = {"before": before_tree, "after": ROOT}
        load = os.getloadavg()[0]
        rows: dict[str, dict] = {label: {} for label in trees}
        if args.only in (None, "requests"):
            for label, tree in trees.items():
                rows[label].update(measure_requests(tree, args.requests))
        if args.only in (None, "cli"):
            for label, figures in measure_cli(trees, args.repeat).items():
                rows[label].update(figures)
    b, a = rows["before"], rows["after"]
    print(f"sandbox bench: before = {ref}, after = working tree; {args.requests} requests per operation, median of {args.repeat} CLI runs")
    print(f"{'':38}{'before':>12}{'after':>12}{'after/before':>14}")
    print(f"{'(load average at start)':38}{load:12.1f}")
    if args.only in (None, "requests"):
        for op in ("transport accounts.get", "SDK accounts.get", "SDK accounts.listKeys"):
            print(f"{op + ' req/s (wall)':38}{b[op]['per_s']:12.0f}{a[op]['per_s']:12.0f}{a[op]['per_s'] / b[op]['per_s']:13.1f}x")
            print(f"{op + ' req/s (per CPU s)':38}{b[op]['per_cpu_s']:12.0f}{a[op]['per_cpu_s']:12.0f}{a[op]['per_cpu_s'] / b[op]['per_cpu_s']:13.1f}x")
            print(f"{op + ' bytes written/req':38}{b[op]['bytes_per_request']:12.0f}{a[op]['bytes_per_request']:12.0f}"
                  f"{(a[op]['bytes_per_request'] / b[op]['bytes_per_request']) if b[op]['bytes_per_request'] else 0:13.4f}x")
        print(f"{'second instance sees requests':38}{b['reopened_requests']:12d}{a['reopened_requests']:12d}")
    if args.only in (None, "cli"):
        print(f"{'firestop --help (s)':38}{b['help_s']:12.2f}{a['help_s']:12.2f}")
        print(f"{'alert handle leaked-key (s)':38}{b['alert_handle_s']:12.2f}{a['alert_handle_s']:12.2f}{a['alert_handle_s'] / b['alert_handle_s']:13.2f}x")
        print(f"{'alert handle / --help (median ratio)':38}{b['ratio']:12.2f}{a['ratio']:12.2f}   (target <= 2)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
