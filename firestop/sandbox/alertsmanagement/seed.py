"""Seed step of the alertsmanagement room (order 95): the seed file's optional ``alerts_management`` section.

::

    alerts_management:
      fired:                 # Common Alert Schema payloads Azure Monitor already holds (fired before the tenant's clock)
        - {schemaId: azureMonitorCommonAlertSchema, data: {essentials: {...}}}
"""

from __future__ import annotations

from ..core.rooms import SeedContext
from . import room
from ..core.clock import parse_utc
from .models import record_fired


@room.seeder(order=95)
def seed_alerts(ctx: SeedContext) -> None:
    for payload in (ctx.spec.get("alerts_management") or {}).get("fired") or []:  # (no section without entries)
        record_fired(ctx.state, payload, parse_utc(ctx.when(ctx.clock)))
