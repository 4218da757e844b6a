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


def test_entries_have_the_documented_fields(tenant, cs):
    cs.accounts.get(RG, ACCOUNT)
    [entry] = tenant.requests
    assert set(entry.__dataclass_fields__) == {"method", "host", "path", "api_version", "operation", "status", "at"}
    from datetime import datetime, timezone

    assert entry.at == datetime(2026, 11, 29, 3, 14, 40, tzinfo=timezone.utc)  # arrival time, before the 0.2 s latency
    assert entry.path.startswith("/subscriptions/") and "?" not in entry.path
