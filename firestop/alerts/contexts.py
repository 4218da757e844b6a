"""Typed views of ``data.alertContext``, chosen by ``essentials.monitoringService``.

The raw dict is always kept (``raw``); a context that does not fit its typed
model, or an unknown ``monitoringService``, gives :class:`UnknownContext`.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["AlertContext", "UnknownContext", "parse_context"]


class UnknownContext(BaseModel):
    """An alertContext Firestop has no typed model for (kept raw)."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["unknown"] = "unknown"
    raw: dict[str, Any] = Field(default_factory=dict)


AlertContext = UnknownContext


def parse_context(monitoring_service: str | None, raw: dict[str, Any]) -> AlertContext:
    """Typed view of ``raw`` for ``monitoring_service``; never raises."""
    return UnknownContext(raw=raw if isinstance(raw, dict) else {})
