"""Route table: (method, host template, path template) -> operation + handler.

Templates use ``{name}`` for one path segment (``[^/]+``) and ``{name?}`` for a
possibly-empty one (Key Vault's SDK sends ``/secrets/{name}/`` when no version
is given). Matching is case-insensitive on host and path (ARM paths are
case-insensitive). When several routes match, the most literal one (fewest
``{placeholders}`` in host + path) wins, ties in registration order, so
``/secrets/{name}/versions`` beats ``/secrets/{name}/{version?}`` wherever
either is registered.

A route's regular expressions are compiled on its first use, and only for a
request whose path holds every literal piece of the template (case-folded):
compiling all ~270 of them when a tenant opened was a tenth of ``alert handle``'s
own work, and one request tries many routes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable, Optional

from msgspec import Struct

from .wire import SandboxRequest, SandboxResponse


# A msgspec Struct, not a dataclass: its class is made in C (~0.1 M instructions; a frozen dataclass execs its
# generated methods, ~3.4 M, ~1.8 M unfrozen, callgrind) and every process that opens the sandbox makes it.
# The same: fields in order, keyword or positional, __eq__/__repr__, frozen ones hashable.
class RequestContext(Struct):
    """What a handler gets: the request, the matched template values, the state, the arrival time."""

    request: SandboxRequest
    params: dict[str, str]
    state: "object"  # firestop.sandbox.core.state.TenantState (kept loose to avoid an import cycle)
    now: datetime
    #: Set by a handler that wants a latency other than the operation's default (seconds).
    latency_override: Optional[float] = None
    #: Set by a handler when the request turned out to be "unrouted" (e.g. unknown vault host).
    unrouted_reason: Optional[str] = None


Handler = Callable[[RequestContext], SandboxResponse]


_PLACEHOLDER = re.compile(r"\{(\w+)(\?)?\}")


def _literals(template: str) -> tuple[str, ...]:
    """The case-folded literal pieces of ``template`` between its placeholders (non-empty ones).

    Every string the template's expression matches (case-insensitively) holds each of them once
    case-folded: they are ASCII, and the only other characters ``re.IGNORECASE`` equates with ASCII
    letters (``ſ``, ``K``) case-fold to those letters."""
    return tuple(piece.casefold() for piece in _PLACEHOLDER.split(template)[::3] if piece)


def _compile(template: str, segment: str) -> re.Pattern:
    out, pos = [], 0
    for match in _PLACEHOLDER.finditer(template):
        out.append(re.escape(template[pos : match.start()]))
        pattern = segment.replace("+", "*") if match.group(2) else segment
        out.append(f"(?P<{match.group(1)}>{pattern})")
        pos = match.end()
    out.append(re.escape(template[pos:]))
    return re.compile("".join(out), re.IGNORECASE)


@dataclass
class Route:
    """One answered operation.

    ``service`` picks the auth rules (``arm`` | ``keyvault`` | ``loganalytics``).
    """

    method: str
    host: str
    path: str
    operation: str
    service: str
    handler: Handler
    #: (host expression, path expression), compiled on first use (one assignment: threads share routes)
    _compiled: Optional[tuple[re.Pattern, re.Pattern]] = field(init=False, repr=False, default=None)
    _path_literals: tuple[str, ...] = field(init=False, repr=False, default=())
    #: Number of ``{name}`` placeholders in host + path (the router tries fewer first).
    placeholders: int = field(init=False, repr=False, default=0)

    def __post_init__(self) -> None:
        self.method = self.method.upper()
        self._path_literals = _literals(self.path)
        self.placeholders = len(_PLACEHOLDER.findall(self.host)) + len(_PLACEHOLDER.findall(self.path))

    def match(self, request: SandboxRequest, folded: Optional[str] = None) -> Optional[dict[str, str]]:
        """Template values if ``request`` is this route, else ``None`` (``folded``: ``request.path.casefold()``
        when the caller has it already)."""
        if request.method != self.method:
            return None
        if self._path_literals:
            if folded is None:
                folded = request.path.casefold()
            if not all(piece in folded for piece in self._path_literals):
                return None  # cannot match: skip compiling and running the expressions
        compiled = self._compiled
        if compiled is None:
            compiled = self._compiled = (_compile(self.host, "[a-z0-9-]+"), _compile(self.path, "[^/]+"))
        host = compiled[0].fullmatch(request.host)
        if host is None:
            return None
        path = compiled[1].fullmatch(request.path)
        if path is None:
            return None
        return {**host.groupdict(), **path.groupdict()}


class Router:
    """Routes tried most literal first (fewest placeholders), ties in the given order.

    A request tries only the routes of its method and its path's number of '/' (in that order), with its path
    case-folded once: every route's first checks were the method and the literal pieces of a case-folded path,
    ~270 routes per request (7 % of a runbook contract test's samples were in matching)."""

    def __init__(self, routes: list[Route]) -> None:
        self.routes = sorted(routes, key=lambda r: r.placeholders)
        #: (method, number of '/' in the path) -> its routes in order: a placeholder never holds a '/', so a path
        #: matches only templates with as many (a request tries ~15 routes, not ~150)
        self._by_shape: dict[tuple[str, int], list[Route]] = {}
        for route in self.routes:
            self._by_shape.setdefault((route.method, route.path.count("/")), []).append(route)

    def match(self, request: SandboxRequest) -> tuple[Optional[Route], dict[str, str]]:
        routes = self._by_shape.get((request.method, request.path.count("/")))
        if routes:
            folded = request.path.casefold()
            for route in routes:
                params = route.match(request, folded)
                if params is not None:
                    return route, params
        return None, {}
