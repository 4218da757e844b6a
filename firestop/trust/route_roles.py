"""Which role a people's HTTP route requires: declared where the route is defined, and the role its check uses.

Every anonymous-level route (the responders' API, the console: README's route table) declares its role with
:func:`requires` right above ``def``, under ``@observed``::

    @bp.route(route="incidents", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
    @observed
    @requires(Role.reader)
    async def list_incidents_http(req, client):
        caller, denied = _caller(req, "list incidents")   # authorizes against declared_role()

While the function runs, :func:`declared_role` is that role, and the routes' caller helpers pass it to
:func:`firestop.trust.authorize` — there is no second place that names the role, so the declaration and the check
cannot drift. A check outside a declared route raises :class:`UndeclaredRoute` (fails closed: nobody is let in).
A route that checks no role on purpose says so with :func:`public` (none does today; the function-key routes
for machines are guarded by their auth level and declare nothing).

Readers: ``firestop serve`` prints each route's role (:func:`declaration_of`), and the tests check that every anonymous
route declares one and that a caller without it is refused (403). :data:`DECLARED` maps function name → role
(None for :func:`public`) for every function decorated so far (their modules imported).
"""

from __future__ import annotations

import contextvars
import functools
import inspect
from typing import Any, Callable

from firestop.trust.roles import Role

#: The attribute :func:`requires` / :func:`public` set on the wrapper: the Role, or None for a public route.
ATTRIBUTE = "__firestop_role__"

#: function name → its declared role (None: public), filled as route modules are imported.
DECLARED: dict[str, Role | None] = {}

_current: contextvars.ContextVar[Role | None] = contextvars.ContextVar("firestop_route_role")


class UndeclaredRoute(LookupError):
    """A role check ran outside a function decorated with :func:`requires`: a programming error, refused."""


def _declare(role: Role | None) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        if inspect.iscoroutinefunction(fn):
            @functools.wraps(fn)
            async def wrapper(*args: Any, **kwargs: Any) -> Any:
                token = _current.set(role)
                try:
                    return await fn(*args, **kwargs)
                finally:
                    _current.reset(token)
        else:
            @functools.wraps(fn)
            def wrapper(*args: Any, **kwargs: Any) -> Any:
                token = _current.set(role)
                try:
                    return fn(*args, **kwargs)
                finally:
                    _current.reset(token)

        setattr(wrapper, ATTRIBUTE, role)
        DECLARED[fn.__name__] = role
        return wrapper

    return decorate


def requires(role: Role | str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare that the decorated HTTP function lets in only callers holding ``role`` (ValueError for an unknown
    role). The signature stays the function's own (``functools.wraps``): the Functions worker reads its bindings."""
    return _declare(Role(role))


def public() -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare that the decorated anonymous-level HTTP function checks no role (it serves nothing private)."""
    return _declare(None)


def declared_role() -> Role:
    """The role the running route declared; :class:`UndeclaredRoute` outside one, or in a :func:`public` route."""
    role = _current.get(None)
    if role is None:
        raise UndeclaredRoute("a role check ran outside a route declared with @requires(Role…): nobody is let in")
    return role


#: What :func:`declaration_of` answers for a function that declared nothing.
NOT_DECLARED: Any = object()


def declaration_of(fn: Callable[..., Any]) -> Any:
    """The role ``fn`` (or a function it wraps, through ``__wrapped__``) declared; None for :func:`public`;
    :data:`NOT_DECLARED` when it declared nothing."""
    for _ in range(32):  # a wrapper chain is a few deep; never loop on a cycle
        if fn is None:
            break
        if hasattr(fn, ATTRIBUTE):
            return getattr(fn, ATTRIBUTE)
        fn = getattr(fn, "__wrapped__", None)
    return NOT_DECLARED
