"""Reading ``os.environ`` on the webhook path without a KeyError per unset name (pure standard library).

``os.environ.get(name)`` on CPython goes through ``Mapping.get``, which calls ``__getitem__`` and catches the
KeyError of an unset name: ~2.4 µs a lookup on the 2-core machine, where a dict lookup is ~0.1 µs. A correlated
alert's webhook read eight settings that are usually unset (the seal key and the three App Service markers, the
two correlation settings, the public URL and host name of the links): 8040 ``Mapping.get`` calls for 1,000 alerts,
7 % of the webhook's Python time (``bench/intake.py hot``, cProfile). Measured again (CPU time, ``timeit`` of the
eight reads side by side, load average 10 on the 2-core machine): 16.6 µs through ``os.environ.get``, 3.8 µs here,
13 µs saved per alert, where ``bench/intake.py throughput`` gives the corpus mix 165 µs an alert in the same run:
8 % — kept. ``tests/unit/test_environ.py`` pins it to ``os.environ.get`` on the interpreter running the tests.

:data:`ENVIRON` answers ``get`` from CPython's own encoded mapping behind ``os.environ`` (``_data``, which
``os.environ[name] = value``, ``del os.environ[name]``, ``putenv`` through them, and pytest's ``monkeypatch``
keep in step), so every change made through ``os.environ`` is seen at the next call. When ``os.environ`` is not
CPython's ``os._Environ`` (replaced by a plain mapping) it is read with its own ``get``.
"""

from __future__ import annotations

import os
from typing import Any

__all__ = ["ENVIRON", "environ_get"]

# (the os.environ object, name -> its encoded key): encodekey is os.environ's own, fixed per object
_keys: "tuple[Any, dict[str, Any]] | None" = None
_MAX_KEYS = 256  # names are constants of the code; bounded anyway


def environ_get(name: str, default: str | None = None) -> str | None:
    """``os.environ.get(name, default)``, without raising and catching a KeyError when ``name`` is unset."""
    global _keys
    env = os.environ
    data = getattr(env, "_data", None)
    if not isinstance(env, os._Environ) or not isinstance(data, dict):
        return env.get(name, default)
    kept = _keys
    if kept is None or kept[0] is not env:
        kept = _keys = (env, {})
    keys = kept[1]
    key = keys.get(name)
    if key is None:
        key = env.encodekey(name)
        if len(keys) < _MAX_KEYS:
            keys[name] = key
    raw = data.get(key)
    return default if raw is None else env.decodevalue(raw)


class _Environ:
    """``os.environ`` for readers that only call ``get`` (the ``env`` parameters of settings readers)."""

    __slots__ = ()

    def get(self, name: str, default: str | None = None) -> str | None:
        return environ_get(name, default)


#: Stands in for ``os.environ`` where only ``get`` is called.
ENVIRON = _Environ()
