"""Would the sandbox tenant serve a request? For callers that would rather not send what it cannot answer.

``unserved(method, target) -> str | None``: ``target`` is an ARM path (``/subscriptions/…``, sent to
``management.azure.com``) or a full ``https://`` URL; the answer is None when a room routes it, else
the reason (the audit reports it as "not evaluable" instead of drawing a 501). Pure over the rooms'
route table (:func:`firestop.sandbox.core.rooms.table_routes`: no room is imported); no tenant state is read.
"""

from __future__ import annotations

from functools import lru_cache

from .core.rooms import table_routes
from .core.router import Router
from .core.wire import SandboxRequest


@lru_cache(maxsize=1)
def _router() -> Router:
    return Router(table_routes())


def unserved(method: str, target: str) -> str | None:
    url = target if target.startswith("https://") else f"https://management.azure.com{target}"
    if url.startswith("https://management.azure.com") or ".vault.azure.net" in url:
        route, _ = _router().match(SandboxRequest(method, url, {}))
        if route is None:
            return f"the sandbox tenant does not model {method} {target.split('?')[0]} yet"
    return None
