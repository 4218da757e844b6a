"""Snapshot + journal persistence (firestop.sandbox.core.store): only changes are written, all of them survive."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

from azure.core.rest import HttpRequest
from azure.mgmt.authorization import AuthorizationManagementClient
from azure.mgmt.cognitiveservices import CognitiveServicesManagementClient
from azure.mgmt.cognitiveservices.models import Account, AccountProperties, NetworkRuleSet
from azure.mgmt.network import NetworkManagementClient
from azure.mgmt.network.models import SecurityRule, SecurityRulePropertiesFormat

from firestop.sandbox import Tenant
from firestop.sandbox.core import store as S

from .conftest import ACCOUNT, ACCOUNT_ID, RG, SUB

FILES = {"tenant.json", "tenant.journal", "tenant.lock"}
ROOT = Path(__file__).resolve().parents[2]


def _cs(tenant):
    return CognitiveServicesManagementClient(tenant.credential, SUB, transport=tenant.transport)


def _plain(doc) -> str:
    return json.dumps(doc, sort_keys=True)


def _journal_lines(state_dir: Path) -> list[bytes]:
    return (state_dir / "tenant.journal").read_bytes().splitlines()


def _workload(tenant):
    """Changes in every room: account PATCH LRO, key regeneration, NSG rule PUT/DELETE, role assignment,
    a secret, a fired fault, Activity Log rows released by the clock."""
    cs = _cs(tenant)
    body = Account(properties=AccountProperties(network_acls=NetworkRuleSet(default_action="Deny")))
    cs.accounts.begin_update(RG, ACCOUNT, body, polling_interval=5).result()
    cs.accounts.regenerate_key(RG, ACCOUNT, key_name="Key2")
    net = NetworkManagementClient(tenant.credential, SUB, transport=tenant.transport)
    rule = SecurityRule(properties=SecurityRulePropertiesFormat(
        protocol="Tcp", source_address_prefix="203.0.113.77", source_port_range="*", destination_address_prefix="*",
        destination_port_range="443", access="Deny", priority=100, direction="Inbound"))
    net.security_rules.begin_create_or_update(RG, "nsg-ai-apps", "deny-attacker", rule, polling_interval=5).result()
    net.security_rules.begin_delete(RG, "nsg-ai-apps", "allow-https-from-gateway", polling_interval=5).result()
    auth = AuthorizationManagementClient(tenant.credential, SUB, transport=tenant.transport)
    assignment = next(iter(auth.role_assignments.list_for_scope(ACCOUNT_ID)))
    auth.role_assignments.delete(ACCOUNT_ID, assignment.name)
    token = tenant.credential.get_token("https://vault.azure.net/.default").token
    answer = tenant.transport.send(HttpRequest(
        "PUT", "https://kv-contoso-ai.vault.azure.net/secrets/openai-api-key?api-version=7.5",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"}, json={"value": "rotated"}))
    assert answer.status_code == 200
    tenant.inject_fault("accounts.get", 503, times=1)
    tenant.inject_random_faults(0.0)
    cs.accounts.get(RG, ACCOUNT)  # 503 (fired fault), then the SDK's retry succeeds
    tenant.clock.advance(600)  # Activity Log rows become visible (pending -> rows)
    cs.accounts.list_keys(RG, ACCOUNT)


def test_a_read_writes_nothing_and_a_request_appends_one_small_line(tmp_path):
    tenant = Tenant.open(tmp_path)
    snapshot = (tmp_path / "tenant.json").stat()
    before = _journal_lines(tmp_path)
    assert len(before) == 1 and json.loads(before[0])["journal"]  # the header only

    tenant.requests, tenant.faults, tenant.account_keys(ACCOUNT_ID)  # reads
    assert _journal_lines(tmp_path) == before

    _cs(tenant).accounts.get(RG, ACCOUNT)
    lines = _journal_lines(tmp_path)
    assert len(lines) == 2 and len(lines[1]) < 2_000  # the snapshot is ~0.9 MB
    change = json.loads(lines[1])
    assert change["set"]["clock"] == "2026-11-29T03:14:40.200000Z"
    assert [path for path, _ in change["ext"]] == [["requests"]]
    assert (tmp_path / "tenant.json").stat().st_mtime_ns == snapshot.st_mtime_ns  # untouched
    assert set(p.name for p in tmp_path.iterdir()) == FILES


def test_every_rooms_changes_survive_a_reopen_and_reach_a_live_instance(tmp_path):
    writer = Tenant.open(tmp_path)
    reader = Tenant.open(tmp_path)  # opened before: follows the journal line by line
    _workload(writer)
    expected = _plain(writer._state.doc)
    assert len(writer.requests) > 15 and writer.faults

    assert _plain(S.read_document(tmp_path)) == expected  # snapshot + journal from scratch
    assert len(reader.requests) == len(writer.requests)  # any access applies the journal lines it has not seen
    assert reader.clock.now() == writer.clock.now()
    assert _plain(reader._state.doc) == expected
    # the reader writes next: the writer follows it
    _cs(reader).accounts.list_keys(RG, ACCOUNT)
    assert len(writer.requests) == len(reader.requests)
    assert _plain(writer._state.doc) == _plain(reader._state.doc) == _plain(S.read_document(tmp_path))


def test_compaction_rewrites_the_snapshot_and_a_stale_journal_is_ignored(tmp_path, monkeypatch):
    tenant = Tenant.open(tmp_path)
    other = Tenant.open(tmp_path)
    cs = _cs(tenant)
    cs.accounts.get(RG, ACCOUNT)
    old_journal = (tmp_path / "tenant.journal").read_bytes()
    monkeypatch.setattr(S, "COMPACT_BYTES", 0)
    monkeypatch.setattr(S, "COMPACT_RATIO", 0)
    cs.accounts.regenerate_key(RG, ACCOUNT, key_name="Key1")  # commit, then compaction
    assert len(_journal_lines(tmp_path)) == 1  # reset to the new snapshot's header
    assert len(other.requests) == 2 and other.account_keys(ACCOUNT_ID) == tenant.account_keys(ACCOUNT_ID)

    # A writer killed between the snapshot and the journal reset leaves the old journal: ignored, not re-applied.
    (tmp_path / "tenant.journal").write_bytes(old_journal)
    assert len(Tenant.open(tmp_path).requests) == 2
    assert set(p.name for p in tmp_path.iterdir()) == FILES


def test_a_torn_last_line_is_ignored_then_cut_off(tmp_path):
    tenant = Tenant.open(tmp_path)
    _cs(tenant).accounts.get(RG, ACCOUNT)
    with open(tmp_path / "tenant.journal", "ab") as fh:
        fh.write(b'{"set":{"clock":"2031-01-01T00:00:0')  # a writer killed mid-line
    again = Tenant.open(tmp_path)
    assert len(again.requests) == 1 and again.clock.now() == tenant.clock.now()
    _cs(again).accounts.get(RG, ACCOUNT)
    lines = _journal_lines(tmp_path)
    assert [json.loads(line) and True for line in lines] == [True] * 3
    assert len(Tenant.open(tmp_path).requests) == 2 == len(tenant.requests)


KILLED = r"""
import sys
from azure.mgmt.cognitiveservices import CognitiveServicesManagementClient
from firestop.sandbox import Tenant
from firestop.sandbox.core import store
store.COMPACT_BYTES = 0
store.COMPACT_RATIO = 0  # a snapshot after every commit: the kill often lands inside one
tenant = Tenant.open(sys.argv[1])
cs = CognitiveServicesManagementClient(tenant.credential, tenant.subscription_id, transport=tenant.transport)
n = 0
while True:
    cs.accounts.regenerate_key("rg-ai-prod", "contoso-openai-prod", key_name="Key1")
    n += 1
    print(n, flush=True)
"""


def test_kill_9_leaves_a_consistent_tenant_and_no_temp_files(tmp_path):
    Tenant.open(tmp_path)
    proc = subprocess.Popen([sys.executable, "-c", KILLED, str(tmp_path)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        done = 0
        deadline = time.monotonic() + 60
        while done < 5 and time.monotonic() < deadline:
            done = int(proc.stdout.readline() or done)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert done >= 5
    tenant = Tenant.open(tmp_path)  # removes what the killed writer left half-written
    assert set(p.name for p in tmp_path.iterdir()) == FILES
    count = len(tenant.requests)
    assert count >= done  # every answered request was committed before its answer
    seeded = len(Tenant.load().issued_key_values())  # account keys and APIM subscription keys of the seed
    assert len(tenant.issued_key_values()) == seeded + count  # state and request log agree
    _cs(tenant).accounts.list_keys(RG, ACCOUNT)
    assert len(Tenant.open(tmp_path).requests) == count + 1


def test_a_commit_walks_only_the_lists_of_sections_looked_at_and_loses_no_tail(tmp_path):
    """A clock-only commit journals the clock alone; lists appended in sections looked at since are journalled as
    tails, lists of sections nobody looked at keep their committed lengths; a reader gets the same document."""
    doc = S.Sections({"clock": "t0", "requests": [1], "workspaces": {"w": {"tables": {"T": {"rows": [[1]]}}}},
                      "activity_log": []})
    store = S.Store(tmp_path)
    store.write_snapshot(doc)
    doc["clock"] = "t1"
    assert store.commit(doc)
    assert json.loads(_journal_lines(tmp_path)[-1]) == {"set": {"clock": "t1"}}
    doc["requests"].append(2)
    doc["workspaces"]["w"]["tables"]["T"]["rows"].append([2])
    assert store.commit(doc)
    assert json.loads(_journal_lines(tmp_path)[-1]) == {
        "ext": [[["requests"], [2]], [["workspaces", "w", "tables", "T", "rows"], [[2]]]]}
    doc["activity_log"].append({"e": 1})
    doc["clock"] = "t2"
    assert store.commit(doc)
    assert json.loads(_journal_lines(tmp_path)[-1]) == {"set": {"clock": "t2"}, "ext": [[["activity_log"], [{"e": 1}]]]}
    assert not store.commit(doc)  # nothing changed, nothing written
    assert _plain(S.Store(tmp_path).load()) == _plain(doc)
