"""Fresh empty containers for pydantic's ``Field(default_factory=...)``: :func:`new_list`, :func:`new_dict`.

Why not ``default_factory=list``: pydantic asks whether a default factory takes the validated data
(``pydantic._internal._fields.takes_validated_data_argument``: ``inspect.signature`` of the factory) once or twice
per field when a model class is built. A builtin's signature is parsed from its ``__text_signature__`` with
``tokenize`` and ``ast`` (~50 us each, timeit, Python 3.11; and the first one compiles ``tokenize``'s token
regular expression, ~1.6 ms); a Python function's is read from its code object (~3.5 us). ``alert handle`` builds
~30 models with such fields at start-up (``bench/startup_parts.py``). Each call returns a new object, as
``list()``/``dict()`` do, so instances never share a default.
"""

from __future__ import annotations

from typing import Any

__all__ = ["new_dict", "new_list"]


def new_list() -> list[Any]:
    """A new empty list."""
    return []


def new_dict() -> dict[Any, Any]:
    """A new empty dict."""
    return {}
