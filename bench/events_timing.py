"""Does ``POST /api/events`` answer a *started* event and a *correlated* one in measurably different times?

Run: ``python bench/events_timing.py [--rounds 200] [--before REV]``.

The answer's body no longer tells what intake did (events17), but the holder of the host key also sees how long the
answer took. This bench posts, round after round in one process, a policy event that **starts** an incident (a fresh
account each round: nothing open on it) and one that **joins** the incident open on the production account
(``correlated``), in alternating order, through the real function (``invoke_http_function``, the local durable host's
management API over loopback, the sandbox tenant, a fresh ``FIRESTOP_HOME``), and times each answer (wall,
``time.perf_counter``). A third series, another join, is the control: how far two series of the *same* kind differ on
this machine under its load. Reported per series: median and p90 (ms); per pair of series: the difference of the
medians and how often, round by round, the first took longer (0.5: not told apart; 1.0 or 0.0: always told apart).

``--before REV`` runs the same rounds on another tree (``git archive REV``, in a child process with that tree first on
``sys.path``) interleaved round by round with this tree, so a busy machine slows both alike; the outcomes of every
event are read from that tree's answer (before events17) or its ``event_intake`` log lines (after).

Only in-process figures: on Azure the Durable calls go to the Functions host's extension and its storage, whose
latencies differ (none measured here).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SUB = "11111111-2222-3333-4444-555555555555"
PROD = f"/subscriptions/{SUB}/resourceGroups/rg-ai-prod/providers/Microsoft.CognitiveServices/accounts/contoso-openai-prod"
FRESH = f"/subscriptions/{SUB}/resourceGroups/rg-ai-bench/providers/Microsoft.CognitiveServices/accounts/bench-{{}}"


def _event(event_id: str, subject: str) -> dict:
    return {"id": event_id, "topic": f"/subscriptions/{SUB}", "subject": subject,
            "eventType": "Microsoft.PolicyInsights.PolicyStateChanged", "eventTime": "2026-11-29T03:10:00Z",
            "dataVersion": "1", "metadataVersion": "1",
            "data": {"timestamp": "2026-11-29T03:09:58Z", "complianceState": "NonCompliant", "subscriptionId": SUB,
                     "policyAssignmentId": f"/subscriptions/{SUB}/providers/Microsoft.Authorization/policyAssignments/aoai-security-baseline",
                     "policyDefinitionId": "/providers/Microsoft.Authorization/policyDefinitions/037eea7a-bd0a-46c5-9a66-03aea78705d3",
                     "policyDefinitionReferenceId": "", "complianceReasonCode": ""}}


def _worker() -> None:
    """Child: read one command per stdin line (``start <i>``, ``join <i>``), answer ``{"ms", "outcome"}``."""
    import azure.functions as func

    from firestop.cli.wiring import function_app, sandbox_environment
    from firestop.runtime import ManagementServer, invoke_http_function
    from firestop.telemetry.logs import fields_of

    seen: list[dict] = []

    class _Lines(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            fields = fields_of(record)
            if fields is not None and fields.get("event") == "event_intake":
                seen.append(fields)

    logger = logging.getLogger("firestop.intake.eventgrid")
    logger.setLevel(logging.INFO)
    logger.addHandler(_Lines(logging.INFO))
    env = sandbox_environment()
    with ManagementServer(env.host) as server:
        app = function_app()

        def post(event: dict) -> tuple[float, str | None]:
            request = func.HttpRequest(method="POST", url="http://localhost:7071/api/events",
                                       headers={"content-type": "application/json"}, body=json.dumps([event]).encode())
            seen.clear()
            began = time.perf_counter()
            response = invoke_http_function(app, "post_events", request, server=server)
            ms = (time.perf_counter() - began) * 1000
            accepted = (json.loads(response.get_body()).get("accepted") or [{}])[0]
            return ms, accepted.get("outcome") or (seen[0].get("outcome") if seen else None)

        post(_event("open-prod", PROD))  # the incident the joins reach
        print("ready", flush=True)
        for line in sys.stdin:
            kind, i = line.split()
            subject = FRESH.format(i) if kind == "start" else PROD
            ms, outcome = post(_event(f"{kind}-{i}", subject))
            print(json.dumps({"ms": ms, "outcome": outcome}), flush=True)
    env.close()


def _spawn(tree: Path, home: Path) -> subprocess.Popen:
    env = {**os.environ, "FIRESTOP_HOME": str(home), "PYTHONPATH": str(tree)}
    for name in ("FIRESTOP_KEY_VAULT_URL", "FIRESTOP_LOG_WORKSPACE_ID", "FIRESTOP_PLAYBOOKS", "FIRESTOP_KEY_SECRET_NAME"):
        env.pop(name, None)
    child = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "--worker"], cwd=tree, env=env,
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline().strip() == "ready"
    return child


def _ask(child: subprocess.Popen, command: str) -> dict:
    child.stdin.write(command + "\n")
    child.stdin.flush()
    return json.loads(child.stdout.readline())


def _summary(name: str, series: dict[str, list[float]]) -> None:
    for kind, values in series.items():
        values = sorted(values)
        print(f"  {name:7} {kind:8} median {statistics.median(values):6.2f} ms  p90 {values[int(len(values) * 0.9)]:6.2f} ms"
              f"  (n={len(values)})")
    for a, b in (("start", "join"), ("join2", "join")):
        pairs = list(zip(series[a], series[b]))
        longer = sum(1 for x, y in pairs if x > y) / len(pairs)
        print(f"  {name:7} {a} - {b}: median difference {statistics.median(series[a]) - statistics.median(series[b]):+6.2f} ms;"
              f" {a} took longer in {longer:.0%} of rounds")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--before", default=None, help="a git revision to measure side by side")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        _worker()
        return
    trees = {"after": ROOT}
    scratch = Path(tempfile.mkdtemp(prefix="events-timing-"))
    if args.before:
        before = scratch / "before"
        before.mkdir()
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", args.before], check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(before)], input=archive, check=True)
        trees = {"before": before, "after": ROOT}
    children = {name: _spawn(tree, scratch / f"home-{name}") for name, tree in trees.items()}
    series = {name: {"start": [], "join": [], "join2": []} for name in trees}
    outcomes: dict[str, dict[str, set]] = {name: {"start": set(), "join": set(), "join2": set()} for name in trees}
    for i in range(args.rounds):
        order = ["start", "join", "join2"] if i % 2 == 0 else ["join2", "join", "start"]
        for kind in order:
            for name, child in (children.items() if i % 2 == 0 else reversed(list(children.items()))):
                answer = _ask(child, f"{'start' if kind == 'start' else 'join'} {i}{kind}")
                series[name][kind].append(answer["ms"])
                outcomes[name][kind].add(answer["outcome"])
    for child in children.values():
        child.stdin.close()
        child.wait(timeout=60)
    print(f"POST /api/events, one policy event per delivery, {args.rounds} rounds, load {os.getloadavg()[0]:.1f} "
          f"on {os.cpu_count()} cores")
    for name in trees:
        print(f"  {name:7} outcomes seen: " + ", ".join(f"{k}={sorted(map(str, v))}" for k, v in outcomes[name].items()))
        _summary(name, series[name])


if __name__ == "__main__":
    main()
