"""CPU per in-process incident: tabletop scenario runs (the work of ``alert handle`` and of the suite's heavy tests).

Usage::

    python bench/incident_cpu.py [--tree DIR] [--before REV] [--rounds N] [--scenarios a,b,c]

Each round starts one fresh ``python`` per tree (interleaved: before, after, before, after, ...), runs one warm-up
scenario (imports, caches: what a test worker has paid before its second scenario) and then each scenario once, in a
FIRESTOP_HOME of its own, with ``firestop.tabletop.run_scenario`` — the whole incident: the sandbox tenant, detection
deployed, the attack on the virtual clock, intake, the local durable host, the runbooks through the real SDK clients,
the record, ledger and evidence, the checklist audits. Per scenario it reports the process's CPU seconds
(``time.process_time``: every thread, the SDK's LRO poller threads included) and wall seconds; the table gives the
median over the rounds. CPU is what counts on a loaded machine: name the load (``uptime``) next to any figure.

``--before REV`` measures ``git archive REV`` unpacked in a temporary directory beside the tree (no worktree made).

Measured (suite26, Dec 2026, 5 rounds, load 16 on the 2-core machine; CPU seconds, medians)::

    scenario                   04bd7c9   suite26
    leaked-api-key               1.381     1.119
    public-network-exposure      1.475     1.088
    anomalous-usage              1.602     1.367
    total                        4.463     3.566   (-20 %)

Where the rest goes (thread CPU per phase, 3 scenarios after a warm-up of each, load 7): the checklist audits
(two per scenario, mostly azure-mgmt-monitor's model (de)serialization of the rules and activity events) ~0.5 s,
alert evaluation ~0.4 s plus its KQL ~0.25 s, building the tenant ~0.4 s, deploying detection (the SDK serializing
the rule bodies) ~0.3 s, request handling ~0.3 s, the runbooks' own work ~0.3 s, the host's episodes ~0.17 s.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = ("leaked-api-key", "public-network-exposure", "anomalous-usage")

CHILD = r"""
import json, sys, tempfile, time
from pathlib import Path
from firestop.tabletop import run_scenario
names = sys.argv[1].split(",")
scenarios = Path("tabletop/scenarios")
def one(name):
    home = Path(tempfile.mkdtemp(prefix="bench-incident-")) / "home"
    cpu, wall = time.process_time(), time.perf_counter()
    card = run_scenario(scenarios / f"{name}.yaml", home=home, run_id="run")
    return time.process_time() - cpu, time.perf_counter() - wall
one(names[0])
print(json.dumps({n: one(n) for n in names}))
"""


def measure(tree: Path, names: list[str]) -> dict[str, tuple[float, float]]:
    env = {**os.environ, "PYTHONPATH": str(tree), "PYTHONHASHSEED": "0"}
    env.pop("FIRESTOP_HOME", None)
    done = subprocess.run([sys.executable, "-c", CHILD, ",".join(names)], cwd=tree, env=env, check=True,
                          capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tree", type=Path, default=ROOT)
    parser.add_argument("--before", metavar="REV")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--scenarios", default=",".join(DEFAULT))
    args = parser.parse_args()
    names = args.scenarios.split(",")
    with tempfile.TemporaryDirectory(prefix="firestop-before-") as scratch:
        trees = [("after", args.tree)]
        if args.before:
            base = Path(scratch) / "tree"
            base.mkdir()
            archive = subprocess.run(["git", "archive", args.before], cwd=ROOT, check=True, capture_output=True).stdout
            subprocess.run(["tar", "-x", "-C", str(base)], input=archive, check=True)
            trees.insert(0, (f"before ({args.before})", base))
        runs: dict[str, list[dict]] = {label: [] for label, _ in trees}
        for _ in range(args.rounds):
            for label, tree in trees:
                runs[label].append(measure(tree, names))
    print(f"load: {os.getloadavg()[0]:.1f} (1-min average at the end); median of {args.rounds} rounds; seconds")
    print(f"{'scenario':32}" + "".join(f"{label + ' cpu':>22}{'wall':>8}" for label, _ in trees))
    for name in [*names, "total"]:
        cells = ""
        for label, _ in trees:
            cpu = [sum(r[n][0] for n in names) if name == "total" else r[name][0] for r in runs[label]]
            wall = [sum(r[n][1] for n in names) if name == "total" else r[name][1] for r in runs[label]]
            cells += f"{statistics.median(cpu):>22.3f}{statistics.median(wall):>8.3f}"
        print(f"{name:32}{cells}")


if __name__ == "__main__":
    main()
