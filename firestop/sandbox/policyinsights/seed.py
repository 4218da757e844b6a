"""Seed step of the policyinsights room: the seed file's ``policy_states`` (order 60).

Items: ``assignment`` (name of a subscription-scope policy assignment), ``definition``
(built-in policy definition GUID), ``effect``? (``audit``), ``category``?, ``evaluated_at``?
(default: the seed clock), ``states: {<resource name>: Compliant | NonCompliant | …}`` —
resource names are looked up among the seeded resources (accounts, vaults, …), case-insensitively;
an unknown name is a ``KeyError`` naming it.
"""

from __future__ import annotations

from ..core.rooms import SeedContext
from . import room
from .models import policy_state


def _resource_by_name(ctx: SeedContext, name: str) -> dict:
    for body in ctx.doc["resources"].values():
        if str(body.get("name", "")).lower() == name.lower() and "/deployments/" not in body.get("id", "").lower():
            return body
    raise KeyError(f"policy_states: no seeded resource named {name!r}")


@room.seeder(order=60)
def seed_policy_states(ctx: SeedContext) -> None:
    states = ctx.doc.setdefault("policy_states", [])
    for item in ctx.spec.get("policy_states", []) or []:
        when = ctx.arm_time(item.get("evaluated_at", ctx.spec["clock"]))
        for name, compliance in (item.get("states") or {}).items():
            states.append(policy_state(ctx.state, resource=_resource_by_name(ctx, str(name)), definition=str(item["definition"]),
                                       assignment=str(item["assignment"]), compliance=str(compliance), timestamp=when,
                                       effect=str(item.get("effect", "audit")), category=str(item.get("category", "Cognitive Services"))))
