"""The httpx transport that answers in-process from a sandbox tenant (for SDKs that speak httpx).

msgraph-sdk (Microsoft Graph) sends through an ``httpx.AsyncClient``, not azure-core;
give it ``tenant.httpx_transport`` (a fresh :class:`SandboxHttpxTransport`) as the
client's ``transport=`` and its own middleware (auth, retries, redirects, telemetry)
runs unchanged: only the network hop is replaced, as with
:class:`~firestop.sandbox.core.transport.SandboxTransport` for azure-core.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx

from .wire import SandboxRequest

if TYPE_CHECKING:  # pragma: no cover
    from ..tenant import Tenant


class SandboxHttpxTransport(httpx.AsyncBaseTransport):
    """``httpx.AsyncBaseTransport`` bound to one tenant; requests are answered synchronously in process."""

    def __init__(self, tenant: "Tenant") -> None:
        self._tenant = tenant

    def answer(self, request: httpx.Request) -> httpx.Response:
        body = request.content if request.content is not None else b""
        sandbox_request = SandboxRequest(method=request.method, url=str(request.url),
                                         headers={k: v for k, v in request.headers.items()}, body=body)
        answer = self._tenant.handle(sandbox_request)
        data, headers = answer.encoded()
        return httpx.Response(answer.status, headers=headers, content=data, request=request)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        return self.answer(request)

    async def aclose(self) -> None:
        pass
