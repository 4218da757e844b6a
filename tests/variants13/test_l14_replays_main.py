"""listing14 changed no orchestrator action: a history recorded by main's incident orchestrator replays to the same
actions here, so incidents in flight when this is deployed go on as they ran (no version gate needed).

``histories/main-2fcae0a-forged-at-gate.json`` was recorded by ``histories/record.py`` run in a ``git archive`` of
main at 2fcae0a (source check on): a forged incident with pending joins, one genuine join kept before its list, the
host run until the incident waits at its "alert genuine" gate — its ``start_pending_joins`` scheduled and answered
(``started: 1``) in that history. ``state`` is what main's orchestrator answered replaying it.
"""

from __future__ import annotations

import json
from pathlib import Path

from firestop.runtime import history as h
from firestop.runtime.actions import parse_state
from firestop.runtime.context import build_context
from firestop.runtime.functions import call_orchestrator, index_app
from firestop.runtime.replay import ReplayEngine

RECORDED = Path(__file__).parent / "histories" / "main-2fcae0a-forged-at-gate.json"


def _replayed(doc: dict) -> dict:
    from firestop.cli.wiring import function_app
    from firestop.lifecycle import ORCHESTRATOR_NAME

    body = build_context(instance_id=doc["instance_id"], history=h.mark_played(doc["history"], []),
                         input_json=doc["input"], parent_instance_id=None)
    return json.loads(call_orchestrator(index_app(function_app()).orchestrator(ORCHESTRATOR_NAME), body))


def test_a_history_recorded_by_main_replays_to_the_same_actions():
    doc = json.loads(RECORDED.read_text())
    names = [e.get("Name") for e in doc["history"] if e.get("EventType") == h.EventType.TaskScheduled]
    assert "start_pending_joins" in names  # the path this change touched is in the recorded history
    state = _replayed(doc)
    assert state["actions"] == doc["state"]["actions"] and state["isDone"] is doc["state"]["isDone"] is False
    started = next(e for e in doc["history"] if e.get("EventType") == h.EventType.ExecutionStarted)
    engine = ReplayEngine(parse_state(state).actions, execution_id=started["OrchestrationInstance"]["ExecutionId"])
    replay = engine.run(doc["history"])  # raises NonDeterminismError on any difference
    assert replay.new_work == []  # it waits where main's did: nothing scheduled anew
    mine, main = dict(state["customStatus"]), doc["state"]["customStatus"]
    assert mine.pop("source_check") == "not confirmed" and "source_check" not in main
    # cli13: the running incident's status names its account, as a finished one's record does (the console's row)
    assert mine.pop("target_name") == "contoso-openai-prod" and "target_name" not in main
    assert mine == main  # the custom status gained those two keys, nothing else
