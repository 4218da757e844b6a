"""run_on: the worker loop's hand-off answers as asyncio.run_coroutine_threadsafe(...).result() does."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import threading

import pytest

from firestop.runtime.management import _WorkerLoop, run_on

_note: contextvars.ContextVar[str | None] = contextvars.ContextVar("hot24_note", default=None)


@pytest.fixture
def loop():
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    yield loop
    loop.call_soon_threadsafe(loop.stop)
    thread.join()
    loop.close()


async def _value(x):
    await asyncio.sleep(0)
    return x


async def _fails():
    await asyncio.sleep(0)
    raise ValueError("boom")


async def _cancelled():
    raise asyncio.CancelledError()


async def _seen_and_set():
    seen = _note.get()
    _note.set("set by the task")
    return seen, threading.current_thread().name


def _both(loop, make):
    """(run_coroutine_threadsafe's outcome, run_on's): the value, or the exception's type and text."""
    out = []
    for run in (lambda c: asyncio.run_coroutine_threadsafe(c, loop).result(), lambda c: run_on(loop, c)):
        try:
            out.append(("value", run(make())))
        except BaseException as exc:  # noqa: BLE001 - compared
            out.append((type(exc), str(exc)))
    return out


def test_values_errors_and_cancellation_as_run_coroutine_threadsafe(loop):
    for make in (lambda: _value(7), _fails, _cancelled):
        first, second = _both(loop, make)
        assert first == second
    assert _both(loop, _cancelled)[1][0] is concurrent.futures.CancelledError
    with pytest.raises(TypeError):
        run_on(loop, lambda: None)  # not a coroutine: refused before any hand-off


def test_the_task_runs_on_the_loop_in_a_copy_of_the_callers_context(loop):
    token = _note.set("caller's")
    try:
        seen, thread = run_on(loop, _seen_and_set())
        assert seen == "caller's" and thread != threading.current_thread().name
        assert _note.get() == "caller's"  # what the task set stays in its copy
    finally:
        _note.reset(token)


def test_many_callers_at_once_each_get_their_own_answer():
    with concurrent.futures.ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(pool.map(lambda i: _WorkerLoop.run(_value(i)), range(200)))
    assert answers == list(range(200))
