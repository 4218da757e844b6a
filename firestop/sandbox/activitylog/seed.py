"""Seed step of the Activity Log room (order 90, after every room that adds log rows)."""

from __future__ import annotations

from ..core.rooms import SeedContext
from . import room
from .events import seed_events_from_tables


@room.seeder(order=90)
def seed_activity_events(ctx: SeedContext) -> None:
    """The Activity Log API shows the seeded ``AzureActivity`` rows (both views agree)."""
    seed_events_from_tables(ctx.state)
