"""Digital-twin seeds: a tenant built from ARM resource JSON exported from a real subscription.

A twin file (YAML or JSON) is either a list of resources, or a mapping::

    resources: [ARM JSON, ...]   # as `az resource show --ids …` / `az resource list` print it
    tenant_id: GUID              # optional; default: a vault's properties.tenantId, else a fake GUID
    clock: ISO UTC               # optional; default: latest systemData time in the file + 60 s
    seed: int                    # optional (generated keys, etags, ids); default 0
    latency: {operation: s}      # optional overrides of the rooms' default latencies
    keys: {account name: {key1, key2}}          # optional; missing keys are generated
    secrets: {vault name: {secret name: value | {value | value_from: {account, key}, content_type, created_at}}}
    logs: {workspace name or customerId: {TableName: [row objects] | {columns: [{name, type}], rows: [[...]]}}}
    activity_log: [EventData, ...]               # optional; as `az monitor activity-log list` prints it
    policy_states: [PolicyState, ...]            # optional; as `az policy state list` prints it (policyinsights room)

Resources are kept as given (that is the point of a twin), minus what the
Azure CLI adds that ARM does not return (``resourceGroup`` and members whose
value is ``null``). Supported types get their behaviour:

* ``Microsoft.CognitiveServices/accounts`` (+ ``/deployments``; private
  endpoint connections come from ``properties.privateEndpointConnections``);
  a missing ``etag`` or ``properties.provisioningState`` is filled in;
* ``Microsoft.Network/networkSecurityGroups`` (rules from ``properties.securityRules``);
* ``Microsoft.KeyVault/vaults`` (secrets from ``secrets``);
* ``Microsoft.OperationalInsights/workspaces`` (``properties.customerId``; tables from ``logs``);
* ``Microsoft.Authorization/roleAssignments`` (ARM form with ``properties``, or
  the flat form ``az role assignment list`` prints).

Other types are stored (``tenant.resource(id)`` returns them) but no route
answers for them. Every resource must be in one subscription. Log rows given as
objects (``az monitor log-analytics query`` output) get their columns inferred:
``bool``, ``long``, ``real``, ``datetime`` (ISO-8601 text in a column whose
name ends in ``Time``/``Generated``/``Timestamp`` or that parses as ISO with
``T``), else ``string`` (objects/arrays are stored as JSON text); the CLI's
``TableName`` member is dropped.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from typing import Any, Optional

from .activitylog import events as activity
from .arm.models import ACCOUNT_TYPE, DEPLOYMENT_TYPE, NSG_TYPE, RULE_TYPE
from .authorization.models import TYPE as ROLE_ASSIGNMENT_TYPE
from .authorization.models import assignments
from .core.clock import DEFAULT_START, format_utc, parse_utc, to_utc
from .core.latency import merged_latency
from .core.state import TenantState, empty_document
from .keyvault.models import VAULT_TYPE
from .logs.models import WORKSPACE_TYPE

#: Tenant id used when the twin names none (fake).
DEFAULT_TWIN_TENANT_ID = "00000000-0000-4000-8000-00000000f15e"
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$")


def is_twin(spec: Any) -> bool:
    """True for a twin file's content (a list, or a mapping with ``resources``)."""
    return isinstance(spec, list) or (isinstance(spec, dict) and "resources" in spec)


def _clean(resource: dict) -> dict:
    out = {k: v for k, v in resource.items() if v is not None and k != "resourceGroup"}
    for key in ("id", "type", "name"):
        if not isinstance(out.get(key), str) or not out[key]:
            raise ValueError(f"twin resource without a {key!r}: {json.dumps(resource)[:200]}")
    return out


def _subscription_of(resource_id: str) -> str:
    parts = resource_id.strip("/").split("/")
    if len(parts) < 2 or parts[0].lower() != "subscriptions":
        raise ValueError(f"not an ARM resource id: {resource_id!r}")
    return parts[1]


def _resource_group_of(resource_id: str) -> Optional[str]:
    parts = resource_id.strip("/").split("/")
    return parts[3] if len(parts) > 3 and parts[2].lower() == "resourcegroups" else None


def _latest_time(resources: list[dict]) -> Optional[datetime]:
    times = []
    for r in resources:
        for key in ("createdAt", "lastModifiedAt"):
            value = (r.get("systemData") or {}).get(key)
            if isinstance(value, str):
                try:
                    times.append(parse_utc(value))
                except ValueError:
                    pass
    return max(times) if times else None


def _column_type(name: str, values: list) -> str:
    sample = next((v for v in values if v is not None), None)
    if isinstance(sample, bool):
        return "bool"
    if isinstance(sample, int):
        return "long"
    if isinstance(sample, float):
        return "real"
    if isinstance(sample, str) and _ISO.match(sample.strip()) and ("T" in sample or name.endswith(("Time", "Generated", "Timestamp"))):
        return "datetime"
    return "string"


def _cell(value: Any, kind: str) -> Any:
    if value is None:
        return None
    if kind == "datetime":
        return format_utc(parse_utc(str(value)))
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"))
    return value


def table_from_objects(rows: list[dict]) -> dict:
    """``[{column: value}]`` (CLI query output) -> ``{"columns": [{name, type}], "rows": [[...]]}``."""
    names: list[str] = []
    for row in rows:
        for key in row:
            if key != "TableName" and key not in names:
                names.append(key)
    types = [_column_type(n, [r.get(n) for r in rows]) for n in names]
    return {
        "columns": [{"name": n, "type": t} for n, t in zip(names, types)],
        "rows": [[_cell(r.get(n), t) for n, t in zip(names, types)] for r in rows],
    }


def _tables(spec: Any) -> dict:
    if not isinstance(spec, dict):
        raise ValueError("twin logs for a workspace must map table names to rows")
    out = {}
    for name, table in spec.items():
        if isinstance(table, list):
            out[name] = table_from_objects(table)
        elif isinstance(table, dict) and "columns" in table:
            out[name] = {"columns": list(table["columns"]), "rows": [list(r) for r in table.get("rows", [])]}
        else:
            raise ValueError(f"twin table {name!r} must be a list of row objects or {{columns, rows}}")
    return out


def _role_assignment(resource: dict) -> dict:
    """ARM JSON of a role assignment from either the ARM or the flat CLI form."""
    if isinstance(resource.get("properties"), dict):
        return resource
    props = {k: resource.get(k) for k in (
        "roleDefinitionId", "principalId", "principalType", "scope", "condition", "conditionVersion",
        "createdOn", "updatedOn", "createdBy", "updatedBy", "delegatedManagedIdentityResourceId", "description",
    )}
    return {"properties": props, "id": resource["id"], "type": resource["type"], "name": resource["name"]}


def build_twin_document(spec: Any) -> dict:
    """The initial state document for a parsed twin file (see the module docstring)."""
    if isinstance(spec, list):
        spec = {"resources": spec}
    raw = spec.get("resources")
    if not isinstance(raw, list) or not raw:
        raise ValueError("a twin needs a non-empty 'resources' list")
    resources = [_clean(r) for r in raw]
    subscriptions = {_subscription_of(r["id"]).lower() for r in resources}
    if len(subscriptions) != 1:
        raise ValueError(f"a twin holds one subscription; found {sorted(subscriptions)}")
    subscription_id = _subscription_of(resources[0]["id"])
    by_type: dict[str, list[dict]] = {}
    for r in resources:
        by_type.setdefault(r["type"].lower(), []).append(r)
    vaults = by_type.get(VAULT_TYPE.lower(), [])
    tenant_id = str(spec.get("tenant_id") or next((v.get("properties", {}).get("tenantId") for v in vaults if v.get("properties", {}).get("tenantId")), DEFAULT_TWIN_TENANT_ID))
    if spec.get("clock") is not None:
        value = spec["clock"]
        clock = to_utc(value) if isinstance(value, datetime) else parse_utc(str(value))
    else:
        latest = _latest_time(resources)
        clock = latest + timedelta(seconds=60) if latest else DEFAULT_START
    doc = empty_document(
        seed=int(spec.get("seed", 0)), tenant_id=tenant_id, subscription_id=subscription_id,
        clock=format_utc(clock), latency=merged_latency(spec.get("latency")),
    )
    state = TenantState(doc)
    groups = []
    for r in resources:
        group = _resource_group_of(r["id"])
        if group and group.lower() not in {g.lower() for g in groups}:
            groups.append(group)
    doc["resource_groups"] = groups

    keys_spec = spec.get("keys") or {}
    accounts_by_name: dict[str, dict] = {}
    for r in resources:
        rtype = r["type"].lower()
        if rtype == ROLE_ASSIGNMENT_TYPE.lower():
            continue
        body = dict(r)
        if rtype == ACCOUNT_TYPE.lower():
            body.setdefault("etag", state.new_etag())
            body.setdefault("properties", {}).setdefault("provisioningState", "Succeeded")
            given = keys_spec.get(body["name"]) or keys_spec.get(body["id"])
            if given:
                keys = {"key1": str(given["key1"]), "key2": str(given["key2"])}
                doc["issued_keys"].extend(keys.values())
            else:
                keys = {"key1": state.issue_key(), "key2": state.issue_key()}
            doc["account_keys"][body["id"].lower()] = keys
            accounts_by_name[body["name"].lower()] = body
        elif rtype == NSG_TYPE.lower():
            body.setdefault("etag", f'W/"{state.new_guid("nsg-etag")}"')
            props = body.setdefault("properties", {})
            props.setdefault("provisioningState", "Succeeded")
            for collection in ("securityRules", "defaultSecurityRules"):
                for rule in props.setdefault(collection, []):
                    rule.setdefault("id", f"{body['id']}/{collection}/{rule['name']}")
                    rule.setdefault("etag", body["etag"])
                    if collection == "securityRules":
                        rule.setdefault("type", RULE_TYPE)
                    rule.setdefault("properties", {}).setdefault("provisioningState", "Succeeded")
        elif rtype == DEPLOYMENT_TYPE.lower():
            body.setdefault("properties", {}).setdefault("provisioningState", "Succeeded")
        state.put_resource(body)

    secrets_spec = spec.get("secrets") or {}
    for vault in vaults:
        secrets: dict[str, dict] = {}
        for name, entry in (secrets_spec.get(vault["name"]) or {}).items():
            entry = entry if isinstance(entry, dict) else {"value": entry}
            if "value_from" in entry:
                ref = entry["value_from"]
                account = accounts_by_name[str(ref["account"]).lower()]
                value = doc["account_keys"][account["id"].lower()][str(ref["key"]).lower()]
            else:
                value = str(entry["value"])
            created = int(parse_utc(str(entry.get("created_at") or format_utc(clock))).timestamp())
            secrets[str(name).lower()] = {
                "name": str(name),
                "versions": [{
                    "version": state.new_hex("secret-version", 32), "value": value, "created": created, "updated": created,
                    "enabled": True, "contentType": entry.get("content_type"), "tags": entry.get("tags"),
                }],
            }
        doc["vaults"][vault["name"].lower()] = {"name": vault["name"], "resource_id": vault["id"], "secrets": secrets}

    logs_spec = spec.get("logs") or {}
    for ws in by_type.get(WORKSPACE_TYPE.lower(), []):
        customer_id = str((ws.get("properties") or {}).get("customerId") or "")
        if not customer_id:
            raise ValueError(f"workspace {ws['name']!r} has no properties.customerId")
        given = logs_spec.get(ws["name"]) or logs_spec.get(customer_id) or {}
        doc["workspaces"][customer_id.lower()] = {
            "name": ws["name"], "resource_id": ws["id"], "customer_id": customer_id, "tables": _tables(given),
        }

    if by_type.get(ROLE_ASSIGNMENT_TYPE.lower()):
        table = assignments(state)
        for r in by_type[ROLE_ASSIGNMENT_TYPE.lower()]:
            body = _role_assignment(r)
            table[body["id"].lower()] = body

    for event in spec.get("activity_log") or []:
        activity.add_event(state, event)
    doc["policy_states"] = [dict(p) for p in spec.get("policy_states") or [] if isinstance(p, dict) and p.get("resourceId")]
    activity.seed_events_from_tables(state)
    doc["twin"] = {"resource_count": len(resources)}
    return doc
