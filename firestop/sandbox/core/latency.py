"""Latency model: simulated seconds each operation "takes" on the service side.

When the sandbox answers a request it advances the tenant's virtual clock by
``latency[operation]`` (request arrival is the instant the handler sees).
Values are sandbox assumptions chosen to be plausible, not measurements. The
ARM PATCH LRO duration (``accounts.update.lro`` = 20 s) lies inside what Azure's
operation-status bodies report (``startTime`` -> ``endTime``) for ``networkAcls``
PATCHes of a Cognitive Services account in azure-cli's recorded tests
(``src/azure-cli/azure/cli/command_modules/cognitiveservices/tests/latest/recordings/test_cognitiveservices_network_rules.yaml``):

* 2022 (api-version 2022-03-01; corpus ``arm/cognitiveservices/recorded/azure-cli-network-rules-patch-lro.json``):
  two ``ipRules`` PATCHes, ``startTime`` = ``endTime`` (under a second); the first
  poll came ~30 s later only because the CLI polls every 30 s;
* 2024 (api-version 2023-05-01, azure-cli commit 01081b3): an ``ipRules`` PATCH
  31 s (04:35:11 -> 04:35:42, status ``Updating`` while running) and a virtual
  network rule 33 s (04:36:03 -> 04:36:36, its 202 itself took 11.7 s).

No answer (202, status polls) carried ``Retry-After``, so clients poll at their own
interval (Firestop's 0.5 s: ~40 polls of a 20 s PATCH, :mod:`firestop.azure.clients`).
Checked for issue 18's start-up target (startup18b): 20 s is not less faithful than
Azure, so it stays (a shorter one would make ``alert handle`` look faster than it is
on Azure, where the same PATCH takes 0-33 s).

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
