"""cap15, the tally's side: the place of each variant whose first check could not check (operation ``unchecked``).
Distinct places in arrival order, the same place for a variant asking again, counted in ``summary``; a state
written before the operation existed reads as none counted."""

from __future__ import annotations

from tests.lifecycle.test_lifecycle_tally import _Entity


def test_places_are_given_in_order_and_a_repeat_gets_its_own_back():
    entity = _Entity()
    assert [entity.run("unchecked", {"variant": f"inc-v{n}"}) for n in range(4)] == [{"k": k} for k in (1, 2, 3, 4)]
    assert entity.run("unchecked", {"variant": "inc-v1"}) == {"k": 2}  # sent again (a replayed call): no new place
    assert entity.run("summary", {"exclude": None, "close": False})["unchecked_count"] == 4


def test_past_the_named_ones_every_ask_counts(monkeypatch):
    from firestop.lifecycle import tally

    monkeypatch.setattr(tally, "MAX_VARIANTS_NAMED", 2)
    entity = _Entity()
    places = [entity.run("unchecked", {"variant": v})["k"] for v in ("a", "b", "c", "c", "a")]
    assert places == [1, 2, 3, 4, 1]  # c is not remembered: asking again counts again (only ever more conservative)


def test_a_state_from_before_the_operation_counts_from_none():
    entity = _Entity({"count": 1, "digests": "", "alerts": [], "parts": [], "untracked": 0, "late": 0,
                      "closed": False, "late_alerts": [], "variants": [], "variant_count": 0, "taken": "",
                      "asked": None})
    assert entity.run("unchecked", {"variant": "inc-v9"}) == {"k": 1}
    assert entity.run("get", None)["count"] == 1
