"""Benchmark of the tally entity's ``add`` (firestop.lifecycle.tally): the compact state (remembered digests as
one string) against the list-of-digests state it replaced, side by side in one process.

Run: ``python bench/tally.py [--alerts 1000] [--per 2,10,40] [--runs 5]``.

Each batch goes through what the local host does with an entity's state (firestop.runtime.entities): the state
text embedded in the batch context JSON, decoded by the entity, re-encoded with ``set_state``, embedded in the
batch result JSON and decoded by the host. CPU time (``time.process_time``), the two implementations interleaved,
minimum of ``--runs``; the ratio is list / compact.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from firestop.lifecycle import tally  # noqa: E402


def _list_operate(context: Any) -> None:
    """The previous ``add`` (state ``ids``: a list of digests, a set rebuilt from it on every batch)."""
    state = context.get_state(lambda: {"count": 0, "ids": [], "alerts": [], "parts": [], "untracked": 0,
                                       "late": 0, "closed": False})
    batch = context.get_input()
    ids = [i for i in batch.get("alert_ids") or [] if isinstance(i, str)]
    alerts = [a for a in batch.get("alerts") or [] if isinstance(a, dict)]
    seen = set(state["ids"])
    fresh, new_ids = 0, set()
    for alert_id in ids:
        digest = tally.alert_digest(alert_id)
        if digest in seen:
            continue
        fresh += 1
        new_ids.add(alert_id)
        if len(state["ids"]) < tally.MAX_TRACKED:
            seen.add(digest)
            state["ids"].append(digest)
        else:
            state["untracked"] += 1
    state["count"] += fresh
    state["alerts"] = (state["alerts"] + [a for a in alerts if a.get("alert_id") in new_ids])[-(tally.SAMPLE_SIZE + 1):]
    context.set_result(None)
    context.set_state(state)


class _Entity:
    def __init__(self, operate: Any) -> None:
        self.operate, self.text, self.operation_name = operate, None, tally.TALLY_ADD

    def get_state(self, initial: Any) -> Any:
        return json.loads(self.text) if self.text else initial()

    def set_state(self, state: Any) -> None:
        self.text = json.dumps(state)

    def set_result(self, result: Any) -> None:
        self.result = result

    def add(self, batch: dict[str, Any]) -> None:
        self.get_input = lambda: batch
        self.text = json.loads(json.dumps({"state": self.text}))["state"]  # in the batch context
        self.operate(self)
        self.text = json.loads(json.dumps({"entityState": self.text}))["entityState"]  # in the batch result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--alerts", type=int, default=1000)
    parser.add_argument("--per", type=lambda t: [int(x) for x in t.split(",")], default=[2, 10, 40])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    for per in args.per:
        batches = [{"count": per, "alert_ids": [f"alert-{i}-{j}" for j in range(per)],
                    "alerts": [{"alert_id": f"alert-{i}-{j}", "title": "x" * 80} for j in range(per)]}
                   for i in range(args.alerts // per)]
        best = {"list": float("inf"), "compact": float("inf")}
        for _ in range(args.runs):
            for name, operate in (("list", _list_operate), ("compact", tally.operate)):
                entity = _Entity(operate)
                started = time.process_time()
                for batch in batches:
                    entity.add(batch)
                best[name] = min(best[name], time.process_time() - started)
        print(f"{args.alerts} alerts in batches of {per}: list state {1000 * best['list']:.1f} ms, compact "
              f"{1000 * best['compact']:.1f} ms CPU -> {best['list'] / best['compact']:.2f}x")


if __name__ == "__main__":
    main()
