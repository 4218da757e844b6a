"""The tally's incremental dedupe (firestop.lifecycle.tally, "Incremental dedupe"): the set of remembered digests
kept beside the stored string answers as the string search does, sees a changed state at once, and a batch run
again after a lost commit counts what the first run counted; on the local host, a crash between the entity
function and the commit loses nothing and counts nothing twice."""

from __future__ import annotations

import json
import os
import random
import threading
from typing import Any

import azure.durable_functions as df
import pytest

from firestop.lifecycle import tally
from tests.lifecycle.test_lifecycle_tally import _Entity


class _Context(_Entity):
    """test_lifecycle_tally's entity context (the state through JSON as on the host) given its state as JSON text;
    ``key`` given: it names its entity (``entity_name``/``entity_key``, as the SDK's context does), so the kept set
    is used."""

    def __init__(self, key: str | None, text: str | None = None) -> None:
        super().__init__()
        if key is not None:
            self.entity_name, self.entity_key = tally.TALLY_ENTITY, key
        self.text = text


def _batch(ids: list[str]) -> dict[str, Any]:
    return {"count": len(ids), "alert_ids": ids, "alerts": [{"alert_id": i} for i in ids]}


@pytest.fixture(autouse=True)
def _fresh_sets(monkeypatch):
    monkeypatch.setattr(tally, "_seen", tally._Seen(tally.SEEN_KEPT))


@pytest.mark.parametrize("seed", range(5))
def test_the_kept_set_answers_as_the_string_search(monkeypatch, seed):
    """Random batches (repeats within and across them, the MAX_TRACKED bound reached or not) on three entities
    interleaved, with room for two sets (one is evicted and rebuilt): every state equals the string search's."""
    rng = random.Random(seed)
    monkeypatch.setattr(tally, "MAX_TRACKED", rng.choice([7, 50, 10_000]))
    monkeypatch.setattr(tally, "_seen", tally._Seen(2))
    keys = ["inc-a", "inc-b", "inc-c"]
    kept = {k: _Context(k) for k in keys}
    searched = {k: _Context(None) for k in keys}
    pool = [f"alert-{seed}-{n}" for n in range(120)]
    for step in range(300):
        key = rng.choice(keys)
        if rng.random() < 0.03:
            request = {"exclude": rng.choice(pool), "close": rng.random() < 0.5}
            assert kept[key].run("summary", request) == searched[key].run("summary", request), step
            continue
        batch = _batch([rng.choice(pool) for _ in range(rng.choice([1, 2, 5, 20, 40]))])
        kept[key].run("add", batch)
        searched[key].run("add", batch)
        assert kept[key].text == searched[key].text, step
    assert any(json.loads(c.text)["count"] > 0 for c in kept.values())


def test_a_batch_run_again_after_a_lost_commit_counts_the_same():
    """The set is updated before the host commits the state: when that commit is lost (crash, fenced), the batch
    runs again on the old state and must count its alerts again, not find them 'already seen'."""
    first = _Context("inc-1")
    first.run("add", _batch(["a1", "a2"]))
    committed = first.text
    batch = _batch(["a2", "a3", "a4"])
    first.run("add", batch)  # the kept set now holds a3 and a4 ...
    after_first_run = first.text
    again = _Context("inc-1", committed)  # ... but this state was never committed: the batch runs again
    again.run("add", batch)
    assert again.text == after_first_run
    assert json.loads(again.text)["count"] == 4


def test_a_changed_state_is_seen_at_once():
    """An edited state of the same size (another store with the same incident id, a state written by hand): the
    kept set does not answer for it."""
    one = _Context("inc-1")
    one.run("add", _batch(["a1", "a2"]))
    other = _Context(None)
    other.run("add", _batch(["b1", "b2"]))
    assert len(json.loads(other.text)["digests"]) == len(json.loads(one.text)["digests"])
    edited = _Context("inc-1", other.text)
    edited.run("add", _batch(["a1", "b1"]))  # a1 is new to this state, b1 is not
    state = json.loads(edited.text)
    assert state["count"] == 3
    assert tally.tracked(state) == [tally.alert_digest(i) for i in ("b1", "b2", "a1")]


def test_another_workers_batches_extend_the_kept_set():
    """The stored string grew behind this process's back (another worker ran batches): the kept set is extended by
    the new tail, and the alerts in it are repeats."""
    mine = _Context("inc-1")
    mine.run("add", _batch(["a1"]))
    theirs = _Context(None, mine.text)
    theirs.run("add", _batch(["a2", "a3"]))
    mine.text = theirs.text
    mine.run("add", _batch(["a3", "a2", "a4", "a1"]))
    state = json.loads(mine.text)
    assert state["count"] == 4
    assert tally.tracked(state) == [tally.alert_digest(i) for i in ("a1", "a2", "a3", "a4")]


def test_a_set_in_use_is_never_handed_to_another_batch():
    seen = tally._Seen(4)
    digests = tally.alert_digest("a1") + tally.alert_digest("a2")
    seen.put("e", digests, tally._entries(digests))
    taken = seen.take("e", digests)
    assert taken == {tally.alert_digest("a1"), tally.alert_digest("a2")}
    other = seen.take("e", digests)  # while the first batch holds it: a set of its own
    assert other == taken and other is not taken


def test_an_operation_that_raises_leaves_no_set_behind(monkeypatch):
    """An add that fails midway (after the set was taken) keeps nothing: the next batch rebuilds from the state."""
    ctx = _Context("inc-1")
    ctx.run("add", _batch(["a1"]))
    calls = []

    def failing(alert_id: str) -> str:
        calls.append(alert_id)
        if alert_id == "boom":
            raise RuntimeError("digest failed")
        return tally.hashlib.sha256(alert_id.encode()).hexdigest()[:16]

    monkeypatch.setattr(tally, "alert_digest", failing)
    with pytest.raises(RuntimeError):
        ctx.run("add", _batch(["a2", "boom"]))
    assert not tally._seen._sets
    monkeypatch.undo()
    ctx.run("add", _batch(["a2", "a1"]))
    assert json.loads(ctx.text)["count"] == 2


def test_host_crash_between_the_entity_function_and_its_commit(tmp_path, monkeypatch):
    """On the local host with the app's tally entity: the first commit of a batch fails after the entity function
    ran (and updated the kept set); the batch runs again from the committed state and every alert is counted
    once — nothing lost, nothing twice."""
    from firestop.cli.wiring import function_app
    from firestop.runtime import LocalDurableHost

    host = LocalDurableHost(function_app(), os.path.join(tmp_path, "durable.db"))
    entity = df.EntityId(tally.TALLY_ENTITY, "inc-crash")
    try:
        host.signal_entity(entity, tally.TALLY_ADD, _batch(["a1", "a2"]))
        host.run_entity_operations()
        host.signal_entity(entity, tally.TALLY_ADD, _batch(["a2", "a3", "a4"]))
        store = host._store
        real_put, failed = store.put_entity, threading.Event()

        def crash_once(*args: Any, **kwargs: Any) -> None:
            if not failed.is_set():
                failed.set()
                raise RuntimeError("the process died before the commit")
            real_put(*args, **kwargs)

        monkeypatch.setattr(store, "put_entity", crash_once)
        with pytest.raises(RuntimeError):
            host.run_entity_operations()
        assert host.read_entity_state(entity)[1]["count"] == 2  # nothing of the batch committed
        host.run_entity_operations()  # the batch again, from the committed state
        host.signal_entity(entity, tally.TALLY_ADD, _batch(["a4", "a1", "a5"]))
        host.run_entity_operations()
        state = host.read_entity_state(entity)[1]
        assert state["count"] == 5
        assert tally.tracked(state) == [tally.alert_digest(f"a{i}") for i in range(1, 6)]
    finally:
        host.close()
