"""Local durable host: runs ``function_app.py`` orchestrations without Azure.

The host drives the app's orchestrators through the Durable Functions Python
SDK's own entry point (``Orchestrator.create(fn)`` → ``handle(context)``) with
the context JSON and history events the Durable extension would send, replays
the returned actions like the extension's ``OutOfProcOrchestrationShim`` and
DurableTask.Core, and keeps state in SQLite. See ``host.py``; durable
entities in ``entities.py``, activities' output bindings in ``bindings.py``.
"""

from .errors import (
    DurableHostError,
    FunctionNotFound,
    InstanceAlreadyExists,
    InstanceNotFound,
    NonDeterminismError,
    UnsupportedAction,
)
from .host import LocalDurableHost
from .management import ManagementServer, invoke_http_function
from .status import OrchestrationStatus

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
