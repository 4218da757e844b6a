"""RT17-02 (attacker C — Storage Blob Data write on the records container, no Firestop role; medium): the audit
drift that opens an incident when public network access is re-enabled compares with whatever audit the records
store holds as the newest — unsealed, planted ones included.

``firestop.audit.store.latest`` took the newest ``audits/<id>.json`` that parsed as an audit of the scope. A blob
writer copies the latest real audit (they can read the container), marks the account's ``network.public-access``
result failing, and files it as ``audits/audit-29991231T235959Z-ffff.json``: every later audit finds it first, so the
account opened to the Internet again is never *new* drift — no ``public-network-exposure`` incident, ever (the
weekly audit is the backstop for a change no alert rule saw). ``GET /api/audits/latest`` and the console show the
planted audit too (any findings the writer likes, or none).

PoC (main 2fcae0a): the drift after re-opening ``contoso-openai-dev`` is ``[]``, no incident; the planted audit is
the one ``GET /api/audits/latest`` answers.

Fixed: every audit Firestop files carries a seal (HMAC with the app's seal key, purpose ``audit``, bound to its
id, over the document); :func:`firestop.audit.store.load` and ``latest`` believe only a sealed audit whose id is
its file's, so a planted or altered one is not an audit (not the previous one, not the latest shown). Audits filed
before the fix are unsealed: the first audit after the upgrade is a baseline again.
"""

from __future__ import annotations

import json

from tests.audit.test_audit_http import SUB, api, call  # noqa: F401 (fixture)

PLANTED = "audit-29991231T235959Z-ffff"


def _open_network(env, action: str) -> None:
    cs = env.clients.cognitive_services(SUB)
    cs.accounts.begin_update("rg-ai-dev", "contoso-openai-dev", {"properties": {"networkAcls": {"defaultAction": action}}}).result()


def _plant(env, document: dict) -> None:
    """What a Storage Blob Data writer does with the records container (no Firestop code, no seal key)."""
    from firestop.audit.store import records_store

    assert records_store(env.settings).create(f"audits/{PLANTED}.json", json.dumps(document).encode(), "application/json")


def test_a_planted_newest_audit_does_not_hide_the_network_drift(api):  # noqa: F811
    env = api[0]
    _open_network(env, "Deny")
    status, body, _ = call(api, "run_audit_http", "POST", "audits")
    real = json.loads(body)
    assert status == 200
    forged = {k: real[k] for k in ("audit_id", "at", "scope", "sandbox", "results", "drift", "incidents")}
    forged["audit_id"] = PLANTED
    forged["results"] = [{**r, "status": "fail"} if r["control"] == "network.public-access" else r for r in real["results"]]
    _plant(env, forged)

    _open_network(env, "Allow")  # the account is opened to the Internet again
    status, body, _ = call(api, "run_audit_http", "POST", "audits")
    drifted = json.loads(body)
    assert status == 200
    assert [k.split("|")[0] for k in drifted["drift"]["new"]] == ["network.public-access"], drifted["drift"]
    assert len(drifted["incidents"]) == 1 and drifted["incidents"][0]["playbook"] == "public-network-exposure"

    status, body, _ = call(api, "latest_audit_http", "GET", "audits/latest", who="oid-mallory")
    assert status == 200 and json.loads(body)["audit_id"] == drifted["audit_id"]  # not the planted one
    status, _, _ = call(api, "get_audit_http", "GET", f"audits/{PLANTED}", who="oid-mallory", route={"audit_id": PLANTED})
    assert status == 404  # a planted document is not an audit Firestop kept


def test_junk_filed_as_newer_audits_does_not_turn_the_drift_detection_off(api):  # noqa: F811
    """RT17-03 (attacker C; medium): with planted documents unsealed (RT17-02), a writer who files more junk named as
    newer audits than ``store.MAX_SCANNED`` reads leaves no previous audit to be found: the drift was then a silent
    baseline — nothing new, no incident, every week. PoC (after RT17-02's fix): drift ``[]`` and no incident. Fixed:
    a previous audit not found *because* unsealed documents stood in the way makes every finding new (the audit says
    why), so the account re-opened to the Internet still opens its incident."""
    from firestop.audit.store import MAX_SCANNED, records_store

    env = api[0]
    _open_network(env, "Deny")
    assert call(api, "run_audit_http", "POST", "audits")[0] == 200
    records = records_store(env.settings)
    for n in range(MAX_SCANNED):
        assert records.create(f"audits/audit-2999123{n // 100}T2359{n % 100:02d}Z-{n:04x}.json", b"{}", "application/json")

    _open_network(env, "Allow")
    status, body, _ = call(api, "run_audit_http", "POST", "audits")
    drifted = json.loads(body)
    assert status == 200
    assert "network.public-access" in [k.split("|")[0] for k in drifted["drift"]["new"]], drifted["drift"]
    assert drifted["drift"]["unverified"] == MAX_SCANNED
    assert "public-network-exposure" in [i["playbook"] for i in drifted["incidents"]]


def test_audits_filed_before_seals_make_the_next_audit_a_baseline_not_a_flood_of_incidents(api):  # noqa: F811
    """The upgrade: audits kept before RT17-02 carry no seal. Failing closed on them (RT17-03) would make the first
    audit after the upgrade take every finding as new — a public-network-exposure incident locking every account
    that was open on purpose. Fewer unsealed documents than the scan reads are no crowding: a baseline, as before."""
    from firestop.audit.store import records_store

    env = api[0]
    status, body, _ = call(api, "run_audit_http", "POST", "audits")
    first = json.loads(body)
    assert status == 200 and first["drift"]["previous"] is None and first["incidents"] == []
    legacy = {k: first[k] for k in ("at", "scope", "sandbox", "results", "drift", "incidents")}  # (no seal)
    records = records_store(env.settings)
    for n, day in enumerate(("20261115", "20261122", "20261128")):
        audit_id = f"audit-{day}T050000Z-{n:04x}"
        assert records.create(f"audits/{audit_id}.json", json.dumps({**legacy, "audit_id": audit_id}).encode(), "application/json")
    from firestop.audit.store import previous

    found, unverified = previous(records, tuple(first["scope"]))
    assert found is not None and found.audit_id == first["audit_id"] and unverified == 0  # legacy ones are older

    from firestop.storage.local import LocalStore  # a store holding only the legacy audits: the upgrade's first run
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as folder:
        only_legacy = LocalStore(Path(folder), "legacy")
        for name in records.names("audits/"):
            if name.endswith(".json") and name != f"audits/{first['audit_id']}.json":
                only_legacy.create(name, records.read(name), "application/json")
        assert previous(only_legacy, tuple(first["scope"])) == (None, 0)  # a baseline, not "every finding is new"
