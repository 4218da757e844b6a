"""accept_alert's one-incident-per-attack decisions (firestop.intake.accept): a late alert recorded onto the ended
incident of its route when that held, and an alert of another playbook route started as a part of the attack's
incident — against the Durable client stand-in (tests/intake/conftest.py)."""

from __future__ import annotations

import asyncio
import copy
from datetime import datetime, timedelta

from firestop.intake import CorrelationKey, CorrelationSettings, OutcomeKind, accept_alert, correlation_keys, slot_id
from firestop.intake.correlation import routed_keys

from .conftest import ACCOUNT, NOW, ORCH, make_alert

ROUTES = ("playbook:leaked-api-key", "playbook:public-network-exposure")


#: When the held incidents below completed their containment (their record's ``contained_at``).
CONTAINED = NOW - timedelta(minutes=10)


def routed(alert_id: str, playbook: str, *, window_start: datetime | None = CONTAINED - timedelta(minutes=5)):
    """make_alert's alert routed to ``playbook`` by its firestop-playbook property, its evidence window starting at
    ``window_start`` (default: before :data:`CONTAINED`, the rows the containment already answered)."""
    return make_alert(alert_id).model_copy(update={"custom_properties": {"firestop-playbook": playbook},
                                                   "window_start": window_start})


def held(status: str = "contained", **extra) -> dict:
    """A held incident's record: contained (or, blocked at source, resolved) at :data:`CONTAINED`."""
    return {"status": status, "incident_id": "inc-first", "alert": {"alert_id": "first-alert"},
            ("contained_at" if status == "contained" else "resolved_at"): CONTAINED.isoformat(), **extra}


def slot(route: str, generation: int = 1) -> str:
    [key] = routed_keys(correlation_keys([ACCOUNT], CorrelationKey.RESOURCE), route)
    return slot_id(key, generation)


class Recorder:
    def __init__(self, answer="recorded"):
        self.calls: list[tuple[str, dict]] = []
        self.answer = answer

    async def __call__(self, incident_id, entry):
        self.calls.append((incident_id, copy.deepcopy(entry)))
        return self.answer


def accept(fake, alert, recorder=None, window=3600.0):
    return asyncio.run(accept_alert(
        fake, alert, now=NOW, settings=CorrelationSettings(window_seconds=window), orchestrator_name=ORCH,
        start_input=lambda a, now, iid, part_of=None, follows=None: {"incident_id": iid, "part_of": part_of,
                                                                      "follows": follows},
        routes=ROUTES, record_after_close=recorder))


def test_a_late_alert_of_a_held_incident_is_recorded_onto_it_and_starts_nothing(fake):
    first = slot("playbook:leaked-api-key")
    fake.add(first, ACCOUNT, status="Completed", age_s=900, ended_s=300, output=held())
    recorder = Recorder()
    # a late evaluation of the same rows: its window began before the containment completed
    outcome = accept(fake, routed("late", "leaked-api-key"), recorder)
    assert (outcome.kind, outcome.instance_id, outcome.correlated_to) == (OutcomeKind.RECORDED, first, first)
    assert outcome.accepted and [c[0] for c in recorder.calls] == [first]
    assert recorder.calls[0][1]["alert_id"].endswith("/late") and "part" not in recorder.calls[0][1]
    assert "before inc-first's containment completed" in recorder.calls[0][1]["covered"]
    assert set(fake.instances) == {first}


def test_already_recorded_is_a_duplicate(fake):
    first = slot("playbook:leaked-api-key")
    fake.add(first, ACCOUNT, status="Completed", age_s=600, ended_s=300, output=held("resolved"))
    outcome = accept(fake, routed("late", "leaked-api-key"), Recorder("duplicate"))
    assert (outcome.kind, outcome.instance_id) == (OutcomeKind.DUPLICATE, first)


def test_an_incident_that_did_not_hold_or_ended_too_long_ago_takes_nothing_a_new_one_contains(fake):
    first = slot("playbook:leaked-api-key")
    for output, ended_s in (({"status": "needs_responder"}, 300), ({"status": "contained"}, 3700)):
        fake.instances.clear()
        from firestop.intake.accept import clear_caches

        clear_caches()
        fake.add(first, ACCOUNT, status="Completed", age_s=4000, ended_s=ended_s, output={**held(), **output})
        recorder = Recorder()
        outcome = accept(fake, routed("late", "leaked-api-key"), recorder)
        assert (outcome.kind, outcome.instance_id) == (OutcomeKind.STARTED, slot("playbook:leaked-api-key", 2))
        assert recorder.calls == []


def test_no_filed_record_means_contain_again(fake):
    first = slot("playbook:leaked-api-key")
    fake.add(first, ACCOUNT, status="Completed", age_s=600, ended_s=300, output=held())
    outcome = accept(fake, routed("late", "leaked-api-key"), Recorder(None))
    assert outcome.kind is OutcomeKind.STARTED and outcome.instance_id == slot("playbook:leaked-api-key", 2)


def test_new_activity_after_containment_starts_a_new_incident_that_follows_the_held_one(fake):
    """The hole found in review: the leaked-key rule fires again 20 minutes after the keys were rotated, with
    requests made after containment (the new key leaked too) -> contained again, never a line on the old record."""
    first, second = slot("playbook:leaked-api-key"), slot("playbook:leaked-api-key", 2)
    for status in ("contained", "resolved"):
        fake.instances.clear()
        from firestop.intake.accept import clear_caches

        clear_caches()
        fake.add(first, ACCOUNT, status="Completed", age_s=1800, ended_s=300, output=held(status))
        recorder = Recorder()
        outcome = accept(fake, routed("again", "leaked-api-key", window_start=CONTAINED + timedelta(minutes=5)), recorder)
        assert (outcome.kind, outcome.instance_id, outcome.follows) == (OutcomeKind.STARTED, second, first)
        assert fake.instances[second]["input"]["follows"] == first and recorder.calls == []


def test_an_alert_with_no_start_time_is_never_suppressed(fake):
    first = slot("playbook:leaked-api-key")
    fake.add(first, ACCOUNT, status="Completed", age_s=900, ended_s=300, output=held())
    outcome = accept(fake, routed("nostart", "leaked-api-key", window_start=None), Recorder())
    assert (outcome.kind, outcome.instance_id, outcome.follows) == (
        OutcomeKind.STARTED, slot("playbook:leaked-api-key", 2), first)


def test_a_record_without_a_containment_time_covers_nothing(fake):
    first = slot("playbook:leaked-api-key")
    fake.add(first, ACCOUNT, status="Completed", age_s=900, ended_s=300, output={"status": "contained"})
    outcome = accept(fake, routed("late", "leaked-api-key"), Recorder())
    assert outcome.kind is OutcomeKind.STARTED and outcome.follows == first


def test_an_identity_linked_alert_is_recorded_whatever_its_window(fake):
    """A Sentinel incident holding the Defender alert the held incident handled: the same attack, whenever its
    first activity was (identity beats time)."""
    first = slot("playbook:leaked-api-key")
    defender_id = "2517538088322968242_8b4a-11ee"
    record = held(alert={"alert_id": f"Microsoft.Security/alerts/{defender_id}"})
    fake.add(first, ACCOUNT, status="Completed", age_s=900, ended_s=300, output=record)
    sentinel = routed("sent", "leaked-api-key", window_start=CONTAINED + timedelta(minutes=5)).model_copy(
        update={"context": {"source": "sentinel:incident", "providerAlertIds": [defender_id.upper()]}})
    recorder = Recorder()
    outcome = accept(fake, sentinel, recorder)
    assert (outcome.kind, outcome.instance_id) == (OutcomeKind.RECORDED, first)
    assert recorder.calls[0][1]["links"] == [f"defender:{defender_id}"]
    # another Defender alert (not the one handled) after containment is new activity
    clear = __import__("firestop.intake.accept", fromlist=["clear_caches"]).clear_caches
    clear()
    other = sentinel.model_copy(update={"alert_id": "other", "context": {"source": "sentinel:incident",
                                                                         "providerAlertIds": ["another-alert"]}})
    assert accept(fake, other, Recorder()).kind is OutcomeKind.STARTED


def test_another_route_on_the_resource_starts_its_own_incident_as_a_part_of_the_open_one(fake):
    decoy = slot("playbook:public-network-exposure")
    fake.add(decoy, ACCOUNT, status="Running", age_s=120)
    recorder = Recorder()
    outcome = accept(fake, routed("leak", "leaked-api-key"), recorder)
    own = slot("playbook:leaked-api-key")
    assert (outcome.kind, outcome.instance_id, outcome.part_of, outcome.correlated_to) == (OutcomeKind.STARTED, own, decoy, None)
    assert fake.instances[own]["input"]["part_of"] == decoy  # its own playbook runs, at once
    [(entity, key, operation, data)] = fake.signals  # the open anchor's tally hears of the part
    assert (entity, key, operation, data["alerts"][0]["part"]) == ("incident_alerts", decoy, "add", own)
    assert recorder.calls == []


def test_the_anchor_of_a_part_is_the_attacks_first_incident_and_an_ended_one_gets_a_revision(fake):
    root, part = "inc-root", slot("playbook:public-network-exposure")
    fake.add(root, ACCOUNT, status="Completed", age_s=900, ended_s=800, output={"status": "resolved"})
    fake.add(part, ACCOUNT, status="Completed", age_s=600, ended_s=500, output={"status": "contained"}, part_of=root)
    recorder = Recorder()
    outcome = accept(fake, routed("leak", "leaked-api-key"), recorder)
    assert outcome.part_of == root and fake.instances[outcome.instance_id]["input"]["part_of"] == root
    assert [(c[0], c[1]["part"]) for c in recorder.calls] == [(root, outcome.instance_id)]


def test_an_anchor_that_ended_before_the_window_anchors_nothing(fake):
    fake.add(slot("playbook:public-network-exposure"), ACCOUNT, status="Completed", age_s=9000, ended_s=8000,
              output={"status": "contained"})
    outcome = accept(fake, routed("leak", "leaked-api-key"), Recorder())
    assert outcome.kind is OutcomeKind.STARTED and outcome.part_of is None
