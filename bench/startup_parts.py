"""Where ``alert handle``'s start-up goes, in instructions (callgrind), against ``firestop --help`` (issue 18, item 5).

Usage::

    python bench/startup_parts.py [--tree DIR] [--before REV] [--split]

Four processes, each under ``valgrind --tool=callgrind`` with one hash seed (PYTHONHASHSEED=0: string hashes decide
dict and set layouts, ~2 % between seeds) and bytecode compiled first:

- **interpreter**: ``python -c pass`` (the interpreter and ``site``);
- **help**: ``python -m firestop --help``;
- **imports**: ``python -c`` importing, in order, every module ``alert handle`` leaves in ``sys.modules`` (listed by a
  run of the command on a fresh FIRESTOP_HOME first) — what the command's imports cost with no work;
- **handle**: ``python -m firestop alert handle examples/alerts/leaked-key.json`` on a fresh FIRESTOP_HOME.

``work`` = handle - imports (what the command does once everything is loaded: tenant set-up, the host, the
runbooks' SDK calls, the record, the output). The budget of issue 18 (handle within 2x of --help) is 2 x help.

``--split`` also apportions the imports' instructions to groups of modules (Firestop's own by package, the
third-party distributions) by their share of ``python -X importtime``'s self times (median of 3 runs): an
estimate (import-time self times are wall, callgrind counts are instructions), labelled as such.

``--before REV`` runs the same on a temporary detached worktree of git REV and prints both side by side.
Slow: each callgrind run is ~1-3 minutes on a loaded 2-core machine.

Measured (startup24, Dec 2026; instruction counts do not depend on the machine's load):

==============  ============  =====
part            5376a3e       startup24
==============  ============  ============
interpreter     143 M         143 M
--help          906 M         907 M
imports         2,294 M       2,294 M
work            646 M         548 M
alert handle    2,940 M       2,843 M
ratio           3.24x         3.14x
==============  ============  ============

What is left: the imports alone are 2.53x --help (2,294 M against a 1,813 M budget), so no amount of work
saved reaches 2x in a fresh process. Of the ~1,390 M imported beyond --help's, ~670 M is third-party code the
product runs in process (the management/Key Vault/Monitor Query clients and azure-core, azure.functions and
werkzeug, the Durable SDK with asyncio and opentelemetry, dateutil, isodate) and ~700 M Firestop's own (playbooks
~160 M, mostly pydantic building the playbook models; sandbox ~140 M; runtime ~75 M; alerts ~65 M; functions,
lifecycle, intake, runbooks.base, cli, trust, evidence ~135 M). Reaching 2x would need ~1,030 M cut: all of
Firestop's own imports beyond --help's *and* over half the work. Within this design (real SDK clients in
process, one process per command) 2x is out of reach; it needs a process that is already warm (``serve``'s host
taking the alert, or a fork server holding the imports).

startup25 (Dec 2026), e322e3e: interpreter 143 M, --help 908 M, imports 2,317 M, work 547 M, alert handle 2,865 M
(3.15x). The timeline table and the MTTD line became rich ``Text`` (a markup string made rich load its emoji table):
alert handle 2,853 M, --help unchanged. Looked at and left, with the reason:

- azure.functions and werkzeug: the Durable SDK imports them itself (``import azure.durable_functions`` loads
  both), so runtime/bindings.py importing them lazily would save nothing;
- firestop.settings (pydantic) through cli.tabletop_cmd: ``--help`` imports it too, and alert handle needs it;
- Key Vault: the leaked-key playbook rotates keys (its consumers' secret is updated), so it is used;
- the playbooks' pydantic models (~60 ms of CPU to build, alerts' ~20 ms, runbooks' ~25 ms): every one is
  validated on this path (``defer_build`` everywhere: same total, the build only moves);
- the fresh home's tenant: read from the seed cache (~0.1 s of CPU more with ``FIRESTOP_SEED_CACHE=off``); no
  detection is deployed by alert handle;
- compiling in every process what every process compiles the same (dataclass methods ~1 ms a class, 141 classes;
  ~220 regular expressions; ~1,100 ForwardRefs): pre-built copies cut alert handle to 2,380 M but --help to
  741 M (3.21x), by patching private CPython internals; reverted (see the branch history).

startup17a (2026-12-05), main 8830437 -> startup17a: interpreter 143 M, --help 923 M -> 923 M, imports 2,171 M ->
2,105 M, work 557 M -> 555 M, alert handle 2,728 M -> 2,660 M (2.96x -> 2.88x). 21 dataclasses of the path's
(intake, trust, alerts.sources, resource_id, storage, instance_listing, cli.wiring, playbooks.expressions,
ClientFactory, RunContext, AuditContext) became msgspec Structs. Looked at and left: deferring every pydantic
model's build (defer_build on all: 2,736 M -> 2,766 M, worse: the nested models' schemas are then generated
inside each parent); the handle-only regular expressions compile in ~14 ms of CPU warm, 156 of them, most of them
used on the path or in third-party code; firestop.functions' blueprints beyond the orchestrators, activities and
entities are within the ~55 M the whole package costs.

startup18a (2026-12-05), main 7b24ca9 -> startup18a (``--before main --split``, one run): interpreter 143 M, --help
933 M -> 933 M, imports 2,112 M -> 2,039 M, work 509 M -> 504 M, alert handle 2,622 M -> 2,543 M (2.81x -> 2.73x).
A compiled (shipped) playbook is built from its validated form in compiled.json by ``model_construct`` at every level
(firestop/playbooks/trusted.py), the playbook and detection models are ``defer_build``, so no playbook validator or
serializer is built on the path (firestop.playbooks' import after its prerequisites: 121 M -> 49 M); the record's
filing step is built as given (``Step.internal``); the playbooks' validation-only patterns compile on first use.
Left: the 49 M are mostly pydantic collecting the 17 models' fields at class creation (~7 ms of CPU: models 3.5,
detect 3.7) and ~1.5 ms building the 11 shipped playbooks to route (only name, priority and match are read; the
objects are the loader's public result); Approval objects built in lifecycle.incident's unconfirmed-alert gate are
validated (not on this path: the example alert is confirmed).

startup18c (2026-12-05), main 7b24ca9 -> startup18c: interpreter 143 M, --help 933 M -> 933 M, imports 2,112 M ->
2,088 M, work 509 M -> 502 M, alert handle 2,622 M -> 2,589 M (2.81x -> 2.78x). 16 module-level patterns the
command never uses compile on first use (firestop/lazy_re.py: -25 M); the 227 KB evidence snapshot is hashed once,
not twice, when kept (-7 M). Exclusive import costs beyond --help's (callgrind parts split at each import's start
and end, collector off; not in this script): azure.functions 83 M + werkzeug 58 M (azure.functions' own imports of
werkzeug.datastructures, .formparser, .http; the Durable SDK's package __init__ imports azure.functions for DFApp,
and function_app.py builds a DFApp), asyncio 33 M (azure-mgmt-core's async policies, the Durable SDK),
opentelemetry 17 M + dateutil 12 M + six 4 M (the Durable SDK's DurableOrchestrationClient/-Status), email 15 M
(azure-core's email.policy): all third-party code importing third-party code, none of it Firestop's. Looked at and
left: a durable-only DFApp for the CLI's host (orchestrators, entities, activities: -30 M) — azure.functions logs
"Auth level is not applied to non http function app" on stderr for an app without HTTP functions, and the CLI's
host would no longer load function_app.py as the Functions host does; the timeline table (rich Table, ~54 M against
3 M for --json) — its output is the contract; pydantic models of alerts, lifecycle, evidence and runbooks: every one
built is validated or dumped on this path (a census with defer_build on all), the unused ones already defer.
=======
startup18b (2026-12-05), main 7b24ca9 -> startup18b, ``--before main`` in one run: interpreter 143 M, --help
933 M -> 932 M, imports 2,112 M -> 2,061 M, work 509 M -> 509 M, alert handle 2,621 M -> 2,570 M (2.81x -> 2.76x;
1,005 -> 955 modules). The run side: lazy sandbox rooms (a tenant routes with core/route_table.py and imports a
route's module on its first request: 90 -> 40 sandbox modules, -35 M), store commits walk only the touched sections'
append-only lists (-7 M), four sandbox dataclasses made msgspec Structs (-8 M). Looked at and left: the 34 LRO polls
(accounts.update.lro = 20 s is inside what Azure reports for such PATCHes, 0-33 s with no Retry-After:
sandbox/core/latency.py), so the product's 0.5 s polling stays; a poll is ~2.4 M instructions, about half of it the
SDK pipeline; the public RequestLogEntry/FaultRecord stay dataclasses (tenant.requests/faults are API).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ALERT = "examples/alerts/leaked-key.json"

_LIST_MODULES = r"""
import json, sys
from firestop.cli.main import main
try:
    main(["alert", "handle", %r])
except SystemExit:
    pass
sys.__stdout__.write("\nMODULES " + json.dumps([m for m in sys.modules if m != "__main__"]) + "\n")
"""


def _env(tree: Path, home: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "FIRESTOP_BENCH_TREE")}
    env.update(PYTHONPATH=str(tree), PYTHONHASHSEED="0")
    if home is not None:
        env["FIRESTOP_HOME"] = home
    return env


def handle_modules(tree: Path) -> list[str]:
    """The modules ``alert handle`` leaves in ``sys.modules`` (insertion order), from a run on a fresh home."""
    with tempfile.TemporaryDirectory() as home:
        proc = subprocess.run([sys.executable, "-c", _LIST_MODULES % ALERT], cwd=tree, env=_env(tree, home),
                              capture_output=True, text=True, check=True)
    line = [l for l in proc.stdout.splitlines() if l.startswith("MODULES ")][-1]
    return json.loads(line[len("MODULES "):])


def import_code(modules: list[str]) -> str:
    """``python -c`` source importing ``modules`` in order (a module that fails to import alone is skipped:
    some are set up by their parent's import)."""
    return ("import importlib, sys\nfor m in %r:\n    if m not in sys.modules:\n        try:\n"
            "            importlib.import_module(m)\n        except Exception:\n            pass\n" % (modules,))


def callgrind(cmd: list[str], tree: Path, env: dict[str, str]) -> int:
    """Instructions callgrind counts for ``cmd`` run in ``tree`` (the whole process)."""
    with tempfile.TemporaryDirectory(prefix="firestop-callgrind-") as out:
        proc = subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}/callgrind.out", *cmd],
                              cwd=tree, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if proc.returncode not in (0, 3):  # alert handle: 3 = needs a responder
        raise SystemExit(f"{' '.join(cmd)} exited {proc.returncode}:\n{proc.stderr[-2000:]}")
    found = re.search(r"Collected : (\d+)", proc.stderr)
    if found is None:
        raise SystemExit(f"callgrind printed no count:\n{proc.stderr[-2000:]}")
    return int(found.group(1))


def _group(name: str) -> str:
    if name.startswith(("firestop.", "runbooks.")) or name in ("firestop", "runbooks"):
        return ".".join(name.split(".")[:2])
    if name.startswith("azure."):
        return ".".join(name.split(".")[:2 if name.split(".")[1] not in ("mgmt", "monitor", "keyvault") else 3])
    return name.split(".")[0]


def import_split(tree: Path, modules: set[str], runs: int = 3) -> dict[str, float]:
    """Share (0..1) of ``python -X importtime``'s self time per group of ``modules``, median over ``runs`` runs of
    ``alert handle`` on a fresh home."""
    shares: dict[str, list[float]] = {}
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as home:
            proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "firestop", "alert", "handle", ALERT],
                                  cwd=tree, env=_env(tree, home), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                  text=True)
        per: Counter[str] = Counter()
        for line in proc.stderr.splitlines():
            if not line.startswith("import time:") or "self [us]" in line:
                continue
            self_us, _, name = line[len("import time:"):].split("|")
            name = name.strip()
            if name in modules:
                per[_group(name)] += int(self_us)
        total = sum(per.values()) or 1
        for group, us in per.items():
            shares.setdefault(group, []).append(us / total)
    return {g: statistics.median(v + [0.0] * (runs - len(v))) for g, v in shares.items()}


def measure(tree: Path, split: bool) -> dict:
    """The four counts (and the split) for ``tree``."""
    py = sys.executable
    subprocess.run([py, "-m", "compileall", "-q", "firestop", "runbooks"], cwd=tree, env=_env(tree), check=True,
                   stdout=subprocess.DEVNULL)
    modules = handle_modules(tree)
    with tempfile.TemporaryDirectory() as home:
        counts = {
            "interpreter": callgrind([py, "-c", "pass"], tree, _env(tree)),
            "help": callgrind([py, "-m", "firestop", "--help"], tree, _env(tree)),
            "imports": callgrind([py, "-c", import_code(modules)], tree, _env(tree)),
        }
    with tempfile.TemporaryDirectory() as home:
        counts["handle"] = callgrind([py, "-m", "firestop", "alert", "handle", ALERT], tree, _env(tree, home))
    counts["work"] = counts["handle"] - counts["imports"]
    result = {"counts": counts, "modules": len(modules)}
    if split:
        with tempfile.TemporaryDirectory() as home:
            proc = subprocess.run([py, "-c", "import json, sys\nimport firestop.cli.main\n"
                                   "print(json.dumps(list(sys.modules)))"], cwd=tree, env=_env(tree, home),
                                  capture_output=True, text=True, check=True)
        help_modules = set(json.loads(proc.stdout.splitlines()[-1]))
        beyond = [m for m in modules if m not in help_modules]
        result["beyond_help"] = len(beyond)
        result["split"] = import_split(tree, set(beyond))
    return result


def show(label: str, result: dict) -> None:
    c = result["counts"]
    m = 1e6
    print(f"== {label}: instructions (callgrind, PYTHONHASHSEED=0), {result['modules']} modules loaded by alert handle")
    for part in ("interpreter", "help", "imports", "work", "handle"):
        print(f"  {part:12s} {c[part] / m:8,.0f} M")
    print(f"  ratio handle/help {c['handle'] / c['help']:.2f}x; budget (2 x help) {2 * c['help'] / m:,.0f} M; "
          f"imports alone {c['imports'] / c['help']:.2f}x help")
    if "split" in result:
        beyond = c["imports"] - c["help"]  # roughly: handle's imports beyond those --help also loads
        print(f"  imports beyond --help's ({result['beyond_help']} modules) ~ {beyond / m:,.0f} M, apportioned by "
              f"-X importtime self time (an estimate):")
        for group, share in sorted(result["split"].items(), key=lambda kv: -kv[1])[:25]:
            print(f"    {group:40s} {share * 100:5.1f} %  ~{share * beyond / m:6,.0f} M")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tree", default=str(ROOT), help="the checkout to measure (default: this one)")
    parser.add_argument("--before", metavar="REV", help="also measure a temporary detached worktree of git REV")
    parser.add_argument("--split", action="store_true", help="apportion the imports to module groups")
    args = parser.parse_args(argv)
    print(f"load {os.getloadavg()[0]:.1f}")
    results = []
    if args.before:
        with tempfile.TemporaryDirectory(prefix="firestop-before-") as scratch:
            base = Path(scratch) / "tree"
            subprocess.run(["git", "worktree", "add", "--detach", str(base), args.before], cwd=ROOT, check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                results.append((f"before ({args.before})", measure(base, args.split)))
            finally:
                subprocess.run(["git", "worktree", "remove", "--force", str(base)], cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    results.append((f"this tree ({args.tree})", measure(Path(args.tree), args.split)))
    for label, result in results:
        show(label, result)
    print("RESULT " + json.dumps({label: r["counts"] for label, r in results}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
