"""Seed step of the authorization room: the seed file's ``role_assignments``."""

from __future__ import annotations

from ..core.rooms import SeedContext
from . import room
from .models import assignments, new_assignment


@room.seeder(order=50)
def seed_role_assignments(ctx: SeedContext) -> None:
    """Add the seed's ``role_assignments`` to the state.

    Each entry: ``name`` (GUID), ``scope`` (``{account: name}``, ``{nsg: name}``,
    ``{resource_group: name}`` or ``subscription``), ``role_definition`` (GUID of a
    built-in or custom role), ``principal_id``, ``principal_type`` (default
    ``ServicePrincipal``), optional ``description``; ``created_at`` (ISO UTC)
    defaults to the seed's clock.
    """
    state, spec, created_at = ctx.state, ctx.spec, ctx.clock
    table = assignments(state)
    resources = state.doc["resources"].values()
    for entry in spec.get("role_assignments", []) or []:
        where = entry["scope"]
        if where == "subscription":
            scope = f"/subscriptions/{state.subscription_id}"
        elif "resource_group" in where:
            scope = f"/subscriptions/{state.subscription_id}/resourceGroups/{where['resource_group']}"
        else:
            kind, name = next(iter(where.items()))
            rtype = {"account": "microsoft.cognitiveservices/accounts", "nsg": "microsoft.network/networksecuritygroups"}[kind]
            scope = next(r["id"] for r in resources if r["type"].lower() == rtype and r["name"].lower() == str(name).lower())
        body = new_assignment(
            scope=scope,
            name=str(entry["name"]),
            role_definition_id=f"/subscriptions/{state.subscription_id}/providers/Microsoft.Authorization/roleDefinitions/{entry['role_definition']}",
            principal_id=str(entry["principal_id"]),
            principal_type=entry.get("principal_type", "ServicePrincipal"),
            created_on=str(entry.get("created_at") or created_at),
            created_by=str(entry.get("created_by") or "b6f1a3c2-7e4d-4f5a-9c8b-1d2e3f4a5b6c"),
            description=entry.get("description"),
        )
        table[body["id"].lower()] = body
