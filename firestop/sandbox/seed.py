"""Seed files -> initial tenant state documents.

(A file holding ARM resource JSON as ``az resource show`` prints it — a list,
or a mapping with ``resources`` — is a digital twin: :mod:`firestop.sandbox.twin`.)

A seed is YAML or JSON with the keys of ``default_tenant.yaml`` (the built-in
tenant): ``seed``, ``tenant_id``, ``subscription_id``, ``clock``, ``latency``,
``resource_groups``, ``accounts``, ``vaults``, ``workspaces``,
``network_security_groups``, ``role_assignments``. Omitted sections are empty; omitted ``latency``
entries keep :data:`firestop.sandbox.latency.DEFAULT_LATENCY_S`.

Account keys are two 32-lower-hex values drawn from the seeded RNG (or given
as ``keys: {key1, key2}``). A secret's value is either ``value`` or
``value_from: {account, key}`` (the account's key at seed time).
Workspace ``tables`` is either ``{generator: incident-2026-11-29, account: name,
scenarios: [{name, account}]}`` (the leaked-key incident of
:mod:`firestop.sandbox.logs_seed` plus the optional scenarios of
:mod:`firestop.sandbox.scenarios`) or ``{TableName: {columns: [{name, type}], rows: [[...]]}}``.
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path
from typing import Any, Optional

import yaml

from . import activity
from . import arm_templates as T
from .clock import format_utc, parse_utc, to_utc
from .latency import merged_latency
from .logs_seed import incident_tables
from .scenarios import add_scenario
from .state import TenantState, empty_document

DEFAULT_SEED_FILE = Path(__file__).with_name("default_tenant.yaml")


def read_seed_file(path: Optional[os.PathLike | str] = None) -> dict | list:
    """Parse a YAML/JSON seed file (``None`` = the built-in default tenant).

    A mapping is a seed in this module's format, or a digital twin when it has
    ``resources``; a list is a digital twin (:mod:`firestop.sandbox.twin`).
    """
    path = Path(path) if path is not None else DEFAULT_SEED_FILE
    text = path.read_text(encoding="utf-8")
    spec = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    if not isinstance(spec, (dict, list)):
        raise ValueError(f"seed file {path} must hold a mapping or (digital twin) a list of ARM resources at top level")
    return spec


def _when(value: Any) -> str:
    """Seed time value (text or YAML datetime) -> ISO UTC text."""
    if isinstance(value, datetime):
        return format_utc(to_utc(value))
    return format_utc(parse_utc(str(value)))


def _ms(value: Any) -> str:
    """ISO text with 7 fractional digits, as ARM writes systemData times."""
    when = parse_utc(_when(value))
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond:06d}0Z"


def build_document(spec: dict | list) -> dict:
    """The initial state document for a parsed seed ``spec`` (or digital twin, see :mod:`firestop.sandbox.twin`)."""
    from .twin import build_twin_document, is_twin

    if is_twin(spec):
        return build_twin_document(spec)
    doc = empty_document(
        seed=int(spec.get("seed", 0)),
        tenant_id=str(spec["tenant_id"]),
        subscription_id=str(spec["subscription_id"]),
        clock=_when(spec["clock"]),
        latency=merged_latency(spec.get("latency")),
    )
    state = TenantState(doc)
    doc["resource_groups"] = [str(g) for g in spec.get("resource_groups", [])]
    accounts_by_name: dict[str, dict] = {}

    for acc in spec.get("accounts", []) or []:
        created_at = _ms(acc.get("created_at", spec["clock"]))
        body = T.openai_account(
            state,
            resource_group=acc["resource_group"],
            name=acc["name"],
            location=acc.get("location", "swedencentral"),
            created_at=created_at,
            created_by=acc.get("created_by", "admin@contoso.com"),
            kind=acc.get("kind", "OpenAI"),
            sku=acc.get("sku", "S0"),
            tags=acc.get("tags"),
            properties=acc.get("properties"),
        )
        state.put_resource(body)
        keys = acc.get("keys")
        if keys:
            doc["account_keys"][body["id"].lower()] = {"key1": str(keys["key1"]), "key2": str(keys["key2"])}
            doc["issued_keys"].extend([str(keys["key1"]), str(keys["key2"])])
        else:
            doc["account_keys"][body["id"].lower()] = {"key1": state.issue_key(), "key2": state.issue_key()}
        accounts_by_name[acc["name"].lower()] = body
        for dep in acc.get("deployments", []) or []:
            state.put_resource(
                T.deployment(
                    body,
                    name=dep["name"],
                    model=dep["model"],
                    version=str(dep["version"]),
                    sku=dep.get("sku", "Standard"),
                    capacity=int(dep.get("capacity", 10)),
                    created_at=created_at,
                    created_by=acc.get("created_by", "admin@contoso.com"),
                )
            )

    for vault in spec.get("vaults", []) or []:
        body = T.key_vault(state, resource_group=vault["resource_group"], name=vault["name"], location=vault.get("location", "swedencentral"))
        state.put_resource(body)
        secrets: dict[str, dict] = {}
        for secret in vault.get("secrets", []) or []:
            if "value_from" in secret:
                ref = secret["value_from"]
                account = accounts_by_name[str(ref["account"]).lower()]
                value = doc["account_keys"][account["id"].lower()][str(ref["key"]).lower()]
            else:
                value = str(secret["value"])
            created = int(parse_utc(_when(secret.get("created_at", spec["clock"]))).timestamp())
            secrets[secret["name"].lower()] = {
                "name": secret["name"],
                "versions": [
                    {
                        "version": state.new_hex("secret-version", 32),
                        "value": value,
                        "created": created,
                        "updated": created,
                        "enabled": True,
                        "contentType": secret.get("content_type"),
                        "tags": secret.get("tags"),
                    }
                ],
            }
        doc["vaults"][vault["name"].lower()] = {"name": vault["name"], "resource_id": body["id"], "secrets": secrets}

    for ws in spec.get("workspaces", []) or []:
        body = T.workspace(
            state,
            resource_group=ws["resource_group"],
            name=ws["name"],
            location=ws.get("location", "swedencentral"),
            customer_id=str(ws["customer_id"]),
        )
        state.put_resource(body)
        tables_spec = ws.get("tables") or {}
        if "generator" in tables_spec:
            if tables_spec["generator"] != "incident-2026-11-29":
                raise ValueError(f"unknown table generator {tables_spec['generator']!r}")
            account = accounts_by_name[str(tables_spec["account"]).lower()]
            tables = incident_tables(
                seed=doc["seed"],
                workspace_customer_id=str(ws["customer_id"]),
                account_id=account["id"],
                location=account["location"],
            )
            for scenario in tables_spec.get("scenarios", []) or []:  # firestop.sandbox.scenarios
                target = accounts_by_name[str(scenario["account"]).lower()]
                add_scenario(
                    tables, str(scenario["name"]), seed=doc["seed"], workspace_customer_id=str(ws["customer_id"]),
                    account_id=target["id"], location=target["location"],
                )
        else:
            tables = {name: {"columns": list(t["columns"]), "rows": [list(r) for r in t["rows"]]} for name, t in tables_spec.items()}
        doc["workspaces"][str(ws["customer_id"]).lower()] = {
            "name": ws["name"],
            "resource_id": body["id"],
            "customer_id": str(ws["customer_id"]),
            "tables": tables,
        }

    for nsg in spec.get("network_security_groups", []) or []:
        state.put_resource(
            T.network_security_group(
                state,
                resource_group=nsg["resource_group"],
                name=nsg["name"],
                location=nsg.get("location", "swedencentral"),
                rules=list(nsg.get("rules", []) or []),
            )
        )
    from .routes.authorization import seed_role_assignments

    seed_role_assignments(state, spec, _when(spec["clock"]))
    activity.seed_events_from_tables(state)  # the Activity Log API shows the seeded AzureActivity rows
    return doc
