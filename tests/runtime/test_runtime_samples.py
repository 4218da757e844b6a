"""The Durable Functions Python samples' patterns, run on the local host (``samples_app.py``).

Chaining, fan-out/fan-in, human interaction (approved and timed out),
monitor, eternal (continue_as_new), sub-orchestrations, the counter entity
(function-based; a class dispatched from an entity function, since the
Python SDK has no class-based syntax), and an activity with output bindings
(queue message + blob) — each started the way the samples start them where
it matters (the HTTP starter with ``create_check_status_response``).
"""

from __future__ import annotations

import json

import azure.functions as func
import pytest

from firestop.runtime import LocalDurableHost, ManagementServer, invoke_http_function

from .samples_app import MONITOR, app


@pytest.fixture(autouse=True, params=[True, False], ids=["sessions", "full-replay"])
def sessions(request, monkeypatch):
    """Every case with the host's SDK sessions (sessions.py) and with a full SDK replay per episode."""
    monkeypatch.setattr(LocalDurableHost, "sessions", request.param)
    return request.param


@pytest.fixture
def host(db_path, clock):
    MONITOR["ready_after_checks"] = 3
    h = LocalDurableHost(app, db_path, clock=clock)
    yield h
    h.close()


def _run(host, name, payload=None, **kwargs):
    iid = host.start_new(name, input=payload)
    host.run_until_idle(iid, **kwargs)
    return host.get_status(iid, show_history=True)


def test_chaining_through_the_http_starter(host):
    with ManagementServer(host) as server:
        request = func.HttpRequest("POST", "http://localhost/api/orchestrators/hello_sequence", body=b"",
                                   route_params={"name": "hello_sequence"})
        answer = invoke_http_function(app, "http_start", request, server=server)
        assert answer.status_code == 202
        links = json.loads(answer.get_body())
        host.run_until_idle()
        code, _, payload = server.handle("GET", links["statusQueryGetUri"].split(server.base_url, 1)[1], {}, b"")
    assert code == 200
    assert payload["runtimeStatus"] == "Completed"
    assert payload["output"] == ["Hello Tokyo!", "Hello Seattle!", "Hello London!"]


def test_fan_out_fan_in(host):
    status = _run(host, "backup_site", "/site")
    assert status.runtime_status == "Completed"
    assert status.output == sum(len(f"/site/file-{k}.txt") for k in range(5))
    scheduled = [e for e in status.history if e["EventType"] == 4 and e["Name"] == "copy_file"]
    assert len(scheduled) == 5


def test_human_interaction_approved_before_the_deadline(host, clock):
    iid = host.start_new("approval_workflow", input="budget-42")
    host.run_until_idle(iid)
    assert host.get_status(iid).runtime_status == "Running"
    clock.advance(3600)
    host.raise_event(iid, "ApprovalEvent", {"by": "alice"})
    host.run_until_idle(iid, advance_timers=True)
    status = host.get_status(iid)
    assert (status.runtime_status, status.output) == ("Completed", "approved by alice")


def test_human_interaction_times_out_and_escalates(host):
    status = _run(host, "approval_workflow", "budget-43", advance_timers=True)
    assert (status.runtime_status, status.output) == ("Completed", "escalated budget-43")


def test_monitor_polls_on_a_timer_until_the_condition(host, clock):
    start = clock.now()
    status = _run(host, "job_monitor", "job-7", advance_timers=True)
    assert status.output == {"job": "job-7", "checks": 3}
    assert (clock.now() - start).total_seconds() == 2 * 30 * 60  # two 30-minute waits between three checks


def test_monitor_gives_up_at_its_expiry(host):
    MONITOR["ready_after_checks"] = 10 ** 6
    status = _run(host, "job_monitor", "job-8", advance_timers=True)
    assert status.output == {"job": "job-8", "checks": 12, "expired": True}


def test_eternal_orchestration_continues_as_new(host):
    status = _run(host, "periodic_cleanup", None, advance_timers=True)
    assert status.runtime_status == "Completed"
    assert status.output == {"round": 3, "removed": 1 + 2 + 3}
    # the last execution's history starts fresh: one cleanup activity, not three
    assert sum(1 for e in status.history if e["EventType"] == 4) == 1


def test_sub_orchestrations(host):
    status = _run(host, "provision_devices", ["d1", "d2"])
    assert status.output == [{"device": "d1", "key": "key-d1"}, {"device": "d2", "key": "key-d2"}]
    children = [s for s in host.list_instances() if s.parent_instance_id == status.instance_id]
    assert sorted(s.output["device"] for s in children) == ["d1", "d2"]


def test_counter_entity_from_an_orchestration_and_a_client(host):
    status = _run(host, "counter_orchestration", "visits")
    assert status.output == 11  # the signal (add 1) ran before the call (add 10)
    host.signal_entity(("Counter", "visits"), "reset")
    host.signal_entity(("Counter", "visits"), "add", 5)
    host.run_until_idle()
    assert host.read_entity_state(("Counter", "visits")) == (True, 5)


def test_class_style_entity_dispatched_from_an_entity_function(host):
    host.signal_entity(("Cart", "u1"), "add_item", {"sku": "a", "quantity": 2})
    host.signal_entity(("Cart", "u1"), "add_item", {"sku": "b", "quantity": 1})
    host.signal_entity(("Cart", "u1"), "remove_item", "a")
    host.run_until_idle()
    assert host.read_entity_state(("Cart", "u1")) == (True, {"b": 1})


def test_activity_with_queue_and_blob_output_bindings(host):
    report = {"account": "contoso-openai-prod", "rows": 3}
    status = _run(host, "report_workflow", report)
    body = json.dumps(report, sort_keys=True)
    assert (status.runtime_status, status.output) == ("Completed", f"{len(body)} bytes")
    queue = host.binding_outputs("queue")
    assert [(o["target"], o["data"]) for o in queue] == [("report-notices", b"report ready for contoso-openai-prod")]
    blobs = host.binding_outputs("blob")
    assert [o["target"] for o in blobs] == [f"reports/contoso-openai-prod/{status.instance_id}.json"]
    assert (host.bindings_dir / "blob" / blobs[0]["target"]).read_text() == body


def test_an_output_blob_path_cannot_leave_its_container(host):
    status = _run(host, "report_workflow", {"account": "../../etc", "rows": 1})
    assert status.runtime_status == "Failed"
    assert "blob path" in status.output
    assert host.binding_outputs() == []
