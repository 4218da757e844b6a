"""Latency model: simulated seconds each operation "takes" on the service side.

When the sandbox answers a request it advances the tenant's virtual clock by
``latency[operation]`` (request arrival is the instant the handler sees).
Values are sandbox assumptions chosen to be plausible, not measurements; the
ARM PATCH LRO duration (``accounts.update.lro`` ≈ 20 s) is in the range of the
recorded azure-cli network-rules PATCH (corpus
``arm/cognitiveservices/recorded/azure-cli-network-rules-patch-lro.json``,
status Succeeded ~30 s after the 202).

Each room declares the defaults of its operations (``Room(name, latency={...})``
in the room's ``__init__``; :func:`default_latency` merges them). Override per
tenant with a ``latency:`` mapping in the seed file (same keys; values seconds,
>= 0). Keys ending in ``.lro`` are long-running-operation durations (start of
the request -> operation completes), not per-request costs.
"""

from __future__ import annotations

from typing import Mapping

#: Seconds charged for requests no route answers (the 501s).
UNROUTED_LATENCY_S = 0.0


def default_latency() -> dict[str, float]:
    """Every room's default latency table merged (operation or ``*.lro`` key -> simulated seconds)."""
    from .rooms import default_latency as merged_rooms

    return merged_rooms()


def merged_latency(overrides: Mapping[str, float] | None) -> dict[str, float]:
    """Defaults updated with ``overrides``; rejects negative or non-numeric values."""
    table = default_latency()
    for key, value in (overrides or {}).items():
        seconds = float(value)
        if seconds < 0:
            raise ValueError(f"latency for {key!r} must be >= 0 seconds, got {value!r}")
        table[str(key)] = seconds
    return table
