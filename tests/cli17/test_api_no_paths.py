"""cli17: ``GET /api/ledgers/{id}`` answered the ledger's file path on the app's machine (``"path":
"/home/site/…/ledger/inc-….jsonl"``, or a blob URL naming the storage account): a deployed app must not reveal its
paths. It answers the ledger's logical location (``"location"``: the store and the object's name, e.g.
``FIRESTOP_HOME/ledger/inc-….jsonl`` or ``firestop-ledger/inc-….jsonl``), and no answer of the responders' API —
incidents, one incident, the undo preview, a manual run, the ledger, audits — carries an absolute path of the app's
home (fails before: the ledger's answer held FIRESTOP_HOME's path)."""

from __future__ import annotations

import json
import re

from tests.e2e.test_http_api import ACCOUNT, INCIDENT, api  # noqa: F401 — api: the responders' API on a sandbox (fixture)


def _leaks(body, home: str) -> list[str]:
    text = json.dumps(body)
    return sorted(set(re.findall(re.escape(home) + r"[^\"]*", text))) + (["file://"] if "file://" in text else [])


def test_no_answer_of_the_api_carries_a_path_of_the_app(api, firestop_home, monkeypatch):  # noqa: F811
    monkeypatch.setenv("FIRESTOP_AUDIT_SUBSCRIPTION", "11111111-2222-3333-4444-555555555555")
    api.open_incident()
    status, decided = api.call("decide_http", "POST", "x", route={"incident_id": INCIDENT, "step": "lock-network"},
                               body={"decision": "approve"})
    api.call("decide_http", "POST", "x", who="oid-carol", groups=["grp-secops"],
             route={"incident_id": INCIDENT, "step": "lock-network"}, body={"decision": "approve"})
    api.env.host.run_until_idle()
    answers = {
        "incidents": api.call("list_incidents_http", "GET", "incidents"),
        "incident": api.call("get_incident_http", "GET", f"incidents/{INCIDENT}", route={"incident_id": INCIDENT}),
        "undo preview": api.call("undo_preview_http", "GET", f"incidents/{INCIDENT}/undo", route={"incident_id": INCIDENT}),
        "ledger": api.call("ledger_verify_http", "GET", f"ledgers/{INCIDENT}", route={"incident_id": INCIDENT}),
    }
    status, ran = api.call("run_runbook_http", "POST", "runbooks/network.lock", route={"name": "network.lock"},
                           body={"target": ACCOUNT, "mode": "run"})
    day, _, step = str(ran.get("run_id") or "").partition("/")
    answers |= {
        "manual ledger": api.call("ledger_verify_http", "GET", f"ledgers/{day}", route={"incident_id": day}),
        "manual run": api.call("manual_run_http", "GET", f"runbook-runs/{day}/{step}", route={"day": day, "step": step}),
        "runbook run": (status, ran),
        "audit run": api.call("run_audit_http", "POST", "audits", body={}),
        "latest audit": api.call("latest_audit_http", "GET", "audits/latest"),
    }
    home = str(firestop_home)
    for what, (code, body) in answers.items():
        assert code in (200, 201, 202), (what, code, body)
        assert not _leaks(body, home), (what, _leaks(body, home))
    ledger = answers["ledger"][1]
    assert ledger["location"] == f"FIRESTOP_HOME/ledger/{INCIDENT}.jsonl" and "path" not in ledger, ledger


def test_logical_locations_of_blobs_and_files(tmp_path):
    from firestop.settings import Settings
    from firestop.storage.locations import logical_files, logical_location

    settings = Settings.from_env(home=tmp_path / "home")
    assert logical_location("https://acct.blob.core.windows.net/firestop-ledger/inc-1.jsonl", settings) == "firestop-ledger/inc-1.jsonl"
    assert logical_location("http://127.0.0.1:10000/devstoreaccount1/firestop-records/notifications/a%20b.json",
                            settings) == "firestop-records/notifications/a b.json"
    assert logical_location(str(tmp_path / "home" / "records" / "inc-1.md"), settings) == "FIRESTOP_HOME/records/inc-1.md"
    assert logical_location("/srv/elsewhere/records/inc-1.md", settings) == "FIRESTOP_HOME/records/inc-1.md"
    assert logical_location("/srv/elsewhere/inc-1.md", settings) == "inc-1.md" and logical_location(None, settings) is None
    files = {"json_path": str(tmp_path / "home" / "records" / "inc-1.json"), "revision": 2,
             "evidence_paths": {"a.jsonl": "https://acct.blob.core.windows.net/firestop-evidence/inc-1/a.jsonl"}}
    assert logical_files(files, settings) == {"json_path": "FIRESTOP_HOME/records/inc-1.json", "revision": 2,
                                              "evidence_paths": {"a.jsonl": "firestop-evidence/inc-1/a.jsonl"}}
