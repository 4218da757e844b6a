"""Benchmark of refused approval decisions (RT8-02's leftover): what each one costs an incident's orchestration.

Run: ``python bench/refusals.py [--refusals 200] [--tail 150] [--before REV]``.

One gated incident in the sandbox (``network.lock``, approvers alice and bob). ``--refusals`` sealed decisions of
carol (approver role through ``grp-secops``, not among the step's approvers) are raised straight to the name the gate
publishes — as the API raised them before approvals9, and as anyone whose read of the pending approval is stale (or
who holds the Durable system key) still can — one episode each (``run_until_idle`` after each). Then alice approves.

Reports: history events of the instance after the refusals (and per refusal), CPU time (``time.process_time``) of
the last ``--tail`` refusals' episodes (each episode replays the whole history: the cost per refusal grows with it),
the record's ``approvals`` entries and timeline entries about the step, and whether alice's approval was acted on.

``--before REV``: the same run in a child process on ``git archive REV`` of this repository, side by side with this
tree (the two interleaved, ``--rounds`` each); the ratio is before / now.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]


def measure(refusals: int, tail: int) -> dict:
    """One run in this process (``sys.path`` names the tree measured)."""
    import uuid

    from firestop.cli.wiring import sandbox_environment
    from firestop.lifecycle import ORCHESTRATOR_NAME
    from firestop.lifecycle.approvals import decision_event
    from firestop.lifecycle.start import incident_input
    from firestop.alerts import parse_alert
    from firestop.playbooks import Playbook
    from firestop.trust.seal import Purpose, seal, seal_decision

    env = sandbox_environment()
    host, clock = env.host, env.tenant.clock
    try:
        payload = json.loads((HERE / "examples" / "alerts" / "leaked-key.json").read_text())
        alert = parse_alert(payload)
        inp = incident_input(alert, received_at=clock.now(), sandbox=True)
        book = {"name": "bench", "match": {"rule_names": ["x"]}, "resolve": [],
                "contain": [{"id": "lock-network", "runbook": "network.lock",
                             "approval": {"mode": "required", "approvers": ["oid-alice", "oid-bob"], "timeout": 600}}]}
        inp["playbook"] = Playbook.model_validate(book).model_dump(mode="json", by_alias=True)
        iid = host.start_new(ORCHESTRATOR_NAME, inp["incident_id"], seal(Purpose.INCIDENT, inp, binding=inp["incident_id"]))
        host.run_until_idle(iid)

        def send(by: str, groups: list[str], decision: str) -> None:
            pending = host.get_status(iid).custom_status["pending_approval"]
            event = decision_event(iid, pending, decision=decision, by=by, groups=groups, comment=None,
                                   decision_id=uuid.uuid4().hex, at=clock.now().isoformat())
            host.raise_event(iid, pending["event"], seal_decision(event))
            host.run_until_idle(iid)

        start_history = len(host.get_status(iid, show_history=True).history or [])
        cpu_tail = 0.0
        for i in range(refusals):
            began = time.process_time()
            send("oid-carol", ["grp-secops"], "approve")
            if i >= refusals - tail:
                cpu_tail += time.process_time() - began
        waiting = host.get_status(iid, show_history=True)
        history = len(waiting.history or [])
        status_chars = len(json.dumps(waiting.custom_status))
        send("oid-alice", [], "approve")
        host.run_until_idle(iid, advance_timers=True)
        done = host.get_status(iid)
        record = done.output or {}
        return {"refusals": refusals, "tail": tail, "history_before": start_history, "history_after": history,
                "events_per_refusal": round((history - start_history) / max(refusals, 1), 2),
                "cpu_tail_s": round(cpu_tail, 3), "custom_status_chars": status_chars,
                "approvals_kept": len(record.get("approvals") or []),
                "refused_summarised": sum(a.get("count") or 0 for a in record.get("approvals") or []),
                "timeline_step_entries": sum(1 for e in record.get("timeline") or [] if e.get("step") == "lock-network"),
                "record_chars": len(json.dumps(record)),
                "status": record.get("status")}
    finally:
        env.close()


def child(tree: Path, refusals: int, tail: int) -> dict:
    """:func:`measure` in a child process on the tree ``tree`` (this script, the tree's modules)."""
    home = tempfile.mkdtemp(prefix="bench-refusals-")
    out = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--tree", str(tree), "--refusals", str(refusals),
                          "--tail", str(tail)], cwd=tree, capture_output=True, text=True,
                         env={**os.environ, "FIRESTOP_HOME": home, "PYTHONPATH": str(tree)})
    if out.returncode:
        raise SystemExit(f"{tree}: {out.stderr[-2000:]}")
    return json.loads(out.stdout)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--refusals", type=int, default=200)
    parser.add_argument("--tail", type=int, default=150)
    parser.add_argument("--before", help="a git revision to measure side by side")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--tree", help=argparse.SUPPRESS)  # the child's: measure the modules of this tree
    args = parser.parse_args()
    if not args.before:
        os.environ.setdefault("FIRESTOP_HOME", tempfile.mkdtemp(prefix="bench-refusals-"))
        sys.path.insert(0, str(args.tree or HERE))
        print(json.dumps(measure(args.refusals, args.tail), indent=1))
        return 0
    old = Path(tempfile.mkdtemp(prefix="bench-refusals-before-"))
    archive = subprocess.run(["git", "-C", str(HERE), "archive", args.before], capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(old)], input=archive, check=True)
    results: dict[str, list[dict]] = {"before": [], "now": []}
    for _ in range(args.rounds):
        results["before"].append(child(old, args.refusals, args.tail))
        results["now"].append(child(HERE, args.refusals, args.tail))
    for label, runs in results.items():
        best = min(runs, key=lambda r: r["cpu_tail_s"])
        print(label, json.dumps(best))
    before = min(r["cpu_tail_s"] for r in results["before"])
    now = min(r["cpu_tail_s"] for r in results["now"])
    print(f"cpu of the last {args.tail} refusals: before {before:.3f} s, now {now:.3f} s, ratio {before / max(now, 1e-9):.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
