"""Seed step of the Log Analytics room: the seed file's ``workspaces`` (order 30).

Items: ``resource_group``, ``name``, ``location``?, ``customer_id`` (GUID),
``tables``: either ``{generator: incident-2026-11-29, account: name,
scenarios: [{name, account}]}`` (the leaked-key incident of
:mod:`firestop.sandbox.logs.incident` plus the optional scenarios of
:mod:`firestop.sandbox.logs.scenarios`) or ``{TableName: {columns: [{name, type}], rows: [[...]]}}``.
"""

from __future__ import annotations

from ..arm.models import account_by_name
from ..core.rooms import SeedContext
from . import room
from .incident import incident_tables
from .models import workspace
from .scenarios import add_scenario


@room.seeder(order=30)
def seed_workspaces(ctx: SeedContext) -> None:
    state, doc = ctx.state, ctx.doc
    for ws in ctx.spec.get("workspaces", []) or []:
        body = workspace(
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
            account = account_by_name(state, str(tables_spec["account"]))
            tables = incident_tables(
                seed=doc["seed"],
                workspace_customer_id=str(ws["customer_id"]),
                account_id=account["id"],
                location=account["location"],
            )
            for scenario in tables_spec.get("scenarios", []) or []:
                target = account_by_name(state, str(scenario["account"]))
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
