"""Undo must not dead-end (release7, found by the new-user trial).

A later incident's ``lock-network`` that found the account already locked changed nothing; the earlier incident's
undo of the lock is refused while the later one relies on it, and the later one's undo answered "changed nothing
that can be undone": the network could never be reopened through Firestop. Undoing a step that changed nothing is
now a *release* (nothing restored, no Azure call), after which the earlier undo goes through; reliance compares the
parts of the state restored (an NSG rule of one incident is not another incident's); the CLI refuses before asking.
"""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from firestop.settings import REPO_ROOT
from tests.console.test_console_routes import call as console_call, token_of
from tests.trust.conftest import ACCOUNT, INCIDENT, api, handled_home  # noqa: F401 — fixtures

ANOMALOUS = REPO_ROOT / "examples" / "alerts" / "anomalous-usage.json"


def _later(env) -> str:
    """Handle the anomalous-usage alert on the same account: its lock-network finds the lock in place."""
    from firestop.alerts import parse_alert
    from firestop.cli.incidents import handle_alert

    later, _ = handle_alert(parse_alert(ANOMALOUS.read_bytes()), env=env)
    lock = [a for a in later["actions"] if a.get("step_id") == "lock-network"]
    assert later["incident_id"] != INCIDENT and lock and lock[0]["ok"] and not lock[0]["changed"], later["actions"]
    return later["incident_id"]


def _acl(env) -> str:
    return env.tenant.resource(ACCOUNT)["properties"]["networkAcls"]["defaultAction"]


def _undo(api, incident, step="lock-network"):
    return api.call("undo_http", "POST", f"incidents/{incident}/undo", who="oid-bob", route={"incident_id": incident},
                    body={"step": step})


def _filed(home, incident) -> dict:
    from firestop.records.store import filed_record
    from firestop.settings import Settings

    return filed_record(Settings.from_env(home=home), incident)


def test_http_release_then_the_earlier_undo_reopens(api, firestop_home):
    later = _later(api.env)
    status, refused = _undo(api, INCIDENT)
    assert status == 409 and refused["code"] == "relied_on" and later in refused["reason"], refused
    assert _acl(api.env) == "Deny"

    calls_before = len(api.env.tenant.requests)
    status, released = _undo(api, later)
    assert status == 200, released
    [item] = released["undone"]
    assert item["ok"] and item["released"] and item["detail"].startswith(f"released: {later} no longer relies on")
    assert "nothing was restored" in item["detail"]
    assert _acl(api.env) == "Deny"  # nothing restored
    assert len(api.env.tenant.requests) == calls_before  # no Azure call
    action = next(a for a in _filed(firestop_home, later)["actions"] if a["step_id"] == "lock-network")
    assert action["undone"] is True and action["released"] is True and action["released_by"] == "oid-bob" and action["released_at"]

    status, again = _undo(api, later)  # idempotent: says already released
    assert status == 200 and again["already_released"] == "lock-network" and again["undone"] == [], again
    assert "already released" in again["detail"]

    status, done = _undo(api, INCIDENT)
    assert status == 200 and done["undone"][0]["ok"] and not done["undone"][0].get("released"), done
    assert _acl(api.env) == "Allow"


def test_console_undo_after_a_release(api, firestop_home):
    later = _later(api.env)
    assert _undo(api, later)[0] == 200
    status, _, page = console_call(api, "console_undo_confirm", f"console/incidents/{INCIDENT}/undo", who="oid-bob",
                                   route={"incident_id": INCIDENT})
    assert status == 200 and "Undo containment" in page
    status, _, _ = console_call(api, "console_undo", f"console/incidents/{INCIDENT}/undo", who="oid-bob", method="POST",
                                form={"csrf": token_of(page), "confirm": "undo"}, route={"incident_id": INCIDENT},
                                headers={"Origin": api.server.base_url})
    assert status == 303 and _acl(api.env) == "Allow"


def test_console_undo_is_refused_before_the_release(api):
    later = _later(api.env)
    status, _, page = console_call(api, "console_undo_confirm", f"console/incidents/{INCIDENT}/undo", who="oid-bob",
                                   route={"incident_id": INCIDENT})
    status, _, answer = console_call(api, "console_undo", f"console/incidents/{INCIDENT}/undo", who="oid-bob", method="POST",
                                     form={"csrf": token_of(page), "confirm": "undo"}, route={"incident_id": INCIDENT},
                                     headers={"Origin": api.server.base_url})
    assert status == 409 and later in answer and _acl(api.env) == "Deny"


def test_preview_marks_a_release_and_refuses_a_relied_on_undo(api):
    later = _later(api.env)
    status, refused = api.call("undo_preview_http", "GET", f"incidents/{INCIDENT}/undo", who="oid-bob",
                               route={"incident_id": INCIDENT}, params={"step": "lock-network"})
    assert status == 409 and refused["code"] == "relied_on" and later in refused["reason"], refused
    status, preview = api.call("undo_preview_http", "GET", f"incidents/{later}/undo", who="oid-bob",
                               route={"incident_id": later}, params={"step": "lock-network"})
    assert status == 200 and [a["release"] for a in preview["actions"]] == [True], preview


def test_an_evidence_step_is_not_released(api):
    later = _later(api.env)
    status, answer = _undo(api, later, "snapshot-logs")  # evidence: changed nothing, but nothing to release
    assert status == 409 and answer["code"] == "nothing_to_undo", answer


def _rule_action(incident, names, denied_by=()):
    return {"step_id": "block-ips", "runbook": "network.block_ips", "target": NSG, "ok": True, "changed": bool(names),
            "artifacts": {"rules": [{"name": n} for n in names], "denied_by": [{"name": n} for n in denied_by]}}


NSG = "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-ai-prod/providers/Microsoft.Network/networkSecurityGroups/nsg-ai-apps"


def _file_later(settings, action):
    later = {"incident_id": "inc-bbbbbbbbbbbbbbbb", "received_at": "2026-11-29T04:00:00Z", "actions": [action]}
    settings.records_dir.mkdir(parents=True, exist_ok=True)
    (settings.records_dir / "inc-bbbbbbbbbbbbbbbb.json").write_text(json.dumps(later))


@pytest.fixture
def settings(tmp_path):
    from firestop.settings import Settings

    return Settings.from_env(home=tmp_path)


def test_a_later_incidents_own_nsg_rule_does_not_rely_on_an_earlier_rule(settings):
    from firestop.lifecycle.undo import later_reliance

    _file_later(settings, _rule_action("inc-bbbbbbbbbbbbbbbb", ["firestop-inc-bbbbbbbbbbbbbbbb-203.0.113.9_32"]))
    mine = [_rule_action("inc-aaaaaaaaaaaaaaaa", ["firestop-inc-aaaaaaaaaaaaaaaa-198.51.100.7_32"])]
    later_reliance(settings, "inc-aaaaaaaaaaaaaaaa", {"received_at": "2026-11-29T03:00:00Z"}, mine)  # no refusal


def test_a_later_block_that_found_the_earlier_rule_denying_relies_on_it(settings):
    from firestop.lifecycle.undo import UndoReliedOn, later_reliance

    earlier_rule = "firestop-inc-aaaaaaaaaaaaaaaa-198.51.100.7_32"
    _file_later(settings, _rule_action("inc-bbbbbbbbbbbbbbbb", [], denied_by=[earlier_rule.upper()]))
    with pytest.raises(UndoReliedOn, match="inc-bbbbbbbbbbbbbbbb"):
        later_reliance(settings, "inc-aaaaaaaaaaaaaaaa", {"received_at": "2026-11-29T03:00:00Z"},
                       [_rule_action("inc-aaaaaaaaaaaaaaaa", [earlier_rule])])


def test_a_later_lock_relies_on_an_earlier_lock_and_a_record_without_artifacts_is_whole_resource(settings):
    from firestop.lifecycle.undo import UndoReliedOn, later_reliance

    _file_later(settings, {"step_id": "lock-network", "runbook": "network.lock", "target": ACCOUNT, "ok": True, "changed": False})
    with pytest.raises(UndoReliedOn):
        later_reliance(settings, "inc-aaaaaaaaaaaaaaaa", {"received_at": "2026-11-29T03:00:00Z"},
                       [{"step_id": "lock-network", "runbook": "network.lock", "target": ACCOUNT}])
    _file_later(settings, {"step_id": "block-ips", "runbook": "network.block_ips", "target": NSG, "ok": True})
    with pytest.raises(UndoReliedOn):  # no artifacts recorded: the whole NSG, refusing rather than reopening
        later_reliance(settings, "inc-aaaaaaaaaaaaaaaa", {"received_at": "2026-11-29T03:00:00Z"},
                       [_rule_action("inc-aaaaaaaaaaaaaaaa", ["firestop-inc-aaaaaaaaaaaaaaaa-198.51.100.7_32"])])


def test_cli_refuses_before_asking_then_release_unblocks(firestop_home):
    from firestop.cli.main import app

    def cli(*args, input=None):
        return CliRunner().invoke(app, list(args), input=input, catch_exceptions=False)

    first = json.loads(cli("alert", "handle", str(REPO_ROOT / "examples" / "alerts" / "leaked-key.json"), "--json").stdout)
    second = json.loads(cli("alert", "handle", str(ANOMALOUS), "--json").stdout)
    first_id, later = first["incident_id"], second["incident_id"]

    refused = cli("incident", "undo", first_id, "--step", "lock-network", "--as", "oid-bob", input="y\n")
    assert refused.exit_code == 3, refused.output
    assert "relied on by a later incident" in refused.output and later in refused.output
    assert "Undo these" not in refused.output and "would undo" not in refused.output  # refused before asking
    # the release it names runs as typed: it carries the --as given (new-user trial 9: without it the command
    # answered "--as: who undoes?")
    said = " ".join(refused.output.split())
    assert f"python -m firestop incident undo {later} --step lock-network --as oid-bob (it changed nothing" in said, said

    preview = cli("incident", "undo", later, "--step", "lock-network", "--as", "oid-bob", input="n\n")
    assert preview.exit_code == 2 and "would release lock-network" in preview.output, preview.output

    released = cli("incident", "undo", later, "--step", "lock-network", "--as", "oid-bob", "--yes")
    assert released.exit_code == 0, released.output
    assert f"released: {later} no longer relies on" in released.output and "nothing was restored" in released.output
    again = cli("incident", "undo", later, "--step", "lock-network", "--as", "oid-bob", "--yes", "--json")
    assert again.exit_code == 0 and json.loads(again.stdout)["already_released"] == "lock-network", again.output

    done = cli("incident", "undo", first_id, "--step", "lock-network", "--as", "oid-bob", "--yes", "--json")
    assert done.exit_code == 0, done.output
    assert [u["ok"] for u in json.loads(done.stdout)["undone"]] == [True]


def test_undo_without_a_step_names_the_steps_to_release():
    """New-user trial 8: `incident undo LATER` of an incident whose steps all found their state in place answered only
    "has nothing left to undo", though its lock-network still blocked the earlier incident's undo; the refusal now
    names the releasable steps and the --step that releases one."""
    from firestop.lifecycle.undo import UndoRefused, undo_selection

    record = {"actions": [
        {"step_id": "snapshot-config", "runbook": "evidence.snapshot_config", "ok": True, "changed": False},
        {"step_id": "lock-network", "runbook": "network.lock", "ok": True, "changed": False},
        {"step_id": "disable-local-auth", "runbook": "auth.disable_local_auth", "ok": True, "changed": False},
    ], "timeline": []}
    with pytest.raises(UndoRefused) as refused:
        undo_selection("inc-later", "Completed", record, record)
    text = str(refused.value)
    assert text.startswith("ID: incident inc-later has nothing left to undo")
    assert "changed nothing (found the state in place): disable-local-auth, lock-network" in text
    assert "release one with --step disable-local-auth" in text
    # and that --step does release it
    _, actions = undo_selection("inc-later", "Completed", record, record, step="lock-network")
    assert [a["step_id"] for a in actions] == ["lock-network"]
