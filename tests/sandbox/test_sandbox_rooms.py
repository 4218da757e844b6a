"""The room layout: every sub-package of firestop.sandbox (but core) is a room that registers itself."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import firestop.sandbox as sandbox
from firestop.sandbox.core.rooms import NOT_ROOMS, Room, all_routes, default_latency, load_rooms, seed_steps
from firestop.sandbox.core.router import Route, Router
from firestop.sandbox.core.wire import SandboxRequest


def _room_packages() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules(sandbox.__path__) if m.ispkg and m.name not in NOT_ROOMS)


def test_every_room_package_registers_a_room_with_its_contract():
    rooms = load_rooms()
    assert sorted(rooms) == _room_packages()
    for name, room in rooms.items():
        package = importlib.import_module(f"firestop.sandbox.{name}")
        assert package.room is room
        assert "Contract" in (package.__doc__ or ""), f"room {name} documents no contract"
        assert room.routes, f"room {name} answers no route"
        assert room.seeders, f"room {name} has no seed step"


def test_routes_come_from_the_rooms_and_every_operation_has_a_latency():
    routes = all_routes()
    assert routes == [r for room in load_rooms().values() for r in room.routes]
    latency = default_latency()
    assert {r.operation for r in routes} <= set(latency), "every routed operation declares its latency in its room"
    assert [order for order, _, _ in seed_steps()] == sorted(order for order, _, _ in seed_steps())


def test_a_room_name_registers_once():
    with pytest.raises(ValueError, match="registered twice"):
        Room("arm")


def test_the_most_literal_route_wins_whatever_the_registration_order():
    def general(ctx):
        return "general"

    def literal(ctx):
        return "literal"

    host = "{vault}.vault.azure.net"
    a = Route("GET", host, "/secrets/{name}/{version?}", "secrets.get", "keyvault", general)
    b = Route("GET", host, "/secrets/{name}/versions", "secrets.versions", "keyvault", literal)
    request = SandboxRequest("GET", "https://kv.vault.azure.net/secrets/s/versions?api-version=7.5", {})
    for order in ([a, b], [b, a]):
        route, params = Router(order).match(request)
        assert route.operation == "secrets.versions" and params == {"vault": "kv", "name": "s"}
    route, _ = Router([b, a]).match(
        SandboxRequest("GET", "https://kv.vault.azure.net/secrets/s/abc?api-version=7.5", {})
    )
    assert route.operation == "secrets.get"
