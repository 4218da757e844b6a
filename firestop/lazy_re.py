"""Module-level regular expressions compiled on first use, not at import.

Why: ``re.compile`` parses and compiles a pattern in Python (``re._parser``, ``re._compiler``) in every process that
imports the module; a character class over wide Unicode ranges, or one under ``re.IGNORECASE``, costs 1-4 M
instructions. ``alert handle`` imports modules whose patterns only other paths use (log lines of the Functions host,
Defender and Sentinel source checks, timer schedules…): 14 such patterns cost ~27 M instructions (callgrind, the
patterns compiled alone against not; Python 3.11), ~1 % of the command.

How: :class:`LazyPattern` stands where the ``re.Pattern`` was bound. The first attribute access (``.search``,
``.sub``, ``.fullmatch``, ``.pattern`` …) compiles it with ``re.compile`` (so ``re``'s own cache and errors apply) and
forwards; it also rebinds every name of ``namespace`` (the defining module's ``globals()``) that held this stand-in to
the compiled pattern, so from then on the module's functions use the ``re.Pattern`` itself, with no forwarding cost.
A name imported elsewhere (``from m import _X``) keeps the stand-in, which keeps forwarding.

Not a ``re.Pattern``: ``isinstance(x, re.Pattern)`` is false and ``re.sub(x, …)`` refuses it; use the methods
(``x.sub(…)``), or :meth:`LazyPattern.compiled`. A pattern that does not compile raises ``re.error`` at first use,
not at import: :data:`made` lists every stand-in made, and the tests compile them all.
"""

from __future__ import annotations

import re
from typing import Any

#: Every stand-in made in this process (the tests compile each: a bad pattern fails there, not on a rare path).
made: list["LazyPattern"] = []


class LazyPattern:
    """``re.compile(pattern, flags)`` done on first use (see the module docstring).

    pattern: the pattern (``str`` or ``bytes``); flags: ``re`` flags; namespace: the defining module's ``globals()``,
    whose names bound to this stand-in are rebound to the compiled pattern at first use (None: nothing rebound).
    Raises ``re.error`` (at first use) for a pattern that does not compile.
    """

    __slots__ = ("_pattern", "_flags", "_namespace", "_compiled")

    def __init__(self, pattern: str | bytes, flags: int = 0, namespace: dict[str, Any] | None = None) -> None:
        self._pattern = pattern
        self._flags = flags
        self._namespace = namespace
        self._compiled: re.Pattern | None = None
        made.append(self)

    def compiled(self) -> re.Pattern:
        """The compiled ``re.Pattern`` (compiled now on first call; later calls return the same object)."""
        compiled = self._compiled
        if compiled is None:
            compiled = self._compiled = re.compile(self._pattern, self._flags)
            namespace, self._namespace = self._namespace, None
            if namespace is not None:
                for name in [name for name, value in namespace.items() if value is self]:
                    namespace[name] = compiled
        return compiled

    @property
    def is_compiled(self) -> bool:
        """Whether the pattern was compiled yet (for tests and measurements)."""
        return self._compiled is not None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.compiled(), name)

    def __repr__(self) -> str:
        state = "compiled" if self._compiled is not None else "not compiled yet"
        return f"LazyPattern({self._pattern!r}, {self._flags!r}; {state})"
