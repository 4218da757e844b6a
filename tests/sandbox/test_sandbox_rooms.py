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


# ---------------------------------------------------------------------------------------------- lazy rooms (table)
def test_the_route_table_is_what_the_rooms_register():
    """core/route_table.py lists every registered route with its room and module (run scripts/build-sandbox-routes
    after changing a route)."""
    from firestop.sandbox.core.rooms import route_table_rows, route_table_text
    from firestop.sandbox.core.route_table import ROUTES

    assert list(ROUTES) == route_table_rows(), "the sandbox route table is stale: run scripts/build-sandbox-routes"
    assert {(r.method, r.host, r.path, r.operation, r.service) for r in all_routes()} == {row[2:] for row in ROUTES}
    source = importlib.import_module("firestop.sandbox.core.route_table").__file__
    with open(source, encoding="utf-8") as fh:
        assert fh.read() == route_table_text()


def test_every_table_route_resolves_to_the_registered_handler():
    from firestop.sandbox.core.rooms import table_routes

    registered = {(r.method, r.host, r.path): r for r in all_routes()}
    for route in table_routes():
        real = registered[(route.method, route.host, route.path)]
        assert (route.operation, route.service) == (real.operation, real.service)
        assert route.handler.resolve() is real.handler
        assert route.handler is real.handler  # the route keeps the resolved handler


def test_a_stale_table_row_is_an_error_naming_the_fix():
    from firestop.sandbox.core.rooms import _Deferred

    with pytest.raises(ValueError, match="build-sandbox-routes"):
        _Deferred("arm", "cognitive", ("GET", "management.azure.com", "/no/such/route")).resolve()


def _could_match_one_request(a: Route, b: Route) -> bool:
    """Whether some request could match both templates (segment by segment: a placeholder matches anything)."""
    def compatible(x: str, y: str, sep: str) -> bool:
        xs, ys = x.lower().split(sep), y.lower().split(sep)
        return len(xs) == len(ys) and all("{" in p or "{" in q or p == q for p, q in zip(xs, ys))

    return a.method == b.method and compatible(a.host, b.host, ".") and compatible(a.path, b.path, "/")


def test_no_two_routes_answer_one_request_at_the_same_rank():
    """The router tries the most literal route first, ties in the given order: no tie can be met, so the order in which
    rooms are loaded (the table's, or imports') never decides which route answers."""
    routes = all_routes()
    ties = [(a.operation, b.operation) for i, a in enumerate(routes) for b in routes[i + 1:]
            if a.placeholders == b.placeholders and _could_match_one_request(a, b)]
    assert ties == []


def test_a_tenant_imports_only_the_rooms_its_requests_reach(tmp_path):
    """Opening a tenant imports no room's routes or seed steps; an ARM account GET imports the module of its route and
    no other room's routes."""
    import subprocess
    import sys

    account = "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-ai-prod/providers/" \
              "Microsoft.CognitiveServices/accounts/contoso-openai-prod?api-version=2024-10-01"
    code = (
        "import sys\n"
        "from firestop.sandbox import Tenant\n"
        "from firestop.sandbox.core.wire import SandboxRequest\n"
        f"t = Tenant.open({str(tmp_path / 'sandbox')!r})\n"
        "before = {m for m in sys.modules if m.startswith('firestop.sandbox.')}\n"
        "token = t.credential.get_token('https://management.azure.com/.default').token\n"
        f"r = t.handle(SandboxRequest('GET', 'https://management.azure.com{account}', {{'Authorization': 'Bearer ' + token}}))\n"
        "after = {m for m in sys.modules if m.startswith('firestop.sandbox.')}\n"
        "print(sorted(before)); print(sorted(after - before)); print(r.status, r.body['name'])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.splitlines()
    before, new, answer = eval(out[0]), eval(out[1]), out[2]  # noqa: S307 (our own child's repr of lists of str)
    assert answer == "200 contoso-openai-prod"
    assert not any(m.count(".") == 3 and m.endswith((".routes", ".seed")) for m in before), before
    assert not any(m.startswith(("firestop.sandbox.monitor.", "firestop.sandbox.security.", "firestop.sandbox.logs."))
                   for m in before), before
    assert "firestop.sandbox.arm.cognitive" in new, new
    assert not any(m.endswith(".routes") or ".keyvault." in m or ".logs." in m for m in new), new
