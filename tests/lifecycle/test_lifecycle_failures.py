"""Partial failure never reads as success: abort, continue, rollback, timeouts, when, templates, undo steps."""

from __future__ import annotations

import json

from .conftest import ACCOUNT, ALICE, LOCK, ROTATE, playbook


def outcomes(status, step: str) -> list[str]:
    return [e["outcome"] for e in status.output["timeline"] if e["step"] == step]


def test_persistent_fault_aborts_and_later_steps_do_not_run(lab):
    lab.tenant.inject_fault("accounts.regenerateKey", status=403, times=50)
    iid = lab.start(playbook(ROTATE, LOCK))
    done = lab.run(iid, advance_timers=True)
    assert done.output["status"] == "needs_responder"
    assert lab.acls()["defaultAction"] == "Allow"
    assert "lock-network: not run (an earlier step failed)" in done.output["does_not_hold"]


def test_on_failure_continue_runs_the_next_steps(lab):
    lab.tenant.inject_fault("accounts.regenerateKey", status=403, times=50)
    iid = lab.start(playbook({**ROTATE, "on_failure": "continue"}, LOCK))
    done = lab.run(iid, advance_timers=True)
    assert done.output["status"] == "needs_responder"  # still not contained
    assert lab.acls()["defaultAction"] == "Deny"
    assert any(line.startswith("lock-network (network.lock)") for line in done.output["holds"])


def test_on_failure_rollback_undoes_completed_steps(lab):
    before = lab.acls()
    lab.tenant.inject_fault("accounts.regenerateKey", status=403, times=50)
    iid = lab.start(playbook(LOCK, {**ROTATE, "on_failure": "rollback"}))
    done = lab.run(iid, advance_timers=True)
    assert done.output["status"] == "needs_responder"
    assert lab.acls() == before  # the lock was undone
    assert "undone" in outcomes(done, "rollback lock-network")
    assert "rolled back" in done.output["reason"]
    lock = next(a for a in done.output["actions"] if a["step_id"] == "lock-network")
    assert lock["undone"] is True


def test_throttling_is_retried_and_absorbed(lab):
    lab.tenant.inject_fault("accounts.update", status=429, retry_after=7, times=6)
    iid = lab.start(playbook(LOCK))
    done = lab.run(iid, advance_timers=True)
    assert done.output["status"] == "contained"
    assert outcomes(done, "lock-network")[-2:] == ["retrying", "done"]


def test_step_timeout_fails_the_step(lab):
    iid = lab.start(playbook({**LOCK, "timeout": 5}))  # the account PATCH is a ~20 s LRO
    done = lab.run(iid, advance_timers=True)
    assert outcomes(done, "lock-network") == ["timed out"]
    assert done.output["status"] == "needs_responder"


def test_when_false_skips_and_templates_fill_parameters(lab):
    steps = playbook(
        {**ROTATE, "when": "alert.severity == 0"},
        {**LOCK, "with": {"mode": "${{ alert.custom_properties.lockmode }}"}},
    )
    iid = lab.start(steps, alert=lab.alert(custom={"lockmode": "disable_public_access"}))
    done = lab.run(iid, advance_timers=True)
    assert outcomes(done, "rotate-keys") == ["skipped"]
    assert lab.tenant.resource(ACCOUNT)["properties"]["publicNetworkAccess"] == "Disabled"
    assert done.output["status"] == "contained"


def test_undo_step_after_approval_lifts_a_temporary_lock(lab):
    before = lab.acls()
    steps = playbook(LOCK, resolve=[{"id": "lift-lock", "undo": "lock-network", "approval": {"mode": "required", "approvers": [ALICE]}}])
    iid = lab.start(steps)
    waiting = lab.run(iid)
    assert waiting.custom_status["pending_approval"]["step"] == "lift-lock"
    assert lab.acls()["defaultAction"] == "Deny"
    lab.decide(iid, "lift-lock", "approve", ALICE)
    done = lab.run(iid)
    assert lab.acls() == before
    assert "undone" in outcomes(done, "lift-lock")


def test_correlated_and_resolved_alerts_are_recorded(lab):
    steps = playbook({**LOCK, "approval": {"mode": "required", "approvers": [ALICE]}})
    iid = lab.start(steps)
    lab.run(iid)
    other = lab.alert(alertId="/subscriptions/x/alerts/second").model_dump(mode="json", exclude={"context", "essentials"})
    lab.host.raise_event(iid, "alert_correlated", {"alert": other, "received_at": "2026-11-29T03:15:00+00:00"})
    lab.host.raise_event(iid, "alert_correlated", {"alert": other, "received_at": "2026-11-29T03:15:01+00:00"})
    third = {"alert_id": "/subscriptions/x/alerts/third", "rule_name": "r", "target_ids": [], "received_at": "2026-11-29T03:15:02+00:00"}
    lab.host.raise_event(iid, "alert_correlated", {"count": 30, "alerts": [third], "received_at": third["received_at"],
                                                   "last_received_at": third["received_at"]})  # a batch: 30 alerts, 1 named
    own = {**third, "alert_id": lab.alert().alert_id}  # a repeat of the alert that started it: not counted
    lab.host.raise_event(iid, "alert_correlated", {"count": 1, "alerts": [own], "received_at": own["received_at"],
                                                   "last_received_at": own["received_at"]})
    lab.host.raise_event(iid, "alert_resolved", {"alert_id": "a", "resolved_at": "2026-11-29T03:20:00Z"})
    lab.decide(iid, "lock-network", "approve", ALICE)
    done = lab.run(iid)
    assert [a["alert_id"] for a in done.output["correlated_alerts"]] == ["/subscriptions/x/alerts/second",
                                                                         "/subscriptions/x/alerts/third"]
    assert done.output["correlated_count"] == 32
    steps_seen = [e["step"] for e in done.output["timeline"]]
    assert steps_seen.count("alerts joined") == 1 and "alert resolved" in steps_seen
    history = lab.host.get_status(iid, show_history=True).history
    assert sum(1 for e in history if e.get("Name") == "alert_correlated") == 4  # one history event per batch


def test_checklist_gaps_reflect_the_state_before_containment(lab):
    iid = lab.start(playbook(LOCK))
    done = lab.run(iid, advance_timers=True)
    gaps = {g["gap"] for g in done.output["checklist_gaps"]}
    assert "public network access open to any IP" in gaps
    assert "local (API key) authentication enabled" in gaps


def test_a_step_can_target_another_resource_named_by_the_alert(lab):
    dev = ACCOUNT.replace("rg-ai-prod", "rg-ai-dev").replace("contoso-openai-prod", "contoso-openai-dev")
    steps = playbook({**LOCK, "target": "${{ alert.custom_properties.firestop-account }}"})
    iid = lab.start(steps, alert=lab.alert(custom={"firestop-account": dev}))
    done = lab.run(iid, advance_timers=True)
    assert done.output["status"] == "contained"
    assert lab.tenant.resource(dev)["properties"]["networkAcls"]["defaultAction"] == "Deny"
    assert lab.acls()["defaultAction"] == "Allow"  # the alert's own target was left alone


def test_a_step_target_that_resolves_to_nothing_fails_clearly(lab):
    iid = lab.start(playbook({**LOCK, "target": "${{ alert.custom_properties.firestop-account }}"}))
    done = lab.run(iid, advance_timers=True)
    assert done.output["status"] == "needs_responder"
    assert any("gave no resource ID" in line for line in done.output["does_not_hold"])


def test_huge_indicator_lists_are_cut_before_they_reach_durable_history(lab):
    import datetime

    from firestop.lifecycle.start import MAX_INDICATORS, incident_input

    alert = lab.alert()
    many = alert.model_copy(update={"indicators": alert.indicators.model_copy(update={"caller_ips": tuple(f"198.18.{i // 250}.{i % 250}" for i in range(5000))})})
    inp = incident_input(many, received_at=datetime.datetime.now(datetime.timezone.utc), sandbox=True)
    assert len(inp["alert"]["indicators"]["caller_ips"]) == MAX_INDICATORS
    assert inp["indicators_truncated"] == {"caller_ips": 5000}
    from firestop.lifecycle import ORCHESTRATOR_NAME

    inp["playbook"] = None
    iid = lab.host.start_new(ORCHESTRATOR_NAME, "inc-many", lab.sealed(inp, "inc-many"))
    done = lab.run(iid, advance_timers=True)
    assert any("5000 caller_ips" in note for note in done.output["notes"])


def _tally_batch(*alert_ids: str, count: int | None = None) -> dict:
    from firestop.intake.events import alert_summary  # noqa: F401 — the shape intake signals (correlated_batch)

    alerts = [{"alert_id": a, "rule_name": "r", "target_ids": [ACCOUNT], "received_at": "2026-11-29T03:15:00+00:00"}
              for a in alert_ids]
    return {"count": len(alert_ids) if count is None else count, "alert_ids": list(alert_ids), "alerts": alerts[-20:],
            "received_at": alerts[0]["received_at"], "last_received_at": alerts[-1]["received_at"]}


def test_alerts_signalled_to_the_tally_are_counted_once_into_the_record_and_not_its_history(lab):
    """Intake signals joined alerts to the incident's tally entity (firestop.lifecycle.tally): the record counts
    them (a repeat delivered to two workers once, the incident's own starting alert not at all), samples the
    newest, and the history holds two call_entity for the tally however many alerts joined."""
    from firestop.lifecycle.tally import SAMPLE_SIZE, TALLY_ENTITY

    steps = playbook({**LOCK, "approval": {"mode": "required", "approvers": [ALICE]}})
    iid = lab.start(steps)
    lab.run(iid)
    length_before = len(lab.host.get_status(iid, show_history=True).history)
    ids = [f"/subscriptions/x/alerts/storm-{i}" for i in range(300)]
    for i in range(0, 300, 10):
        lab.host.signal_entity((TALLY_ENTITY, iid), "add", _tally_batch(*ids[i:i + 10]))
    lab.host.signal_entity((TALLY_ENTITY, iid), "add", _tally_batch(*ids[:5]))  # repeats, from another worker
    lab.host.signal_entity((TALLY_ENTITY, iid), "add", _tally_batch(lab.alert().alert_id))  # its own alert again
    lab.run(iid)
    assert len(lab.host.get_status(iid, show_history=True).history) == length_before  # nothing reached the history
    lab.decide(iid, "lock-network", "approve", ALICE)
    done = lab.run(iid)
    assert done.output["correlated_count"] == 300
    assert [a["alert_id"] for a in done.output["correlated_alerts"]] == ids[-SAMPLE_SIZE:]
    history = lab.host.get_status(iid, show_history=True).history
    assert not any(e.get("Name") == "alert_correlated" for e in history)
    sent = [e for e in history if e.get("EventType") == 14 and f"@{TALLY_ENTITY}@" in str(e.get("InstanceId"))]  # EventSent
    # two calls however many joined: the summary (which closes the tally) and, once filed, the late alerts' read
    assert [json.loads(e["Input"])["op"] for e in sent] == ["summary", "late"]
    # an alert that reaches the tally after the record was filed is kept, counted as late
    lab.host.signal_entity((TALLY_ENTITY, iid), "add", _tally_batch("/subscriptions/x/alerts/late"))
    lab.run(iid)
    exists, state = lab.host.read_entity_state((TALLY_ENTITY, iid))
    assert exists and state["closed"] and state["late"] == 1 and state["count"] == 302  # 300 + own alert + late


def details(status, step: str) -> list[str]:
    return [e["detail"] for e in status.output["timeline"] if e["step"] == step and e["outcome"] in ("failed", "retrying")]


def test_a_failure_that_is_not_retried_does_not_read_as_attempt_one_of_three(lab):
    """A non-transient error ends the step at once: its detail says so, not "(attempt 1/3)" as if more were coming."""
    lab.tenant.inject_fault("accounts.regenerateKey", status=403, times=50)
    done = lab.run(lab.start(playbook(ROTATE)), advance_timers=True)
    [failed] = details(done, "rotate-keys")
    assert failed.startswith("forbidden: ") and failed.endswith("(not retried: forbidden is not transient)"), failed


def test_a_transient_failure_counts_its_attempts(lab):
    lab.tenant.inject_fault("accounts.regenerateKey", status=503, times=50)
    done = lab.run(lab.start(playbook(ROTATE)), advance_timers=True)
    seen = details(done, "rotate-keys")
    assert seen and seen[-1].endswith(f"(attempt {len(seen)}/{len(seen)})") and "not retried" not in " ".join(seen), seen


def test_past_the_tallys_bound_the_record_says_the_count_is_not_exact(lab, monkeypatch):
    """leftovers12 item 5: past MAX_TRACKED distinct alerts a redelivered alert is counted again, and the record's
    correlated_count said nothing of it. The record counts how many were counted without the duplicate check
    (correlated_count_unchecked) and every view says the count is at most that much too high."""
    from firestop.cli.output import print_incident
    from firestop.console.pages import incident_page
    from firestop.lifecycle import tally
    from firestop.lifecycle.tally import TALLY_ENTITY
    from firestop.records.render import render_markdown

    monkeypatch.setattr(tally, "MAX_TRACKED", 3)
    steps = playbook({**LOCK, "approval": {"mode": "required", "approvers": [ALICE]}})
    iid = lab.start(steps)
    lab.run(iid)
    ids = [f"/subscriptions/x/alerts/storm-{i}" for i in range(5)]
    lab.host.signal_entity((TALLY_ENTITY, iid), "add", _tally_batch(*ids))
    lab.host.signal_entity((TALLY_ENTITY, iid), "add", _tally_batch(*ids[:1]))  # remembered: not counted again
    lab.host.signal_entity((TALLY_ENTITY, iid), "add", _tally_batch(*ids[4:]))  # past the bound: counted again
    lab.decide(iid, "lock-network", "approve", ALICE)
    record = lab.run(iid).output
    assert record["correlated_count"] == 6  # 5 distinct alerts, one counted twice
    assert record["correlated_count_unchecked"] == 3  # storm-3, storm-4 and storm-4 again: the count is not exact
    said = "6 alert(s) joined, at most 3 too many"
    import io
    from contextlib import redirect_stdout

    out = io.StringIO()
    with redirect_stdout(out):
        print_incident(record)
    assert said in " ".join(out.getvalue().split())
    assert said in incident_page(record, caller=None)
    assert "6 alerts joined, at most 3 too many" in render_markdown(record)


def test_a_part_that_joins_a_running_incident_is_named_in_its_record(lab):
    """newuser16: an alert of another route on the same attack (a Graph jailbreak alert, a Policy state change) that
    arrives while the incident runs reaches it through its tally as a *part* (its own playbook runs in its own
    incident). The tally answers ``parts`` apart; the orchestrator's read of the tally dropped them, so the record
    named no part (no ``parts``, no sample) and the timeline read "2 alert(s) joined this incident; newest None
    (None)" (seen with ``sandbox simulate`` and the example CloudEvents batch posted to ``serve``)."""
    from firestop.lifecycle.tally import TALLY_ENTITY

    steps = playbook({**LOCK, "approval": {"mode": "required", "approvers": [ALICE]}})
    iid = lab.start(steps)
    lab.run(iid)
    part = {"alert_id": "/subscriptions/x/alerts/jailbreak", "rule_name": "AI.Azure_Jailbreak", "target_ids": [ACCOUNT],
            "received_at": "2026-11-29T03:15:00+00:00", "part": "inc-part-1"}
    lab.host.signal_entity((TALLY_ENTITY, iid), "add", {"count": 1, "alert_ids": [part["alert_id"]], "alerts": [part],
                                                       "received_at": part["received_at"],
                                                       "last_received_at": part["received_at"]})
    lab.run(iid)
    lab.decide(iid, "lock-network", "approve", ALICE)
    done = lab.run(iid)
    assert done.output["correlated_count"] == 1
    assert [(a["alert_id"], a.get("part")) for a in done.output["correlated_alerts"]] == [(part["alert_id"], "inc-part-1")]
    assert done.output["parts"] == [{"incident_id": "inc-part-1", "alert_id": part["alert_id"],
                                     "rule_name": "AI.Azure_Jailbreak"}]
    [joined] = [e["detail"] for e in done.output["timeline"] if e["step"] == "alerts joined"]
    assert joined == f"1 alert(s) joined this incident; newest AI.Azure_Jailbreak ({part['alert_id']})", joined
