"""Microsoft Graph through msgraph-sdk (1.65), which speaks httpx rather than azure-core.

:func:`graph_client` builds a ``GraphServiceClient`` the way msgraph-sdk's own
factory does (``GraphClientFactory`` middleware over an ``httpx.AsyncClient``,
``AzureIdentityAuthenticationProvider`` for ``https://graph.microsoft.com/.default``)
with two differences:

- ``transport``: an ``httpx.AsyncBaseTransport`` handed in from outside (the
  sandbox tenant's, :class:`firestop.sandbox.core.httpx_transport.SandboxHttpxTransport`),
  or httpx's own for real Graph;
- retries: kiota's ``RetryHandler`` sleeps with ``asyncio.sleep``; :class:`ClockRetryHandler`
  takes its place — same statuses (429, 503, 504), ``Retry-After`` honoured (capped at
  60 s), else 1, 2, 4 s, at most 3 retries — and waits on the factory's clock, so the
  sandbox's virtual clock moves instead of the wall clock.

msgraph-sdk is async only; runbooks are synchronous activities, so :func:`run` drives one
coroutine to completion (``asyncio.run``; in a thread of its own when the caller's thread
already runs an event loop). A client is built per call: httpx connection pools belong to
the event loop that opened them.

Errors: :func:`map_graph_error` turns msgraph's ``ODataError`` (``response_status_code``,
``error.code``, ``error.message``; https://learn.microsoft.com/graph/errors) and httpx
transport errors into :class:`~firestop.azure.errors.RunbookError` with the same kinds as ARM.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from typing import Any, Awaitable, Callable

from firestop.azure.errors import RunbookError, _status_kind

GRAPH_SCOPE = "https://graph.microsoft.com/.default"
GRAPH_BASE = "https://graph.microsoft.com/v1.0"
RETRY_STATUSES = (429, 503, 504)
MAX_RETRIES = 3
MAX_RETRY_AFTER_S = 60.0


def _retry_handler_class():
    from kiota_http.middleware.middleware import BaseMiddleware

    class ClockRetryHandler(BaseMiddleware):
        """Retry 429/503/504 up to :data:`MAX_RETRIES` times, waiting on ``clock`` (see module doc)."""

        def __init__(self, clock: Any) -> None:
            super().__init__()
            self.clock = clock

        async def _wait(self, seconds: float) -> None:
            if hasattr(self.clock, "advance"):
                self.clock.advance(seconds)  # virtual clock: no wall time
            else:
                await asyncio.sleep(seconds)

        async def send(self, request, transport):  # type: ignore[override]
            attempt = 0
            while True:
                response = await super().send(request, transport)
                if response.status_code not in RETRY_STATUSES or attempt >= MAX_RETRIES:
                    return response
                try:
                    delay = min(float(response.headers.get("Retry-After", "")), MAX_RETRY_AFTER_S)
                except ValueError:
                    delay = float(2 ** attempt)
                await response.aclose()
                await self._wait(max(delay, 0.0))
                attempt += 1
                request.headers["Retry-Attempt"] = str(attempt)

    return ClockRetryHandler


def graph_client(credential: Any, transport: Any = None, clock: Any = None):
    """A ``GraphServiceClient`` over ``transport`` (None: httpx's own), authenticated with ``credential``."""
    import httpx
    from kiota_authentication_azure.azure_identity_authentication_provider import AzureIdentityAuthenticationProvider
    from kiota_http.kiota_client_factory import KiotaClientFactory
    from kiota_http.middleware.retry_handler import RetryHandler
    from msgraph import GraphRequestAdapter, GraphServiceClient
    from msgraph_core import GraphClientFactory

    middleware = KiotaClientFactory.get_default_middleware(None)
    at = next((i for i, m in enumerate(middleware) if isinstance(m, RetryHandler)), len(middleware))
    middleware[at:at + 1] = [_retry_handler_class()(clock)]
    http = httpx.AsyncClient(transport=transport, timeout=httpx.Timeout(30.0)) if transport is not None else KiotaClientFactory.get_default_client()
    http.base_url = GRAPH_BASE
    http = GraphClientFactory.create_with_custom_middleware(middleware, client=http)
    auth = AzureIdentityAuthenticationProvider(credential, scopes=[GRAPH_SCOPE])
    adapter = GraphRequestAdapter(auth, http)
    adapter.base_url = GRAPH_BASE  # httpx keeps base_url with a trailing '/', which would double the path's first '/'
    return GraphServiceClient(request_adapter=adapter)


async def get_json(builder: Any, request_configuration: Any = None) -> Any:
    """``GET`` through a msgraph request builder (its own request: ``to_get_request_information``, the client's
    middleware and authentication; ``ODataError`` raised for a failure, as ``builder.get()`` raises it) and return
    Graph's JSON answer as Python values (None for an empty answer); a body that is not JSON raises ValueError.

    Why not ``builder.get()``: it deserialises into msgraph's model, and every model derived from ``Entity``
    (users, service principals, security alerts …) reads its fields through ``Entity.get_field_deserializers``,
    which imports every model module it names — 2.8 s of CPU for a process's first such answer (1,792 modules
    loaded after it; measured on a security alert). Read a field as the model would with :func:`field`."""
    import json

    from msgraph.generated.models.o_data_errors.o_data_error import ODataError

    request = builder.to_get_request_information(request_configuration)
    body = await builder.request_adapter.send_primitive_async(request, "bytes", {"XXX": ODataError})
    return json.loads(body) if body else None


def field(body: Any, name: str, kind: str, enum: Any = None) -> Any:
    """Member ``name`` of a JSON object ``body`` read as msgraph's model reads it (kiota's ``JsonParseNode``,
    ``get_<kind>_value``: ``kind`` ``str``, ``bool``, ``datetime`` or ``enum`` with ``enum`` the model's enum
    class); a member missing or of another type is None, as on the model."""
    from kiota_serialization_json.json_parse_node import JsonParseNode

    node = JsonParseNode(body.get(name) if isinstance(body, dict) else None)
    return node.get_enum_value(enum) if kind == "enum" else getattr(node, f"get_{kind}_value")()


def run(make: Callable[[], Awaitable[Any]]) -> Any:
    """Run the coroutine ``make()`` to completion from synchronous code and return its result."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(make())
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(make())).result()


def map_graph_error(exc: BaseException, *, permission: str | None = None) -> RunbookError:
    """An msgraph ``ODataError`` / httpx error as a :class:`RunbookError`; ``permission``: the Graph
    application permission the call needs (named in ``forbidden`` errors)."""
    import httpx

    if isinstance(exc, RunbookError):
        return exc
    status = getattr(exc, "response_status_code", None)
    if isinstance(status, int):
        kind = _status_kind(status)
        err = getattr(exc, "error", None)
        code, message = getattr(err, "code", None) or "", (getattr(err, "message", None) or "").splitlines()[:1]
        text = f"Microsoft Graph answered HTTP {status}" + (f" {code}" if code else "") + (f": {message[0][:300]}" if message else "")
        if kind == "forbidden" and permission:
            text += f" (the app registration needs the Graph application permission '{permission}')"
        retry_after = None
        headers = getattr(exc, "response_headers", None) or {}
        try:
            value = headers.get("Retry-After") or headers.get("retry-after")
            retry_after = float(value[0] if isinstance(value, (list, tuple, set)) else value) if value else None
        except (TypeError, ValueError):
            retry_after = None
        return RunbookError(kind, text, permission=permission if kind == "forbidden" else None, retry_after=retry_after)
    if isinstance(exc, httpx.TransportError):
        return RunbookError("transient", f"could not reach Microsoft Graph: {type(exc).__name__}")
    return RunbookError("failed", f"unexpected {type(exc).__name__} from Microsoft Graph")
