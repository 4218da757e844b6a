"""A13-08 (attacker C — Storage Blob Data write on the records container, no Firestop role; medium): RT17-03's
fail-closed drift turns 500 empty blobs into Firestop locking every account that is open on purpose, every week.

RT17-03: when unsealed documents named as newer audits crowd the previous audit out of the 500-document scan, every
finding is *new*. Each new high finding with a playbook opens an incident (``drift_alerts``; its alert id carries
the audit id, so each weekly audit opens it again), and ``public-network-exposure`` locks the network with no
approval (approval only for ``disable-local-auth`` on production-tagged accounts). The redteam17 upgrade test names
this very outcome as the thing to avoid ("a public-network-exposure incident locking every account that was open on
purpose") — for audits filed before seals; a writer's 500 empty blobs (``store.MAX_SCANNED``) bring it back at will.
Here ``contoso-openai-dev`` is open on purpose (its finding failing in the baseline audit, nobody acted), 500 blobs
``{}`` are filed, and the next audit locks it.

Not fixed (xfail strict): detection failing closed should ask, not act — e.g. the drift alerts of an audit whose
previous one could not be verified carry a property that sends the incident to the responder flow (``alert.genuine``
before any step), so junk cannot turn detection off and cannot make Firestop act on findings that are not new.
"""

from __future__ import annotations

import json

import pytest

from tests.audit.test_audit_http import SUB, api, call  # noqa: F401 (fixture)


def _network(env) -> str:
    cs = env.clients.cognitive_services(SUB)
    return cs.accounts.get("rg-ai-dev", "contoso-openai-dev").properties.network_acls.default_action


@pytest.mark.xfail(strict=True, reason="A13-08: an audit whose previous one is crowded out (RT17-03) takes every "
                   "failing finding as new and its incidents act: the account open on purpose is locked")
def test_a13_08_junk_audits_do_not_make_firestop_lock_an_account_open_on_purpose(api):  # noqa: F811
    from firestop.audit.store import MAX_SCANNED, records_store

    env = api[0]
    cs = env.clients.cognitive_services(SUB)
    cs.accounts.begin_update("rg-ai-dev", "contoso-openai-dev", {"properties": {"networkAcls": {"defaultAction": "Allow"}}}).result()
    status, body, _ = call(api, "run_audit_http", "POST", "audits")
    baseline = json.loads(body)
    assert status == 200 and baseline["incidents"] == []  # open on purpose: a finding, nobody acts on it
    assert any(r["control"] == "network.public-access" and r["status"] == "fail" and "contoso-openai-dev" in r["resource"]
               for r in baseline["results"])
    records = records_store(env.settings)
    for n in range(MAX_SCANNED):
        assert records.create(f"audits/audit-2999123{n // 100}T2359{n % 100:02d}Z-{n:04x}.json", b"{}", "application/json")

    status, body, _ = call(api, "run_audit_http", "POST", "audits")
    assert status == 200
    env.host.run_until_idle()
    assert _network(env) == "Allow", json.loads(body)["incidents"]
