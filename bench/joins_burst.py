"""A genuine burst during the first alert's pending source check: instances, accept CPU, drive CPU (joins14).

    python bench/joins_burst.py [--alerts 200] [--rounds 3] [--baseline DIR] [--forged]

Each round, in a fresh child process per tree (``--baseline DIR``: another checkout, e.g. a ``git archive`` of
rough14, run first; then this tree; rounds interleaved): the source check on (``FIRESTOP_ALERT_SOURCE_CHECK``), the
sandbox's Azure Monitor fires the genuine alert, the genuine delivery is posted to the served webhook (in-process:
``tests.e2e.test_webhook.post``), then ``--alerts`` deliveries of other alert ids on the same resource (a burst:
each joins, the first one's check still pending), then the local host is driven to its end
(``run_until_idle(advance_timers=True)``). Figures: ``accept_cpu_s`` (process CPU, ``time.process_time``, all
threads: the webhook posts), ``drive_cpu_s`` (the host run), ``instances`` (incident instances, runbook groups
left out), ``contained`` (the genuine caller denied on the NSG). Medians over the rounds. CPU, not wall time: the
machine is shared; name ``uptime`` beside the figures.

``--forged`` (listing14): a forged alert is posted first (not at its source: its check says "not confirmed"), then the
genuine delivery and the burst join it as pending joins, which the incident's ``start_pending_joins`` starts as
variants once it reads its outcome in its own status — the path listing14 changed. ``instances``: the forged incident
and one variant per joined delivery; ``contained``: the genuine one's variant contained the caller.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def one_round(alerts: int, forged_first: bool = False) -> dict:
    sys.path.insert(0, os.getcwd())  # the tree measured (the child runs in it)
    home = tempfile.mkdtemp(prefix="j14-bench-")
    os.environ["FIRESTOP_HOME"] = home
    os.environ["FIRESTOP_ALERT_SOURCE_CHECK"] = "on"
    from firestop.cli.wiring import function_app, sandbox_environment
    from firestop.runtime import ManagementServer
    from tests.e2e.test_webhook import post
    from tests.redteam15.test_rt15_forged_alert_holds_resource import _forged
    from tests.verify12.test_v12_forged_dimensions import RAW, _deny_rules, _fire_genuine

    env = sandbox_environment()
    with ManagementServer(env.host) as server:
        app = function_app()
        _fire_genuine(env)
        try:  # RT17-01 (rules14): the hand-made rule the genuine alert fires from is trusted by an admin, as the
            # source-check suites do, so the check confirms it as before; a tree before rules14 has no such step
            from tests.source_check_steps import trust_rule_of
        except ImportError:
            pass
        else:
            trust_rule_of(env.tenant, json.loads(RAW))
        bodies = [json.loads(RAW)] + [_forged() for _ in range(alerts)]
        if forged_first:
            bodies = [bodies[-1], bodies[0]] + bodies[1:-1]
        raw = [json.dumps(b).encode() for b in bodies]
        start = time.process_time()
        for body in raw:
            answer = post(app, server, body)
            assert answer.status_code == 202, answer.get_body()
        accept = time.process_time() - start
        start = time.process_time()
        env.host.run_until_idle(advance_timers=True)
        drive = time.process_time() - start
        instances = [i.instance_id for i in env.host.list_instances() if ":group-" not in i.instance_id]
        contained = bool(_deny_rules(env, "203.0.113.200"))
    env.close()
    return {"accept_cpu_s": round(accept, 3), "drive_cpu_s": round(drive, 3), "instances": len(instances),
            "contained": contained}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alerts", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--baseline", default=None)
    parser.add_argument("--forged", action="store_true", help="a forged alert first: its check says not confirmed")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(one_round(args.alerts, args.forged)))
        return 0
    here = Path(__file__).resolve().parents[1]
    trees = ([("before", Path(args.baseline).resolve())] if args.baseline else []) + [("after", here)]
    rows: dict[str, list[dict]] = {label: [] for label, _ in trees}
    for _ in range(args.rounds):
        for label, tree in trees:
            out = subprocess.run([sys.executable, str(here / "bench" / "joins_burst.py"), "--child",
                                  "--alerts", str(args.alerts)] + (["--forged"] if args.forged else []), cwd=tree, capture_output=True, text=True,
                                 env={**os.environ, "PYTHONPATH": str(tree)}, check=True)
            rows[label].append(json.loads(out.stdout.strip().splitlines()[-1]))
    print(f"burst of {args.alerts} alerts during the pending check{' of a forged alert' if args.forged else ''}, "
          f"median of {args.rounds} rounds "
          f"(load {os.getloadavg()[0]:.1f})")
    print(f"  {'figure':<14}" + "".join(f"{label:>12}" for label, _ in trees))
    for figure in ("instances", "accept_cpu_s", "drive_cpu_s", "contained"):
        cells = []
        for label, _ in trees:
            values = [r[figure] for r in rows[label]]
            cells.append(f"{statistics.median(values):>12}" if figure != "contained" else f"{str(all(values)):>12}")
        print(f"  {figure:<14}" + "".join(cells))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
