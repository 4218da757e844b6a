"""variants14 item 3, the tally's side: one alert is counted by one incident whichever of its join and its
variant's report reaches the tally first; a report sent again names and counts nothing twice; ``asked`` is given to
the first report that asks after the tally closed (item 2: one page per ended incident)."""

from __future__ import annotations

import pytest

from firestop.lifecycle import tally
from tests.lifecycle.test_lifecycle_tally import _Entity


def _report(variant: str, alert_id: str, outcome: str = "ok", asks: bool = False) -> dict:
    return {"variant": variant, "alert_id": alert_id, "outcome": outcome, "why": "w", "asks": asks}


@pytest.mark.parametrize("report_first", [False, True])
def test_an_alert_its_variant_took_is_counted_once_in_either_order(report_first):
    entity = _Entity()
    join = {"alert_ids": ["a1", "a2"], "alerts": [{"alert_id": "a1"}, {"alert_id": "a2"}]}
    steps = [("variant", _report("inc-v1", "a1")), ("add", join)]
    for op, payload in (reversed(steps) if not report_first else steps):
        entity.run(op, payload)
    entity.run("variant", _report("inc-v1", "a1"))  # sent again (a replayed call): nothing twice
    answer = entity.run("summary", {"exclude": None, "close": True})
    assert answer["count"] == 1 and [a["alert_id"] for a in answer["alerts"]] == ["a2"], answer
    assert answer["variant_count"] == 1 and [v["variant"] for v in answer["variants"]] == ["inc-v1"]
    entity.run("add", {"alert_ids": ["a1"], "alerts": [{"alert_id": "a1"}]})  # a redelivery of the taken alert
    assert entity.run("get", None)["count"] == 1


def test_the_incidents_own_alert_taken_is_not_subtracted_twice():
    entity = _Entity()
    entity.run("add", {"alert_ids": ["own", "a2"], "alerts": [{"alert_id": "own"}, {"alert_id": "a2"}]})
    entity.run("variant", _report("inc-v1", "own"))
    assert entity.run("summary", {"exclude": "own", "close": False})["count"] == 1


def test_asked_goes_to_the_first_report_that_asks_after_the_close():
    entity = _Entity()
    assert entity.run("variant", _report("inc-v1", "x1", "not confirmed", asks=True)) == {"closed": False, "asked": None}
    entity.run("summary", {"exclude": None, "close": True})
    assert entity.run("variant", _report("inc-v2", "x2", "ok")) == {"closed": True, "asked": None}  # asks nothing
    assert entity.run("variant", _report("inc-v3", "x3", "not confirmed", asks=True)) == {"closed": True, "asked": None}
    assert entity.run("variant", _report("inc-v4", "x4", "not confirmed", asks=True)) == {"closed": True,
                                                                                         "asked": "inc-v3"}
