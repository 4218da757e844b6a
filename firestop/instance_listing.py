"""Every page of a Durable instance listing, up to a bound, and whether the listing stopped early.

Why: the Python Durable SDK's ``DurableOrchestrationClient.get_status_all`` / ``get_status_by``
(azure-functions-durable 1.7.0, ``models/DurableOrchestrationClient.py``; ``utils/http_utils.get_async_request``
returns only ``[status, body]``) send one ``GET {rpcBaseUrl}instances/`` and return its body; the continuation
header of the answer is dropped, so a caller sees at most one page, of at most 100 instances.

The extension's side, read in Azure/azure-functions-durable-extension at v3.x 92fecfc (the dev branch, a7c6d69,
has the same code) and the Azure Storage backend it calls, Azure/durabletask at durabletask.azurestorage-v2.0.1
(2795981; v1.17.5, c7c6ea1, for extension 2.x):

* URL: ``GET {rpcBaseUrl}instances/`` with the query parameters ``runtimeStatus`` (names, comma-separated, each
  ``Enum.TryParse``d: an unknown name is ignored, and if none parses there is no status filter),
  ``createdTimeFrom``/``createdTimeTo`` (``DateTime.TryParse``; the backend filters ``CreatedTime ge`` / ``le``,
  both inclusive), ``instanceIdPrefix``, ``showInput`` (``bool.TryParse``, **default true**) and ``top``
  (``int.TryParse``; an unparsable value is ignored) — ``HttpApiHandler.HandleGetStatusRequestAsync``. The SDK's
  ``RpcManagementOptions.to_url`` writes the same names, and never ``showInput=false`` (it skips falsy values),
  so this module adds ``showInput=false`` itself: no caller reads inputs from a listing (they ask
  ``get_status(show_input=True)`` per instance), and an incident's sealed input is the bulk of a status.
* Page size: ``top``, default 100 (``OrchestrationStatusQueryCondition.PageSize``, whose documentation adds
  "Requests may return fewer records than the specified page size, even if there are more records. Always check
  the continuation token"). A short page, even an empty one, is therefore not the end.
* Token: read from the request header ``x-ms-continuation-token`` (its first value) and answered in the
  response header of the same name, which is **always** added (``response.Headers.Add(..., nextContinuationToken)``);
  the backend's token is null after the last page (v2: ``Page.ContinuationToken`` of Azure.Data.Tables; v1.17:
  null when the table segment has none), which .NET sends as an empty header value. Older backends serialised the
  null token as JSON and base64 (``bnVsbA==``, Azure/azure-functions-durable-extension#1174). So the end is an
  absent or empty header, ``null``, or ``bnVsbA==``; any other value is an opaque token to send back unchanged.
* Order: Azure Tables returns the Instances table in PartitionKey order, and the PartitionKey is the escaped
  instance id (``AzureTableTrackingStore.QueryStateAsync``): instance-id order, not creation order. Callers sort.
* Entities: entity instances (ids ``@name@key``; their status name is the same id, ``Entities.AutoStart`` in
  Azure/durabletask 5217032 ``src/DurableTask.Core/Common/Entities.cs``) are rows of the same table, and the
  HTTP listing does not leave them out (``ConvertWebjobsDurableConditionToAzureStorageCondition`` sets no
  ``ExcludeEntities``; only the gRPC path, ``ProtobufUtils.cs``, does), status Running, so they count against
  :data:`MAX_PAGES` here. Firestop keeps an entity per contained resource (``resource_lock``) and per incident
  (``incident_alerts``) for good, so a listing of incidents passes ``instance_id_prefix`` =
  :data:`firestop.alerts.alert.INCIDENT_ID_PREFIX` (an ``@`` id never matches it) and still keeps only its
  orchestrator's name (step groups share the prefix). The backend turns ``instanceIdPrefix`` into a PartitionKey
  range (``PartitionKey ge 'inc-' and PartitionKey lt 'inc.'``: ``OrchestrationInstanceStatusQueryCondition``,
  ``src/DurableTask.AzureStorage/Tracking/``, ``GetConditions`` at Azure/durabletask 0edc548 and the same in the
  later ``GetODataFilter`` beside ``ExcludeEntities``, commit not recorded), so entity rows are not even read. The
  local management server lists entities the same way (``firestop/runtime/management.py``).
* Purge by filter (``DELETE instances/?createdTimeFrom=...``) is not paged: one request deletes every match
  (``HandleDeleteHistoryWithFiltersRequestAsync``). ``GET instances/{id}`` is one instance. Neither is used here.

How: :func:`list_instances` builds the very URL the SDK builds (``RpcManagementOptions(...).to_url`` on the
client's ``rpc_base_url``) plus ``top`` and ``showInput=false``, and sends it on the SDK's own shared aiohttp
session (``http_utils._get_session``, with the SDK's ``X-Azure-Functions-InvocationId`` header and its reset of
the session after a connection error), adding the continuation header from the previous answer; it follows
tokens up to ``max_pages`` pages. :class:`Listing` says whether it stopped with a token left (``complete``
False): callers fail closed on that (an undo refuses, intake answers 503), or say "more not shown" (incident
lists).

Imports: the Durable SDK only (lazily); nothing of Firestop, so intake, lifecycle and the Functions bindings
can all use it.
"""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any, Iterable

from msgspec import Struct

#: The Durable extension's request/response header carrying the continuation token (``HttpApiHandler.cs``).
CONTINUATION_HEADER = "x-ms-continuation-token"
#: Instances asked for per page (``top``; the extension's default is the same 100).
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


class Listing(Struct, frozen=True):
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
    # the SDK formats a datetime as '%Y-%m-%dT%H:%M:%S.%fZ' without converting it: hand it UTC
    created_time_from, created_time_to = _utc(created_time_from), _utc(created_time_to)
    base_url = getattr(getattr(client, "_orchestration_bindings", None), "rpc_base_url", None)
    if base_url is None:  # not the SDK's client (an in-memory double of it): its get_status_by is one whole page
        listed = await client.get_status_by(created_time_from=created_time_from, created_time_to=created_time_to,
                                            runtime_status=statuses, instance_id_prefix=instance_id_prefix)
        return Listing(tuple(listed or ()), True, 1)
    options = RpcManagementOptions(created_time_from=created_time_from, created_time_to=created_time_to,
                                   runtime_status=statuses, instance_id_prefix=instance_id_prefix)
    url = options.to_url(base_url)
    url += ("&" if "?" in url else "?") + f"top={int(page_size)}&showInput=false"
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


def _utc(moment: datetime | None) -> datetime | None:
    """``moment`` in UTC (a naive one is taken as UTC already), or None."""
    from datetime import timezone

    if moment is None or moment.tzinfo is None:
        return moment
    return moment.astimezone(timezone.utc)


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
