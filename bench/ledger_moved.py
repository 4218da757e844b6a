"""Benchmark of what records16's moved ledgers cost an append that never moves (runbooks/ledger.py).

Run: ``python bench/ledger_moved.py [--before REF] [--azurite URL] [--appends N] [--rounds R]``

Every reader of a sealing ledger (:meth:`runbooks.ledger.Ledger.of`) now also reads the name the ledger would have
moved to (one ranged read more per scan: a 404 on Blob Storage, an ``open`` that fails locally), whatever happened.
This measures that cost side by side in one process: ``runbooks/ledger.py`` as of ``--before`` (default ``main``,
read with ``git show``) and as in the work tree, each making ``N`` (default 100) sealed appends to a fresh incident's
ledger, alternated ``R`` (default 3) rounds on each backend — a temporary folder, and Azurite (``--azurite`` URL, or
one started from ``node_modules``). It also times ``N`` appends after a move (a block blob — locally a folder — at the
plain name): those read both objects on every append.

Prints ms per append (median of the rounds) for each tree and backend, and the ratio after/before. Azurite runs in
Node on this machine: its figures are per emulator round trip on loopback, not Azure's.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def load(ref: str | None, label: str):
    """``runbooks/ledger.py`` of ``ref`` (None: the work tree) as a module of its own."""
    path = ROOT / "runbooks" / "ledger.py"
    if ref is not None:
        source = subprocess.run(["git", "-C", str(ROOT), "show", f"{ref}:runbooks/ledger.py"], check=True,
                                capture_output=True, text=True).stdout
        path = Path(tempfile.mkdtemp()) / f"ledger_{label}.py"
        path.write_text(source)
    spec = importlib.util.spec_from_file_location(f"ledger_{label}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # (dataclasses look their module up)
    spec.loader.exec_module(module)
    return module


def appends(module, store, home: Path, n: int, incident: str) -> float:
    ledger = module.Ledger(store, seal_home=home, sealing=True)
    start = time.perf_counter()
    for i in range(n):
        ledger.append(incident, kind="action", runbook="bench", action="apply", step_id=f"s{i}", target=None,
                      at="2026-12-05T00:00:00+00:00", data={"i": i})
    return (time.perf_counter() - start) * 1000 / n


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--before", default="main")
    parser.add_argument("--azurite")
    parser.add_argument("--appends", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    from firestop.storage.local import LocalStore

    trees = {"before": load(args.before, "before"), "after": load(None, "after")}
    home = Path(tempfile.mkdtemp())
    backends = {"local": (lambda: LocalStore(home / f"ledger-{uuid.uuid4().hex[:8]}"), None)}
    proc = None
    endpoint = args.azurite
    if endpoint is None:
        from storage import start_azurite  # bench/storage.py

        proc, endpoint = start_azurite()
    try:
        from firestop.storage import blob_service
        from firestop.storage.blob import BlobStore

        service = blob_service(endpoint)  # Azurite's documented development account
        backends["azurite"] = (lambda: BlobStore(service, f"ledger-{uuid.uuid4().hex[:12]}"), service)
        for backend, (make, _) in backends.items():
            timings: dict[str, list[float]] = {"before": [], "after": []}
            for _ in range(args.rounds):
                for label, module in trees.items():  # alternated: load drifts hit both alike
                    timings[label].append(appends(module, make(), home, args.appends, "inc-bench"))
            before, after = statistics.median(timings["before"]), statistics.median(timings["after"])
            print(f"{backend:8s} never moved: before {before:7.2f} ms/append  after {after:7.2f} ms/append  "
                  f"ratio {after / before:5.2f}  (rounds: {[round(t, 2) for t in timings['before']]} / "
                  f"{[round(t, 2) for t in timings['after']]})")
            moved = []
            for _ in range(args.rounds):
                store = make()
                if backend == "local":
                    (store.root / "inc-bench.jsonl").mkdir(parents=True)
                else:
                    store.container.create_container()
                    store.container.upload_blob("inc-bench.jsonl", b"x\n")
                moved.append(appends(trees["after"], store, home, args.appends, "inc-bench"))
            print(f"{backend:8s} moved:       after {statistics.median(moved):7.2f} ms/append (rounds: "
                  f"{[round(t, 2) for t in moved]})")
    finally:
        if proc is not None:
            proc.kill()
            proc.wait(timeout=30)


if __name__ == "__main__":
    main()
