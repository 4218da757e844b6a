"""Benchmark of variants16's tally change (firestop.lifecycle.tally, operation ``variant``): the state's size and the
CPU time of its operations, this tree against a before tree, side by side in one process.

Run: ``python bench/variants16.py [--before REV] [--runs 5]`` (REV: the commit before variants16, default
``865f548``, rough16 as variants16 began; its ``firestop/lifecycle/tally.py`` is read with ``git show`` and loaded
under another name).

Scenario (a forger's worst case): 300 variants not confirmed, 300 that could not check, 7 confirmed, each with a
512-character alert id and a 300-character why (the tally's bounds), then 200 ``add`` batches of 2 alerts. Each
operation goes through JSON text as on the host (state decoded, re-encoded). CPU time (``time.process_time``), the
two implementations interleaved, minimum of ``--runs``; state bytes: the JSON text of the final state.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from firestop.lifecycle import tally as after  # noqa: E402


class _Context:
    def __init__(self, module: Any) -> None:
        self.module, self.text, self.result = module, None, None

    def get_state(self, initial):
        return json.loads(self.text) if self.text is not None else initial()

    def set_state(self, state):
        self.text = json.dumps(state)

    def set_result(self, result):
        self.result = result

    def run(self, op: str, payload: Any) -> Any:
        self.operation_name, self.get_input = op, (lambda: payload)
        self.module.operate(self)
        return self.result


def _load_before(rev: str) -> Any:
    source = subprocess.run(["git", "-C", str(ROOT), "show", f"{rev}:firestop/lifecycle/tally.py"], check=True,
                            capture_output=True, text=True).stdout
    path = Path(tempfile.mkdtemp()) / "tally_before.py"
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("tally_before", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _reports() -> list[dict[str, Any]]:
    out = []
    for kind, outcome, n in (("f", "not confirmed", 300), ("u", "could not check", 300), ("g", "ok", 7)):
        out += [{"variant": f"inc-{'0' * 16}-v{kind}{k:015x}", "alert_id": "a" * 512, "outcome": outcome,
                 "why": "w" * 300} for k in range(n)]
    return out


def _run(module: Any) -> tuple[float, float, int, int]:
    ctx = _Context(module)
    reports = _reports()
    start = time.process_time()
    for r in reports:
        ctx.run("variant", r)
    variants_s = time.process_time() - start
    start = time.process_time()
    for k in range(200):
        ids = [f"alert-{k}-0", f"alert-{k}-1"]
        ctx.run("add", {"alert_ids": ids, "alerts": [{"alert_id": i} for i in ids]})
    adds_s = time.process_time() - start
    return variants_s, adds_s, len(ctx.text), len(json.loads(ctx.text)["variants"])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--before", default="865f548")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    before = _load_before(args.before)
    best: dict[str, list[Any]] = {}
    for _ in range(args.runs):
        for name, module in (("before", before), ("after", after)):
            got = _run(module)
            seen = best.setdefault(name, list(got))
            seen[0], seen[1] = min(seen[0], got[0]), min(seen[1], got[1])
    for name in ("before", "after"):
        v, a, size, kept = best[name]
        print(f"{name:6}: 607 variant reports {v * 1000:7.1f} ms, 200 adds {a * 1000:7.1f} ms, "
              f"state {size:,} bytes, {kept} variants kept")
    b, a = best["before"], best["after"]
    print(f"after/before: variant reports {a[0] / b[0]:.2f}x, adds {a[1] / b[1]:.2f}x, state bytes {a[2] / b[2]:.2f}x")


if __name__ == "__main__":
    main()
