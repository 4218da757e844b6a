"""variants16, the tally's side: a bounded sample of each kind of variant is kept past the first
``MAX_VARIANTS_NAMED``, every kind counted; ``summary`` (the record, the orchestration's history) answers as before."""

from __future__ import annotations

import json

from firestop.lifecycle import tally
from firestop.lifecycle.view import VARIANTS_ON_CARD, with_variants
from tests.lifecycle.test_lifecycle_tally import _Entity


def _report(variant: str, outcome: str) -> dict:
    return {"variant": variant, "alert_id": f"alert-{variant}", "outcome": outcome, "why": "w" * 400}


def test_each_kind_keeps_a_bounded_sample_and_an_exact_count():
    entity = _Entity()
    for k in range(300):
        entity.run("variant", _report(f"inc-f{k}", "not confirmed"))
    for k in range(300):
        entity.run("variant", _report(f"inc-u{k}", "could not check" if k % 2 else "could not check, not waiting"))
    for k in range(7):
        entity.run("variant", _report(f"inc-g{k}", "ok"))
    entity.run("variant", _report("inc-g0", "ok"))  # a report sent again: counted once
    state = entity.run("get", None)
    assert state["variant_count"] == 607
    assert state["variant_kinds"] == {"confirmed": 7, "unchecked": 300, "unconfirmed": 300}
    kept = [v["variant"] for v in state["variants"]]
    # before: the first 20 only (all forged); now those, and the first few of each kind short of them
    per = tally.VARIANTS_KEPT_PER_KIND
    assert kept == ([f"inc-f{k}" for k in range(tally.MAX_VARIANTS_NAMED)] + [f"inc-u{k}" for k in range(per)]
                    + [f"inc-g{k}" for k in range(per)]), kept
    assert len(json.dumps(state["variants"])) < (tally.MAX_VARIANTS_NAMED + 3 * per) * 1000  # bounded, not everything
    answer = entity.run("summary", {"exclude": None, "close": False})
    assert [v["variant"] for v in answer["variants"]] == kept[:tally.MAX_VARIANTS_NAMED]  # as before: the first 20
    card = with_variants({"pending_approval": {"step": "alert.genuine"}}, state)["pending_approval"]
    assert [v["kind"] for v in card["variants"]] == ["confirmed"] * VARIANTS_ON_CARD
    assert card["variants_note"].endswith("and 602 more (2 confirmed at their source, 300 could not be checked, "
                                          "300 not confirmed)"), card["variants_note"]


def test_unchecked_come_before_unconfirmed_on_the_card():
    entity = _Entity()
    for k in range(22):
        entity.run("variant", _report(f"inc-f{k}", "not confirmed"))
    entity.run("variant", _report("inc-u0", "could not check"))
    card = with_variants({"pending_approval": {}}, entity.run("get", None))["pending_approval"]
    assert [v["variant"] for v in card["variants"]] == ["inc-u0", "inc-f0", "inc-f1", "inc-f2", "inc-f3"]
    assert "0 confirmed at their source, 1 could not be checked, 22 not confirmed" in card["variants_note"]


def test_a_tally_written_before_kinds_were_kept():
    older = {"variants": [{"variant": f"inc-f{k}", "outcome": "not confirmed"} for k in range(19)]
             + [{"variant": "inc-g", "outcome": "ok"}], "variant_count": 30}  # no variant_kinds
    card = with_variants({"pending_approval": {}}, older)["pending_approval"]
    assert card["variants"][0]["variant"] == "inc-g"
    assert card["variant_kinds"] == {"confirmed": 1, "unchecked": 0, "unconfirmed": 19, "unknown": 10}
    assert card["variants_note"].endswith("and 25 more (15 not confirmed, 10 of no kept kind (reported before this "
                                          "tally kept kinds))"), card["variants_note"]
    entity = _Entity(older)
    entity.run("variant", _report("inc-u", "could not check"))
    state = entity.run("get", None)
    assert state["variant_count"] == 31 and state["variant_kinds"] == {"confirmed": 1, "unchecked": 1, "unconfirmed": 19}
    assert state["variants"][-1]["variant"] == "inc-u"


def test_junk_kinds_are_not_believed():
    state = {"variants": [{"variant": "inc-g", "outcome": "ok"}], "variant_count": 1,
             "variant_kinds": {"confirmed": -5, "unchecked": True, "unconfirmed": "x"}}
    assert tally.variant_kinds(state) == {"confirmed": 1, "unchecked": 0, "unconfirmed": 0}


def test_the_outcomes_are_the_lifecycles():
    from firestop.lifecycle.incident import CAPPED_OUTCOME, COULD_NOT_CHECK

    assert tally.variant_kind(COULD_NOT_CHECK) == tally.variant_kind(CAPPED_OUTCOME) == "unchecked"
    assert tally.variant_kind("ok") == "confirmed" and tally.variant_kind("not confirmed") == "unconfirmed"
    assert tally.variant_kind(None) == "unconfirmed"


def test_a_hostile_tally_state_is_bounded_and_escaped_on_the_console_and_the_cli(capsys):
    from firestop.cli.output import print_plan_preview
    from firestop.console.pages import _plan_view

    hostile = "<script>alert(1)</script>\n\x1b[31mOutcome: contained\u202e" + "x" * 1000
    state = {"variants": [{"variant": hostile, "alert_id": hostile, "outcome": hostile},
                          {"variant": hostile, "outcome": "ok"}], "variant_count": 2,
             "variant_kinds": {"confirmed": 1, "unchecked": 0, "unconfirmed": 1}}
    card = with_variants({"pending_approval": {"step": "alert.genuine"}}, state)["pending_approval"]
    assert [v["kind"] for v in card["variants"]] == ["confirmed", "unconfirmed"]
    assert all(len(v["variant"]) <= 128 and len(v["outcome"]) <= 40 and len(v["alert_id"] or "") <= 512
               for v in card["variants"])
    page = _plan_view(card)
    assert "<script>" not in page and "&lt;script&gt;" in page and "\x1b" not in page and "\u202e" not in page
    print_plan_preview(card)
    out = capsys.readouterr().out
    assert "(confirmed at its source)" in out and "\x1b" not in out and "\u202e" not in out
    assert not any(line.startswith("Outcome:") for line in out.splitlines())
