"""The room registry: each simulated Azure service registers its routes, latencies and seed steps.

A *room* is a sub-package ``firestop.sandbox.<name>`` (every sub-package but
``core``). Its ``__init__`` creates one :class:`Room` naming the modules that
register on it, Cloud Custodian style::

    # firestop/sandbox/keyvault/__init__.py
    from ..core.rooms import Room
    room = Room("keyvault", latency={"secrets.get": 0.1}, modules=("routes", "seed"))

    # firestop/sandbox/keyvault/routes.py
    from . import room
    @room.route("GET", VAULT_HOST, "/secrets/{name}/versions", "secrets.versions", service="keyvault")
    def list_versions(ctx: RequestContext) -> SandboxResponse: ...

    # firestop/sandbox/keyvault/seed.py
    @room.seeder(order=20)
    def seed_vaults(ctx: SeedContext) -> None: ...

:func:`load_rooms` imports every room (found with :mod:`pkgutil`, no central
list) and each room's ``modules`` (:meth:`Room.load`), so a new room plugs in by
existing. Route order across rooms does not matter: :class:`~firestop.sandbox.core.router.Router`
tries the most literal template first (and no two routes can answer one request
at the same rank: ``tests/sandbox/test_sandbox_rooms.py``). Seed steps run in
ascending ``order`` over all rooms (the order decides which step draws which
numbers from the seeded RNG counters, so existing orders must not change; leave
gaps).

**Lazy rooms.** A tenant does not import the rooms to route: :func:`table_routes` builds its routes
from :data:`firestop.sandbox.core.route_table.ROUTES` (method, host, path, operation, service and the
module holding the handler, as data), and a route's module is imported when a request first reaches
it. ``alert handle`` on a fresh ``FIRESTOP_HOME`` answers 8 operations of 3 rooms; importing all 13
rooms (route modules, seed generators, Monitor's and Defender's evaluators) made its start-up 35 M
instructions longer (callgrind: 2,613 -> 2,579 M, 90 -> 40 sandbox modules). The table is written by ``scripts/build-sandbox-routes`` from the registrations themselves;
the room tests fail when it differs from them (a route added, moved or changed).
"""

from __future__ import annotations

import importlib
import pkgutil
from datetime import datetime
from typing import Any, Callable, Mapping, Optional

from msgspec import Struct, field

from .clock import format_utc, parse_utc, to_utc
from .router import Handler, Route
from .state import TenantState

#: The package whose sub-packages are rooms.
SANDBOX_PACKAGE = "firestop.sandbox"
#: Sub-packages that are not rooms.
NOT_ROOMS = frozenset({"core"})

ROOMS: dict[str, "Room"] = {}
#: Rooms whose ``modules`` are imported (:meth:`Room.load`).
_LOADED_ROOMS: set[str] = set()


def seed_time(value: Any) -> str:
    """A seed time value (ISO text or YAML datetime) as ISO UTC text (``ValueError`` if unparsable)."""
    if isinstance(value, datetime):
        return format_utc(to_utc(value))
    return format_utc(parse_utc(str(value)))


# A msgspec Struct, not a dataclass: its class is made in C (~0.1 M instructions; a frozen dataclass execs its
# generated methods, ~3.4 M, ~1.8 M unfrozen, callgrind) and every process that opens the sandbox makes it.
# The same: fields in order, keyword or positional, __eq__/__repr__, frozen ones hashable.
class SeedContext(Struct):
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


# A msgspec Struct, not a dataclass: its class is made in C (~0.1 M instructions; a frozen dataclass execs its
# generated methods, ~3.4 M, ~1.8 M unfrozen, callgrind) and every process that opens the sandbox makes it.
# The same: fields in order, keyword or positional, __eq__/__repr__, frozen ones hashable.
class Room(Struct):
    """One simulated service: its routes (match order within the room), default latencies, seed steps.

    ``latency``: operation (or ``<operation>.lro`` / other documented key) ->
    simulated seconds, merged into every tenant's latency table. ``modules``: what
    :meth:`load` imports (every route and seed step of the room is registered then).
    Creating a room registers it in :data:`ROOMS`; a second room of the same
    name is a ``ValueError``.
    """

    name: str
    latency: Mapping[str, float] = field(default_factory=dict)
    #: The room's modules (names inside its package) that register routes and seed steps on it, imported by :meth:`load`.
    modules: tuple[str, ...] = ()
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

    def load(self) -> "Room":
        """Import every module of :attr:`modules` once (they register the room's routes and seed steps); returns the room."""
        if self.name not in _LOADED_ROOMS:
            for module in self.modules:
                importlib.import_module(f"{SANDBOX_PACKAGE}.{self.name}.{module}")
            _LOADED_ROOMS.add(self.name)
        return self

    def seeder(self, order: int) -> Callable[[Seeder], Seeder]:
        """Decorator: run the function while building a tenant from a seed file (ascending ``order``)."""

        def register(fn: Seeder) -> Seeder:
            self.seeders.append((order, fn))
            return fn

        return register


_loaded = False


def room_names() -> list[str]:
    """The room packages' names, sorted (found with :mod:`pkgutil`; nothing is imported but ``firestop.sandbox``)."""
    package = importlib.import_module(SANDBOX_PACKAGE)
    return sorted(info.name for info in pkgutil.iter_modules(package.__path__)
                  if info.ispkg and info.name not in NOT_ROOMS)


def load_rooms() -> dict[str, Room]:
    """Import every room package and its modules (:meth:`Room.load`) once; returns name -> room, by name."""
    global _loaded
    if not _loaded:
        for name in room_names():
            importlib.import_module(f"{SANDBOX_PACKAGE}.{name}")
            ROOMS[name].load()
        _loaded = True
    return {name: ROOMS[name] for name in sorted(ROOMS)}


def all_routes() -> list[Route]:
    """Every room's routes, all rooms loaded (rooms by name, routes in registration order)."""
    return [route for room in load_rooms().values() for route in room.routes]


class _Deferred:
    """The handler of a route from the table: imports the module holding the real handler on the first call (the
    module registers its routes on its room), then answers with it (and the route keeps it)."""

    __slots__ = ("room", "module", "key", "route")

    def __init__(self, room: str, module: str, key: tuple[str, str, str]) -> None:
        self.room, self.module, self.key = room, module, key
        self.route: Optional[Route] = None

    def resolve(self) -> Handler:
        """The registered handler of this route: its module imported, else (a route registered by another module of the
        room than its handler's) the whole room. ValueError when the room registers no such route (a stale table)."""
        importlib.import_module(f"{SANDBOX_PACKAGE}.{self.room}.{self.module}")
        for attempt in (0, 1):
            if attempt:
                ROOMS[self.room].load()
            for route in ROOMS[self.room].routes:
                if (route.method, route.host, route.path) == self.key:
                    if self.route is not None:
                        self.route.handler = route.handler  # one assignment: later requests call it directly
                    return route.handler
        raise ValueError(f"sandbox route table is stale: {self.room}.{self.module} registers no {' '.join(self.key)} "
                         "(run scripts/build-sandbox-routes)")

    def __call__(self, ctx: Any) -> Any:
        return self.resolve()(ctx)


def table_routes() -> list[Route]:
    """Every room's routes as :data:`~firestop.sandbox.core.route_table.ROUTES` lists them (table order), each with a
    handler that imports the route's module on its first request: nothing of the rooms is imported here."""
    from .route_table import ROUTES

    routes = []
    for room, module, method, host, path, operation, service in ROUTES:
        deferred = _Deferred(room, module, (method, host, path))
        route = deferred.route = Route(method, host, path, operation, service, deferred)
        routes.append(route)
    return routes


def route_table_rows() -> list[tuple[str, str, str, str, str, str, str]]:
    """``(room, module, method, host, path, operation, service)`` of every registered route, all rooms loaded, by room
    name then (method, host, path): what :data:`~firestop.sandbox.core.route_table.ROUTES` must hold."""
    rows = []
    prefix = f"{SANDBOX_PACKAGE}."
    for name, room in load_rooms().items():
        for route in room.routes:
            module = getattr(route.handler, "__module__", "") or ""
            if not module.startswith(f"{prefix}{name}."):
                raise ValueError(f"route {route.operation} of room {name} has a handler outside the room: {module!r}")
            rows.append((name, module[len(prefix) + len(name) + 1:], route.method, route.host, route.path,
                         route.operation, route.service))
    return sorted(rows, key=lambda r: (r[0], r[2], r[3], r[4]))


def route_table_text() -> str:
    """The source of ``firestop/sandbox/core/route_table.py`` for the routes registered now (:func:`route_table_rows`)."""
    lines = [
        '"""Every sandbox route as data: (room, module, method, host, path, operation, service).',
        "",
        "Generated by ``scripts/build-sandbox-routes`` from the rooms' registrations (do not edit by hand);",
        "``tests/sandbox/test_sandbox_rooms.py`` fails when it differs from them. A tenant routes with it without",
        "importing the rooms (:func:`firestop.sandbox.core.rooms.table_routes`): ``module`` (inside the room's",
        "package) is imported when a request first reaches one of its routes.",
        '"""',
        "",
        "ROUTES = (",
    ]
    lines += [f"    {row!r}," for row in route_table_rows()]
    lines.append(")")
    return "\n".join(lines) + "\n"


def write_route_table() -> int:
    """Rewrite ``route_table.py`` beside this module; returns the number of routes."""
    from pathlib import Path

    target = Path(__file__).with_name("route_table.py")
    text = route_table_text()
    target.write_text(text, encoding="utf-8")
    return text.count("\n    (")


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
