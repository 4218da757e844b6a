"""The tally entity's compact state (firestop.lifecycle.tally): same answers as the list-of-digests state it
replaced, for random sequences of batches, and a state stored in the old shape read on."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from firestop.lifecycle import tally


def _reference_add(state: dict[str, Any], batch: Any, max_tracked: int) -> None:
    """The previous implementation of ``tally._add`` (state ``ids``: a list of digests), kept as the oracle."""
    if not isinstance(batch, dict):
        return
    ids, alerts, beyond = tally.batch_parts(batch)  # reading a batch is unchanged; the state kept is what differs
    seen = set(state["ids"])
    fresh = 0
    new_ids: set[str] = set()
    for alert_id in ids:
        digest = tally.alert_digest(alert_id)
        if digest in seen:
            continue
        fresh += 1
        new_ids.add(alert_id)
        if len(state["ids"]) < max_tracked:
            seen.add(digest)
            state["ids"].append(digest)
        else:
            state["untracked"] += 1
    fresh += beyond
    state["untracked"] += beyond
    state["count"] += fresh
    if state["closed"]:
        state["late"] += fresh
    state["alerts"] = (state["alerts"] + [a for a in alerts if a.get("alert_id") in new_ids])[-(tally.SAMPLE_SIZE + 1):]
    known = {p.get("part") for p in state["parts"]}
    for a in alerts:
        if a.get("part") and a.get("part") not in known and len(state["parts"]) < tally.SAMPLE_SIZE:
            state["parts"].append(a)
            known.add(a.get("part"))


class _Entity:
    """The DurableEntityContext surface tally.operate uses; the state goes through JSON as on the host."""

    def __init__(self, state: Any = None) -> None:
        self.text = None if state is None else json.dumps(state)
        self.result: Any = None

    def get_state(self, initial):
        return json.loads(self.text) if self.text is not None else initial()

    def set_state(self, state):
        self.text = json.dumps(state)

    def set_result(self, result):
        self.result = result

    def run(self, op: str, payload: Any) -> Any:
        self.operation_name, self.get_input = op, (lambda: payload)
        tally.operate(self)
        return self.result


def _random_batch(rng: random.Random, pool: list[str]) -> dict[str, Any]:
    size = rng.choice([1, 1, 2, 3, 5, 9, 20, 40])  # both sides of the string-search / set threshold
    ids = [rng.choice(pool) for _ in range(size)]  # repeats across and within batches
    alerts = [{"alert_id": i, **({"part": f"inc-{i}"} if rng.random() < 0.05 else {})} for i in ids]
    batch: dict[str, Any] = {"alert_ids": ids, "alerts": alerts}
    if rng.random() < 0.1:
        batch["count"] = size + rng.randint(0, 3)  # alerts beyond the listed ids
    if rng.random() < 0.05:
        batch = {"alerts": alerts}  # ids taken from the alerts
    return batch


@pytest.mark.parametrize("seed", range(6))
def test_compact_state_answers_as_the_list_state_did(monkeypatch, seed):
    rng = random.Random(seed)
    max_tracked = rng.choice([5, 40, 10_000])  # the remembered-digest bound reached, or not
    monkeypatch.setattr(tally, "MAX_TRACKED", max_tracked)
    pool = [f"alert-{seed}-{n}" for n in range(rng.choice([10, 60, 300]))]
    entity = _Entity()
    expected = {"count": 0, "ids": [], "alerts": [], "parts": [], "untracked": 0, "late": 0, "closed": False}
    for step in range(150):
        if rng.random() < 0.03:
            exclude = rng.choice(pool + [None])
            answer = entity.run("summary", {"exclude": exclude, "close": True})
            own = exclude is not None and tally.alert_digest(exclude) in expected["ids"]
            assert answer == {"count": expected["count"] - (1 if own else 0), "late": expected["late"],
                              "untracked": expected["untracked"],
                              "alerts": [a for a in expected["alerts"] if a.get("alert_id") != exclude][-tally.SAMPLE_SIZE:],
                              "parts": expected["parts"], "variants": [], "variant_count": 0,
                              "unchecked_count": 0}, step
            expected["closed"] = True
            continue
        batch = _random_batch(rng, pool)
        entity.run("add", batch)
        _reference_add(expected, batch, max_tracked)
        state = entity.run("get", None)
        assert tally.tracked(state) == expected["ids"], step
        # late_alerts (lifecycle8: the late alerts named for the record) and the variants' reports (variants14) are not
        # part of the list state's model, nor the unchecked variants' places (cap15), nor their kinds (variants16)
        variants = ("variants", "variant_count", "variant_kinds", "taken", "asked", "unchecked_ids", "unchecked_count")
        assert {k: v for k, v in state.items() if k not in ("digests", "late_alerts", *variants)} == {
            k: v for k, v in expected.items() if k != "ids"}
        assert len(state["late_alerts"]) <= min(state["late"], tally.MAX_LATE_NAMED)
    assert expected["count"] > 0 and (max_tracked > len(pool) or expected["untracked"] > 0)


def test_a_state_stored_as_a_list_of_digests_is_read_on():
    """A tally stored before the compact shape keeps its dedupe: a repeat of a remembered alert is not counted."""
    old = {"count": 2, "ids": [tally.alert_digest("a1"), tally.alert_digest("a2")], "alerts": [{"alert_id": "a2"}],
           "parts": [], "untracked": 0, "late": 0, "closed": False}
    entity = _Entity(old)
    entity.run("add", {"alert_ids": ["a1", "a3"], "alerts": [{"alert_id": "a1"}, {"alert_id": "a3"}]})
    state = entity.run("get", None)
    assert "ids" not in state
    assert tally.tracked(state) == [tally.alert_digest(a) for a in ("a1", "a2", "a3")]
    assert state["count"] == 3 and [a["alert_id"] for a in state["alerts"]] == ["a2", "a3"]


def test_a_digest_straddling_two_remembered_ones_is_not_a_match():
    """The string search counts only aligned entries: the tail of one digest and the head of the next can spell
    a third that was never seen."""
    first, second = tally.alert_digest("x1"), tally.alert_digest("x2")
    straddle = first[8:] + second[:8]
    state = {**tally._empty(), "digests": first + second}
    assert tally.contains_digest(state["digests"], first) and tally.contains_digest(state["digests"], second)
    assert not tally.contains_digest(state["digests"], straddle)
