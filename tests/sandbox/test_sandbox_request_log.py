"""The request log records what was called, never bodies or secret values."""

from __future__ import annotations

import json

from .conftest import ACCOUNT, RG


def test_log_never_contains_key_or_secret_values(tenant, cs, secrets, tmp_path):
    cs.accounts.list_keys(RG, ACCOUNT)
    new = cs.accounts.regenerate_key(RG, ACCOUNT, key_name="Key1")
    secrets.set_secret("openai-api-key", new.key1)
    secrets.get_secret("openai-api-key")
    tenant.inject_fault("accounts.listKeys", 500)
    cs.accounts.list_keys(RG, ACCOUNT)

    sensitive = tenant.issued_key_values() | {v["value"] for v in tenant.secret_versions("kv-contoso-ai", "openai-api-key")}
    assert new.key1 in sensitive and len(sensitive) >= 3
    dumped = repr(tenant.requests) + repr(tenant.unrouted) + repr(tenant.faults)
    for value in sensitive:
        assert value not in dumped

    tenant.save(tmp_path)
    doc = json.loads((tmp_path / "tenant.json").read_text())
    persisted_log = json.dumps(doc["requests"]) + json.dumps(doc["unrouted"]) + json.dumps(doc["faults"])
    for value in sensitive:
        assert value not in persisted_log

    # the journal lines of a persisted tenant hold no request-log entry with a secret either
    from firestop.sandbox import Tenant

    persisted = Tenant.open(tmp_path / "journaled")
    persisted.clock.set(tenant.clock.now())
    from azure.mgmt.cognitiveservices import CognitiveServicesManagementClient

    cs2 = CognitiveServicesManagementClient(persisted.credential, persisted.subscription_id, transport=persisted.transport)
    regenerated = cs2.accounts.regenerate_key(RG, ACCOUNT, key_name="Key2")
    for line in (tmp_path / "journaled" / "tenant.journal").read_text().splitlines()[1:]:
        change = json.loads(line)
        logged = json.dumps([items for path, items in change.get("ext", []) if path[0] in ("requests", "unrouted")])
        assert regenerated.key2 not in logged and regenerated.key1 not in logged


def test_entries_have_the_documented_fields(tenant, cs):
    cs.accounts.get(RG, ACCOUNT)
    [entry] = tenant.requests
    assert set(entry.__dataclass_fields__) == {"method", "host", "path", "api_version", "operation", "status", "at"}
    from datetime import datetime, timezone

    assert entry.at == datetime(2026, 11, 29, 3, 14, 40, tzinfo=timezone.utc)  # arrival time, before the 0.2 s latency
    assert entry.path.startswith("/subscriptions/") and "?" not in entry.path
