"""werkzeug's package ``__init__`` (its re-exports ``run_simple``, ``Client``, ``Request``, ``Response``) run on first use.

Why: ``azure.functions`` (imported with ``function_app.py`` by the local host) needs ``werkzeug.datastructures``
(``Headers``; ``_abc.py``) and, for HTTP triggers, ``werkzeug.formparser`` and ``werkzeug.http``. Importing any
submodule first runs ``werkzeug/__init__.py``, which imports the development server (``werkzeug.serving``:
``http.server``, ``socketserver``, ``html``…), the test client and the request/response wrappers — ~30 ms of
CPU of ``alert handle`` (``time.process_time`` around ``import azure.functions``, 137 → 103 ms, load 10) for
code nothing on the local host calls.

How: :func:`defer` registers werkzeug's own package module (``importlib.util.module_from_spec``: its spec,
``__path__``, ``__file__``) without executing ``__init__.py``, so submodules import as always, from werkzeug's
files. The first access to one of the names ``__init__.py`` re-exports runs ``__init__.py`` in that same module
object (from then on it is the ordinary package module, nothing replaced); a submodule named as an attribute
(``from werkzeug import http``) is imported by itself. Nothing is deferred when werkzeug is already imported or
its ``__init__.py`` does anything besides ``from .submodule import name`` (another werkzeug version): then the
package imports as usual.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import sys
import threading
import types
from typing import Any

NAME = "werkzeug"

_lock = threading.RLock()


class _Deferred(types.ModuleType):
    """werkzeug's package module before its ``__init__.py`` ran (see the module docstring)."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):  # the import system's probes never run __init__.py
            raise AttributeError(name)
        if name not in self.__dict__.get("_firestop_exports", ()):
            try:  # ``from werkzeug import http``: the submodule alone
                return importlib.import_module(f"{NAME}.{name}")
            except ModuleNotFoundError as exc:
                if exc.name != f"{NAME}.{name}":
                    raise
        return getattr(load(), name)


def _exports(path: str) -> tuple[str, ...] | None:
    """The names ``__init__.py`` at ``path`` binds when it only does ``from .submodule import name [as name]``;
    None when it does anything else (or cannot be read)."""
    try:
        with open(path, encoding="utf-8") as fh:
            tree = ast.parse(fh.read(), path)
    except (OSError, SyntaxError, ValueError):
        return None
    names: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            continue  # a docstring
        if not (isinstance(node, ast.ImportFrom) and node.level == 1 and node.module):
            return None
        names.extend(alias.asname or alias.name for alias in node.names)
    return tuple(names)


def defer() -> bool:
    """Register werkzeug's package module with ``__init__.py`` not yet run; True when it did (see above)."""
    with _lock:
        if NAME in sys.modules:
            return False
        spec = importlib.util.find_spec(NAME)
        if spec is None or spec.origin is None or spec.loader is None or not spec.submodule_search_locations:
            return False
        exports = _exports(spec.origin)
        if exports is None:
            return False
        module = importlib.util.module_from_spec(spec)
        module.__class__ = _Deferred
        module._firestop_exports = exports
        sys.modules[NAME] = module
        return True


def deferred() -> bool:
    """True while werkzeug's ``__init__.py`` has not run in the registered package module."""
    return isinstance(sys.modules.get(NAME), _Deferred)


def load() -> types.ModuleType:
    """werkzeug's package module with its ``__init__.py`` run (now if it had not)."""
    with _lock:
        module = sys.modules[NAME]
        if isinstance(module, _Deferred):
            exports = module.__dict__.pop("_firestop_exports", ())
            module.__class__ = types.ModuleType
            try:
                module.__spec__.loader.exec_module(module)
            except BaseException:
                module.__class__ = _Deferred  # leave it as it was; the error reaches the caller
                module._firestop_exports = exports
                raise
        return module
