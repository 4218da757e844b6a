"""A host process for the crash and lease tests (run as a script, not collected by pytest).

``python durable_child.py --db DB --log LOG --clock CLOCK [options]``

* The host's clock reads ISO-8601 UTC text from the file CLOCK at each
  ``now()`` (the test moves time by rewriting it; not a virtual clock, so the
  host behaves as with the system clock).
* Every activity appends ``<label> start`` and ``<label> end`` lines to LOG
  (``O_APPEND``, one ``write`` per line): the side-effect counts.
* The process tells the test where it is by printing one line per step on
  stdout (``ready``, ``between``, ``inside <label>``, ``idle <next timer>``,
  ``done <json>``) and, at a ``--block-*`` point, blocks reading stdin until
  the test writes a line (or kills it).

Options: ``--start ORCH:ID:JSON`` (repeatable) starts instances;
``--block-between`` blocks in ``pipeline`` after its first activity's result
arrived (before the second is scheduled); ``--block-activity LABEL`` blocks
inside that activity after its ``start`` line; ``--block-idle`` blocks once
the host is idle; ``--wait-go`` waits for a line on stdin after ``ready``;
``--until-done`` keeps driving until every instance is finished (another
process may hold some of them). ``--signal NAME:KEY:OP:JSON`` (repeatable)
signals an entity; ``--block-entity OP`` blocks inside the ``tally``
entity's operation OP (after logging ``<key>/<op> run``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import azure.durable_functions as df  # noqa: E402

from firestop.runtime import LocalDurableHost  # noqa: E402

app = df.DFApp()
OPTIONS: dict = {"block_between": False, "block_activity": None, "block_entity": None, "log": None}


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def block() -> None:
    sys.stdin.readline()


def log(line: str) -> None:
    fd = os.open(OPTIONS["log"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, (line + "\n").encode())
    finally:
        os.close(fd)


@app.orchestration_trigger(context_name="context")
def pipeline(context: df.DurableOrchestrationContext):
    first = yield context.call_activity("side_effect", "first")
    if OPTIONS["block_between"] and not context.is_replaying:
        say("between")
        block()
    second = yield context.call_activity("side_effect", "second")
    yield context.create_timer(context.current_utc_datetime + timedelta(seconds=60))
    third = yield context.call_activity("side_effect", "third")
    return [first, second, third]


@app.orchestration_trigger(context_name="context")
def fan(context: df.DurableOrchestrationContext):
    spec = context.get_input()
    labels = [f"{context.instance_id}/{k}" for k in range(spec["n"])]
    results = yield context.task_all([context.call_activity("side_effect", label) for label in labels])
    last = yield context.call_activity("side_effect", f"{context.instance_id}/last")
    return results + [last]


@app.activity_trigger(input_name="label")
def side_effect(label: str) -> str:
    log(f"{label} start")
    if OPTIONS["block_activity"] == label:
        say(f"inside {label}")
        block()
    log(f"{label} end")
    return label.upper()


@app.entity_trigger(context_name="context", entity_name="tally")
def tally(context: df.DurableEntityContext):
    entries = context.get_state(list)
    op = context.operation_name
    log(f"{context.entity_key}/{op} run")
    if OPTIONS["block_entity"] == op:
        say(f"inside-entity {op}")
        block()
    entries.append(op)
    context.set_state(entries)


class FileClock:
    """``now()`` is the ISO-8601 UTC time written in a file."""

    def __init__(self, path: str) -> None:
        self.path = path

    def now(self) -> datetime:
        return datetime.fromisoformat(Path(self.path).read_text().strip()).astimezone(timezone.utc)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    parser.add_argument("--log", required=True)
    parser.add_argument("--clock", required=True)
    parser.add_argument("--start", action="append", default=[])
    parser.add_argument("--block-between", action="store_true")
    parser.add_argument("--block-activity")
    parser.add_argument("--block-idle", action="store_true")
    parser.add_argument("--wait-go", action="store_true")
    parser.add_argument("--until-done", action="store_true")
    parser.add_argument("--signal", action="append", default=[])
    parser.add_argument("--block-entity")
    args = parser.parse_args()
    OPTIONS.update(block_between=args.block_between, block_activity=args.block_activity,
                   block_entity=args.block_entity, log=args.log)

    host = LocalDurableHost(app, args.db, clock=FileClock(args.clock))
    for spec in args.start:
        orchestrator, instance_id, payload = spec.split(":", 2)
        host.start_new(orchestrator, instance_id, json.loads(payload))
    for spec in args.signal:
        name, key, op, payload = spec.split(":", 3)
        host.signal_entity((name, key), op, json.loads(payload))
    say("ready")
    if args.wait_go:
        block()
    while True:
        host.run_until_idle()
        statuses = {s.instance_id: s.runtime_status for s in host.list_instances()}
        if not args.until_done or all(v in ("Completed", "Failed", "Terminated") for v in statuses.values()):
            break
    if args.block_idle:
        due = host.next_timer_due()
        say(f"idle {due.isoformat() if due else None}")
        block()
    say("done " + json.dumps({s.instance_id: [s.runtime_status, s.output] for s in host.list_instances()}))
    host.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
