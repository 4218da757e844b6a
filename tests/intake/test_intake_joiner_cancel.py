"""A batch raiser of the joiner (firestop.intake.accept._Joiner) cancelled at each of its await points — waiting
for its turn, waiting out the spacing, in its signal's status read, in the signal itself — hands its batch and the
turn on: every other alert of the batch gets an answer (joined, or IntakeUnavailable: 503, Azure Monitor retries),
and later alerts for the incident are joined (hot25's report: before, the batch and the next raiser waited forever).

No wall-clock waits: the Durable client's calls are held on futures the test releases, and the event loop is
driven with bounded ``sleep(0)`` yields until a stated joiner state holds. Each test ends within a bound
(``asyncio.wait_for``) so an alert left waiting forever fails the test instead of hanging the suite.
"""

from __future__ import annotations

import asyncio
from typing import Any, Callable

import pytest

from firestop.intake import CorrelationSettings, IntakeUnavailable, OutcomeKind, accept_alert
from firestop.intake import accept as accept_module

from .conftest import ACCOUNT, NOW, ORCH, make_alert
from .test_intake_accept import slot

BOUND_S = 30.0  # a failure bound only: every passing run finishes in a few loop iterations


class Held:
    """Each call of ``method`` on the fake Durable client waits until the test releases it (calls in order)."""

    def __init__(self, fake: Any, method: str, *, after: bool = False) -> None:
        """``after``: the call is made first and its answer held (released, the caller's next step is its last)."""
        self.gates: list[asyncio.Future] = []
        self.free = False
        original = getattr(fake, method)

        async def held(*args: Any, **kwargs: Any) -> Any:
            if self.free:
                return await original(*args, **kwargs)
            gate = asyncio.get_running_loop().create_future()
            self.gates.append(gate)
            if after:
                answer = await original(*args, **kwargs)
                await gate
                return answer
            await gate
            return await original(*args, **kwargs)

        setattr(fake, method, held)

    def release(self, n: int) -> None:
        self.gates[n].set_result(None)

    def open(self) -> None:
        """Release every held call; later calls are not held."""
        self.free = True
        for gate in self.gates:
            if not gate.done():
                gate.set_result(None)


async def until(predicate: Callable[[], bool], what: str) -> None:
    """Yield to the event loop until ``predicate()`` holds (at most 200 yields: no wall clock)."""
    for _ in range(200):
        if predicate():
            return
        await asyncio.sleep(0)
    raise AssertionError(f"never reached: {what}")


def summary(n: int) -> dict[str, Any]:
    return {"alert_id": f"a{n}", "received_at": f"2026-11-29T03:20:{n:02d}Z"}


def batches(fake: Any) -> list[list[str]]:
    """The alert ids of each tally signal sent, in order."""
    return [data["alert_ids"] for _, _, _, data in fake.signals]


async def _settled(tasks: list[asyncio.Task]) -> list[Any]:
    return await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), BOUND_S)


def _behind(joiner: Any, key: tuple[int, str]) -> Any:
    return joiner._busy.get(key)


async def _a1_then_a2_to_a4_behind(fake: Any, iid: str, held: Held, state: str) -> tuple[Any, tuple[int, str], list]:
    """A fresh joiner given alerts 1..4 for ``iid``: returns once a1's signal is held (``state`` names it in a
    timeout) and a2..a4 wait behind it in batch 2 (a2 its raiser). (joiner, its busy key, the four tasks)."""
    joiner = accept_module._Joiner(0.0)
    key = (id(asyncio.get_running_loop()), iid)
    tasks = [asyncio.create_task(joiner.join(fake, iid, summary(n))) for n in (1, 2, 3, 4)]
    await until(lambda: len(held.gates) == 1 and _behind(joiner, key) is not None
                and len(_behind(joiner, key).waiters) == 2, f"{state}, a2..a4 behind it")
    return joiner, key, tasks


def test_a_raiser_cancelled_waiting_for_its_turn_hands_its_batch_to_the_next_alert(fake):
    """Batch 2 (a2 raises it, a3 and a4 wait in it) fills while batch 1 (a1) is in flight; a2 is cancelled while
    waiting for its turn. a3 raises batch 2 instead: a2's summary included (it had joined; its caller, cancelled, is
    redelivered and the tally counts it once), a3 and a4 are answered, and a5 after them is joined too."""
    iid = slot()
    fake.add(iid, ACCOUNT, status="Running")
    held = Held(fake, "signal_entity")

    async def scenario():
        joiner, key, tasks = await _a1_then_a2_to_a4_behind(fake, iid, held, "a1 in flight")
        tasks[1].cancel()  # a2: at `await batch.turn`
        held.release(0)
        await until(lambda: len(held.gates) == 2, "batch 2 signalled")
        held.release(1)
        outcomes = await _settled(tasks)
        late = asyncio.create_task(joiner.join(fake, iid, summary(5)))
        await until(lambda: len(held.gates) == 3, "a5 signalled")
        held.release(2)
        return outcomes + await _settled([late]), joiner

    outcomes, joiner = asyncio.run(scenario())
    assert isinstance(outcomes[1], asyncio.CancelledError)
    assert [outcomes[i] for i in (0, 2, 3, 4)] == [None] * 4  # delivered
    assert batches(fake) == [["a1"], ["a2", "a3", "a4"], ["a5"]]  # each alert signalled once
    assert not joiner._busy


def test_a_raiser_cancelled_as_the_raise_before_it_ends_hands_its_batch_on(fake):
    """a2 (batch 2's raiser) is cancelled in the same loop step that releases a1's signal, so a1 ends — and gives
    batch 2 the turn — before a2 runs its cancellation (the turn a2 awaited is already cancelled with it): a1 is
    answered, a3 raises batch 2, a4 is answered."""
    iid = slot()
    fake.add(iid, ACCOUNT, status="Running")
    held = Held(fake, "signal_entity", after=True)

    async def scenario():
        joiner, key, tasks = await _a1_then_a2_to_a4_behind(fake, iid, held, "a1 signalled")
        held.release(0)  # a1's next step ends its raise...
        tasks[1].cancel()  # ...and runs before a2's cancellation does
        await until(lambda: len(held.gates) == 2, "batch 2 signalled")
        held.release(1)
        return await _settled(tasks), joiner

    outcomes, joiner = asyncio.run(scenario())
    assert isinstance(outcomes[1], asyncio.CancelledError)
    assert [outcomes[i] for i in (0, 2, 3)] == [None] * 3
    assert batches(fake) == [["a1"], ["a2", "a3", "a4"]]
    assert not joiner._busy


def test_a_raiser_cancelled_waiting_out_the_spacing_hands_its_batch_on(fake):
    """With a spacing between signals, batch 2's raiser (a2) is cancelled while it waits the spacing out: a3 raises
    the batch (a2's summary in it) and a4 after it is joined."""
    iid = slot()
    fake.add(iid, ACCOUNT, status="Running")
    held = Held(fake, "signal_entity")

    async def scenario():
        joiner = accept_module._Joiner(3600.0)  # the first signal of an incident is not spaced; the second is
        key = (id(asyncio.get_running_loop()), iid)
        tasks = [asyncio.create_task(joiner.join(fake, iid, summary(n))) for n in (1, 2, 3)]
        await until(lambda: len(held.gates) == 1 and _behind(joiner, key) is not None
                    and len(_behind(joiner, key).waiters) == 1, "a1 in flight, a2 and a3 behind it")
        batch2 = _behind(joiner, key)
        held.release(0)
        await until(lambda: tasks[0].done() and batch2.turn.done(), "a1 answered, a2 given the turn")
        for _ in range(3):  # a2 wakes from its turn into the spacing's sleep (the only await left before its signal)
            await asyncio.sleep(0)
        assert len(held.gates) == 1 and not tasks[1].done()  # a2 is waiting out the spacing
        joiner.spacing = 0.0  # (so the heir does not wait the hour out)
        tasks[1].cancel()
        await until(lambda: len(held.gates) == 2, "batch 2 signalled by a3")
        held.release(1)
        outcomes = await _settled(tasks)
        late = asyncio.create_task(joiner.join(fake, iid, summary(4)))
        await until(lambda: len(held.gates) == 3, "a4 signalled")
        held.release(2)
        return outcomes + await _settled([late]), joiner

    outcomes, joiner = asyncio.run(scenario())
    assert isinstance(outcomes[1], asyncio.CancelledError)
    assert [outcomes[i] for i in (0, 2, 3)] == [None] * 3
    assert batches(fake) == [["a1"], ["a2", "a3"], ["a4"]]
    assert not joiner._busy


def test_a_raiser_cancelled_in_a_batch_where_every_alert_was_cancelled_passes_the_turn_on(fake):
    """Every alert of batch 2 is cancelled (a2 the raiser, a3 its heir once handed the batch, a4 before): nothing of
    batch 2 is signalled (each caller saw its cancellation and is redelivered), and a5 after them is joined."""
    iid = slot()
    fake.add(iid, ACCOUNT, status="Running")
    held = Held(fake, "signal_entity")

    async def scenario():
        joiner, key, tasks = await _a1_then_a2_to_a4_behind(fake, iid, held, "a1 in flight")
        heir = _behind(joiner, key).waiters[0]  # a3's future
        tasks[3].cancel()  # a4 first: its own wait only
        tasks[1].cancel()  # a2, the raiser
        await until(heir.done, "a3 handed the batch")
        tasks[2].cancel()  # a3, handed the raise, cancelled before (or while) it acts on it
        await until(lambda: all(t.done() for t in tasks[1:]), "a2..a4 cancelled")
        held.release(0)
        first = await _settled(tasks)
        late = asyncio.create_task(joiner.join(fake, iid, summary(5)))
        await until(lambda: len(held.gates) == 2, "a5 signalled")
        held.release(1)
        return first + await _settled([late]), joiner

    outcomes, joiner = asyncio.run(scenario())
    assert outcomes[0] is None and outcomes[4] is None
    assert all(isinstance(o, asyncio.CancelledError) for o in outcomes[1:4])
    assert batches(fake) == [["a1"], ["a5"]]
    assert not joiner._busy


@pytest.mark.parametrize("method", ["get_status", "signal_entity"])
def test_a_raiser_cancelled_in_its_signal_answers_its_batch_unavailable_and_the_next_batch_goes_out(fake, method):
    """Batch 2's raiser (a2) is cancelled inside its signal — in the incident's status read or in the signal itself:
    whether the signal is stored is unknown, so a3 (in batch 2) gets IntakeUnavailable (503: Azure Monitor retries,
    and a redelivery the tally already counted is counted once), never a CancelledError of another delivery's; batch
    3 (a4, a5, filled meanwhile) is signalled after it."""
    iid = slot()
    fake.add(iid, ACCOUNT, status="Running")
    held = Held(fake, method)

    async def scenario():
        joiner = accept_module._Joiner(0.0)
        key = (id(asyncio.get_running_loop()), iid)
        tasks = [asyncio.create_task(joiner.join(fake, iid, summary(n))) for n in (1, 2, 3)]
        await until(lambda: len(held.gates) == 1 and _behind(joiner, key) is not None
                    and len(_behind(joiner, key).waiters) == 1, "a1 in flight, a2 and a3 behind it")
        held.release(0)
        await until(lambda: len(held.gates) == 2, "a2 in batch 2's signal")
        tasks += [asyncio.create_task(joiner.join(fake, iid, summary(n))) for n in (4, 5)]
        await until(lambda: _behind(joiner, key) is not None and len(_behind(joiner, key).waiters) == 1,
                    "a4 and a5 behind batch 2")
        tasks[1].cancel()  # a2: inside _tally
        await until(lambda: len(held.gates) == 3, "batch 3 signalled")
        held.release(2)
        return await _settled(tasks), joiner

    outcomes, joiner = asyncio.run(scenario())
    assert outcomes[0] is None
    assert isinstance(outcomes[1], asyncio.CancelledError)
    assert isinstance(outcomes[2], IntakeUnavailable)
    assert outcomes[3:] == [None, None]
    sent = batches(fake)
    assert sent[0] == ["a1"] and sent[-1] == ["a4", "a5"]  # batch 2 was not stored (its call never returned)
    assert len(sent) == 2
    assert not joiner._busy


def test_webhook_deliveries_after_a_cancelled_raiser_are_correlated(fake):
    """Through accept_alert (the webhook's call): the raiser of the second batch is cancelled (its request dropped)
    while the first signal is in flight; the other alerts of its batch and a later one are answered ``correlated``
    on the open incident, and the cancelled alert's redelivery is ``correlated`` too (the tally counts it once)."""
    iid = slot()
    fake.add(iid, ACCOUNT, status="Running")
    held = Held(fake, "signal_entity")

    def accept(alert_id: str) -> asyncio.Task:
        return asyncio.create_task(accept_alert(fake, make_alert(alert_id), now=NOW, settings=CorrelationSettings(),
                                                orchestrator_name=ORCH, start_input=lambda a, now, iid: {}))

    async def scenario():
        joiner = accept_module._joiner
        key = (id(asyncio.get_running_loop()), iid)
        tasks = [accept(f"w{n}") for n in range(4)]
        await until(lambda: len(held.gates) == 1 and _behind(joiner, key) is not None
                    and len(_behind(joiner, key).waiters) == 2, "w0 in flight, w1..w3 behind it")
        tasks[1].cancel()
        held.release(0)
        await until(lambda: len(held.gates) == 2, "batch 2 signalled")
        held.release(1)
        outcomes = await _settled(tasks)
        held.open()
        again = [accept("w4"), accept("w1")]  # a later alert, and w1's redelivery
        return outcomes + await _settled(again), joiner, key

    outcomes, joiner, key = asyncio.run(scenario())
    assert isinstance(outcomes[1], asyncio.CancelledError)
    assert [outcomes[i].kind for i in (0, 2, 3, 4, 5)] == [OutcomeKind.CORRELATED] * 5
    assert {outcomes[i].instance_id for i in (0, 2, 3, 4, 5)} == {iid}
    assert key not in joiner._busy


def test_a_delivery_sharing_a_status_read_whose_reader_is_cancelled_is_answered_unavailable(fake):
    """Two deliveries need the same slot's status at once and share one read (accept._shared_status); the one that
    started it is cancelled while it is in flight: the other gets IntakeUnavailable (the webhook's 503, retried),
    not the reader's CancelledError (which would end its delivery unanswered), and a delivery after it is joined."""
    iid = slot()
    fake.add(iid, ACCOUNT, status="Running")
    held = Held(fake, "get_status")

    def accept(alert_id: str) -> asyncio.Task:
        return asyncio.create_task(accept_alert(fake, make_alert(alert_id), now=NOW, settings=CorrelationSettings(),
                                                orchestrator_name=ORCH, start_input=lambda a, now, iid: {}))

    async def scenario():
        tasks = [accept("r0"), accept("r1")]
        await until(lambda: len(held.gates) == 1, "r0 reading the slot")
        for _ in range(20):  # r1 reaches the same read (a second get_status would show as a second gate)
            await asyncio.sleep(0)
        assert len(held.gates) == 1 and not any(t.done() for t in tasks)  # r1 shares r0's read
        tasks[0].cancel()
        outcomes = await _settled(tasks)
        held.open()
        return outcomes + await _settled([accept("r2")])

    outcomes = asyncio.run(scenario())
    assert isinstance(outcomes[0], asyncio.CancelledError)
    assert isinstance(outcomes[1], IntakeUnavailable)
    assert outcomes[2].kind == OutcomeKind.CORRELATED and outcomes[2].instance_id == iid
