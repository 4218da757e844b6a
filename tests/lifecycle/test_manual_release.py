"""A manual run that changed nothing is released, as an incident's step is (lifecycle7; session 6 note, "Noticed and left").

A responder's ``runbook run network.lock`` on an account an incident already locked finds it locked and changes nothing:
that lock holds only as long as the incident's does. Before, the incident's undo went ahead without a word (manual runs
were not read as relying on it), and ``runbook undo`` of such a run answered "changed nothing; nothing to undo". Now the
incident's undo is refused naming the run (fail closed, as for a later incident), and ``runbook undo`` of the run is a
*release* — nothing restored, no Azure call, recorded on the run's ledger with who and when — after which the incident's
undo goes through. The release shares :func:`firestop.lifecycle.undo.release_stamp` and
:meth:`runbooks.base.Runbook.releasable` with ``incident undo``.
"""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from firestop.settings import REPO_ROOT
from tests.trust.conftest import ACCOUNT, INCIDENT, api, handled_home  # noqa: F401 — fixtures


def _acl(env) -> str:
    return env.tenant.resource(ACCOUNT)["properties"]["networkAcls"]["defaultAction"]


def _manual_lock(api) -> str:
    """``runbook run network.lock`` through the API on the incident's locked account: it changes nothing."""
    status, run = api.call("run_runbook_http", "POST", "runbooks/network.lock", who="oid-bob", route={"name": "network.lock"},
                           body={"target": ACCOUNT, "params": {"mode": "deny_by_default"}, "mode": "run"})
    assert status == 200 and run["ok"] and run["apply"]["result"]["changed"] is False, run
    return run["run_id"]


def _run_call(api, function, run_id, method):
    day, step = run_id.split("/")
    return api.call(function, method, f"runbook-runs/{day}/{step}" + ("/undo" if method == "POST" else ""), who="oid-bob",
                    route={"day": day, "step": step}, body={} if method == "POST" else None)


def _undo_incident(api):
    return api.call("undo_http", "POST", f"incidents/{INCIDENT}/undo", who="oid-bob", route={"incident_id": INCIDENT},
                    body={"step": "lock-network"})


def test_http_a_later_manual_run_blocks_the_undo_until_released(api, firestop_home):
    from firestop.settings import Settings
    from runbooks.ledger import Ledger

    run_id = _manual_lock(api)
    status, refused = _undo_incident(api)
    assert status == 409 and refused["code"] == "relied_on" and run_id in refused["reason"], refused
    assert f"runbook undo {run_id}" in refused["fix"] and _acl(api.env) == "Deny"

    status, preview = _run_call(api, "manual_run_http", run_id, "GET")
    assert status == 200 and preview["release"] is True, preview

    calls_before = len(api.env.tenant.requests)
    status, released = _run_call(api, "manual_run_undo_http", run_id, "POST")
    assert status == 200 and released["undo"]["ok"] and released["undo"]["released"], released
    summary = released["undo"]["result"]["summary"]
    assert summary.startswith(f"released: {run_id} no longer relies on network.lock's state on contoso-openai-prod")
    assert "nothing was restored" in summary
    assert len(api.env.tenant.requests) == calls_before and _acl(api.env) == "Deny"  # no Azure call, nothing restored
    day, step = run_id.split("/")
    [entry] = [e for e in Ledger.of(Settings.from_env(home=firestop_home)).entries(day)
               if e["step_id"] == step and e["action"] == "undo"]
    assert entry["data"]["released"] is True and entry["data"]["requested_by"] == "oid-bob" and entry["data"]["released_at"]

    status, again = _run_call(api, "manual_run_undo_http", run_id, "POST")  # idempotent
    assert status == 200 and again["already_released"] is True and "already released" in again["detail"], again
    assert len(Ledger.of(Settings.from_env(home=firestop_home)).entries(day)) == entry["seq"]  # nothing more written

    status, done = _undo_incident(api)
    assert status == 200 and done["undone"][0]["ok"] and not done["undone"][0].get("released"), done
    assert _acl(api.env) == "Allow"


def test_a_manual_run_that_changed_the_state_still_undoes_it(api):
    """A run that changed something is undone as before (restored), not released."""
    status, undone = _undo_incident(api)
    assert status == 200 and _acl(api.env) == "Allow"
    status, run = api.call("run_runbook_http", "POST", "runbooks/network.lock", who="oid-bob", route={"name": "network.lock"},
                           body={"target": ACCOUNT, "params": {"mode": "deny_by_default"}, "mode": "run"})
    assert status == 200 and run["apply"]["result"]["changed"] is True
    status, preview = _run_call(api, "manual_run_http", run["run_id"], "GET")
    assert status == 200 and preview["release"] is False
    status, answer = _run_call(api, "manual_run_undo_http", run["run_id"], "POST")
    assert status == 200 and answer["undo"]["ok"] and not answer["undo"].get("released") and _acl(api.env) == "Allow"


def test_cli_release_of_a_manual_run_unblocks_the_incident_undo(firestop_home):
    from firestop.cli.main import app

    def cli(*args, input=None):
        return CliRunner().invoke(app, list(args), input=input, catch_exceptions=False)

    first = json.loads(cli("alert", "handle", str(REPO_ROOT / "examples" / "alerts" / "leaked-key.json"), "--json").stdout)
    incident = first["incident_id"]
    ran = cli("runbook", "run", "network.lock", "--target", ACCOUNT, "--param", "mode=deny_by_default", "--yes", "--json")
    assert ran.exit_code == 0, ran.output
    run = json.loads(ran.stdout)
    run_id = run["run_id"]
    assert run["apply"]["result"]["changed"] is False, run

    refused = cli("incident", "undo", first["incident_id"], "--step", "lock-network", "--as", "oid-bob", input="y\n")
    assert refused.exit_code == 3 and "later manual run" in refused.output and run_id in refused.output, refused.output

    preview = cli("runbook", "undo", run_id, input="n\n")
    assert preview.exit_code == 2 and "would release network.lock" in preview.output, preview.output
    released = cli("runbook", "undo", run_id, "--yes")
    assert released.exit_code == 0 and f"released: {run_id} no longer relies on" in released.output, released.output
    again = cli("runbook", "undo", run_id, "--yes", "--json")
    assert again.exit_code == 0 and json.loads(again.stdout)["already_released"] is True, again.output

    done = cli("incident", "undo", incident, "--step", "lock-network", "--as", "oid-bob", "--yes")
    assert done.exit_code == 0, done.output


@pytest.fixture
def settings(tmp_path):
    from firestop.settings import Settings

    return Settings.from_env(home=tmp_path)


def test_an_unreadable_line_on_a_manual_ledger_is_skipped(settings):
    """leftovers10: a line that is not an entry says nothing about a run (it cannot be an apply that relies, nor a
    sealed undo): it is skipped and named by ``ledger verify``. Before, any junk line a blob writer appended to a day's
    ledger refused every undo (UndoUnchecked). A ledger that cannot be *read* still refuses (the store tests)."""
    from firestop.lifecycle.undo import later_reliance

    (settings.home / "ledger").mkdir(parents=True, exist_ok=True)
    (settings.home / "ledger" / "manual-2026-11-29.jsonl").write_text("{not json\n")
    later_reliance(settings, "inc-aaaaaaaaaaaaaaaa", {"received_at": "2026-11-29T03:00:00Z"},
                   [{"step_id": "lock-network", "runbook": "network.lock", "target": ACCOUNT}])  # no UndoUnchecked


def _sealed_day(settings, day: str) -> None:
    """A manual-run ledger the app wrote (an entry sealed on it; bounds14: only such ledgers count toward the bound)."""
    from runbooks.ledger import Ledger

    Ledger.of(settings).append(f"manual-{day}", kind="action", runbook="network.lock", action="plan", step_id="s",
                               target=None, at=f"{day}T01:00:00+00:00", data={})


def test_manual_ledgers_past_the_bound_refuse_the_undo(settings, monkeypatch):
    from firestop.lifecycle.undo import UndoUnchecked, later_reliance
    from runbooks import manual_runs

    monkeypatch.setattr(manual_runs, "MAX_MANUAL_LEDGERS", 2)
    folder = settings.home / "ledger"
    folder.mkdir(parents=True, exist_ok=True)
    for day in ("2026-11-28", "2026-11-29", "2026-11-30"):
        _sealed_day(settings, day)
    with pytest.raises(UndoUnchecked, match="3 days"):
        later_reliance(settings, "inc-aaaaaaaaaaaaaaaa", {"received_at": "2026-11-29T03:00:00Z"},
                       [{"step_id": "lock-network", "runbook": "network.lock", "target": ACCOUNT}])
    (folder / "manual-2026-11-28.jsonl").unlink()
    (folder / "manual-2026-11-01.jsonl").write_text("{not json\n")  # before the incident (less a day's slack): not read
    later_reliance(settings, "inc-aaaaaaaaaaaaaaaa", {"received_at": "2026-11-29T03:00:00Z"},
                   [{"step_id": "lock-network", "runbook": "network.lock", "target": ACCOUNT}])  # no refusal


def test_a_flood_of_future_dated_manual_ledgers_is_named_and_the_undo_goes_on(settings, monkeypatch, caplog):
    """leftovers11: a blob writer who creates many ``manual-<day>`` ledgers made every undo refuse once the read bound
    was passed. A run's ledger is named by the day it ran (the runbooks' clock), so one dated after today (a day's
    slack) is no run's: it is named and skipped, never read. Backdated ones the app wrote still count (the bound is then
    the days since the incident), and a genuine ledger of today is still read."""
    from datetime import timedelta

    from firestop.azure.clients import get_client_factory
    from firestop.lifecycle.undo import UndoUnchecked, later_reliance
    from runbooks import manual_runs

    monkeypatch.setattr(manual_runs, "MAX_MANUAL_LEDGERS", 2)
    now = get_client_factory().clock.now()
    folder = settings.home / "ledger"
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(2, 40):  # from the day after tomorrow on
        (folder / f"manual-{(now + timedelta(days=n)).date().isoformat()}.jsonl").write_text("{not json\n")
    received = {"received_at": (now - timedelta(hours=1)).isoformat()}
    step = [{"step_id": "lock-network", "runbook": "network.lock", "target": ACCOUNT}]
    with caplog.at_level("WARNING", logger="firestop.runbooks"):
        later_reliance(settings, "inc-aaaaaaaaaaaaaaaa", received, step)  # no UndoUnchecked
    assert any("38 manual-run ledger(s) dated after" in r.getMessage() for r in caplog.records), caplog.text
    for n in (-1, 0, 1):  # yesterday (the day's slack), today, tomorrow: 3 days, past the bound of 2: still refused
        _sealed_day(settings, (now + timedelta(days=n)).date().isoformat())  # (bounds14: the app's own ledgers)
    with pytest.raises(UndoUnchecked, match="3 days"):
        later_reliance(settings, "inc-aaaaaaaaaaaaaaaa", received, step)
