"""Make the Durable SDK's replay cheaper without changing what it computes.

The SDK builds a ``HistoryEvent`` for every history event on every episode and
parses each ``Timestamp`` with ``dateutil.parser.parse`` (about 30 µs each).
An orchestration replays its whole history at each episode, so for 100
sequential activities that is ~20,000 parses — most of an episode's cost
(see ``bench/runtime.py``).

:func:`install` replaces the name ``dt_parse`` in the SDK module
``azure.durable_functions.models.history.HistoryEvent`` with a memoised
wrapper of the *same* ``dateutil`` function: a string seen before returns the
datetime ``dateutil`` returned for it the first time (datetimes are
immutable, so sharing them is safe). Only complete ISO-8601 timestamps with a
zone (``Z`` or ``±hh:mm``) are memoised — for those ``dateutil``'s result
depends on the string alone; anything else goes straight to ``dateutil``.
So the SDK's replay computes exactly what it computed before, only faster.

The same memo serves the SDK client's ``DurableOrchestrationStatus`` (``createdTime``/``lastUpdatedTime`` of
every ``get_status``, through its own ``dt_parse`` name): intake reads an open incident's status for about
every other alert of a storm, and the two dateutil parses were a tenth of a serve process's CPU per webhook.

Process-wide and idempotent; :func:`uninstall` restores the original.
"""

from __future__ import annotations

import functools
import importlib
import re
import threading
from typing import Any, Callable

_SDK_MODULE = "azure.durable_functions.models.history.HistoryEvent"
#: Every SDK module whose ``dt_parse`` name gets the memo (history replay; the client's status answers).
_SDK_MODULES = (_SDK_MODULE, "azure.durable_functions.models.DurableOrchestrationStatus")
_FULL_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,7})?(?:Z|[+-]\d{2}:\d{2})\Z")
#: Distinct timestamps kept (an episode writes a handful; 64k covers
#: thousands of long orchestrations). ~150 bytes each.
CACHE_SIZE = 1 << 16

_lock = threading.Lock()
_original: Callable[..., Any] | None = None


def install() -> None:
    """Memoise the SDK's timestamp parsing in every module of :data:`_SDK_MODULES` (idempotent, thread-safe)."""
    global _original
    with _lock:
        modules = [importlib.import_module(name) for name in _SDK_MODULES]
        if all(getattr(m.dt_parse, "firestop_memoised", False) for m in modules):
            return
        original = _original or modules[0].dt_parse
        memo = functools.lru_cache(maxsize=CACHE_SIZE)(original)
        match = _FULL_TIMESTAMP.match

        def dt_parse(timestr: Any, *args: Any, **kwargs: Any) -> Any:
            if not args and not kwargs and isinstance(timestr, str) and match(timestr):
                return memo(timestr)
            return original(timestr, *args, **kwargs)

        dt_parse.firestop_memoised = True  # type: ignore[attr-defined]
        dt_parse.cache_info = memo.cache_info  # type: ignore[attr-defined]
        _original = original
        for module in modules:
            module.dt_parse = dt_parse


def uninstall() -> None:
    """Put the SDK's own ``dt_parse`` back (no-op if not installed)."""
    global _original
    with _lock:
        if _original is not None:
            for name in _SDK_MODULES:
                importlib.import_module(name).dt_parse = _original
            _original = None


def installed() -> bool:
    """True if the SDK's timestamp parsing is memoised in this process."""
    return all(getattr(importlib.import_module(name).dt_parse, "firestop_memoised", False) for name in _SDK_MODULES)
