"""The Durable SDK's HTTP helpers (``azure.durable_functions.models.utils.http_utils``), loaded on first use.

Why: importing the SDK (``import azure.durable_functions``) imports its client module
(``models/DurableOrchestrationClient.py``), which imports ``http_utils``, which imports aiohttp; aiohttp's
``connector`` module builds two TLS contexts at import (``_make_ssl_context(True)`` and ``(False)``, each
loading the system CA bundle). That is about a quarter of the imports ``alert handle`` adds to
``--help`` (``python -X importtime``; ``bench/intake.py startup``), for HTTP the local host never does:
it drives orchestrators, entities and activities in-process. The client's HTTP is used only by
HTTP-triggered functions (``firestop serve``, ``invoke_http_function``), and the first such call loads
the real module.

How: :func:`defer` registers a stand-in module under the SDK module's name before the SDK is imported.
It offers the three coroutines the client module imports (``get_async_request``, ``post_async_request``,
``delete_async_request``, azure-functions-durable 1.x) as thin coroutines that load the real module and
await its function with the same arguments; any other attribute loads it too. Loading (:func:`module`)
drops the stand-in and imports the SDK's own file by its own name, so from then on ``sys.modules`` and
the package attribute hold the SDK's module, unchanged: its session, retries and error handling are the
SDK's. No SDK file is patched and no SDK function is replaced by other behaviour.

Code that reads or sets the SDK's module state (``_client_session``: :mod:`firestop.runtime.inprocess`,
the worker loop's exit hook in :mod:`firestop.runtime.management`) gets the module with :func:`module`,
never through ``from ... import http_utils`` (which could hand back the stand-in).

When the SDK was imported before :func:`defer` runs (e.g. the Functions host imported ``function_app``
first) nothing is deferred.
"""

from __future__ import annotations

import importlib
import sys
import threading
import types
from typing import Any

#: The SDK module deferred (azure-functions-durable 1.x).
NAME = "azure.durable_functions.models.utils.http_utils"
#: What ``DurableOrchestrationClient`` imports from it.
_COROUTINES = ("get_async_request", "post_async_request", "delete_async_request")

_lock = threading.RLock()


class _Deferred(types.ModuleType):
    """Stands in for the SDK's ``http_utils`` until something needs it; then :func:`module` replaces it."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):  # the import system's probes (__path__, __file__…) never load aiohttp
            raise AttributeError(name)
        return getattr(module(), name)


def _forwarder(name: str):
    async def forward(*args: Any, **kwargs: Any) -> Any:
        return await getattr(module(), name)(*args, **kwargs)

    forward.__name__ = forward.__qualname__ = name
    forward.__doc__ = f"The SDK's ``http_utils.{name}``, loaded on first call."
    return forward


def defer() -> bool:
    """Register the stand-in when neither the SDK nor its ``http_utils`` is imported yet; True when it did."""
    with _lock:
        if "azure.durable_functions" in sys.modules or NAME in sys.modules:
            return False
        standin = _Deferred(NAME, __doc__)
        for name in _COROUTINES:
            setattr(standin, name, _forwarder(name))
        sys.modules[NAME] = standin
        return True


def deferred() -> bool:
    """True while the stand-in holds the SDK module's place (aiohttp not loaded through it)."""
    return isinstance(sys.modules.get(NAME), _Deferred)


def module() -> types.ModuleType:
    """The SDK's own ``http_utils`` module, imported now if only the stand-in was there."""
    with _lock:
        current = sys.modules.get(NAME)
        if current is not None and not isinstance(current, _Deferred):
            return current
        sys.modules.pop(NAME, None)
        try:
            return importlib.import_module(NAME)
        except BaseException:
            if current is not None and NAME not in sys.modules:
                sys.modules[NAME] = current  # leave things as they were; the error reaches the caller
            raise
