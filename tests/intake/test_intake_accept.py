"""accept_alert against a Durable client stand-in: dedupe, correlation, resolve, failures, races."""

from __future__ import annotations

import asyncio

import pytest

from firestop.intake import (
    EVENT_RESOLVED,
    CorrelationKey,
    CorrelationSettings,
    IntakeUnavailable,
    OutcomeKind,
    accept_alert,
    correlation_keys,
    slot_id,
    target_ids_of_input,
)

from firestop.intake.correlation import route_of, routed_keys
from firestop.intake.events import TALLY_ADD, TALLY_ENTITY

from .conftest import ACCOUNT, NOW, ORCH, OTHER, make_alert


def accept(client, alert, settings: CorrelationSettings | None = None, scope: str = ""):
    return asyncio.run(accept_alert(
        client, alert, now=NOW, settings=settings or CorrelationSettings(), orchestrator_name=ORCH,
        start_input=lambda a, now, iid: {"incident_id": iid, "alert": a.model_dump(mode="json", exclude={"context", "essentials"}),
                                    "received_at": now.isoformat()},
        cache_scope=scope,
    ))


#: make_alert's alerts carry no firestop-playbook property: they are routed by their rule
ROUTE = route_of(make_alert("a0"))


def slot(target: str = ACCOUNT, generation: int = 1, key: CorrelationKey = CorrelationKey.RESOURCE) -> str:
    [k] = routed_keys(correlation_keys([target], key), ROUTE)
    return slot_id(k, generation)


def joined(fake) -> list[str]:
    """Alert ids in the batches signalled to tally entities, in order."""
    return [i for _, _, _, data in fake.signals for i in data["alert_ids"]]


# -- Fired: start, duplicate --------------------------------------------------------
def test_a_new_alert_starts_the_first_incident_of_its_resource(fake):
    alert = make_alert("a1")
    outcome = accept(fake, alert)
    assert (outcome.kind, outcome.instance_id, outcome.http_status) == (OutcomeKind.STARTED, slot(), 202)
    started = fake.instances[slot()]["input"]
    assert started["alert"]["target_ids"] == [ACCOUNT] and started["incident_id"] == slot()
    assert slot() == slot(ACCOUNT.upper())  # one slot per resource, whatever the case of its id
    assert fake.events == []


def test_a_repeated_delivery_starts_nothing_and_gets_the_same_incident(fake):
    alert = make_alert("a1")
    first = accept(fake, alert)
    fake.instances[first.instance_id]["runtimeStatus"] = "Completed"
    again = [accept(fake, alert) for _ in range(3)]
    assert {(o.kind, o.instance_id) for o in again} == {(OutcomeKind.DUPLICATE, first.instance_id)}
    assert fake.calls.count("start_new") == 1 and fake.events == []


def test_a_redelivery_in_another_worker_after_the_incident_closed_opens_nothing(fake):
    from firestop.intake.accept import clear_caches

    alert = make_alert("a1")
    first = accept(fake, alert)
    fake.instances[first.instance_id]["runtimeStatus"] = "Completed"
    clear_caches()  # another worker: no memo, no known generations
    again = accept(fake, alert)
    assert (again.kind, again.instance_id) == (OutcomeKind.DUPLICATE, first.instance_id)
    later = accept(fake, make_alert("a1-later"))  # a new alert after the incident closed: the next generation
    assert (later.kind, later.instance_id) == (OutcomeKind.STARTED, slot(generation=2))


def test_a_start_refused_because_another_worker_just_started_it_joins_that_incident(fake):
    alert = make_alert("a1")
    fake.on_start = lambda iid: fake.add(iid, ACCOUNT, status="Running", age_s=0)
    outcome = accept(fake, alert)
    assert (outcome.kind, outcome.instance_id, outcome.accepted) == (OutcomeKind.CORRELATED, slot(), True)
    assert joined(fake) == [alert.alert_id]


def test_without_correlation_an_alert_has_its_own_incident(fake):
    alert = make_alert("a5")
    outcome = accept(fake, alert, CorrelationSettings(key=CorrelationKey.NONE))
    assert (outcome.kind, outcome.instance_id) == (OutcomeKind.STARTED, alert.incident_key)
    again = accept(fake, alert, CorrelationSettings(key=CorrelationKey.NONE))
    assert (again.kind, again.instance_id) == (OutcomeKind.DUPLICATE, alert.incident_key)


# -- Fired: correlation -------------------------------------------------------------
@pytest.mark.parametrize("status", ["Pending", "Running"])
def test_an_alert_for_a_resource_with_an_open_incident_joins_it(fake, status):
    fake.add(slot(), ACCOUNT.upper(), status=status, age_s=120)
    alert = make_alert("a2")
    outcome = accept(fake, alert)
    assert (outcome.kind, outcome.instance_id, outcome.correlated_to) == (OutcomeKind.CORRELATED, slot(), slot())
    assert "start_new" not in fake.calls and fake.events == []  # nothing goes into the incident's history
    [(entity, key, op, data)] = fake.signals
    assert (entity, key, op) == (TALLY_ENTITY, slot(), TALLY_ADD)
    assert data["count"] == 1 and data["alerts"][0]["alert_id"] == alert.alert_id
    assert data["alerts"][0]["received_at"] == NOW.isoformat() and "raw context" not in str(data)


@pytest.mark.parametrize(
    ("setup", "why"),
    [
        (dict(status="Completed"), "finished incidents are not open"),
        (dict(age_s=3601), "older than the 60-minute default window"),
    ],
)
def test_no_open_incident_in_the_window_means_the_next_generation(fake, setup, why):
    fake.add(slot(), ACCOUNT, **setup)
    outcome = accept(fake, make_alert("a3"))
    assert (outcome.kind, outcome.instance_id) == (OutcomeKind.STARTED, slot(generation=2)), why
    assert fake.events == []
    assert accept(fake, make_alert("a3b")).correlated_to == slot(generation=2)  # later alerts join the new one


def test_a_purged_generation_does_not_hide_the_open_one_after_it(fake):
    fake.add(slot(generation=2), ACCOUNT, status="Running")  # generation 1 purged
    assert accept(fake, make_alert("p1")).correlated_to == slot(generation=2)


def test_another_resource_or_turned_off_correlation_starts_a_new_incident(fake):
    fake.add(slot(OTHER), OTHER)
    assert accept(fake, make_alert("a4")).instance_id == slot()
    assert accept(fake, make_alert("a5"), CorrelationSettings(key=CorrelationKey.NONE)).kind is OutcomeKind.STARTED
    assert accept(fake, make_alert("a6"), CorrelationSettings(window_seconds=0)).kind is OutcomeKind.STARTED
    assert accept(fake, make_alert("a7", targets=())).kind is OutcomeKind.STARTED
    assert fake.events == []


def test_the_resource_group_key_joins_a_sibling_resource(fake):
    settings = CorrelationSettings(key=CorrelationKey.RESOURCE_GROUP)
    first = accept(fake, make_alert("g1", targets=(OTHER,)), settings)
    assert first.instance_id == slot(OTHER, key=CorrelationKey.RESOURCE_GROUP)
    assert accept(fake, make_alert("g2"), settings).correlated_to == first.instance_id


def test_an_incident_found_finished_is_not_joined(fake):
    """The slot read decides: a finished incident takes no tally signal, the next generation starts."""
    fake.add(slot(), ACCOUNT, status="Completed", age_s=5)
    outcome = accept(fake, make_alert("a8"))
    assert (outcome.kind, outcome.instance_id) == (OutcomeKind.STARTED, slot(generation=2))
    assert fake.signals == [] and fake.events == []


def test_a_storm_for_one_resource_starts_one_incident_and_batches_the_rest(fake):
    alerts = [make_alert(f"burst-{i}") for i in range(20)]

    async def burst():
        settings = CorrelationSettings()
        start = lambda a, now, iid: {"alert": {"target_ids": list(a.target_ids)}}  # noqa: E731
        calls = [accept_alert(fake, a, now=NOW, settings=settings, orchestrator_name=ORCH, start_input=start)
                 for a in alerts[1:] + alerts[:10]]
        return await asyncio.gather(*calls)

    first = accept(fake, alerts[0])  # the storm's first alert starts the incident; the rest arrive together
    outcomes = [first, *asyncio.run(burst())]
    started = [o for o in outcomes if o.kind is OutcomeKind.STARTED]
    assert len(started) == 1 and list(fake.instances) == [slot()]
    assert {o.instance_id for o in outcomes} == {slot()}
    assert set(joined(fake)) == {a.alert_id for a in alerts[1:]}
    assert sum(data["count"] for _, _, _, data in fake.signals) == 19  # repeats answered from the memo
    assert len(fake.signals) < 19  # joined alerts that waited for a signal in flight went out together
    assert fake.events == []  # and none of it into the incident's history


def test_every_alert_of_a_batch_learns_that_the_signal_failed(fake):
    fake.add(slot(), ACCOUNT, status="Running")
    original = fake.signal_entity
    sent = []

    async def slow_then_failing(entity, op, data=None, **kw):
        sent.append(data["count"])
        await asyncio.sleep(0.01)
        if len(sent) != 2:
            return await original(entity, op, data, **kw)
        raise ConnectionError("store down")

    fake.signal_entity = slow_then_failing

    async def burst():
        return await asyncio.gather(*[
            accept_alert(fake, make_alert(f"c{i}"), now=NOW, settings=CorrelationSettings(), orchestrator_name=ORCH,
                         start_input=lambda a, now, iid: {}) for i in range(6)], return_exceptions=True)

    outcomes = asyncio.run(burst())
    assert sent[:2] == [1, 5]  # the first alone; the five that waited behind it, together
    assert outcomes[0].kind is OutcomeKind.CORRELATED
    assert all(isinstance(o, IntakeUnavailable) for o in outcomes[1:])  # 503: Azure Monitor redelivers them
    assert joined(fake) == [make_alert("c0").alert_id]


# -- repeats of joined alerts ----------------------------------------------------------
def test_a_repeat_of_a_joined_alert_gets_the_same_answer_even_after_the_incident_closed(fake):
    fake.add(slot(), ACCOUNT, status="Running")
    alert = make_alert("m1")
    first = accept(fake, alert)
    fake.instances[slot()]["runtimeStatus"] = "Completed"
    again = accept(fake, alert)
    assert again == first and again.correlated_to == slot()
    assert len(fake.signals) == 1 and "start_new" not in fake.calls


@pytest.mark.parametrize("change", ["purged", "replaced"])
def test_a_repeat_is_decided_again_when_the_remembered_incident_is_gone(fake, change):
    fake.add(slot(), ACCOUNT, status="Running")
    alert = make_alert("m2")
    accept(fake, alert)
    if change == "purged":
        del fake.instances[slot()]
    else:  # same id, a new execution (created later)
        fake.add(slot(), ACCOUNT, status="Running", age_s=5)
    again = accept(fake, alert)
    if change == "purged":
        assert (again.kind, again.instance_id) == (OutcomeKind.STARTED, slot())
    else:
        assert again.kind is OutcomeKind.CORRELATED and len(fake.signals) == 2


def test_answers_are_remembered_per_scope(fake):
    fake.add(slot(), ACCOUNT, status="Running")
    alert = make_alert("m3")
    accept(fake, alert, scope="backend-1")
    accept(fake, alert, scope="backend-2")
    assert len(fake.signals) == 2  # another backend: decided (and signalled) again
    accept(fake, alert, scope="backend-1")
    assert len(fake.signals) == 2


def test_the_cost_of_an_alert_does_not_grow_with_the_open_incidents(fake):
    for i in range(300):
        fake.add(f"inc-other-{i}", f"{ACCOUNT}-{i}", status="Running")
    fake.add(slot(), ACCOUNT, status="Running")
    fake.calls.clear()
    for i in range(5):
        assert accept(fake, make_alert(f"s{i}")).correlated_to == slot()
    assert "get_status_by" not in fake.calls
    assert fake.calls.count("get_status") <= 5 * 2 and fake.calls.count("signal_entity") == 5


# -- Resolved --------------------------------------------------------------------------
def test_resolved_reaches_its_open_incident_as_an_event(fake):
    fired = make_alert("r1")
    accept(fake, fired)
    resolved = make_alert("r1", condition="Resolved", resolved="2026-11-29T03:40:00.1234567Z")
    outcome = accept(fake, resolved)
    assert (outcome.kind, outcome.instance_id, outcome.http_status) == (OutcomeKind.RESOLVED, slot(), 202)
    assert fake.events == [(slot(), EVENT_RESOLVED, {
        "alert_id": fired.alert_id, "resolved_at": "2026-11-29T03:40:00.123456+00:00", "received_at": NOW.isoformat()})]


def test_resolved_of_a_correlated_alert_reaches_the_incident_it_joined(fake):
    fake.add(slot(), ACCOUNT)
    outcome = accept(fake, make_alert("r2", condition="Resolved"))
    assert (outcome.kind, outcome.correlated_to) == (OutcomeKind.RESOLVED, slot())
    assert fake.events[-1][2]["resolved_at"] is None  # not sent: only metric alerts carry it


def test_resolved_never_starts_an_incident(fake):
    alert = make_alert("r3", condition="Resolved")
    outcome = accept(fake, alert)
    assert (outcome.kind, outcome.instance_id, outcome.http_status) == (OutcomeKind.NO_INCIDENT, None, 200)
    accept(fake, make_alert("r3"))  # Fired: starts the resource's incident
    fake.instances[slot()]["runtimeStatus"] = "Completed"
    closed = accept(fake, alert)
    assert (closed.kind, closed.instance_id, closed.runtime_status, closed.http_status) == (
        OutcomeKind.CLOSED, slot(), "Completed", 200)
    assert fake.calls.count("start_new") == 1 and fake.events == []


# -- storage failures: never accepted when not recorded ----------------------------------
@pytest.mark.parametrize(
    ("method", "mode", "condition"),
    [
        ("get_status", "raise", "Fired"),
        ("get_status", "error-body", "Fired"),
        ("get_status", "error-body", "Resolved"),
        ("start_new", "raise", "Fired"),
    ],
)
def test_a_store_failure_is_unavailable_not_accepted(fake, method, mode, condition):
    fake.fail[method] = mode
    with pytest.raises(IntakeUnavailable):
        accept(fake, make_alert("f1", condition=condition))
    assert fake.instances == {} and fake.events == []


def test_a_failed_raise_on_an_open_incident_is_unavailable(fake):
    fake.add(slot(), ACCOUNT, status="Running")
    fake.fail["signal_entity"] = "raise"
    with pytest.raises(IntakeUnavailable):
        accept(fake, make_alert("f2"))
    fake.fail["raise_event"] = "raise"
    with pytest.raises(IntakeUnavailable):
        accept(fake, make_alert("f2", condition="Resolved"))
    assert list(fake.instances) == [slot()] and fake.events == [] and fake.signals == []


def test_naive_now_is_refused(fake):
    from datetime import datetime

    with pytest.raises(ValueError):
        asyncio.run(accept_alert(fake, make_alert(), now=datetime(2026, 1, 1), settings=CorrelationSettings(),
                                 orchestrator_name=ORCH, start_input=lambda a, n, i: {}))


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


# -- Fired after containment: the attacker refused is no new incident ---------------------------------
def _contained(fake, iid: str, *, contained_at: str, ips: list[str]) -> None:
    fake.add(iid, ACCOUNT, status="Completed", age_s=900)
    fake.instances[iid]["output"] = {"incident_id": iid, "status": "contained", "contained_at": contained_at,
                                     "alert": {"target_ids": [ACCOUNT], "indicators": {"caller_ips": ips}}}


def _client_errors(alert_id: str, *, fired: str = "2026-11-29T03:18:00Z", metric: str = "ClientErrors"):
    from firestop.alerts import parse_alert

    return parse_alert({"schemaId": "azureMonitorCommonAlertSchema", "data": {
        "essentials": {"alertId": f"/subscriptions/s/providers/Microsoft.AlertsManagement/alerts/{alert_id}",
                       "alertRule": "aoai-client-errors-dynamic", "severity": "Sev3", "signalType": "Metric",
                       "monitorCondition": "Fired", "monitoringService": "Platform", "alertTargetIDs": [ACCOUNT],
                       "firedDateTime": fired},
        "alertContext": {"conditionType": "DynamicThresholdCriteria", "condition": {"allOf": [
            {"metricName": metric, "metricNamespace": "Microsoft.CognitiveServices/accounts", "operator": "GreaterThan",
             "timeAggregation": "Total", "dimensions": [], "metricValue": 220}]}}}})


def test_client_errors_after_a_recent_containment_open_an_incident(fake):
    """RT6-01: ClientErrors counts every 4xx (429 quota abuse, 400 content-filter refusals) and cannot be narrowed to
    401/403 (no StatusCode dimension): after a containment it opens an incident, it is never taken as aftermath."""
    _contained(fake, "inc-leaked", contained_at="2026-11-29T03:10:00+00:00", ips=["203.0.113.77"])
    outcome = accept(fake, _client_errors("ce1"))
    assert (outcome.kind, outcome.http_status) == (OutcomeKind.STARTED, 202) and "start_new" in fake.calls


@pytest.mark.parametrize(("fired", "metric", "status", "why"), [
    ("2026-11-29T04:20:00Z", "ClientErrors", "contained", "contained more than the window before"),
    ("2026-11-29T03:18:00Z", "SuccessfulCalls", "contained", "not a refusal metric"),
    ("2026-11-29T03:18:00Z", "ClientErrors", "needs_responder", "the attack was not contained"),
])
def test_other_alerts_after_containment_open_an_incident(fake, fired, metric, status, why):
    _contained(fake, "inc-leaked", contained_at="2026-11-29T03:10:00+00:00", ips=["203.0.113.77"])
    fake.instances["inc-leaked"]["output"]["status"] = status
    outcome = accept(fake, _client_errors("ce2", fired=fired, metric=metric))
    assert outcome.kind is OutcomeKind.STARTED, why


def test_failed_requests_naming_a_new_caller_after_containment_start_a_new_incident(fake):
    """Fail safe of the aftermath rule through accept_alert: a failed-requests alert naming a caller the incident
    did not contain (beside the one it did) is a new attacker: an incident starts, none is swallowed."""
    _contained(fake, "inc-leaked", contained_at="2026-11-29T03:10:00+00:00", ips=["203.0.113.77"])
    alert = make_alert("fr1")
    flagged = alert.model_copy(update={"fired_at": NOW, "custom_properties": {"firestop-signal": "failed-requests"}})
    known = flagged.model_copy(update={"indicators": alert.indicators.model_copy(update={"caller_ips": ("203.0.113.77",)})})
    new = flagged.model_copy(update={"alert_id": flagged.alert_id + "-2", "indicators": alert.indicators.model_copy(
        update={"caller_ips": ("203.0.113.77", "192.0.2.9")})})
    assert accept(fake, known).kind is OutcomeKind.AFTERMATH
    outcome = accept(fake, new)
    assert outcome.kind is OutcomeKind.STARTED and "start_new" in fake.calls


def test_client_errors_parsed_as_the_webhook_does_open_an_incident_too(fake):
    """The webhook drops the raw context (parse_alert(keep_context=False)); the lean alert is no aftermath either."""
    from firestop.alerts import parse_alert

    full = _client_errors("ce3")
    body = {"schemaId": "azureMonitorCommonAlertSchema", "data": {
        "essentials": full.essentials.model_dump(mode="json", by_alias=True, exclude_none=True),
        "alertContext": full.context}}
    lean = parse_alert(body, keep_context=False)
    assert lean.context == {"condition": {"allOf": [{"metricName": "ClientErrors"}]}}
    _contained(fake, "inc-leaked", contained_at="2026-11-29T03:10:00+00:00", ips=["203.0.113.77"])
    assert accept(fake, lean).kind is OutcomeKind.STARTED


def test_a_log_alert_on_the_contained_caller_is_aftermath_another_caller_is_not():
    from firestop.intake.aftermath import aftermath_of

    record = {"incident_id": "inc-1", "status": "contained", "contained_at": "2026-11-29T03:10:00+00:00",
              "alert": {"target_ids": [ACCOUNT.upper()], "indicators": {"caller_ips": ["203.0.113.77"]}}}
    alert = make_alert("l1")
    same = alert.model_copy(update={"indicators": alert.indicators.model_copy(update={"caller_ips": ("203.0.113.77",)}),
                                    "fired_at": NOW, "custom_properties": {"firestop-signal": "failed-requests"}})
    unflagged = same.model_copy(update={"custom_properties": {}})  # e.g. content-filter refusals: the attack answered
    other = same.model_copy(update={"indicators": alert.indicators.model_copy(update={"caller_ips": ("203.0.113.77", "192.0.2.9")})})
    assert "203.0.113.77, already contained by inc-1" in aftermath_of(same, record, window_seconds=3600)
    assert aftermath_of(unflagged, record, window_seconds=3600) is None
    assert aftermath_of(other, record, window_seconds=3600) is None
    assert aftermath_of(same, record, window_seconds=0) is None
    assert aftermath_of(same, {**record, "alert": {"target_ids": [OTHER], "indicators": {"caller_ips": ["203.0.113.77"]}}},
                        window_seconds=3600) is None


def test_concurrent_deliveries_share_a_status_read_in_flight_but_never_reuse_an_answered_one(fake):
    fake.add(slot(), ACCOUNT, status="Running")

    async def burst(prefix):
        return await asyncio.gather(*[
            accept_alert(fake, make_alert(f"{prefix}{i}"), now=NOW, settings=CorrelationSettings(), orchestrator_name=ORCH,
                         start_input=lambda a, now, iid: {}) for i in range(20)])

    outcomes = asyncio.run(burst("s"))
    assert {o.correlated_to for o in outcomes} == {slot()}
    assert fake.calls.count("get_status") < 20  # one read served the deliveries that arrived while it was in flight
    fake.instances[slot()]["runtimeStatus"] = "Completed"  # answered reads are not kept: the next burst sees it
    later = asyncio.run(burst("t"))
    assert {o.instance_id for o in later} == {slot(generation=2)}


def test_alerts_read_open_are_never_tallied_on_an_incident_that_finished_before_their_batch_went_out(fake):
    """The incident finishes while the first batch's signal is in flight: the alerts waiting behind it decided to
    join it (their slot read, or the process's remembered one, said open) but arrived before it finished only as
    far as that read knows. Their batch reads the status again before its signal and finds it Completed: none of
    them is tallied on the finished incident; they decide again and start the slot's next generation."""
    fake.add(slot(), ACCOUNT, status="Running")
    signal = fake.signal_entity

    async def finishing(entity, op, data=None, *args, **kwargs):
        await signal(entity, op, data, *args, **kwargs)
        fake.instances[slot()]["runtimeStatus"] = "Completed"  # the incident ends right after the first signal

    fake.signal_entity = finishing

    async def burst():
        return await asyncio.gather(*[
            accept_alert(fake, make_alert(f"late{i}"), now=NOW, settings=CorrelationSettings(), orchestrator_name=ORCH,
                         start_input=lambda a, now, iid: {}) for i in range(10)])

    outcomes = asyncio.run(burst())
    tallied = {key: [i for _, k, _, data in fake.signals if k == key for i in data["alert_ids"]] for key in (slot(), slot(generation=2))}
    first = [o for o in outcomes if o.instance_id == slot()]
    assert [o.kind for o in first] == [OutcomeKind.CORRELATED] and len(tallied[slot()]) == 1  # only the first batch
    assert {o.instance_id for o in outcomes if o not in first} == {slot(generation=2)}
    assert len(outcomes) == 10 and all(o.accepted for o in outcomes)


def test_a_remembered_open_incident_is_read_again_before_each_signal(fake):
    """One status read and one signal per batch (here: per alert, one at a time); the read that finds the
    remembered incident finished sends the alert to the slot's next generation."""
    fake.add(slot(), ACCOUNT, status="Running")
    assert accept(fake, make_alert("h0")).correlated_to == slot()  # reads the slot: its incident is remembered
    fake.calls.clear()
    for i in range(3):
        assert accept(fake, make_alert(f"h{i + 1}")).correlated_to == slot()
    assert fake.calls == ["get_status", "signal_entity"] * 3
    fake.instances[slot()]["runtimeStatus"] = "Completed"
    later = accept(fake, make_alert("h-after"))  # remembered open, found Completed by the check: next generation
    assert (later.kind, later.instance_id) == (OutcomeKind.STARTED, slot(generation=2))
    assert all(key == slot() for _, key, _, _ in fake.signals) and len(fake.signals) == 4


def test_an_alert_already_handled_by_the_cli_on_this_store_is_a_duplicate_not_a_second_containment(fake):
    """``alert handle`` keys its incident by the alert (``Alert.incident_key``); the same alert posted to the
    webhook afterwards (Azure Monitor's delivery after a break-glass run) must not contain again."""
    alert = make_alert("handled-on-the-cli")
    fake.add(alert.incident_key, ACCOUNT, status="Completed", age_s=300)
    outcome = accept(fake, alert)
    assert (outcome.kind, outcome.instance_id) == (OutcomeKind.DUPLICATE, alert.incident_key)
    assert "start_new" not in fake.calls
    fresh = accept(fake, make_alert("never-handled"))  # another alert on the same resource still starts
    assert fresh.kind is OutcomeKind.STARTED


def _accept_checked(client, alert, kept=None, verdict=None):
    """accept_alert with the check on; a pending join (joins14) is appended to ``kept`` (incident id, variant id,
    its input) and answered with ``verdict`` (None: the check has not answered)."""
    kept = [] if kept is None else kept

    async def pending_join(incident_id, received_at, digest, variant, sealed):
        kept.append((incident_id, variant, sealed))
        return verdict

    return asyncio.run(accept_alert(
        client, alert, now=NOW, settings=CorrelationSettings(), orchestrator_name=ORCH,
        start_input=lambda a, now, iid, **extra: {"incident_id": iid, **extra, "received_at": now.isoformat(),
                                                  "alert": a.model_dump(mode="json", exclude={"context", "essentials"})},
        source_checked=True, pending_join=pending_join,
    ))


def test_with_the_source_check_on_an_alert_joining_an_incident_being_checked_is_kept_and_started_when_not_confirmed(fake):
    """joins14: joining an incident whose check is pending keeps a pending join (no instance); the verdict read after
    it says "not confirmed" (answered meanwhile): the alert's own variant, started by intake."""
    fake.add(slot(), ACCOUNT, status="Running")
    kept: list = []
    burst = _accept_checked(fake, make_alert("a2"), kept)
    assert (burst.kind, burst.instance_id) == (OutcomeKind.CORRELATED, slot())
    assert [(k[0], k[2]["variant_of"]) for k in kept] == [(slot(), slot())] and kept[0][1] not in fake.instances
    late = _accept_checked(fake, make_alert("a4"), kept, verdict=False)
    assert late.kind is OutcomeKind.STARTED and late.instance_id == kept[-1][1], late
    assert fake.instances[late.instance_id]["input"]["variant_of"] == slot()


def test_with_the_source_check_on_an_alert_joins_an_incident_still_being_checked_and_not_one_found_not_confirmed(fake):
    """Review after red team 15: an alert of another id arriving while the open incident's source check has not run
    yet is one attack with it (a burst of genuine alerts: one incident, not one per alert id; before, each started a
    variant and ran containment again); once the check said "not confirmed", it gets an incident of its own, keyed
    by its own alert id (RT15-03)."""
    from firestop.intake.accept import clear_caches

    fake.add(slot(), ACCOUNT, status="Running")
    burst = _accept_checked(fake, make_alert("a2"))
    assert (burst.kind, burst.instance_id) == (OutcomeKind.CORRELATED, slot())
    fake.instances[slot()]["output"] = {"timeline": [{"step": "confirm alert at source", "outcome": "not confirmed"}]}
    clear_caches()
    alert = make_alert("a3")
    own = _accept_checked(fake, alert)
    assert own.kind is OutcomeKind.STARTED and own.instance_id.startswith(f"{alert.incident_key}-v"), own
    assert fake.instances[own.instance_id]["input"]["variant_of"] == slot()  # ends after its check if not confirmed
