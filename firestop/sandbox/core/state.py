"""The tenant's whole state as one JSON document, plus atomic persistence.

Document layout (all times ISO-8601 UTC text, all durations seconds)::

    format: 1
    seed: int                      # drives every generated key / etag / id
    tenant_id, subscription_id: str
    clock: "2026-11-29T03:14:40Z"
    latency: {operation: seconds}  # full table (defaults + seed overrides)
    counters: {purpose: int}
    resources: {lower-case ARM id: ARM JSON}       # accounts, vaults, workspaces, NSGs
    account_keys: {lower-case account id: {"key1": hex32, "key2": hex32}}
    issued_keys: [hex32, ...]      # every key value ever issued
    vaults: {lower vault name: {"name", "resource_id", "secrets": {lower name: {"name", "versions": [...]}}}}
    workspaces: {lower customerId: {"name", "resource_id", "tables": {table: {"columns": [{name,type}], "rows": [[...]]}}}}
    operations: {operation id: {...}}              # ARM LROs (see lro.py)
    faults: {"rules", "lro_rules", "random", "fired"}  # see faults.py
    requests: [RequestLogEntry as dict], unrouted: [...]
    activity_log: [{"visible_at", "event": EventData}]   # Activity Log API (see activitylog/events.py)
    policy_states: [PolicyState JSON]              # Azure Policy compliance (see policyinsights/models.py)

Persistence: :mod:`firestop.sandbox.core.store` (snapshot ``tenant.json`` +
append-only ``tenant.journal``).
"""

from __future__ import annotations

import copy
import os
import random
import uuid
from pathlib import Path
from typing import Optional

FORMAT = 1


class TenantState:
    """Typed helpers over the state document (``self.doc``). Not thread-safe: the Tenant locks."""

    def __init__(self, doc: dict) -> None:
        if doc.get("format") != FORMAT:
            raise ValueError(f"unsupported sandbox state format {doc.get('format')!r} (expected {FORMAT})")
        self.doc = doc

    # --- identity -------------------------------------------------------
    @property
    def tenant_id(self) -> str:
        return self.doc["tenant_id"]

    @property
    def subscription_id(self) -> str:
        return self.doc["subscription_id"]

    @property
    def latency(self) -> dict[str, float]:
        return self.doc["latency"]

    # --- deterministic generators --------------------------------------
    def counter(self, purpose: str) -> int:
        """Next value (1, 2, ...) of a named counter."""
        counters = self.doc.setdefault("counters", {})
        counters[purpose] = counters.get(purpose, 0) + 1
        return counters[purpose]

    def random_bits(self, purpose: str, bits: int) -> int:
        """Deterministic pseudo-random integer: ``random.Random(f"{seed}:{purpose}:{n}")``."""
        n = self.counter(purpose)
        return random.Random(f"{self.doc['seed']}:{purpose}:{n}").getrandbits(bits)

    def new_hex(self, purpose: str, chars: int = 32) -> str:
        return f"{self.random_bits(purpose, chars * 4):0{chars}x}"

    def new_guid(self, purpose: str) -> str:
        return str(uuid.UUID(int=self.random_bits(purpose, 128), version=4))

    def new_etag(self) -> str:
        """A quoted ARM-style etag, e.g. ``"7300aa43-0000-3300-0000-627cf6270000"``."""
        h = self.new_hex("etag", 24)
        return f'"{h[:8]}-0000-{h[8:12]}-0000-{h[12:24]}"'

    def issue_key(self) -> str:
        """A new 32-lower-hex account key, remembered in ``issued_keys``."""
        key = self.new_hex("account-key", 32)
        self.doc.setdefault("issued_keys", []).append(key)
        return key

    # --- ARM resources --------------------------------------------------
    def resource(self, resource_id: str) -> Optional[dict]:
        """The live (mutable) ARM JSON for ``resource_id`` (case-insensitive), or ``None``."""
        return self.doc["resources"].get(resource_id.rstrip("/").lower())

    def put_resource(self, body: dict) -> None:
        self.doc["resources"][body["id"].lower()] = body

    def delete_resource(self, resource_id: str) -> None:
        self.doc["resources"].pop(resource_id.lower(), None)

    def resource_group_exists(self, resource_group: str) -> bool:
        prefix = f"/subscriptions/{self.subscription_id}/resourcegroups/{resource_group}/".lower()
        groups = {g.lower() for g in self.doc.get("resource_groups", [])}
        return resource_group.lower() in groups or any(k.startswith(prefix) for k in self.doc["resources"])

    def arm_id(self, resource_group: str, provider_path: str) -> str:
        return f"/subscriptions/{self.subscription_id}/resourceGroups/{resource_group}/providers/{provider_path}"

    def snapshot(self) -> dict:
        return copy.deepcopy(self.doc)


def empty_document(seed: int, tenant_id: str, subscription_id: str, clock: str, latency: dict) -> dict:
    """A document with every section present and empty."""
    return {
        "format": FORMAT,
        "seed": seed,
        "tenant_id": tenant_id,
        "subscription_id": subscription_id,
        "clock": clock,
        "latency": latency,
        "counters": {},
        "resource_groups": [],
        "resources": {},
        "account_keys": {},
        "issued_keys": [],
        "vaults": {},
        "workspaces": {},
        "operations": {},
        "faults": {"rules": [], "lro_rules": [], "random": None, "fired": []},
        "requests": [],
        "unrouted": [],
        "activity_log": [],
        "policy_states": [],
        "graph": {"servicePrincipals": {}, "users": {}, "riskyServicePrincipals": {}},
        "apim_keys": {},
    }


def state_path(state_dir: os.PathLike | str) -> Path:
    """The snapshot file of ``state_dir`` (``tenant.json``)."""
    from .store import STATE_FILE

    return Path(state_dir) / STATE_FILE
