"""listing14: R12-06's window on Azure's order of writes — a join made while the incident's published outcome is not
visible yet is still checked on its own.

R12-06 closed the unreadable-verdict hole with the incident's custom status: the incident publishes its check's
outcome there before it lists its pending joins, and intake, reading no verdict, reads that status once more. That
holds when the custom status is visible before the list runs — true on the local host (one transaction), not on
DurableTask.AzureStorage, which enqueues the list activity's message before it writes the Instances row that carries
the custom status (firestop/runtime/host.py's docstring: the source). A join made between the list and that write
read "check pending" there, joined, and nobody listed again: the genuine alert of a forged incident, never checked.

Now the list activity (``start_pending_joins``) first reads the incident's status and lists only once the outcome
is visible there (else it raises, and the orchestrator's retry runs it again): a join whose status read missed the
outcome was kept before that read, so before the list. Each interleaving below on the local host held to Azure's
order (``hold_custom_status``; ``publish_custom_status`` is the Instances write), with the verdict blob made
unreadable (planted first, R12-06), so that intake has only the status to go by:

- join before the outcome is published: the list finds it;
- join after it is published, before it is visible (the list waits): the list finds it — failed before this change;
- join whose first status read saw the check pending, made visible before its second read and before the list:
  intake starts the variant, the list finds it: one variant;
- join after it is visible, before the list: intake starts the variant (no pending join kept);
- join after the list: intake starts it;
- the outcome never visible within the list's retries: the incident says the joins were not started (a responder
  decides them there).
"""

from __future__ import annotations

import json

import pytest

from tests.e2e.test_webhook import served  # noqa: F401 (fixture)
from tests.redteam15.test_rt15_forged_alert_holds_resource import _forged
from tests.source_check_steps import confirm_outcomes
from tests.variants13.test_j14_pending_joins import _Gate, _incidents, _post_in_background
from tests.variants13.test_v13_joined_while_checked import _posted, _variant_of
from tests.verify12.test_v12_forged_dimensions import RAW, _deny_rules, _fire_genuine


@pytest.fixture(autouse=True)
def check_on(monkeypatch):
    monkeypatch.setenv("FIRESTOP_ALERT_SOURCE_CHECK", "on")


def _forged_with_unreadable_verdict(env, server, app) -> str:
    """The genuine alert fired at its source; a forged alert posted (its check pending) and a blob planted at its
    run's verdict name (R12-06: the real verdict is then never kept). Returns the forged incident."""
    from firestop.records.check_verdicts import verdict_name
    from firestop.records.store import records_store
    from firestop.settings import get_settings

    _fire_genuine(env)
    forged = _posted(server, app, _forged())["id"]
    received_at = str(env.host.get_status(forged).input["received_at"])
    records_store(get_settings()).create(verdict_name(forged, received_at), b'{"confirmed": false}',
                                         "application/json")
    return forged


def _list_answers(env, forged: str) -> list[str]:
    """The forged incident's history: how each run of the list activity ended (``"completed"`` / ``"failed"``)."""
    from firestop.lifecycle.incident import ACTIVITY_START_PENDING_JOINS

    events = env.host.get_status(forged, show_history=True).history
    names = {e.get("EventId"): e.get("Name") for e in events if e.get("EventType") == 4}  # TaskScheduled
    ends = {5: "completed", 6: "failed"}  # TaskCompleted, TaskFailed
    return [ends[e["EventType"]] for e in events
            if e.get("EventType") in ends and names.get(e.get("TaskScheduledId")) == ACTIVITY_START_PENDING_JOINS]


def _checked_on_its_own(env, forged: str) -> str:
    own = _variant_of(json.loads(RAW))
    assert confirm_outcomes(env, own) == ["ok"]  # the genuine alert, checked in its own incident
    assert _deny_rules(env, "203.0.113.200")  # and contained automatically
    assert _incidents(env) == sorted([forged, own])  # one variant, nothing else
    return own


def _notes(env, forged: str) -> list[str]:
    return env.host.get_status(forged).output["notes"]


def test_join_before_the_outcome_is_published_the_list_finds_it(served):  # noqa: F811
    env, server, app = served
    forged = _forged_with_unreadable_verdict(env, server, app)
    assert _posted(server, app, json.loads(RAW)).get("correlatedTo") == forged  # P, R (unreadable), status: pending
    env.host.hold_custom_status()
    env.host.run_until_idle()  # V; the outcome published, not visible: the list waits (its first run failed)
    assert _list_answers(env, forged) == ["failed"]
    env.host.publish_custom_status()
    env.host.run_until_idle(advance_timers=True)  # the retry lists: finds the join
    _checked_on_its_own(env, forged)
    assert _list_answers(env, forged) == ["failed", "completed"]
    assert any("1 variant(s) started" in n for n in _notes(env, forged)), _notes(env, forged)


def test_join_while_the_published_outcome_is_not_visible_yet_is_still_checked(served):  # noqa: F811
    """Failed before listing14: the list ran at once (nothing kept yet), the join then read "pending" in the status
    and joined the forged incident — nobody started its variant."""
    env, server, app = served
    forged = _forged_with_unreadable_verdict(env, server, app)
    env.host.hold_custom_status()
    env.host.run_until_idle()  # V; the outcome published but not visible (Azure: the Instances row not written yet)
    assert confirm_outcomes(env, forged) == []
    genuine = _posted(server, app, json.loads(RAW))  # P, R (unreadable), status: pending → joined
    assert genuine.get("correlatedTo") == forged, genuine
    env.host.publish_custom_status()
    env.host.run_until_idle(advance_timers=True)
    _checked_on_its_own(env, forged)
    assert any("1 variant(s) started" in n for n in _notes(env, forged)), _notes(env, forged)


def test_join_made_visible_meanwhile_before_the_list_is_one_variant(served, monkeypatch):  # noqa: F811
    env, server, app = served
    forged = _forged_with_unreadable_verdict(env, server, app)
    env.host.hold_custom_status()
    env.host.run_until_idle()  # the list's first run failed: the outcome not visible
    gate = _Gate(monkeypatch, "_keep_pending")
    thread, answers = _post_in_background(server, app, json.loads(RAW))
    assert gate.reached.wait(60)  # intake's first status read: the check pending
    env.host.publish_custom_status()  # visible now; the list's retry not due yet
    gate.release.set()  # P, R (unreadable), the status once more: "not confirmed" → its variant, started here
    thread.join(60)
    assert not thread.is_alive() and answers, "intake did not answer"
    own = _variant_of(json.loads(RAW))
    assert answers[0]["id"] == own and answers[0].get("correlatedTo") is None, answers[0]
    env.host.run_until_idle(advance_timers=True)  # the retry lists: finds it, already started
    _checked_on_its_own(env, forged)
    assert any("0 variant(s) started, 1 already running or done" in n for n in _notes(env, forged)), \
        _notes(env, forged)


def test_join_after_the_outcome_is_visible_intake_starts_the_variant(served):  # noqa: F811
    env, server, app = served
    forged = _forged_with_unreadable_verdict(env, server, app)
    env.host.hold_custom_status()
    env.host.run_until_idle()  # the list's first run failed
    env.host.publish_custom_status()  # visible; the list's retry not due yet
    genuine = _posted(server, app, json.loads(RAW))  # its first status read: "not confirmed" → its variant, no P
    assert genuine["id"] == _variant_of(json.loads(RAW)), genuine
    env.host.run_until_idle(advance_timers=True)  # the retry lists: nothing kept
    _checked_on_its_own(env, forged)
    assert _list_answers(env, forged) == ["failed", "completed"]
    assert not any("while its source check ran" in n for n in _notes(env, forged)), _notes(env, forged)


def test_join_after_the_list_intake_starts_the_variant(served):  # noqa: F811
    env, server, app = served
    forged = _forged_with_unreadable_verdict(env, server, app)
    env.host.hold_custom_status()
    env.host.run_until_idle()
    env.host.publish_custom_status()
    env.host.run_until_idle()  # the retry timer is not due: advance the clock to it, without running the gate's
    env.tenant.clock.advance(6)
    env.host.run_until_idle()  # the list ran (found nothing)
    assert _list_answers(env, forged) == ["failed", "completed"]
    genuine = _posted(server, app, json.loads(RAW))  # P, R (unreadable), status: "not confirmed" → its variant
    assert genuine["id"] == _variant_of(json.loads(RAW)), genuine
    env.host.run_until_idle(advance_timers=True)
    _checked_on_its_own(env, forged)
    assert not any("while its source check ran" in n for n in _notes(env, forged)), _notes(env, forged)


def test_an_outcome_never_visible_within_the_retries_is_said(served):  # noqa: F811
    env, server, app = served
    forged = _forged_with_unreadable_verdict(env, server, app)
    assert _posted(server, app, json.loads(RAW)).get("correlatedTo") == forged
    env.host.hold_custom_status()
    env.host.run_until_idle(advance_timers=True)  # every retry of the list meets the outcome not visible
    from firestop.lifecycle.incident import PENDING_JOIN_ATTEMPTS

    assert _list_answers(env, forged) == ["failed"] * PENDING_JOIN_ATTEMPTS
    notes = _notes(env, forged)
    assert any("were not started on their own (start_pending_joins failed): the responder decides them here" in n
               for n in notes), notes


def test_the_published_outcome_outlives_the_timeline_lines_the_custom_status_drops(served):  # noqa: F811
    """The argument above needs every later status of the run to show the outcome. The custom status's timeline keeps
    its newest lines only (SO_FAR_ENTRIES, SO_FAR_BUDGET_CHARS): a run with enough lines after the check dropped the
    check's, and intake read "not checked yet" (a join then kept a pending join nobody lists). The incident now
    publishes the outcome on its own (``source_check``), and intake reads that first."""
    from types import SimpleNamespace

    from firestop.intake.accept import confirm_outcome, published_not_confirmed
    from firestop.lifecycle.timeline import SO_FAR_ENTRIES, timeline_so_far

    env, server, app = served
    forged = _forged_with_unreadable_verdict(env, server, app)
    env.host.run_until_idle()
    custom = env.host.get_status(forged).custom_status
    assert custom["source_check"] == "not confirmed"  # published by the orchestrator, beside the timeline
    later = [{"phase": "contain", "step": f"step-{i}", "outcome": "done", "offset_s": float(i), "detail": "x" * 150}
             for i in range(SO_FAR_ENTRIES)]
    grown = {**custom, "timeline": timeline_so_far(custom["timeline"] + later)}
    assert all(e["step"] != "confirm alert at source" for e in grown["timeline"])  # the check's line dropped
    status = SimpleNamespace(custom_status=grown, output=None)
    assert confirm_outcome(status) == "not confirmed" and published_not_confirmed(status)
    older = SimpleNamespace(custom_status={k: v for k, v in custom.items() if k != "source_check"}, output=None)
    assert confirm_outcome(older) == "not confirmed"  # a run started before this change: its timeline is read
