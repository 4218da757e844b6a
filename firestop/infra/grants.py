"""What a principal holds: role assignments and their role definitions, read through the Azure SDK.

``held(clients, subscription_id, principal_id)`` → ``[Grant(scope, role_definition_id, role)]`` from
``role_assignments.list_for_subscription(filter="principalId eq '…'")`` (assignments at, above and
below the subscription) and ``role_definitions.get_by_id`` for each definition (``role`` is None for a
definition the caller cannot read, e.g. a built-in role the sandbox does not hold).

``enforced_role(grants)`` turns the grants of one custom role into the ``az role definition`` JSON
that :meth:`firestop.sandbox.Tenant.enforce_role` enforces, with ``AssignableScopes`` = the scopes
it is **assigned** at (the sandbox treats a role as held at its assignable scopes), so the sandbox
answers exactly as Azure would for that identity. ValueError when the grants hold more than one
readable role (name them) or none. ``enforced_roles(grants)``: the same for every readable role the
grants hold (the containment role and the narrow write-back roles), a list in role-name order —
what ``enforce_role`` takes to answer as an identity holding all of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional


@dataclass(frozen=True)
class Grant:
    scope: str
    role_definition_id: str
    role: Optional[dict]  # {"roleName", "Actions", "NotActions", "DataActions", "NotDataActions"}


def held(clients: Any, subscription_id: str, principal_id: str) -> list[Grant]:
    auth = clients.authorization(subscription_id)
    definitions: dict[str, Optional[dict]] = {}
    out = []
    for a in auth.role_assignments.list_for_subscription(filter=f"principalId eq '{principal_id}'"):
        rid = a.role_definition_id
        if rid.lower() not in definitions:
            try:
                d = auth.role_definitions.get_by_id(rid)
                perms = (d.permissions or [None])[0]
                definitions[rid.lower()] = {
                    "roleName": d.role_name,
                    "Actions": list(perms.actions or []) if perms else [],
                    "NotActions": list(perms.not_actions or []) if perms else [],
                    "DataActions": list(perms.data_actions or []) if perms else [],
                    "NotDataActions": list(perms.not_data_actions or []) if perms else [],
                }
            except Exception:  # noqa: BLE001 — unreadable (built-in unknown to the sandbox, or no read right)
                definitions[rid.lower()] = None
        out.append(Grant(scope=a.scope, role_definition_id=rid, role=definitions[rid.lower()]))
    return out


def enforced_role(grants: list[Grant]) -> dict:
    readable = {g.role_definition_id.lower(): g.role for g in grants if g.role is not None}
    if len(readable) != 1:
        names = sorted(r["roleName"] for r in readable.values() if r)
        raise ValueError(f"expected the grants of exactly one custom role, found {len(readable)}: {names}")
    rid, role = next(iter(readable.items()))
    scopes = sorted({g.scope for g in grants if g.role_definition_id.lower() == rid}, key=str.lower)
    return {"Name": role["roleName"], "Actions": role["Actions"], "NotActions": role["NotActions"],
            "DataActions": role["DataActions"], "NotDataActions": role["NotDataActions"], "AssignableScopes": scopes}


def enforced_roles(grants: list[Grant]) -> list[dict]:
    """One :func:`enforced_role` per readable role of ``grants``, by role name; ValueError when there is none."""
    by_role: dict[str, list[Grant]] = {}
    for g in grants:
        if g.role is not None:
            by_role.setdefault(g.role_definition_id.lower(), []).append(g)
    if not by_role:
        raise ValueError("expected the grants of at least one custom role, found none")
    return sorted((enforced_role(gs) for gs in by_role.values()), key=lambda r: r["Name"])
