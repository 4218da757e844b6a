"""RT19-05: a delivered evaluation window must be the window the alert rule evaluated when the alert fired.

The evidence snapshot keeps the rows of the delivery's ``windowStartTime``/``windowEndTime``
(:func:`runbooks.evidence.incident_window`), so the source check (:func:`firestop.azure.alerts_management.confirm`)
holds them to the rule as read: Azure Monitor evaluates a log search rule's query over its ``windowSize`` (or
``overrideQueryTimeRange`` when set) ending at the evaluation (scheduledQueryRule_API.json 2023-12-01), a metric rule
its metric over ``windowSize`` ending there (metricAlert_API.json 2018-03-01), and the alert it fires is created then
(``startDateTime``; Common Alert Schema ``alertContext.condition.windowStartTime``/``windowEndTime``,
learn.microsoft.com azure-monitor/alerts/alerts-common-schema). Genuine deliveries pass unchanged — their evidence
window stays the one delivered, identical to before — and a copy whose window was moved (after the attack, before
it, shortened) is not confirmed: a responder decides. An activity log alert has no evaluation window: a delivery
giving it one is not the alert either. Pure.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

#: The delivered window's end and the source's ``startDateTime`` are the same evaluation (the alert is written after
#: the query ran: seconds, e.g. ``windowEndTime`` 02:20:00Z, fired 02:20:03.504Z in examples/alerts/content-abuse.json);
#: allowed apart, either way (seconds): the source check's clock skew (alerts_management.SKEW_SECONDS).
END_TOLERANCE_SECONDS = 300
#: The delivered window's length and the rule's window may differ by this much (seconds): Azure aligns windows to
#: the minute.
LENGTH_TOLERANCE_SECONDS = 60


def _seconds(value: Any) -> float | None:
    from firestop.azure.monitor_source import window_seconds

    return window_seconds(value)


def window_differs(alert: dict[str, Any], rule: dict[str, Any], started: datetime | None) -> str | None:
    """None when ``alert`` (the incident input's alert JSON: ``window_start``/``window_end`` ISO 8601 or absent) gives
    no window, or the window ``rule`` (its ARM JSON) evaluated when the alert fired at ``started`` (the source's
    ``startDateTime``); else why not (the delivery is not the alert that fired)."""
    from firestop.azure.alerts_management import _time

    start, end = _time(alert.get("window_start")), _time(alert.get("window_end"))
    given = alert.get("window_start") is not None or alert.get("window_end") is not None
    if not given:
        return None  # the evidence falls back to its lookback before the (compared) firing time
    kind = str(rule.get("type") or rule.get("id") or "").lower()
    if "activitylogalerts" in kind:
        return "the delivery gives an evaluation window, which an activity log alert does not have"
    if start is None or end is None or started is None:
        return "the delivery's evaluation window is incomplete or unreadable (windowStartTime, windowEndTime)"
    props = rule.get("properties") if isinstance(rule.get("properties"), dict) else {}
    lengths = [s for s in (_seconds(props.get("windowSize")), _seconds(props.get("overrideQueryTimeRange"))) if s]
    if not lengths:
        return "the alert rule's windowSize cannot be read: the delivered evaluation window cannot be confirmed"
    length = (end - start).total_seconds()
    if not any(abs(length - s) <= LENGTH_TOLERANCE_SECONDS for s in lengths):
        return (f"the delivered evaluation window lasts {int(length)} s, the alert rule's window "
                f"{' or '.join(str(int(s)) for s in lengths)} s")
    if abs((end - started).total_seconds()) > END_TOLERANCE_SECONDS:
        return (f"the delivered evaluation window ends {int((end - started).total_seconds())} s from when the alert fired "
                f"(windowEndTime {end.isoformat()}, startDateTime {started.isoformat()})")
    return None
