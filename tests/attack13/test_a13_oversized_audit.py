"""A13-03 (attacker C — Storage Blob Data write on the records container, no Firestop role): one blob over the
store's default read bound, named as the newest audit, stopped every audit.

bounds14 bounded every read (over its bound: ``TooLarge``, a StoreError), and RT17-02/03 made the previous-audit scan
skip documents it does not believe. But ``firestop.audit.store.load`` read with the default bound (64 MiB) and let
the refusal propagate: ``previous``/``latest`` raised. A writer files ``audits/audit-29991231T235959Z-ffff.json``
of 64 MiB + 1 byte: every later audit (the weekly timer, ``POST /api/audits``, ``audit run``) fails before it
checks anything — no audit filed, no drift, no ``public-network-exposure`` incident when the account is opened to
the Internet: the drift backstop silenced by one blob (RT17-03 made a crowded scan fail *closed*; this failed open),
and ``GET /api/audits/latest`` answered 503 to every reader.

Fixed: audits are read at most ``AUDIT_READ_LIMIT`` (16 MiB; a sandbox audit of 30 results is 31 KB) and one over it
is a document not believed (logged, counted toward ``unverified`` like an unsealed one): the scan goes on to the
sealed previous audit.
"""

from __future__ import annotations

import json

from tests.audit.test_audit_http import SUB, api, call  # noqa: F401 (fixture)

PLANTED = "audit-29991231T235959Z-ffff"


def _open_network(env, action: str) -> None:
    cs = env.clients.cognitive_services(SUB)
    cs.accounts.begin_update("rg-ai-dev", "contoso-openai-dev", {"properties": {"networkAcls": {"defaultAction": action}}}).result()


def test_a13_03_an_oversized_newest_audit_does_not_stop_the_drift(api):  # noqa: F811
    from firestop.audit.store import records_store

    env = api[0]
    _open_network(env, "Deny")
    status, _, _ = call(api, "run_audit_http", "POST", "audits")
    assert status == 200
    path = records_store(env.settings).root / "audits" / f"{PLANTED}.json"  # a writer's Put Blob, in place
    with open(path, "wb") as fh:
        fh.truncate(64 * 1024 * 1024 + 1)

    _open_network(env, "Allow")  # the account is opened to the Internet again
    status, body, _ = call(api, "run_audit_http", "POST", "audits")
    assert status == 200, body
    drifted = json.loads(body)
    assert [k.split("|")[0] for k in drifted["drift"]["new"]] == ["network.public-access"], drifted["drift"]
    assert len(drifted["incidents"]) == 1 and drifted["incidents"][0]["playbook"] == "public-network-exposure"
    assert drifted["drift"]["unverified"] == 1

    status, body, _ = call(api, "latest_audit_http", "GET", "audits/latest", who="oid-mallory")
    assert status == 200 and json.loads(body)["audit_id"] == drifted["audit_id"], (status, body[:300])
