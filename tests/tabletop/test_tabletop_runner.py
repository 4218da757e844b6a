"""The exercise runner: sandbox only, kept apart from real incidents, simulated time, missed expectations."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from firestop.tabletop import TabletopRefused, load_scenario, run_scenario
from firestop.tabletop.models import ScenarioError

from .conftest import EXAMPLE, PLAYBOOKS, leaked_key

GATED = """name: gated
match: {rule_names: ["aoai-leaked-key*"]}
contain:
  - id: lock-network
    runbook: network.lock
    approval: {mode: required, approvers: [oid-alice], timeout: 600, on_timeout: %s}
"""


@pytest.fixture
def gated_dir(tmp_path):
    def make(on_timeout: str = "abort"):
        folder = tmp_path / f"pb-{on_timeout}"
        folder.mkdir()
        (folder / "gated.yaml").write_text(GATED % on_timeout)
        return str(folder)

    return make


def gated_alert() -> dict:
    return {"at": 0, "file": str(EXAMPLE), "custom_properties": {}}


def test_a_real_azure_client_factory_is_refused_before_anything_runs(write_scenario, firestop_home):
    from firestop.azure.clients import ClientFactory

    path = write_scenario(leaked_key())
    with pytest.raises(TabletopRefused, match="real Azure credential"):
        run_scenario(path, home=firestop_home, run_id="r", clients=ClientFactory())  # DefaultAzureCredential
    assert not (firestop_home / "tabletop" / "r").exists()


def test_a_sandbox_factory_of_another_tenant_is_refused(write_scenario, firestop_home):
    from firestop.azure.clients import ClientFactory
    from firestop.sandbox import Tenant

    other = Tenant.load()
    factory = ClientFactory(credential=other.credential, transport=other.transport, clock=other.clock, sandbox=True)
    with pytest.raises(TabletopRefused, match="this exercise's sandbox"):
        run_scenario(write_scenario(leaked_key()), home=firestop_home, run_id="r", clients=factory)


def test_process_wide_clients_and_settings_are_restored(write_scenario, firestop_home):
    from firestop.azure import clients
    from firestop import settings

    mine = clients.ClientFactory(sandbox=False)
    clients.configure_clients(mine)
    settings.configure_settings(None)
    run_scenario(write_scenario(leaked_key()), home=firestop_home, run_id="r")
    assert clients._factory is mine and settings._settings is None


def test_exercise_records_stay_out_of_the_real_incident_list(write_scenario, firestop_home):
    from firestop.cli.main import app

    card = run_scenario(write_scenario(leaked_key()), home=firestop_home, run_id="r")
    assert card["incidents"][0]["exercise"] is True
    assert (firestop_home / "tabletop" / "r" / "durable.sqlite").is_file()
    listed = CliRunner().invoke(app, ["incident", "list", "--json"], catch_exceptions=False)
    assert json.loads(listed.stdout) == []
    assert not (firestop_home / "records").exists()


def test_missed_expectations_carry_the_evidence(write_scenario, firestop_home):
    path = write_scenario(leaked_key(expect={
        "status": "needs_responder", "contained_within": 5, "steps_not_run": ["lock-network"],
        "forbidden": [{"runbook": "network.lock"}, {"operation": "accounts.regenerateKey"}],
        "gaps": ["no diagnostic logs"], "permissions_missing": ["Microsoft.CognitiveServices/accounts/write"],
    }))
    card = run_scenario(path, home=firestop_home, run_id="r")
    assert card["result"] == "missed" and card["met"] == 0
    by = {e["check"]: e for e in card["expectations"]}
    assert by["status"]["actual"] == "contained"
    assert by["contained_within"]["actual"] > 5 and "MTTC" in by["contained_within"]["evidence"]
    assert by["step lock-network not run"]["evidence"].startswith("ran: done")
    assert by["forbidden: runbook network.lock"]["actual"] == 1 and "set networkAcls" in by["forbidden: runbook network.lock"]["evidence"]
    regenerations = by["forbidden: operation accounts.regenerateKey"]
    assert regenerations["actual"] == 2 and "/regenerateKey → 200" in regenerations["evidence"]
    assert "record lists 2 gap(s)" in by["checklist gap: no diagnostic logs"]["evidence"]
    assert "no 403" in by["permission missing: Microsoft.CognitiveServices/accounts/write"]["evidence"]
    assert "❌ missed" in (firestop_home / "tabletop" / "r" / "scorecard.md").read_text()


def test_alerts_arrive_at_their_simulated_times(write_scenario, firestop_home):
    path = write_scenario(leaked_key(
        alerts=[
            {"at": 120, "file": str(EXAMPLE), "fired": 90},
            {"at": 600, "file": str(EXAMPLE)},  # Azure Monitor redelivers the same alert
        ],
    ))
    card = run_scenario(path, home=firestop_home, run_id="r")
    first, again = card["alerts"]
    assert first["delivered_offset_s"] == 120 and first["outcome"] == "incident started"
    assert again["delivered_offset_s"] == 600 and again["outcome"].startswith("redelivery")
    assert len(card["incidents"]) == 1 and card["incidents"][0]["alerts"] == [0, 1]
    assert card["metrics"]["mttd_s"] == pytest.approx(30.0)  # fired at T0+90, received at T0+120
    record = json.loads((firestop_home / "tabletop" / "r" / "records" / f"{first['incident_id']}.json").read_text())
    assert record["received_at"] == "2026-11-29T03:16:40+00:00"


def test_resolved_alert_reaches_the_open_incident(write_scenario, firestop_home, gated_dir):
    path = write_scenario(leaked_key(
        playbooks=gated_dir(),
        alerts=[gated_alert(), {"at": 60, "file": str(EXAMPLE), "custom_properties": {},
                                "essentials": {"monitorCondition": "Resolved", "resolvedDateTime": "2026-11-29T03:15:30Z"}}],
        responder=[{"step": "lock-network", "decision": "approve", "by": "oid-alice", "after": 120}],
        expect={"status": "contained"},
    ))
    card = run_scenario(path, home=firestop_home, run_id="r")
    assert card["alerts"][1]["outcome"] == "resolved: sent to the open incident"
    record = json.loads((firestop_home / "tabletop" / "r" / "records" / f"{card['incidents'][0]['incident_id']}.json").read_text())
    assert any(e["step"] == "alert resolved" for e in record["timeline"])
    assert card["result"] == "met"


def test_an_unanswered_approval_times_out_on_the_virtual_clock(write_scenario, firestop_home, gated_dir):
    path = write_scenario(leaked_key(playbooks=gated_dir("abort"), alerts=[gated_alert()],
                                     expect={"status": "needs_responder", "steps_not_run": ["lock-network"]}))
    card = run_scenario(path, home=firestop_home, run_id="r")
    (approval,) = card["approvals"]
    assert approval["outcome"] == "timed out" and approval["waited_s"] == pytest.approx(600.0)
    assert approval["answers"] == [] and card["result"] == "met"
    assert card["wall_seconds"] < 60  # ten simulated minutes, no real waiting


def test_an_answer_after_the_deadline_is_not_delivered(write_scenario, firestop_home, gated_dir):
    path = write_scenario(leaked_key(
        playbooks=gated_dir("abort"), alerts=[gated_alert()],
        responder=[{"step": "lock-network", "decision": "approve", "by": "oid-alice", "after": 900}],
        expect={"status": "needs_responder"},
    ))
    card = run_scenario(path, home=firestop_home, run_id="r")
    (approval,) = card["approvals"]
    (answer,) = approval["answers"]
    assert approval["outcome"] == "timed out" and answer["outcome"] == "not delivered"


def test_escalation_and_a_late_approval(write_scenario, firestop_home, gated_dir):
    path = write_scenario(leaked_key(
        playbooks=gated_dir("escalate"), alerts=[gated_alert()],
        responder=[{"step": "lock-network", "decision": "approve", "by": "oid-mallory", "groups": ["grp-x"], "after": 30},
                   {"step": "lock-network", "decision": "approve", "by": "oid-alice", "after": 700, "comment": "go"}],
        expect={"status": "contained", "steps_succeeded": ["lock-network"]},
    ))
    card = run_scenario(path, home=firestop_home, run_id="r")
    (approval,) = card["approvals"]
    assert approval["escalated"] is True and approval["outcome"] == "approved"
    assert approval["waited_s"] == pytest.approx(700.0)
    assert [a["outcome"] for a in approval["answers"]] == ["refused", "sent"]
    assert card["metrics"]["mtta_s"] == pytest.approx(approval["requested_offset_s"] + 700.0)
    assert card["result"] == "met"


def test_max_duration_stops_a_long_wait(write_scenario, firestop_home, gated_dir):
    path = write_scenario(leaked_key(playbooks=gated_dir("abort"), alerts=[gated_alert()], max_duration=100,
                                     expect={"status": "needs_responder"}))
    card = run_scenario(path, home=firestop_home, run_id="r")
    assert card["result"] == "missed"
    assert card["expectations"][0]["check"] == "incident finished"
    assert "awaiting_approval" in card["expectations"][0]["evidence"]
    assert any("max_duration" in n for n in card["notes"])
    assert card["approvals"][0]["outcome"] == "still waiting"


def test_a_fault_armed_later_hits_only_later_calls(write_scenario, firestop_home):
    path = write_scenario(leaked_key(
        faults={"scripted": [{"operation": "accounts.listKeys", "status": 500, "at": 3000}]},
        alerts=[{"at": 0, "file": str(EXAMPLE)}],
    ))
    card = run_scenario(path, home=firestop_home, run_id="r")
    assert card["faults"]["fired"] == [] and card["faults"]["armed"] == []
    assert "never armed" in card["notes"][0]
    assert card["finished_at"] < "2026-11-29T03:16:00"  # the exercise did not wait for it


def test_a_fault_armed_mid_exercise_hits_the_next_call(write_scenario, firestop_home):
    path = write_scenario(leaked_key(
        faults={"scripted": [{"operation": "accounts.update", "status": 409, "at": 3.3}]},
        alerts=[{"at": 0, "file": str(EXAMPLE)}],
        expect={"status": "contained"},
    ))
    card = run_scenario(path, home=firestop_home, run_id="r")
    (armed,) = card["faults"]["armed"]
    assert armed["at"] >= "2026-11-29T03:14:43.3"
    (fired,) = card["faults"]["fired"]
    assert (fired["operation"], fired["status"], fired["step"]) == ("accounts.update", 409, "lock-network")


def test_run_folder_is_never_reused(write_scenario, firestop_home):
    path = write_scenario(leaked_key())
    run_scenario(path, home=firestop_home, run_id="same")
    with pytest.raises(FileExistsError):
        run_scenario(path, home=firestop_home, run_id="same")


def test_default_run_ids_are_distinct_and_name_the_scenario(write_scenario, firestop_home):
    path = write_scenario(leaked_key())
    a = run_scenario(path, home=firestop_home)
    b = run_scenario(load_scenario(path), home=firestop_home)
    assert a["run_id"] != b["run_id"] and "test-leaked-key" in a["run_id"]


def test_a_playbook_naming_its_own_webhook_url_is_refused(write_scenario, firestop_home, tmp_path):
    """A notify URL comes from settings only (issue 11): a playbook that names one is invalid, so an
    exercise can never post to the channel it names."""
    folder = tmp_path / "loud"
    folder.mkdir()
    (folder / "loud.yaml").write_text(
        "name: loud\nmatch: {rule_names: ['x']}\nlearn:\n  - id: tell\n    runbook: notify.webhook\n"
        "    with: {url: 'https://hooks.slack.com/services/T000/B000/XXXX'}\n"
    )
    with pytest.raises(ScenarioError, match="with.url: Extra inputs are not permitted"):
        run_scenario(write_scenario(leaked_key(playbooks=str(folder))), home=firestop_home, run_id="r")
    assert not (firestop_home / "tabletop" / "r").exists()


def test_client_options_change_the_runs_own_factory(write_scenario, firestop_home):
    path = write_scenario(leaked_key())
    slow = run_scenario(path, home=firestop_home, run_id="slow", client_options={"polling_interval": 8})
    fast = run_scenario(path, home=firestop_home, run_id="fast", client_options={"polling_interval": 0.5})
    assert fast["metrics"]["mttc_s"] < slow["metrics"]["mttc_s"]  # the lock's LRO is seen done sooner
    with pytest.raises(ValueError, match="client_options"):
        run_scenario(path, home=firestop_home, run_id="bad", client_options={"credential": "x"})
