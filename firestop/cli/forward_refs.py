"""Each forward reference's text compiled once per process, not once per ``typing.ForwardRef``.

Why: ``typing.ForwardRef(text)`` compiles ``text`` (``compile(text, '<string>', 'eval')``) every time one is made;
pydantic makes one for each string annotation it meets (Firestop's modules use ``from __future__ import
annotations``; pydantic-core's TypedDicts). ``alert handle`` on a fresh FIRESTOP_HOME made 1,127, of 408
distinct texts (``bool`` 138 times, ``str`` 128, ``dict[str, Any]`` 66): 32.5 ms of CPU at load ~7
(``time.process_time`` around each compile).

What: :func:`install` (``python -m firestop``) gives the ``typing`` module a ``compile`` of its own that returns
the code object an earlier identical call returned (code objects are immutable; a ForwardRef keeps its text,
and equality and hashing use the text, never the code object's identity) for that one call shape — a
string, ``'<string>'``, ``'eval'`` — and calls the built-in for anything else. A text that does not compile
raises the same SyntaxError every time (failures are not remembered). At most :data:`MAX_TEXTS` texts are kept
(least recently used first out). Not installed in the Function App or the test suite's in-process CLI runs.
"""

import builtins
import functools
import threading
import typing

#: Distinct forward-reference texts remembered (a CLI run makes ~400).
MAX_TEXTS = 4096

_lock = threading.Lock()
_installed = False


@functools.lru_cache(maxsize=MAX_TEXTS)
def _compiled(text: str):
    return builtins.compile(text, "<string>", "eval")


def compile(source, filename, mode, *args, **kwargs):  # noqa: A001 - typing's name for the built-in
    """``builtins.compile``, remembered for ``(str, '<string>', 'eval')`` with no other arguments."""
    if not args and not kwargs and type(source) is str and filename == "<string>" and mode == "eval":
        return _compiled(source)
    return builtins.compile(source, filename, mode, *args, **kwargs)


def install() -> bool:
    """Give ``typing`` this module's :func:`compile` (idempotent). False when ``typing`` already has a ``compile``
    of its own (another Python's typing, or someone else's)."""
    global _installed
    with _lock:
        if _installed:
            return True
        if "compile" in vars(typing):
            return False
        typing.compile = compile
        _installed = True
        return True


def uninstall() -> None:
    """Take it back (tests)."""
    global _installed
    with _lock:
        if _installed and vars(typing).get("compile") is compile:
            del typing.compile
        _installed = False
        _compiled.cache_clear()
