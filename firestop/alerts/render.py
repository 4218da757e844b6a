"""``render_alert_rows``: an :class:`Alert` as ``(field, value)`` text rows.

Pure; the CLI's ``alert show`` prints these as a two-column table. Times are
written as every CLI text writes them (:func:`firestop.times.instant`:
``2026-11-29 03:14:02.1 UTC``; ``--json`` keeps ISO 8601); absent values are ``"-"``; lists are joined
with newlines (one item per line); custom properties follow as
``custom:<key>`` rows in key order.
"""

from __future__ import annotations

from datetime import datetime

from firestop.alerts.alert import Alert
from firestop.times import instant

__all__ = ["render_alert_rows", "format_utc"]

_NONE = "-"


def format_utc(value: datetime | None) -> str:
    """``2025-04-15T18:17:12.851000Z`` → ``2025-04-15T18:17:12.851Z``; None → ``"-"``."""
    if value is None:
        return _NONE
    text = value.isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")


def _instant(value: datetime | None) -> str:
    return _NONE if value is None else instant(value)


def _text(value: object) -> str:
    if value is None:
        return _NONE
    text = str(value)
    return text if text.strip() else _NONE


def _lines(values: tuple[str, ...]) -> str:
    return "\n".join(values) if values else _NONE


def render_alert_rows(alert: Alert) -> list[tuple[str, str]]:
    """Rows: Incident, Alert ID, Rule, Rule ID, Severity (``Sev3``), Signal,
    Service, Condition, Fired, Resolved, Window, Targets, Resource type,
    Description, Caller IPs, Operations, Principals, then ``custom:<key>``."""
    severity = _NONE if alert.severity is None else f"Sev{alert.severity}"
    if alert.window_start is None and alert.window_end is None:
        window = _NONE
    else:
        window = f"{_instant(alert.window_start)} → {_instant(alert.window_end)}"
    rows = [
        ("Incident", alert.incident_key),
        ("Alert ID", alert.alert_id),
        ("Rule", _text(alert.rule_name)),
        ("Rule ID", _text(alert.rule_id)),
        ("Severity", severity),
        ("Signal", _text(alert.signal_type)),
        ("Service", _text(alert.monitoring_service)),
        ("Condition", alert.monitor_condition),
        ("Fired", _instant(alert.fired_at)),
        ("Resolved", _instant(alert.resolved_at)),
        ("Window", window),
        ("Targets", _lines(alert.target_ids)),
        ("Resource type", _text(alert.resource_type)),
        ("Description", _text(alert.description)),
        ("Caller IPs", _lines(alert.indicators.caller_ips)),
        ("Operations", _lines(alert.indicators.operation_names)),
        ("Principals", _lines(alert.indicators.principal_ids)),
    ]
    rows.extend((f"custom:{key}", value) for key, value in sorted(alert.custom_properties.items()))
    return rows
