"""Every page of a Durable instance listing, up to a bound, and whether the listing stopped early.

Why: the Python Durable SDK's ``DurableOrchestrationClient.get_status_all`` / ``get_status_by``
(azure-functions-durable 1.x, ``models/DurableOrchestrationClient.py``) send one ``GET {rpcBaseUrl}instances/``
and return its body; the continuation header of the answer is dropped, so a caller sees at most one page.
The Durable Functions HTTP API reference ("Get all instances status",
learn.microsoft.com/azure/azure-functions/durable/durable-functions-http-api) says of that request:
``top`` (query string) "Optional parameter. When specified, limits the number of instances returned by the
query", and "If more results exist, a continuation token is returned in the response header. The name of the
header is ``x-ms-continuation-token``. If you set continuation token value in the next request header, you can
get the next page of results. This name of the request header is also ``x-ms-continuation-token``." The
reference documents no default page size. Some extension versions answer the last page with the token
``bnVsbA==`` (base64 of ``null``; Azure/azure-functions-durable-extension#1174): it is read as "no more".

How: :func:`list_instances` builds the very URL the SDK builds (``RpcManagementOptions(...).to_url`` on the
client's ``rpc_base_url``) plus ``top``, and sends it on the SDK's own shared aiohttp session
(``http_utils._get_session``, with the SDK's ``X-Azure-Functions-InvocationId`` header and its reset of the
session after a connection error), adding the continuation header from the previous answer; it follows tokens
up to ``max_pages`` pages. :class:`Listing` says whether it stopped with a token left (``complete`` False):
callers fail closed on that (an undo refuses, intake answers 503), or say "more not shown" (incident lists).

Imports: the Durable SDK only (lazily); nothing of Firestop, so intake, lifecycle and the Functions bindings
can all use it.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterable

#: The Durable extension's request/response header carrying the continuation token (HTTP API reference).
CONTINUATION_HEADER = "x-ms-continuation-token"
#: Instances asked for per page (``top``).
PAGE_SIZE = 100
#: Pages followed at most before the listing stops incomplete (so at most PAGE_SIZE * MAX_PAGES statuses).
MAX_PAGES = 50
#: Longest continuation token accepted from the backend (characters); a longer one ends the listing incomplete.
MAX_TOKEN_CHARS = 4096
#: Tokens meaning "no more results" besides an absent or empty header (extension#1174: base64 of ``null``).
_END_TOKENS = frozenset({"bnVsbA==", "null"})


class InstanceListingError(Exception):
    """The backend answered the instances GET with something other than 200 and a JSON list (``status``: its
    HTTP status, 0 when the body was not a list). Transport errors (aiohttp) propagate as they are."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(f"instance listing failed: {detail}")
        self.status = status


class InstanceListingIncomplete(Exception):
    """A listing stopped at its page bound with more instances left (``read``: how many were read). Raised by
    callers that must fail closed (:meth:`Listing.require_complete`)."""

    def __init__(self, read: int, pages: int) -> None:
        super().__init__(f"more instances than the {read} read in {pages} pages")
        self.read, self.pages = read, pages


@dataclass(frozen=True)
class Listing:
    """``statuses``: the SDK's ``DurableOrchestrationStatus`` of each instance read, in the backend's order;
    ``complete``: False when the listing stopped at its bound (or on an oversized token) with more left;
    ``pages``: GETs sent."""

    statuses: tuple[Any, ...]
    complete: bool
    pages: int

    def require_complete(self) -> "Listing":
        """``self``; raises :class:`InstanceListingIncomplete` when more instances were left unread."""
        if not self.complete:
            raise InstanceListingIncomplete(len(self.statuses), self.pages)
        return self


def _is_end(token: str | None) -> bool:
    return not token or token.strip() in _END_TOKENS or _decodes_to_null(token)


def _decodes_to_null(token: str) -> bool:
    try:
        return base64.b64decode(token, validate=True).strip() == b"null"
    except (ValueError, TypeError):
        return False


async def _get_page(client: Any, url: str, token: str | None) -> tuple[int, Any, str | None]:
    """One GET on the SDK's session: ``(status, JSON body or None, continuation token or None)``."""
    import asyncio

    import aiohttp
    from azure.durable_functions.models.utils import http_utils  # may be firestop's stand-in: it forwards

    session = await http_utils._get_session()
    headers = {}
    invocation = getattr(client, "_function_invocation_id", None)
    if invocation:
        headers["X-Azure-Functions-InvocationId"] = invocation
    if token:
        headers[CONTINUATION_HEADER] = token
    try:
        async with session.get(url, headers=headers) as response:
            try:
                data = await response.json(content_type=None)
            except ValueError:
                data = None
            return response.status, data, response.headers.get(CONTINUATION_HEADER)
    except (aiohttp.ClientError, asyncio.TimeoutError):
        await http_utils._handle_request_error()  # as the SDK's own helpers do: a fresh session next time
        raise


async def list_instances(client: Any, *, created_time_from: datetime | None = None,
                         created_time_to: datetime | None = None, runtime_status: Iterable[str] | None = None,
                         instance_id_prefix: str | None = None, page_size: int | None = None,
                         max_pages: int | None = None) -> Listing:
    """Every instance matching the filters (the SDK's ``get_status_by`` arguments; ``runtime_status``: runtime
    status names such as ``"Running"``), paging with ``top=page_size`` and the continuation header, at most
    ``max_pages`` GETs (defaults: :data:`PAGE_SIZE`, :data:`MAX_PAGES`, read at call time). ``client``: the SDK's
    ``DurableOrchestrationClient`` (its binding's ``rpcBaseUrl``); a client with no such binding (an in-memory
    double with the SDK's method names, as intake's tests use) is asked once through its ``get_status_by``, whose
    answer is taken as the whole listing.

    Returns a :class:`Listing` (``complete`` False when a token was left after ``max_pages`` pages, or the backend
    sent a token longer than :data:`MAX_TOKEN_CHARS`). Raises :class:`InstanceListingError` on a status other than
    200 or a body that is not a JSON list; ValueError for ``page_size``/``max_pages`` below 1; aiohttp's errors on
    transport failure.
    """
    from azure.durable_functions.models.DurableOrchestrationStatus import DurableOrchestrationStatus
    from azure.durable_functions.models.OrchestrationRuntimeStatus import OrchestrationRuntimeStatus
    from azure.durable_functions.models.RpcManagementOptions import RpcManagementOptions

    page_size = PAGE_SIZE if page_size is None else page_size
    max_pages = MAX_PAGES if max_pages is None else max_pages
    if page_size < 1 or max_pages < 1:
        raise ValueError("page_size, max_pages: at least 1")
    statuses = [OrchestrationRuntimeStatus(s) for s in runtime_status] if runtime_status else None
    base_url = getattr(getattr(client, "_orchestration_bindings", None), "rpc_base_url", None)
    if base_url is None:  # not the SDK's client (an in-memory double of it): its get_status_by is one whole page
        listed = await client.get_status_by(created_time_from=created_time_from, created_time_to=created_time_to,
                                            runtime_status=statuses, instance_id_prefix=instance_id_prefix)
        return Listing(tuple(listed or ()), True, 1)
    options = RpcManagementOptions(created_time_from=created_time_from, created_time_to=created_time_to,
                                   runtime_status=statuses, instance_id_prefix=instance_id_prefix)
    url = options.to_url(base_url)
    url += ("&" if "?" in url else "?") + f"top={int(page_size)}"
    found: list[Any] = []
    token: str | None = None
    for page in range(1, max_pages + 1):
        status, data, token = await _get_page(client, url, token)
        if status != 200:
            raise InstanceListingError(status, f"unexpected status code {status}")
        if not isinstance(data, list):
            raise InstanceListingError(0, f"the answer was {type(data).__name__}, not a list")
        found.extend(DurableOrchestrationStatus.from_json(o) for o in data if isinstance(o, dict))
        if _is_end(token):
            return Listing(tuple(found), True, page)
        if len(token) > MAX_TOKEN_CHARS:
            return Listing(tuple(found), False, page)
    return Listing(tuple(found), False, max_pages)


def decoded(value: Any) -> Any:
    """A status field (``input``, ``output``, ``custom_status``) as the Durable backends hand it over: JSON, or
    JSON inside a JSON string (the SDK and the extension each may encode once more), decoded up to three levels.
    Returns the value (dict, list, number…), or None when a string level is not JSON."""
    import json

    for _ in range(3):
        if not isinstance(value, str):
            break
        try:
            value = json.loads(value)
        except ValueError:
            return None
    return value
