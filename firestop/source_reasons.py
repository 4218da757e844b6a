"""Why an alert was (not) confirmed at its source, as a code: the confirm activity's ``"code"`` beside its ``"why"``
text, so what reads the result — the ``alert.genuine`` card's "Check first" advice
(:func:`firestop.lifecycle.cli_hints.unconfirmed_hint`) — chooses by the code, never by the words (the design rule:
never branch on message text). Pure; importable by every layer (the confirmers in ``firestop/azure`` set the codes,
``firestop/lifecycle`` reads them).

The one list of codes: a confirmer that adds a reason adds its code here (and, when a responder must check
something other than "is the alert at its source", its advice in :data:`ADVICE`). A result without a code — an
activity result recorded before codes existed, replayed from an orchestration's history — falls back to the
reason's words (:func:`firestop.lifecycle.cli_hints.unconfirmed_hint`).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class Reason(StrEnum):
    """The confirm activity's ``code`` (``{"confirmed", "why", "code"}``)."""

    CONFIRMED = "confirmed"
    #: the source has no such alert (404), or the delivery names none it could read
    NOT_FOUND = "not_found"
    #: the alert is at its source, but a field of the delivery differs (firing time, severity, condition, target …)
    DIFFERS = "differs"
    #: the alert rule the source names cannot be read, or the delivery's route is not one the rule sends
    RULE = "rule"
    #: a log search rule's delivered dimension values (caller, deployment, consumer) not confirmed by its own query
    LOG_DIMENSIONS = "log_dimensions"
    #: a metric rule's delivered dimension value not confirmed in the rule's metric
    METRIC_DIMENSIONS = "metric_dimensions"
    #: an activity log rule's delivered caller, principal claims or client IP not found in the Activity Log event it
    #: names (verify13, firestop/azure/activity_source.py)
    ACTIVITY_EVENT = "activity_event"
    #: the source alert (or policy state) was already confirmed for another incident: a second delivery of it
    ALREADY_CONFIRMED = "already_confirmed"
    #: the once-marker's name holds an object Firestop did not seal (a storage writer's, or a marker written before
    #: bounds14): the delivery waits, no incident named (the advice: look the alert up at its source)
    MARKER_UNSEALED = "marker_unsealed"
    #: RT17-01: the alert fired for real, from a rule that is none of the routed playbook's detections as deployed
    #: (another query, threshold, window or scope: a customer's own rule, or one anybody with alert-rule write wrote)
    #: and that no admin trusted (firestop.infra.rule_trust, firestop.infra.trusted_rules); or a rule modified at or
    #: after its alert fired, whatever it reads now (A13-09: firestop.infra.rule_trust.changed_after_firing)
    RULE_NOT_TRUSTED = "rule_not_trusted"
    #: A13-09: the alert rule was modified at or after its alert fired (firestop.infra.rule_trust.changed_after_firing):
    #: the rule read now need not be the rule that fired, so neither a detection's match nor an admin's trust counts
    RULE_CHANGED = "rule_changed"
    #: the source could not be read for a lasting reason (401/403, a missing client …): nothing was compared
    UNREADABLE = "unreadable"
    #: the source could not be read *for a passing reason* — throttled (429), a 5xx, a timeout or connection error left
    #: after the SDK's retries (:func:`firestop.azure.errors.passing`): "could not check", not "not confirmed". The
    #: orchestrator tries again after durable timers (:data:`firestop.lifecycle.incident.CHECK_ATTEMPTS`), and a
    #: variant still unchecked then waits on its own decision, not on the incident it would have joined (variants14)
    TRANSIENT = "transient"
    #: trust16: the alert is genuine but was created too long before the check (or after it, past the clock skew
    #: allowed): an old alert delivered now (a replayed or late event) is no reason for automatic containment
    TOO_OLD = "too_old"
    #: the check itself failed (an exception, an unknown source)
    CHECK_FAILED = "check_failed"
    #: A13-08: an audit's drift alert, the previous audit not verifiable (documents Firestop did not seal crowded it
    #: out, RT17-03): every failing finding counts as new, so this one may be a resource open on purpose
    DRIFT_UNVERIFIED = "drift_unverified"
    #: a confirmer that gives no code yet (its advice is the generic "look it up at its source")
    UNCLASSIFIED = "unclassified"


#: What a responder checks first, per code (anything else: look the alert up at its source).
LOOK_UP = "look_up"
RUN_QUERY = "run_query"
OPEN_METRIC = "open_metric"
REDELIVERY = "redelivery"
OPEN_EVENT = "open_event"
CHECK_RULE = "check_rule"
CHECK_RULE_HISTORY = "check_rule_history"
CHECK_DRIFT = "check_drift"
ADVICE: dict[Reason, str] = {
    Reason.DRIFT_UNVERIFIED: CHECK_DRIFT,
    Reason.LOG_DIMENSIONS: RUN_QUERY,
    Reason.METRIC_DIMENSIONS: OPEN_METRIC,
    Reason.ACTIVITY_EVENT: OPEN_EVENT,
    Reason.ALREADY_CONFIRMED: REDELIVERY,
    Reason.RULE_NOT_TRUSTED: CHECK_RULE,
    Reason.RULE_CHANGED: CHECK_RULE_HISTORY,
}


def could_not_check(code: Any) -> bool:
    """Whether ``code`` (a :class:`Reason` or its text) says the check could not be made for a passing reason
    (:attr:`Reason.TRANSIENT`): try again later; the source has not said "not confirmed"."""
    return code_of(code) is Reason.TRANSIENT


def code_of(value: Any) -> Reason | None:
    """The :class:`Reason` of ``value`` (a code as text), None when it names none (older results: no code)."""
    try:
        return Reason(value) if isinstance(value, str) else None
    except ValueError:
        return None


def advice(code: Reason | None) -> str | None:
    """:data:`ADVICE` of ``code``; :data:`LOOK_UP` for a code without its own; None without a code."""
    return None if code is None else ADVICE.get(code, LOOK_UP)


#: The outcome a variant reports to the first incident's tally when its check could not check and it is past the cap
#: of variants waiting on their own decision (cap15: ``firestop.lifecycle.incident.UNCHECKED_VARIANTS_WAITING``): it
#: ended without waiting. Shared by the lifecycle (which reports it) and the record's renderer (which counts it).
UNCHECKED_NOT_WAITING = "could not check, not waiting"
