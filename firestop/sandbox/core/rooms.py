"""The room registry: each simulated Azure service registers its routes, latencies and seed steps.

A *room* is a sub-package ``firestop.sandbox.<name>`` (every sub-package but
``core``). Its ``__init__`` creates one :class:`Room` and imports the modules
that register on it, Cloud Custodian style::

    # firestop/sandbox/keyvault/__init__.py
    from ..core.rooms import Room
    room = Room("keyvault", latency={"secrets.get": 0.1})
    from . import routes, seed  # noqa: E402,F401  (they register on ``room``)

    # firestop/sandbox/keyvault/routes.py
    from . import room
    @room.route("GET", VAULT_HOST, "/secrets/{name}/versions", "secrets.versions", service="keyvault")
    def list_versions(ctx: RequestContext) -> SandboxResponse: ...

    # firestop/sandbox/keyvault/seed.py
    @room.seeder(order=20)
    def seed_vaults(ctx: SeedContext) -> None: ...

:func:`load_rooms` imports every room (found with :mod:`pkgutil`, no central
list), so a new room plugs in by existing. Route order across rooms does not
matter: :class:`~firestop.sandbox.core.router.Router` tries the most literal
template first. Seed steps run in ascending ``order`` over all rooms (the
order decides which step draws which numbers from the seeded RNG counters, so
existing orders must not change; leave gaps).
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Mapping

from .clock import format_utc, parse_utc, to_utc
from .router import Handler, Route
from .state import TenantState

#: The package whose sub-packages are rooms.
SANDBOX_PACKAGE = "firestop.sandbox"
#: Sub-packages that are not rooms.
NOT_ROOMS = frozenset({"core"})

ROOMS: dict[str, "Room"] = {}


def seed_time(value: Any) -> str:
    """A seed time value (ISO text or YAML datetime) as ISO UTC text (``ValueError`` if unparsable)."""
    if isinstance(value, datetime):
        return format_utc(to_utc(value))
    return format_utc(parse_utc(str(value)))


@dataclass
class SeedContext:
    """What a seed step gets: the parsed seed mapping, the state being built, the seed's clock text."""

    spec: dict
    state: TenantState
    clock: str

    @property
    def doc(self) -> dict:
        return self.state.doc

    def when(self, value: Any) -> str:
        """A seed time value (ISO text or YAML datetime) as ISO UTC text."""
        return seed_time(value)

    def arm_time(self, value: Any) -> str:
        """ISO text with 7 fractional digits, as ARM writes ``systemData`` times."""
        when = parse_utc(seed_time(value))
        return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond:06d}0Z"


Seeder = Callable[[SeedContext], None]


@dataclass
class Room:
    """One simulated service: its routes (match order within the room), default latencies, seed steps.

    ``latency``: operation (or ``<operation>.lro`` / other documented key) ->
    simulated seconds, merged into every tenant's latency table.
    Creating a room registers it in :data:`ROOMS`; a second room of the same
    name is a ``ValueError``.
    """

    name: str
    latency: Mapping[str, float] = field(default_factory=dict)
    routes: list[Route] = field(default_factory=list)
    seeders: list[tuple[int, Seeder]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.name in ROOMS:
            raise ValueError(f"sandbox room {self.name!r} is registered twice")
        self.latency = dict(self.latency)
        ROOMS[self.name] = self

    def route(self, method: str, host: str, path: str, operation: str, service: str = "arm") -> Callable[[Handler], Handler]:
        """Decorator: answer ``method host path`` with the function as ``operation`` (auth rules of ``service``)."""

        def register(handler: Handler) -> Handler:
            self.routes.append(Route(method, host, path, operation, service, handler))
            return handler

        return register

    def add(self, *routes: Route) -> None:
        """Register ready-made routes (e.g. one handler at several scopes)."""
        self.routes.extend(routes)

    def seeder(self, order: int) -> Callable[[Seeder], Seeder]:
        """Decorator: run the function while building a tenant from a seed file (ascending ``order``)."""

        def register(fn: Seeder) -> Seeder:
            self.seeders.append((order, fn))
            return fn

        return register


_loaded = False


def load_rooms() -> dict[str, Room]:
    """Import every room package once; returns :data:`ROOMS` (name -> room, in import order)."""
    global _loaded
    if not _loaded:
        package = importlib.import_module(SANDBOX_PACKAGE)
        for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
            if info.ispkg and info.name not in NOT_ROOMS:
                importlib.import_module(f"{SANDBOX_PACKAGE}.{info.name}")
        _loaded = True
    return ROOMS


def all_routes() -> list[Route]:
    """Every room's routes (rooms by name, routes in registration order)."""
    return [route for room in load_rooms().values() for route in room.routes]


def default_latency() -> dict[str, float]:
    """Every room's default latency table merged (operation -> simulated seconds)."""
    table: dict[str, float] = {}
    for room in load_rooms().values():
        table.update(room.latency)
    return table


def seed_steps() -> list[tuple[int, str, Seeder]]:
    """``[(order, room name, step)]`` over all rooms, ascending ``order``."""
    steps = [(order, room.name, fn) for room in load_rooms().values() for order, fn in room.seeders]
    return sorted(steps, key=lambda s: (s[0], s[1]))


def run_seeders(spec: dict, state: TenantState, clock: str) -> None:
    """Run every room's seed steps on ``state``, ascending ``order``."""
    ctx = SeedContext(spec=spec, state=state, clock=clock)
    for _order, _name, step in seed_steps():
        step(ctx)
