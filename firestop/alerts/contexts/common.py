"""Pieces shared by the typed contexts: the raw-keeping base, dimensions,
failing periods, and :class:`UnknownContext`."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from firestop.alerts.contexts.lenient import LenientInt, LenientText, _dicts, _list, _Model, _nested_tuple

class Dimension(_Model):
    """``{"name": …, "value": …}`` (value as text)."""

    name: LenientText = None
    value: LenientText = None


Dimensions = _nested_tuple(Dimension)


def _event_rows(value: Any) -> list[list[dict[str, Any]]]:
    rows = _list(value)
    if rows and all(isinstance(r, dict) for r in rows):  # a single flat row
        return [rows]
    return [_dicts(row) for row in rows if isinstance(row, list)]


class FailingPeriods(_Model):
    number_of_evaluation_periods: LenientInt = Field(default=None, alias="numberOfEvaluationPeriods")
    min_failing_periods_to_alert: LenientInt = Field(default=None, alias="minFailingPeriodsToAlert")


class _Ctx(_Model):
    raw: dict[str, Any] = Field(default_factory=dict)
    """The alertContext exactly as sent."""



class UnknownContext(_Ctx):
    """An alertContext without a typed model (unknown service, or it did not fit)."""

    kind: Literal["unknown"] = "unknown"
    reason: str | None = None

