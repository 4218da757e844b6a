"""Seed step of the deployments room: a seed file may list ARM resources already deployed.

``deployed_resources`` in a seed (optional): ``[{id, type, apiVersion?, properties?, …}]`` — e.g. an
existing Function App a template's ``reference()`` reads. Stored in ``doc["deployed_resources"]``
(keyed by lower-case ID) only when given, so seeded documents without it are unchanged. Order 90:
after every other room; draws nothing from the seeded RNG.
"""

from __future__ import annotations

import copy

from ..core.rooms import SeedContext
from . import room


@room.seeder(order=90)
def seed_deployed_resources(ctx: SeedContext) -> None:
    for entry in ctx.spec.get("deployed_resources") or []:
        if not isinstance(entry, dict) or not isinstance(entry.get("id"), str) or not isinstance(entry.get("type"), str):
            raise ValueError("deployed_resources: each entry needs an 'id' and a 'type' (ARM resource JSON)")
        ctx.doc.setdefault("deployed_resources", {})[entry["id"].lower()] = copy.deepcopy(entry)
