"""Alerts tallied between the orchestrator closing its tally and completing land on the record (lifecycle8).

The orchestrator reads (and closes) the incident's tally before it files its record; an alert whose status read found
the incident still running was signalled to the tally after that read, counted ``late`` there, and appeared in no
record, although its 202 named the incident. The orchestrator now reads the tally's late alerts once its record is
filed and records them through the after-close path (``correlated_after_close``, a revision).

The interleaving is made deterministic, with no sleep: the signal intake sends (the same entity, operation and batch
shape) is sent while the record is being filed — after the close, before the orchestration completes.
"""

from __future__ import annotations

import json
from datetime import timedelta

from tests.intake.test_intake_eventgrid import endpoint  # noqa: F401 — the fixture
from tests.intake.test_intake_new_activity import LEAKED_KEY, _again, _record
from tests.e2e.test_webhook import what_intake_did


def test_an_alert_tallied_while_the_record_is_filed_lands_on_the_record(endpoint, monkeypatch):  # noqa: F811
    import azure.durable_functions as df

    import runbooks.dispatch as dispatch
    from firestop.alerts import parse_alert
    from firestop.intake.events import TALLY_ADD, TALLY_ENTITY, alert_summary, correlated_batch

    env, call = endpoint
    real = dispatch.execute
    sent: list[str] = []

    def filing(request, **kwargs):  # the incident's first filing: its tally is closed, it has not completed
        if request.get("runbook") == "records.file" and not sent and "revision_of" not in (request.get("params") or {}):
            incident = request["incident_id"]
            late = parse_alert(json.dumps(_again("late-while-filing", env.clients.clock.now() - timedelta(minutes=5),
                                                 env.clients.clock.now())).encode())
            env.host.signal_entity(df.EntityId(TALLY_ENTITY, incident), TALLY_ADD,
                                   correlated_batch([alert_summary(late, received_at=env.clients.clock.now())]))
            sent.append(late.alert_id)
        return real(request, **kwargs)

    monkeypatch.setattr(dispatch, "execute", filing)
    first = call("post_alert", "alerts", LEAKED_KEY)
    incident = what_intake_did(first)["id"]
    env.host.run_until_idle(incident, advance_timers=True)
    assert sent, "the record was never filed"
    record = _record(env, incident)
    assert [e["alert_id"] for e in record.get("correlated_after_close") or []] == sent, record.get("correlated_after_close")
    assert record["correlated_after_close_count"] == 1
    assert any(e["step"] == "alert joined after close" for e in record["timeline"])
    found, state = env.host.read_entity_state(df.EntityId(TALLY_ENTITY, incident))
    assert found and state["late"] == 1  # counted late by the tally, and now on the record


def test_an_incident_without_late_alerts_files_one_record(endpoint):  # noqa: F811
    """The read costs one entity call; with nothing late no revision is filed."""
    env, call = endpoint
    incident = what_intake_did(call("post_alert", "alerts", LEAKED_KEY))["id"]
    env.host.run_until_idle(incident, advance_timers=True)
    record = _record(env, incident)
    assert record["status"] == "contained" and not record.get("correlated_after_close")
    from firestop.records.store import records_store

    names = records_store(env.settings).names(f"{incident}.")
    assert names and not [n for n in names if ".rev" in n], names
