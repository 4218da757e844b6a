"""What a process that serves requests does once at start: register the secrets no log line may show, and
configure OpenTelemetry as the environment asks (:mod:`firestop.telemetry.otel`)."""

from __future__ import annotations

import os
from typing import Iterable, Mapping

from firestop.telemetry.logs import register_secret

#: Settings whose values are secrets: never in a log line, whatever a client sends.
SECRET_SETTINGS = ("FIRESTOP_SEAL_KEY", "FIRESTOP_SEAL_KEY_RETIRED", "FIRESTOP_FUNCTION_KEY", "FIRESTOP_SYSTEM_KEY", "FIRESTOP_NOTIFY_WEBHOOK_URL",
                   "APPLICATIONINSIGHTS_CONNECTION_STRING")


def start_telemetry(env: Mapping[str, str] | None = None, *, secrets: Iterable[str | None] = ()) -> str | None:
    """Register ``secrets`` and the :data:`SECRET_SETTINGS` values of ``env``, then
    :func:`firestop.telemetry.otel.configure`. Returns where telemetry goes, or None."""
    env = os.environ if env is None else env
    for value in (*secrets, *(env.get(name) for name in SECRET_SETTINGS)):
        register_secret(value)
        for word in (value or "").split()[:8]:  # FIRESTOP_SEAL_KEY_RETIRED holds keys apart (seal17): each a secret
            register_secret(word)
    from firestop.telemetry.otel import configure

    return configure(env)
