"""Intake: what happens to a parsed alert — dedupe, correlation, start or notify.

Parsing lives in :mod:`firestop.alerts`; this package decides, given the
Durable client, whether a delivery starts an incident, repeats one, joins an
open incident (event ``alert_correlated``) or reaches it as ``alert_resolved``
— one incident per correlation key across any number of workers (deterministic
per-key incident ids started if absent; :mod:`firestop.intake.accept`).

Public API::

    from firestop.intake import accept_alert, CorrelationSettings, Outcome, IntakeUnavailable
"""

from firestop.intake.accept import OPEN_STATUSES, IntakeUnavailable, Outcome, OutcomeKind, accept_alert, target_ids_of_input
from firestop.intake.correlation import (
    DEFAULT_WINDOW_SECONDS,
    KEY_ENV,
    WINDOW_ENV,
    CorrelationConfigError,
    CorrelationKey,
    CorrelationSettings,
    OpenIncident,
    correlation_keys,
    find_incident,
    slot_id,
)
from firestop.intake.events import (
    EVENT_CORRELATED,
    EVENT_RESOLVED,
    SAMPLE_SIZE,
    alert_summary,
    correlated_batch,
    correlated_event,
    resolved_event,
)

__all__ = [
    "CorrelationConfigError",
    "CorrelationKey",
    "CorrelationSettings",
    "DEFAULT_WINDOW_SECONDS",
    "EVENT_CORRELATED",
    "EVENT_RESOLVED",
    "IntakeUnavailable",
    "KEY_ENV",
    "OPEN_STATUSES",
    "OpenIncident",
    "Outcome",
    "OutcomeKind",
    "WINDOW_ENV",
    "accept_alert",
    "correlated_event",
    "correlation_keys",
    "find_incident",
    "resolved_event",
    "slot_id",
    "SAMPLE_SIZE",
    "alert_summary",
    "correlated_batch",
    "target_ids_of_input",
]
