"""Tenant.open / reset / save: one tenant shared across instances (and processes)."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path

from azure.mgmt.cognitiveservices import CognitiveServicesManagementClient

from firestop.sandbox import Tenant

from .conftest import ACCOUNT, ACCOUNT_ID, RG, SUB


def _client(tenant):
    return CognitiveServicesManagementClient(tenant.credential, SUB, transport=tenant.transport)


def test_open_seeds_and_saves_when_the_directory_is_empty(tmp_path):
    tenant = Tenant.open(tmp_path / "state")
    saved = json.loads((tmp_path / "state" / "tenant.json").read_text())
    assert saved["clock"] == "2026-11-29T03:14:40Z"
    assert tenant.account_keys(ACCOUNT_ID) == Tenant.load().account_keys(ACCOUNT_ID)


def test_a_second_open_sees_mutations_and_clock(tmp_path):
    first = Tenant.open(tmp_path)
    new = _client(first).accounts.regenerate_key(RG, ACCOUNT, key_name="Key2")

    second = Tenant.open(tmp_path)
    assert second.account_keys(ACCOUNT_ID)["key2"] == new.key2
    assert second.clock.now() == first.clock.now()
    assert [(e.operation, e.status) for e in second.requests] == [("accounts.regenerateKey", 200)]


def test_live_instances_pick_up_each_others_writes(tmp_path):
    a = Tenant.open(tmp_path)
    b = Tenant.open(tmp_path)
    new = _client(a).accounts.regenerate_key(RG, ACCOUNT, key_name="Key1")
    assert b.account_keys(ACCOUNT_ID)["key1"] == new.key1
    listed = _client(b).accounts.list_keys(RG, ACCOUNT)
    assert listed.key1 == new.key1
    assert [e.operation for e in a.requests] == ["accounts.regenerateKey", "accounts.listKeys"]


def test_in_flight_lro_completes_after_reopen(tmp_path):
    from azure.mgmt.cognitiveservices.models import Account, AccountProperties, NetworkRuleSet

    first = Tenant.open(tmp_path)
    body = Account(properties=AccountProperties(network_acls=NetworkRuleSet(default_action="Deny")))
    _client(first).accounts.begin_update(RG, ACCOUNT, body, polling=False).result()

    second = Tenant.open(tmp_path)
    assert second.resource(ACCOUNT_ID)["properties"]["provisioningState"] == "Accepted"
    second.clock.advance(25)
    assert second.resource(ACCOUNT_ID)["properties"]["networkAcls"]["defaultAction"] == "Deny"


def test_reset_restores_the_seed(tmp_path):
    tenant = Tenant.open(tmp_path)
    seeded = tenant.account_keys(ACCOUNT_ID)
    _client(tenant).accounts.regenerate_key(RG, ACCOUNT, key_name="Key1")
    tenant.inject_fault("accounts.get", 500)

    fresh = Tenant.reset(tmp_path)
    assert fresh.account_keys(ACCOUNT_ID) == seeded
    assert fresh.requests == [] and fresh.faults == []
    assert Tenant.open(tmp_path).account_keys(ACCOUNT_ID) == seeded
    _client(fresh).accounts.get(RG, ACCOUNT)  # the injected fault is gone too
    assert fresh.requests[-1].status == 200


def test_saves_leave_no_temp_files_and_valid_json(tmp_path):
    tenant = Tenant.open(tmp_path)
    for _ in range(3):
        _client(tenant).accounts.list_keys(RG, ACCOUNT)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["tenant.journal", "tenant.json", "tenant.lock"]
    json.loads((tmp_path / "tenant.json").read_text())
    lines = (tmp_path / "tenant.journal").read_text().splitlines()
    assert len(lines) == 1 + 3  # the header, then one line per request
    for line in lines:
        json.loads(line)


def test_load_then_save_binds_the_state_dir(tmp_path):
    tenant = Tenant.load()
    tenant.clock.advance(30)
    tenant.save(tmp_path)
    _client(tenant).accounts.list_keys(RG, ACCOUNT)
    reopened = Tenant.open(tmp_path)
    assert reopened.clock.now() == tenant.clock.now()
    assert len(reopened.requests) == 1


def test_another_process_sees_the_same_tenant(tmp_path):
    tenant = Tenant.open(tmp_path)
    new = _client(tenant).accounts.regenerate_key(RG, ACCOUNT, key_name="Key1")
    code = (
        "import sys; from firestop.sandbox import Tenant; "
        f"t = Tenant.open(sys.argv[1]); print(t.account_keys({ACCOUNT_ID!r})['key1'])"
    )
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, cwd=root, check=True)
    assert out.stdout.strip() == new.key1


def test_concurrent_threads_share_one_consistent_state(tmp_path):
    tenant = Tenant.open(tmp_path)
    client = _client(tenant)
    issued_before = len(tenant.issued_key_values())  # 4: two seeded accounts x two keys
    errors = []

    def worker(key_name):
        try:
            for _ in range(5):
                client.accounts.regenerate_key(RG, ACCOUNT, key_name=key_name)
                client.accounts.list_keys(RG, ACCOUNT)
        except Exception as exc:  # pragma: no cover - surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(k,)) for k in ("Key1", "Key2") * 3]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(tenant.requests) == 60
    assert len(tenant.issued_key_values()) == issued_before + 30
    assert Tenant.open(tmp_path).account_keys(ACCOUNT_ID) == tenant.account_keys(ACCOUNT_ID)


def test_seed_file_with_latency_override(tmp_path):
    import yaml

    from firestop.sandbox.seed import DEFAULT_SEED_FILE

    spec = yaml.safe_load(DEFAULT_SEED_FILE.read_text())
    spec["latency"] = {"accounts.regenerateKey": 4.0}
    spec["seed"] = 7
    path = tmp_path / "seed.yaml"
    path.write_text(yaml.safe_dump(spec))
    tenant = Tenant.load(path)
    assert tenant.latency["accounts.regenerateKey"] == 4.0
    assert tenant.latency["accounts.listKeys"] == 0.3
    assert tenant.account_keys(ACCOUNT_ID) != Tenant.load().account_keys(ACCOUNT_ID)
    start = tenant.clock.now()
    _client(tenant).accounts.regenerate_key(RG, ACCOUNT, key_name="Key1")
    assert (tenant.clock.now() - start).total_seconds() == 4.0

    json_path = tmp_path / "seed.json"
    json_path.write_text(json.dumps(spec, default=str))
    assert Tenant.load(json_path).account_keys(ACCOUNT_ID) == Tenant.load(path).account_keys(ACCOUNT_ID)


def test_clock_moves_between_requests_are_persisted(tmp_path):
    tenant = Tenant.open(tmp_path)
    tenant.clock.advance(3600)  # e.g. the durable host firing a timer
    assert Tenant.open(tmp_path).clock.now() == tenant.clock.now()
    later = tenant.clock.now()
    earlier = later.replace(minute=0, second=0)
    tenant.clock.set(earlier)  # the host rewinds for parallel activities: in this process only
    assert Tenant.open(tmp_path).clock.now() == later  # the shared clock never moves backwards
    _client(tenant).accounts.get(RG, ACCOUNT)  # and the rewound process keeps its own start
    assert tenant.requests[-1].at == earlier


def test_the_shared_clock_never_moves_backwards_between_handles(tmp_path):
    """Two handles on one folder (two processes, e.g. `firestop serve` and a CLI run): each adopts the other's
    clock only when it is later; whoever writes an earlier clock leaves the shared one where it was."""
    a = Tenant.open(tmp_path)
    b = Tenant.open(tmp_path)
    start = a.clock.now()
    a.clock.advance(600)  # a's wall-paced projection runs ahead (serve)
    b.clock.advance(100)  # b's own simulated work, from its stale start (a CLI run)
    assert Tenant.open(tmp_path).clock.now() == start + timedelta(seconds=600)
    _client(b).accounts.get(RG, ACCOUNT)  # b's next request starts from the shared clock
    assert b.requests[-1].at == start + timedelta(seconds=600)
    answered = b.clock.now()
    assert answered > start + timedelta(seconds=600)
    _client(a).accounts.get(RG, ACCOUNT)  # a adopts b's later clock (a's own is behind it now)
    assert a.requests[-1].at == answered
    a_before = a.clock.now()
    b.clock.set(start)  # a stale writer never drags the others back
    _client(a).accounts.get(RG, ACCOUNT)
    assert a.requests[-1].at == a_before
    assert Tenant.open(tmp_path).clock.now() >= a_before
    times = [e.at for e in Tenant.open(tmp_path).requests]
    assert times == sorted(times)


def test_clock_save_keeps_other_instances_writes(tmp_path):
    a = Tenant.open(tmp_path)
    b = Tenant.open(tmp_path)
    new = _client(b).accounts.regenerate_key(RG, ACCOUNT, key_name="Key1")
    a.clock.advance(5)  # a's doc is stale; saving its clock must not undo b's rotation
    assert Tenant.open(tmp_path).account_keys(ACCOUNT_ID)["key1"] == new.key1
    assert Tenant.open(tmp_path).clock.now() == a.clock.now()
