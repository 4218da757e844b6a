"""The router's literal pre-check and lazily compiled expressions choose exactly the route that trying
every route's full expressions (most literal first) chooses."""

from __future__ import annotations

import dataclasses
import random
import re
from urllib.parse import quote

from firestop.sandbox.core.rooms import all_routes
from firestop.sandbox.core.router import Router, _compile
from firestop.sandbox.core.wire import SandboxRequest

_FILL = re.compile(r"\{(\w+)(\?)?\}")


_COMPILED: dict[tuple[str, str], re.Pattern] = {}


def _full(template: str, segment: str) -> re.Pattern:
    """``_compile(template, segment)``, kept: the ~540 expressions of every route overflow ``re``'s own cache
    (512), so the brute force recompiled each on every request."""
    key = (template, segment)
    if key not in _COMPILED:
        _COMPILED[key] = _compile(template, segment)
    return _COMPILED[key]


def _brute_force(routes, request):
    for route in routes:  # Router's order: fewest placeholders first, ties as registered
        if route.method != request.method:
            continue
        host = _full(route.host, "[a-z0-9-]+").fullmatch(request.host)
        path = _full(route.path, "[^/]+").fullmatch(request.path)
        if host and path:
            return route, {**host.groupdict(), **path.groupdict()}
    return None, {}


def _requests(routes, rng):
    odd_letters = {"s": "\u017f", "k": "\u212a"}  # characters re.IGNORECASE equates with s and k
    for route in routes:
        host = _FILL.sub(lambda m: "h" + str(rng.randrange(99)), route.host)
        path = _FILL.sub(lambda m: "" if m.group(2) and rng.random() < 0.5 else "v" + str(rng.randrange(99)), route.path)
        variants = [path, path.upper(), path.lower(), "".join(c.upper() if rng.random() < 0.5 else c for c in path),
                    "".join(odd_letters.get(c, c) if rng.random() < 0.3 else c for c in path), path + "/extra", path[:-1]]
        for variant in variants:
            for method in {route.method, "GET", "DELETE"}:
                yield SandboxRequest(method, f"https://{host}{quote(variant)}", {})


def test_router_matches_as_trying_every_expression() -> None:
    routes = all_routes()
    router = Router(routes)
    rng = random.Random(7)
    checked = matched = 0
    for request in _requests(router.routes, rng):
        route, params = router.match(request)
        expected_route, expected_params = _brute_force(router.routes, request)
        assert (route, params) == (expected_route, expected_params), (request.method, request.host, request.path)
        checked += 1
        matched += route is not None
    assert checked > 1000 and matched > checked // 4  # both kinds of answer exercised


def test_expressions_are_compiled_only_for_routes_a_request_could_match() -> None:
    router = Router([dataclasses.replace(route) for route in all_routes()])  # fresh: all_routes() shares its routes
    assert all(r._compiled is None for r in router.routes)  # noqa: SLF001
    router.match(SandboxRequest("GET", "https://management.azure.com/nothing/like/a/route", {}))
    compiled = sum(r._compiled is not None for r in router.routes)  # noqa: SLF001
    assert compiled < len(router.routes) // 4
