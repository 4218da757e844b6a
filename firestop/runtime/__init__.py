"""Local durable host: runs ``function_app.py`` orchestrations without Azure.

The host drives the app's orchestrators through the Durable Functions Python
SDK's own entry point (``Orchestrator.create(fn)`` → ``handle(context)``) with
the context JSON and history events the Durable extension would send, replays
the returned actions like the extension's ``OutOfProcOrchestrationShim`` and
DurableTask.Core, and keeps state in SQLite. See ``host.py``; durable
entities in ``entities.py``, activities' output bindings in ``bindings.py``.

``ManagementServer`` and ``invoke_http_function`` (``management.py``, which imports aiohttp for the
in-process connector) load on first use (PEP 562 module ``__getattr__``): a CLI command that only drives
the host (``alert handle``) does not import aiohttp through them.
"""

from . import sdk_http, sdk_werkzeug

sdk_http.defer()  # the Durable SDK's aiohttp helpers load on first HTTP use, not with the SDK (sdk_http.py)
sdk_werkzeug.defer()  # werkzeug's dev server and wrappers (its __init__) load on first use (sdk_werkzeug.py)

from .errors import (  # noqa: E402
    DurableHostError,
    FunctionNotFound,
    InstanceAlreadyExists,
    InstanceNotFound,
    NonDeterminismError,
    UnsupportedAction,
)
from .host import LocalDurableHost  # noqa: E402
from .status import OrchestrationStatus  # noqa: E402

#: Names loaded from ``management.py`` on first access.
_FROM_MANAGEMENT = ("ManagementServer", "invoke_http_function")


def __getattr__(name: str):
    if name in _FROM_MANAGEMENT:
        from . import management

        return getattr(management, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "DurableHostError",
    "FunctionNotFound",
    "InstanceAlreadyExists",
    "InstanceNotFound",
    "LocalDurableHost",
    "ManagementServer",
    "NonDeterminismError",
    "OrchestrationStatus",
    "UnsupportedAction",
    "invoke_http_function",
]
