"""KeyedLocks (per-process mutual exclusion by key) and the event data builders."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone

import pytest

from firestop.intake import SAMPLE_SIZE, alert_summary, correlated_batch, correlated_event, resolved_event
from firestop.intake.locks import KeyedLocks

from .conftest import make_alert


def test_same_key_is_exclusive_other_keys_are_not_and_nothing_is_left_behind():
    locks = KeyedLocks()
    inside: list[str] = []
    peak = {"same": 0}

    async def worker(key: str, gate: asyncio.Event) -> None:
        async with locks.hold([key]):
            inside.append(key)
            peak["same"] = max(peak["same"], inside.count("a"))
            await gate.wait()
            inside.remove(key)

    async def main() -> None:
        gate = asyncio.Event()
        tasks = [asyncio.create_task(worker(k, gate)) for k in ("a", "a", "a", "b")]
        for _ in range(5):
            await asyncio.sleep(0)
        assert sorted(inside) == ["a", "b"]  # one "a" holder, "b" not blocked by it
        assert len(locks) == 2
        gate.set()
        await asyncio.gather(*tasks)

    asyncio.run(main())
    assert peak["same"] == 1 and inside == [] and len(locks) == 0


def test_overlapping_key_sets_taken_in_any_order_do_not_deadlock():
    locks = KeyedLocks()
    done = []

    async def worker(keys: list[str]) -> None:
        async with locks.hold(keys):
            await asyncio.sleep(0)
            done.append(tuple(keys))

    async def main() -> None:
        await asyncio.wait_for(asyncio.gather(*(worker(k) for k in (["x", "y"], ["y", "x"], ["y", "y", "x"]) * 5)), 5)

    asyncio.run(main())
    assert len(done) == 15 and len(locks) == 0


def test_a_cancelled_waiter_releases_nothing_it_does_not_hold():
    locks = KeyedLocks()

    async def main() -> None:
        async with locks.hold(["k"]):
            waiter = asyncio.create_task(_hold(locks, "k"))
            await asyncio.sleep(0)
            waiter.cancel()
            with pytest.raises(asyncio.CancelledError):
                await waiter
            assert len(locks) == 1
        assert len(locks) == 0
        await _hold(locks, "k")  # still usable

    asyncio.run(main())


async def _hold(locks: KeyedLocks, key: str) -> None:
    async with locks.hold([key]):
        pass


def test_event_data_shapes():
    received = datetime(2026, 11, 29, 3, 21, 5, tzinfo=timezone.utc)
    fired = make_alert("e1")
    data = correlated_event(fired, received_at=received)
    assert set(data) == {"count", "alert_ids", "alerts", "received_at", "last_received_at"} and data["count"] == 1
    assert data["alert_ids"] == [fired.alert_id]
    assert data["received_at"] == data["last_received_at"] == "2026-11-29T03:21:05+00:00"
    [summary] = data["alerts"]
    assert summary == {"alert_id": fired.alert_id, "rule_name": fired.rule_name, "severity": fired.severity,
                       "target_ids": list(fired.target_ids), "fired_at": fired.fired_at.isoformat(),
                       "received_at": "2026-11-29T03:21:05+00:00"}
    batch = correlated_batch([alert_summary(make_alert(f"b{i}"), received_at=received) for i in range(SAMPLE_SIZE + 5)])
    assert batch["count"] == len(batch["alert_ids"]) == SAMPLE_SIZE + 5 and len(batch["alerts"]) == SAMPLE_SIZE
    assert batch["alerts"][-1]["alert_id"].endswith(f"b{SAMPLE_SIZE + 4}")  # the newest are kept
    with pytest.raises(ValueError):
        correlated_batch([])
    resolved = make_alert("e1", condition="Resolved", resolved="2026-11-29T03:40:00Z")
    assert resolved_event(resolved, received_at=received) == {
        "alert_id": fired.alert_id, "resolved_at": "2026-11-29T03:40:00+00:00", "received_at": "2026-11-29T03:21:05+00:00"}
    with pytest.raises(ValueError):
        resolved_event(resolved, received_at=datetime(2026, 11, 29))


def test_event_names_match_what_the_incident_orchestrator_waits_for():
    from firestop.intake import EVENT_CORRELATED, EVENT_RESOLVED
    from firestop.lifecycle import incident

    assert (EVENT_CORRELATED, EVENT_RESOLVED) == (incident.EVENT_CORRELATED, incident.EVENT_RESOLVED)


def test_the_tally_contract_matches_the_entity_the_app_registers():
    from firestop.cli.wiring import function_app
    from firestop.intake import events
    from firestop.lifecycle import tally

    assert (events.TALLY_ENTITY, events.TALLY_ADD) == (tally.TALLY_ENTITY, tally.TALLY_ADD)
    alert_id = "/subscriptions/x/providers/Microsoft.AlertsManagement/alerts/A-1"
    assert events.alert_digest(alert_id) == tally.alert_digest(alert_id) != tally.alert_digest(alert_id.lower())
    from firestop.runtime.functions import index_app

    index_app(function_app()).entity(events.TALLY_ENTITY)  # FunctionNotFound if the app does not declare it


def test_a_part_named_in_the_tally_survives_a_storm_after_it():
    """An alert whose playbook runs as a part of this incident stays in the summary the record names, however
    many plain alerts join after it (the sample keeps only the newest)."""
    from firestop.lifecycle import tally

    class Entity:  # the DurableEntityContext surface tally.operate uses
        def __init__(self):
            self.state, self.result = None, None

        def get_state(self, initial):
            return self.state if self.state is not None else initial()

        def set_state(self, state):
            self.state = state

        def set_result(self, result):
            self.result = result

        def run(self, op, payload):
            self.operation_name, self.get_input = op, (lambda: payload)
            tally.operate(self)
            return self.result

    entity = Entity()
    entity.run("add", {"count": 1, "alert_ids": ["policy-1"], "alerts": [{"alert_id": "policy-1", "part": "inc-part"}]})
    for n in range(50):
        entity.run("add", {"count": 1, "alert_ids": [f"a{n}"], "alerts": [{"alert_id": f"a{n}"}]})
    summary = entity.run("summary", {"exclude": None, "close": True})
    assert summary["count"] == 51
    assert [p["part"] for p in summary["parts"]] == ["inc-part"]
    assert "policy-1" not in {a["alert_id"] for a in summary["alerts"]}  # the plain sample moved on
