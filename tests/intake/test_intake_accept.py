"""accept_alert against a Durable client stand-in: dedupe, correlation, resolve, failures, races."""

from __future__ import annotations

import asyncio

import pytest

from firestop.alerts import Alert
from firestop.intake import (
    EVENT_CORRELATED,
    EVENT_RESOLVED,
    CorrelationKey,
    CorrelationSettings,
    IntakeUnavailable,
    OutcomeKind,
    accept_alert,
    target_ids_of_input,
)

from .conftest import ACCOUNT, NOW, ORCH, OTHER, make_alert


def accept(client, alert, settings: CorrelationSettings | None = None, scope: str = ""):
    return asyncio.run(accept_alert(
        client, alert, now=NOW, settings=settings or CorrelationSettings(), orchestrator_name=ORCH,
        start_input=lambda a, now: {"incident_id": a.incident_key, "alert": a.model_dump(mode="json", exclude={"context", "essentials"}),
                                    "received_at": now.isoformat()},
        cache_scope=scope,
    ))


# -- Fired: start, duplicate --------------------------------------------------------
def test_a_new_alert_starts_its_incident_under_the_alerts_key(fake):
    alert = make_alert("a1")
    outcome = accept(fake, alert)
    assert (outcome.kind, outcome.instance_id, outcome.http_status) == (OutcomeKind.STARTED, alert.incident_key, 202)
    assert fake.instances[alert.incident_key]["input"]["alert"]["target_ids"] == [ACCOUNT]
    assert fake.events == []


def test_a_repeated_delivery_starts_nothing_and_gets_the_same_incident(fake):
    alert = make_alert("a1")
    first = accept(fake, alert)
    fake.instances[alert.incident_key]["runtimeStatus"] = "Completed"
    again = [accept(fake, alert) for _ in range(3)]
    assert {(o.kind, o.instance_id) for o in again} == {(OutcomeKind.DUPLICATE, first.instance_id)}
    assert fake.calls.count("start_new") == 1 and fake.events == []


def test_a_start_refused_because_another_worker_just_started_it_is_a_duplicate(fake):
    alert = make_alert("a1")
    fake.on_start = lambda iid: fake.add(iid, ACCOUNT, status="Running", age_s=0)
    outcome = accept(fake, alert)
    assert (outcome.kind, outcome.instance_id, outcome.accepted) == (OutcomeKind.DUPLICATE, alert.incident_key, True)


# -- Fired: correlation -------------------------------------------------------------
@pytest.mark.parametrize("status", ["Pending", "Running"])
def test_an_alert_for_a_resource_with_an_open_incident_joins_it(fake, status):
    fake.add("inc-open", ACCOUNT.upper(), status=status, age_s=120)
    alert = make_alert("a2")
    outcome = accept(fake, alert)
    assert (outcome.kind, outcome.instance_id, outcome.correlated_to) == (OutcomeKind.CORRELATED, "inc-open", "inc-open")
    assert alert.incident_key not in fake.instances and "start_new" not in fake.calls
    [(iid, name, data)] = fake.events
    assert (iid, name) == ("inc-open", EVENT_CORRELATED)
    assert data == {"alert": alert.model_dump(mode="json", exclude={"context", "essentials"}), "received_at": NOW.isoformat()}
    assert "raw context" not in str(data) and Alert.model_validate(data["alert"]).alert_id == alert.alert_id


def test_the_open_incidents_input_may_come_back_as_json_text(fake):
    fake.add("inc-open", ACCOUNT, input_as_text=True)
    assert accept(fake, make_alert("a2")).correlated_to == "inc-open"


@pytest.mark.parametrize(
    ("setup", "why"),
    [
        (dict(status="Completed"), "finished incidents are not open"),
        (dict(age_s=3601), "older than the 60-minute default window"),
        (dict(name="some_other_orchestrator"), "not an incident"),
    ],
)
def test_no_open_incident_in_the_window_means_a_new_incident(fake, setup, why):
    fake.add("inc-old", ACCOUNT, **setup)
    outcome = accept(fake, make_alert("a3"))
    assert outcome.kind is OutcomeKind.STARTED, why
    assert fake.events == []


def test_another_resource_or_turned_off_correlation_starts_a_new_incident(fake):
    fake.add("inc-open", OTHER)
    assert accept(fake, make_alert("a4")).kind is OutcomeKind.STARTED
    fake.add("inc-same", ACCOUNT)
    assert accept(fake, make_alert("a5"), CorrelationSettings(key=CorrelationKey.NONE)).kind is OutcomeKind.STARTED
    assert accept(fake, make_alert("a6"), CorrelationSettings(window_seconds=0)).kind is OutcomeKind.STARTED
    assert accept(fake, make_alert("a7", targets=())).kind is OutcomeKind.STARTED
    assert fake.events == []


def test_the_resource_group_key_joins_a_sibling_resource(fake):
    fake.add("inc-open", OTHER)
    outcome = accept(fake, make_alert("a4"), CorrelationSettings(key=CorrelationKey.RESOURCE_GROUP))
    assert outcome.correlated_to == "inc-open"


def test_an_incident_that_closes_between_listing_and_raising_is_not_joined(fake):
    fake.add("inc-closing", ACCOUNT, status="Running")
    original = fake.raise_event

    async def closes_first(instance_id, event_name, event_data=None, **kw):
        fake.instances[instance_id]["runtimeStatus"] = "Completed"
        return await original(instance_id, event_name, event_data, **kw)

    fake.raise_event = closes_first
    alert = make_alert("a8")
    outcome = accept(fake, alert)
    assert (outcome.kind, outcome.instance_id) == (OutcomeKind.STARTED, alert.incident_key)
    assert fake.events == []


def test_a_burst_of_distinct_alerts_for_one_resource_starts_exactly_one_incident(fake):
    alerts = [make_alert(f"burst-{i}") for i in range(20)]

    async def burst():
        settings = CorrelationSettings()
        start = lambda a, now: {"alert": {"target_ids": list(a.target_ids)}}  # noqa: E731
        calls = [accept_alert(fake, a, now=NOW, settings=settings, orchestrator_name=ORCH, start_input=start)
                 for a in alerts + alerts[:10]]
        return await asyncio.gather(*calls)

    outcomes = asyncio.run(burst())
    started = [o for o in outcomes if o.kind is OutcomeKind.STARTED]
    assert len(started) == 1 and len(fake.instances) == 1
    assert {o.instance_id for o in outcomes} == {started[0].instance_id}
    joined = {data["alert"]["alert_id"] for _, name, data in fake.events if name == EVENT_CORRELATED}
    assert joined == {a.alert_id for a in alerts} - {a.alert_id for a in alerts if a.incident_key == started[0].instance_id}


# -- repeats of joined alerts, and reused listings ----------------------------------------
def test_a_repeat_of_a_joined_alert_gets_the_same_answer_even_after_the_incident_closed(fake):
    fake.add("inc-open", ACCOUNT, status="Running")
    alert = make_alert("m1")
    first = accept(fake, alert)
    fake.instances["inc-open"]["runtimeStatus"] = "Completed"
    again = accept(fake, alert)
    assert again == first and again.correlated_to == "inc-open"
    assert len(fake.events) == 1 and "start_new" not in fake.calls


@pytest.mark.parametrize("change", ["purged", "replaced"])
def test_a_repeat_is_decided_again_when_the_remembered_incident_is_gone(fake, change):
    fake.add("inc-open", ACCOUNT, status="Running")
    alert = make_alert("m2")
    accept(fake, alert)
    if change == "purged":
        del fake.instances["inc-open"]
    else:  # same id, a new execution (created later)
        fake.add("inc-open", ACCOUNT, status="Running", age_s=5)
    again = accept(fake, alert)
    if change == "purged":
        assert (again.kind, again.instance_id) == (OutcomeKind.STARTED, alert.incident_key)
    else:
        assert again.kind is OutcomeKind.CORRELATED and len(fake.events) == 2


def test_answers_are_remembered_per_scope(fake):
    fake.add("inc-open", ACCOUNT, status="Running")
    alert = make_alert("m3")
    accept(fake, alert, scope="backend-1")
    accept(fake, alert, scope="backend-2")
    assert len(fake.events) == 2  # another backend: decided (and raised) again
    accept(fake, alert, scope="backend-1")
    assert len(fake.events) == 2


def test_a_storm_lists_open_incidents_once_per_listing_period(fake):
    fake.add("inc-open", ACCOUNT, status="Running")
    for i in range(20):
        assert accept(fake, make_alert(f"s{i}")).correlated_to == "inc-open"
    assert fake.calls.count("get_status_by") == 1 and len(fake.events) == 20


def test_a_stale_listing_never_joins_a_closed_incident_nor_hides_a_new_one(fake):
    fake.add("inc-open", ACCOUNT, status="Running")
    accept(fake, make_alert("t0"))  # lists: inc-open is open
    fake.instances["inc-open"]["runtimeStatus"] = "Completed"
    fake.add("inc-new", ACCOUNT, status="Pending", age_s=1)  # not in the cached listing
    outcome = accept(fake, make_alert("t1"))
    assert (outcome.kind, outcome.correlated_to) == (OutcomeKind.CORRELATED, "inc-new")
    assert [iid for iid, _, _ in fake.events] == ["inc-open", "inc-new"]


def test_an_incident_not_yet_in_the_cached_listing_is_found_before_starting_another(fake):
    accept(fake, make_alert("u0", targets=(OTHER,)))  # lists: nothing open on ACCOUNT
    fake.add("inc-new", ACCOUNT, status="Pending", age_s=0)
    outcome = accept(fake, make_alert("u1"))
    assert (outcome.kind, outcome.correlated_to) == (OutcomeKind.CORRELATED, "inc-new")


# -- Resolved --------------------------------------------------------------------------
def test_resolved_reaches_its_open_incident_as_an_event(fake):
    fired = make_alert("r1")
    accept(fake, fired)
    resolved = make_alert("r1", condition="Resolved", resolved="2026-11-29T03:40:00.1234567Z")
    outcome = accept(fake, resolved)
    assert (outcome.kind, outcome.instance_id, outcome.correlated_to, outcome.http_status) == (
        OutcomeKind.RESOLVED, fired.incident_key, None, 202)
    assert fake.events == [(fired.incident_key, EVENT_RESOLVED, {
        "alert_id": fired.alert_id, "resolved_at": "2026-11-29T03:40:00.123456+00:00", "received_at": NOW.isoformat()})]


def test_resolved_of_a_correlated_alert_reaches_the_incident_it_joined(fake):
    fake.add("inc-open", ACCOUNT)
    outcome = accept(fake, make_alert("r2", condition="Resolved"))
    assert (outcome.kind, outcome.correlated_to) == (OutcomeKind.RESOLVED, "inc-open")
    assert fake.events[-1][2]["resolved_at"] is None  # not sent: only metric alerts carry it


def test_resolved_never_starts_an_incident(fake):
    alert = make_alert("r3", condition="Resolved")
    outcome = accept(fake, alert)
    assert (outcome.kind, outcome.instance_id, outcome.http_status) == (OutcomeKind.NO_INCIDENT, None, 200)
    fake.add(alert.incident_key, ACCOUNT, status="Completed")
    closed = accept(fake, alert)
    assert (closed.kind, closed.instance_id, closed.runtime_status, closed.http_status) == (
        OutcomeKind.CLOSED, alert.incident_key, "Completed", 200)
    assert "start_new" not in fake.calls and fake.events == []


# -- storage failures: never accepted when not recorded ----------------------------------
@pytest.mark.parametrize(
    ("method", "mode", "condition"),
    [
        ("get_status", "raise", "Fired"),
        ("get_status", "error-body", "Fired"),
        ("get_status", "error-body", "Resolved"),
        ("get_status_by", "raise", "Fired"),
        ("get_status_by", "raise", "Resolved"),
        ("start_new", "raise", "Fired"),
    ],
)
def test_a_store_failure_is_unavailable_not_accepted(fake, method, mode, condition):
    fake.fail[method] = mode
    with pytest.raises(IntakeUnavailable):
        accept(fake, make_alert("f1", condition=condition))
    assert fake.instances == {} and fake.events == []


def test_a_failed_raise_on_an_open_incident_is_unavailable(fake):
    fake.add("inc-open", ACCOUNT, status="Running")
    fake.fail["raise_event"] = "raise"
    with pytest.raises(IntakeUnavailable):
        accept(fake, make_alert("f2"))
    with pytest.raises(IntakeUnavailable):
        accept(fake, make_alert("f2", condition="Resolved"))
    assert list(fake.instances) == ["inc-open"] and fake.events == []


def test_naive_now_is_refused(fake):
    from datetime import datetime

    with pytest.raises(ValueError):
        asyncio.run(accept_alert(fake, make_alert(), now=datetime(2026, 1, 1), settings=CorrelationSettings(),
                                 orchestrator_name=ORCH, start_input=lambda a, n: {}))


# -- pure helper -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"alert": {"target_ids": ["/a", 3, "/b"]}}, ("/a", "/b")),
        ('{"alert": {"target_ids": ["/a"]}}', ("/a",)),
        ('"{\\"alert\\": {\\"target_ids\\": [\\"/a\\"]}}"', ("/a",)),
        ("not json", ()),
        (None, ()),
        ({"alert": {"target_ids": "/a"}}, ()),
        ({"alert": None}, ()),
    ],
)
def test_target_ids_of_an_incident_input(value, expected):
    assert target_ids_of_input(value) == expected
