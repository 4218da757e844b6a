"""The host's wire formats checked against the captured corpus.

/work/shared/corpus/durable/generated/*.json hold real SDK outputs for given
contexts; host-captured/ holds payloads the real extension sent.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import azure.durable_functions as df
import pytest

from firestop.runtime import history as h
from firestop.runtime.actions import ActionType, parse_output, parse_raised, parse_state
from firestop.runtime.context import build_context
from firestop.runtime.functions import call_orchestrator, index_app
from firestop.runtime.replay import ReplayEngine

CORPUS = Path("/work/shared/corpus/durable")
GENERATED = sorted((CORPUS / "generated").glob("*.json"))
pytestmark = pytest.mark.skipif(not GENERATED, reason="durable corpus not available")

app = df.DFApp()


@app.orchestration_trigger(context_name="context")
def seq(context):
    alert = context.get_input()
    account = yield context.call_activity("get_account", alert)
    result = yield context.call_activity("disable_public_access", account)
    return [account, result]


@app.orchestration_trigger(context_name="context")
def seq_catch(context):
    try:
        yield context.call_activity("regenerate_key", "Key1")
    except Exception as exc:
        return {"failed": str(exc)}


@app.orchestration_trigger(context_name="context")
def retry(context):
    options = df.RetryOptions(first_retry_interval_in_milliseconds=5000, max_number_of_attempts=3)
    result = yield context.call_activity_with_retry("patch_network_acls", options, {"ip": "203.0.113.7"})
    return result


@app.orchestration_trigger(context_name="context")
def approval(context):
    timer = context.create_timer(context.current_utc_datetime + timedelta(minutes=30))
    event = context.wait_for_external_event("Approval")
    winner = yield context.task_any([event, timer])
    if winner == event:
        timer.cancel()
        return {"approved": event.result}
    return {"approved": None, "timedOut": True}


@app.orchestration_trigger(context_name="context")
def fan(context):
    results = yield context.task_all([context.call_activity("query_logs", c) for c in ("401", "429")])
    return results


@app.orchestration_trigger(context_name="context")
def sub(context):
    result = yield context.call_sub_orchestrator("contain_account", context.get_input(), "child-1")
    return result


def _load(path: Path) -> dict:
    return json.loads(path.read_text())


def _expected_state(doc: dict) -> dict:
    out = doc["orchestrator_output"]
    return out["returned"] if "returned" in out else out["parsed_OutOfProcData"]


@pytest.mark.parametrize("path", GENERATED, ids=lambda p: p.stem)
def test_sdk_called_like_the_worker_reproduces_corpus_output(path):
    """Our orchestrator call path (OrchestrationContext(body) → handle) gives the corpus output."""
    doc = _load(path)
    entry = index_app(app).orchestrator(doc["orchestrator_function"])
    body = json.dumps(doc["context"])
    try:
        returned = json.loads(call_orchestrator(entry, body))
    except Exception as exc:  # noqa: BLE001 - the SDK raises for unhandled errors
        assert "raised_exception_message" in doc["orchestrator_output"]
        assert str(exc) == doc["orchestrator_output"]["raised_exception_message"]
        assert parse_raised(exc) == parse_state(_expected_state(doc), raised=True)
        return
    assert returned == doc["orchestrator_output"]["returned"]


def test_actions_parser_handles_compound_retry_and_v1():
    docs = {p.stem[:2]: _load(p) for p in GENERATED}
    retry_out = parse_output(json.dumps(_expected_state(docs["05"])))
    (when_all,) = retry_out.actions
    assert when_all.type is ActionType.WhenAll
    (call,) = when_all.children
    assert call.type is ActionType.CallActivityWithRetry and call.function_name == "patch_network_acls"
    assert (call.retry.first_retry_interval_ms, call.retry.max_number_of_attempts) == (5000, 3)
    assert json.loads(call.input) == {"ip": "203.0.113.7"}

    approval_out = parse_output(_expected_state(docs["08"]))
    (when_any,) = approval_out.actions
    event, timer = when_any.children
    assert (when_any.type, event.event_name, timer.is_canceled) == (ActionType.WhenAny, "Approval", True)
    assert h.format_timestamp(timer.fire_at) == "2024-05-24T12:30:01.0000000Z"
    assert approval_out.is_done and approval_out.output == {"approved": {"approver": "soc@contoso.com", "action": "contain"}}

    v1 = parse_output(_expected_state(docs["16"]))
    assert v1.schema_version == 0
    assert [a.type for a in v1.actions] == [ActionType.WaitForExternalEvent, ActionType.CreateTimer]

    failed = parse_state(_expected_state(docs["14"]))
    assert failed.error.startswith("Orchestrator function 'contain_account' failed: boom")


# expected new work per scenario: (kind, event id, name or fire time) and whether the chain completed
REPLAY_EXPECTATIONS = {
    "01": ([("TaskScheduled", 0, "get_account")], False),
    "02": ([("TaskScheduled", 1, "disable_public_access")], False),
    "03": ([], True),
    "04": ([], True),
    "05": ([("TimerCreated", 1, "2024-05-24T12:00:08.0000000Z")], False),
    "06": ([("TaskScheduled", 2, "patch_network_acls")], False),
    "07": ([("TimerCreated", 0, "2024-05-24T12:30:01.0000000Z")], False),
    "08": ([], True),
    "09": ([], True),
    "10": ([("TaskScheduled", 0, "query_logs"), ("TaskScheduled", 1, "query_logs")], False),
    "11": ([], True),
    "12": ([("SubOrchestrationInstanceCreated", 0, "contain_account")], False),
    "13": ([], True),
    "14": ([], True),
}


@pytest.mark.parametrize("key", sorted(REPLAY_EXPECTATIONS))
def test_replay_engine_agrees_with_corpus_histories(key):
    """The corpus histories continue exactly as our replay of the SDK's actions says.

    E.g. 05 → 06: after TaskFailed the extension writes TimerCreated(1) at
    OrchestratorStarted + 5 s, and after TimerFired it schedules attempt 2 as
    TaskScheduled(2).
    """
    (path,) = [p for p in GENERATED if p.stem.startswith(key)]
    doc = _load(path)
    out = parse_state(_expected_state(doc))
    result = ReplayEngine(out.actions, execution_id="e").run(doc["context"]["history"])
    expected_work, chain_complete = REPLAY_EXPECTATIONS[key]
    got = [
        (w.kind.name, w.event_id, h.format_timestamp(w.fire_at) if w.fire_at else w.name)
        for w in result.new_work
    ]
    assert got == expected_work
    assert result.chain_complete is chain_complete
    if key == "08":
        assert result.canceled_timers == {0}
    if key == "12":
        assert result.new_work[0].instance_id == "child-1"


def test_context_builder_matches_the_corpus_context_shape():
    doc = _load(GENERATED[1])  # 02: a replaying episode
    ctx = doc["context"]
    past = [{k: v for k, v in e.items() if k != "IsPlayed"} for e in ctx["history"] if e["IsPlayed"]]
    new = [{k: v for k, v in e.items() if k != "IsPlayed"} for e in ctx["history"] if not e["IsPlayed"]]
    built = json.loads(build_context(instance_id=ctx["instanceId"], history=h.mark_played(past, new),
                                     input_json=ctx["input"], parent_instance_id=None))
    assert built == ctx


def test_history_builders_match_corpus_events():
    doc = _load(GENERATED[5])  # 06: retry with timer
    hist = [{k: v for k, v in e.items() if k != "IsPlayed"} for e in doc["context"]["history"]]
    t = h.parse_timestamp
    assert h.orchestrator_started(t(hist[0]["Timestamp"])) == hist[0]
    assert h.task_scheduled(event_id=0, name="patch_network_acls", when=t(hist[2]["Timestamp"])) == hist[2]
    assert h.task_failed(task_id=0, reason=hist[5]["Reason"], details="details", when=t(hist[5]["Timestamp"])) == hist[5]
    assert h.timer_created(event_id=1, fire_at=t(hist[6]["FireAt"]), when=t(hist[6]["Timestamp"])) == hist[6]
    assert h.timer_fired(timer_id=1, fire_at=t(hist[9]["FireAt"])) == hist[9]
    started = h.execution_started(instance_id="48d0f95957504c2fa579e810a390b938",
                                  execution_id="fd183ee02e4b4fd18c95b773cfb5452b", name="retry_orchestrator",
                                  input_json=None, when=t(hist[1]["Timestamp"]))
    assert set(started) == set(hist[1])


def test_host_captured_history_replays_without_nondeterminism():
    history = json.loads((CORPUS / "host-captured" / "history-two-activities-2019.json").read_text())
    actions = parse_output({"isDone": False, "schemaVersion": 2, "actions": [[
        {"actionType": 0, "functionName": "Hello", "input": '"Tokyo"'},
        {"actionType": 0, "functionName": "Hello", "input": '"Seattle"'},
        {"actionType": 0, "functionName": "Hello", "input": '"London"'},
    ]]}).actions
    result = ReplayEngine(actions, execution_id="e").run(history)
    assert [(w.event_id, w.name) for w in result.new_work] == [(2, "Hello")]
    # and its timestamps (7 digits, not monotonic) parse
    assert h.parse_timestamp(history[0]["Timestamp"]).microsecond == 324092
    assert h.parse_timestamp("2024-01-01T00:00:00.000000+00:00").year == 2024
