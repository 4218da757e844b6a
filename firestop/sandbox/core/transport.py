"""The azure-core transport that answers in-process from a sandbox tenant.

Pass ``tenant.transport`` as ``transport=`` to any real Azure SDK client. The
SDK's own pipeline (request building, auth policies, retries, LRO polling)
runs unchanged; only the network hop is replaced. ``sleep(seconds)`` advances
the tenant's virtual clock instead of sleeping, so retry back-off,
``Retry-After`` and polling intervals cost no wall time (unless the tenant's
``realtime_factor`` is > 0, for live demos).

Responses are ``azure.core.rest.HttpResponse`` implementations for
``azure.core.rest.HttpRequest`` (what current generated SDKs send) and legacy
``azure.core.pipeline.transport.HttpResponse`` objects for legacy requests,
matching what azure-core's own ``RequestsTransport`` does (see
``azure/core/pipeline/transport/_requests_basic.py``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterator

from azure.core.pipeline.transport import HttpResponse as LegacyHttpResponse
from azure.core.pipeline.transport import HttpTransport
from azure.core.rest import HttpRequest as RestHttpRequest
from azure.core.rest._http_response_impl import HttpResponseImpl
from azure.core.utils import case_insensitive_dict

from .wire import REASONS, SandboxRequest

if TYPE_CHECKING:  # pragma: no cover
    from ..tenant import Tenant


class _NoConnection:
    """Stand-in for the socket-level response object azure-core closes."""

    def close(self) -> None:
        pass


class _RestResponse(HttpResponseImpl):
    """``azure.core.rest.HttpResponse`` whose body is already in memory."""

    def __init__(self, request: Any, status: int, headers: dict[str, str], body: bytes) -> None:
        def _stream(response: Any = None, pipeline: Any = None, decompress: bool = True, **kw: Any) -> Iterator[bytes]:
            yield body

        super().__init__(
            request=request,
            internal_response=_NoConnection(),
            status_code=status,
            reason=REASONS.get(status, "Unknown"),
            content_type=headers.get("Content-Type"),
            headers=case_insensitive_dict(headers),
            stream_download_generator=_stream,
        )
        self._content = body


class _LegacyResponse(LegacyHttpResponse):
    """Legacy ``azure.core.pipeline.transport.HttpResponse`` with an in-memory body."""

    def __init__(self, request: Any, status: int, headers: dict[str, str], body: bytes) -> None:
        super().__init__(request, _NoConnection())
        self.status_code = status
        self.headers = case_insensitive_dict(headers)
        self.reason = REASONS.get(status, "Unknown")
        self.content_type = headers.get("Content-Type")
        self._body = body

    def body(self) -> bytes:
        return self._body

    def stream_download(self, pipeline: Any, **kwargs: Any) -> Iterator[bytes]:
        yield self._body


class SandboxTransport(HttpTransport):
    """In-process ``HttpTransport`` bound to one :class:`~firestop.sandbox.tenant.Tenant`.

    Safe to share between clients and threads; ``open``/``close`` are no-ops so
    a client closing "its" transport does not break the others.
    """

    def __init__(self, tenant: "Tenant") -> None:
        self._tenant = tenant

    def send(self, request: Any, **kwargs: Any) -> Any:
        answer = self._tenant.handle(SandboxRequest.from_azure(request))
        body, headers = answer.encoded()
        if isinstance(request, RestHttpRequest):
            return _RestResponse(request, answer.status, headers, body)
        return _LegacyResponse(request, answer.status, headers, body)

    def httpx_transport(self) -> Any:
        """An httpx transport answering from the same tenant, for SDKs that speak httpx (msgraph-sdk):
        :class:`firestop.sandbox.core.httpx_transport.SandboxHttpxTransport`."""
        from .httpx_transport import SandboxHttpxTransport

        return SandboxHttpxTransport(self._tenant)

    def open(self) -> None:
        pass

    def close(self) -> None:
        pass

    def __enter__(self) -> "SandboxTransport":
        return self

    def __exit__(self, *args: Any) -> None:
        pass

    def sleep(self, duration: float) -> None:
        """Advance the tenant's virtual clock by ``duration`` seconds.

        Blocks only when the tenant's ``realtime_factor`` is > 0 (live demos), and
        then for ``duration × realtime_factor`` wall seconds.
        """
        if duration and duration > 0:
            self._tenant.clock.advance(duration)
            self._tenant._real_wait(duration)
