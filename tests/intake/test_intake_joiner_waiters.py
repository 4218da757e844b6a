"""The joiner's batches (firestop.intake.accept._Joiner): every alert of a batch waits on a future of its own for the
batch's signal; a cancelled wait changes nothing for the others."""

from __future__ import annotations

import asyncio

from firestop.intake import CorrelationSettings, OutcomeKind, accept_alert

from .conftest import ACCOUNT, NOW, ORCH, make_alert
from .test_intake_accept import slot


def test_a_cancelled_wait_in_a_batch_leaves_every_other_alert_its_answer(fake):
    """An alert waiting for its batch's signal is cancelled (its delivery dropped): the batch still goes out, the
    others get the signal's answer, the cancelled one alone raises CancelledError (each waits on a future of its
    own, as each waited on a shield of one shared future before)."""
    from firestop.intake import accept as accept_module

    fake.add(slot(), ACCOUNT, status="Running")
    original = fake.signal_entity
    sent: list[int] = []

    async def scenario():
        first_out = asyncio.Event()

        async def held(entity, op, data=None, **kw):
            sent.append(data["count"])
            if len(sent) == 1:
                await first_out.wait()  # the first batch stays in flight until the next one has filled
            return await original(entity, op, data, **kw)

        fake.signal_entity = held
        tasks = [asyncio.create_task(accept_alert(fake, make_alert(f"w{i}"), now=NOW, settings=CorrelationSettings(),
                                                  orchestrator_name=ORCH, start_input=lambda a, now, iid: {}))
                 for i in range(5)]
        for _ in range(1000):  # yield until w1..w4 wait behind the first signal (bounded)
            behind = [b for b in accept_module._joiner._busy.values() if b is not None]
            if sent == [1] and behind and len(behind[0].summaries) == 4:
                break
            await asyncio.sleep(0)
        else:
            raise AssertionError("the second batch never filled")
        tasks[3].cancel()
        first_out.set()
        # (a bound, not a wait: an alert left waiting forever fails here instead of hanging the suite)
        return await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 60)

    outcomes = asyncio.run(scenario())
    assert sent == [1, 4]  # w3's summary had joined the batch before it was cancelled: it went out with it
    assert isinstance(outcomes[3], asyncio.CancelledError)
    assert [o.kind for i, o in enumerate(outcomes) if i != 3] == [OutcomeKind.CORRELATED] * 4
    assert not accept_module._joiner._busy  # nothing left waiting
