"""Build the orchestration input for a new incident (pure)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from firestop.alerts.alert import alert_input_json
#: COMMON_ALERT_SCHEMA: ``schemaId`` of an Azure Monitor action group's Common Alert Schema webhook (the alerts Alerts
#: Management holds); the Activity Log event reference (verify13) lives beside the other delivered references (RT16-01)
from firestop.alerts.source_refs import (  # noqa: F401 (re-exported)
    COMMON_ALERT_SCHEMA,
    EVENT_REF_KEYS,
    EVENT_REF_TEXT,
    activity_event_ref,
    source_of,
)
from firestop.alerts.times import isoformat
#: The source intake names (``firestop.azure.alerts_management.AZURE_MONITOR``; lifecycle imports no Azure client).
AZURE_MONITOR = "azure-monitor"

#: ``responder_flow`` of the inputs intake writes with ``source_check``
#: (:data:`firestop.lifecycle.incident.GENUINE_FLOW`; lifecycle.start stays free of the orchestrator's imports).
GENUINE_FLOW = 2

#: Variants of one incident that may wait on their own ``alert.genuine`` decision because their check *could not check*
#: (cap15, attack13 A13-05 = review13 R13-02). The forger who holds the webhook key provokes the throttling (each
#: distinct post costs Alerts Management reads), so without a cap each distinct forged content became one more waiting
#: decision and page. The place is counted atomically by the first incident's tally
#: (:func:`firestop.lifecycle.tally.unchecked_place`). 3: a forger fills any cap first, so its size buys nothing against
#: them; it is how many differing contents an honest outage of the source leaves to a one-click decision each (held
#: steps included) — a few, which a responder still weighs side by side — while a forger's posts past them cost one
#: check each (not :data:`firestop.lifecycle.incident.CHECK_ATTEMPTS`) and add no waiting decision. A variant past the
#: cap is not dropped: it ends ``needs_responder`` at once with its own record (its content, ``alert handle FILE
#: --rerun``), and the first incident's record names it and says how many more could not be checked. Intake passes it in
#: the input (``unchecked_cap``): a run replays with the cap it started with.
UNCHECKED_VARIANTS_WAITING = 3

#: At most this many of each indicator (caller IPs, operations, principals) go into the orchestration input
#: (parsing already stops there: firestop.alerts.indicators).
from firestop.alerts.indicators import MAX_INDICATORS


def _drift_unverified(alert) -> int | None:
    """A drift alert's :data:`~firestop.alerts.source_refs.DRIFT_UNVERIFIED_PROPERTY` (an audit of Firestop's own,
    schema :data:`~firestop.alerts.source_refs.AUDIT_SCHEMA`) as a count > 0, else None (any other alert, or a value
    that is not one: bounded to 10**6)."""
    from firestop.alerts.source_refs import AUDIT_SCHEMA, DRIFT_UNVERIFIED_PROPERTY

    if getattr(alert, "schema_id", None) != AUDIT_SCHEMA:
        return None
    value = str((getattr(alert, "custom_properties", None) or {}).get(DRIFT_UNVERIFIED_PROPERTY) or "")[:8]
    return min(int(value), 10**6) if value.isdigit() and int(value) > 0 else None


def incident_input(alert, *, received_at: datetime, sandbox: bool, exercise: bool = False,
                   incident_id: str | None = None, part_of: str | None = None,
                   follows: str | None = None, source_check: bool = False,
                   variant_of: str | None = None, pending_joins: bool = False) -> dict[str, Any]:
    """The :class:`~firestop.lifecycle.incident.IncidentInput` JSON for ``alert`` (a parsed ``Alert``, or the
    webhook's ``IntakeAlert``: :func:`firestop.alerts.alert.alert_input_json` reads either).

    ``incident_id``: the instance ID it starts under (intake: the resource's slot,
    :func:`firestop.intake.slot_id`); default the alert's own ``incident_key``.
    ``part_of``: the attack's incident this one is a part of (intake found one of another playbook on the
    same resource, :mod:`firestop.intake.accept`); recorded, changes nothing the playbook does.
    ``follows``: the held incident of the same route this alert reports new activity after (intake,
    :mod:`firestop.intake.coverage`); recorded, changes nothing the playbook does.
    ``source_check``: ``FIRESTOP_ALERT_SOURCE_CHECK`` is on (:func:`firestop.settings.alert_source_check_enabled`): a
    Common Alert Schema alert's input then carries ``"source_check": "azure-monitor"`` and the orchestrator reads the
    alert from Alerts Management before any automatic step (not confirmed: every step waits for a responder) — an
    Activity Log alert's with ``"source_ref"``: the delivered event (:func:`activity_event_ref`, verify13); a
    Defender for Cloud alert's carries ``"source_check": "defender"`` and a Sentinel incident's ``"sentinel"``, with
    ``"source_ref"``: the delivered ARM id of the alert / incident once its shape is checked
    (:func:`firestop.alerts.source_refs.source_of`; absent when the delivery names none: not confirmed). Decided
    here, at intake, so an orchestration started before the check existed replays as it ran. With ``source_check``
    the input also carries ``"responder_flow": 2`` (:data:`GENUINE_FLOW`): an alert not confirmed then waits for one
    "alert genuine" decision (:func:`firestop.lifecycle.incident.genuine_gate`); an input without it (older ones)
    keeps the approval per step it ran with.
    ``variant_of`` (with ``source_check``): intake gave this delivery an incident of its own instead of joining
    ``variant_of``, which was not confirmed at its source (:func:`firestop.intake.accept._variant`); not confirmed
    either, this one ends after its check and the responder decides in ``variant_of`` (variants13); it reports how
    its check ended to ``variant_of``'s tally (``variant_reports``, variants14: named in that record, its alert counted
    once; ``variant_of`` ended, it asks a responder itself).
    ``pending_joins`` (with source_check): alerts may join this incident while its check runs; not confirmed, it
    starts their variants (``firestop.records.pending_joins``; joins14).

    A drift alert of an audit whose previous audit could not be verified (:func:`firestop.audit.drift.drift_alerts`,
    A13-08) carries ``"drift_unverified": N`` and ``"responder_flow": 2``: nothing acts until a responder decides the
    finding genuine (the same one decision as an alert not confirmed at its source), the reason naming the N documents.

    Every new input carries ``"refuse_failed_plans": true``: a step whose plan fails in a way approving cannot change
    is refused before a responder is asked (:data:`firestop.lifecycle.incident.PLAN_REFUSED_KINDS`); older inputs,
    without it, replay as they ran.

    The input carries the normalised alert only — never the raw webhook body — so
    nothing the sender put in unexpected fields lands in Durable history.
    """
    summary = alert_input_json(alert)
    indicators = summary.get("indicators") or {}
    # {name: how many the alert named}; MAX_INDICATORS + 1 = "more than MAX_INDICATORS" (the scan stopped there)
    cut = indicators.pop("truncated", None)
    truncated: dict[str, int] = {name: MAX_INDICATORS + 1 for name in cut} if cut else {}
    try:  # the longest list first (one C-level pass): parsing keeps at most MAX_INDICATORS of each kind
        longest = max(map(len, indicators.values()), default=0)
    except TypeError:  # a value without a length: the loop below looks at each
        longest = MAX_INDICATORS + 1
    if longest > MAX_INDICATORS:
        for key, values in list(indicators.items()):
            if isinstance(values, list) and len(values) > MAX_INDICATORS:
                # a 256 KB log alert can name ~50,000 IPs: orchestration inputs stay small (history is replayed)
                indicators[key] = values[:MAX_INDICATORS]
                truncated[key] = len(values)
    extra: dict[str, Any] = {"part_of": part_of} if part_of else {}
    extra["refuse_failed_plans"] = True
    if follows:
        extra["follows"] = follows
    if source_check and getattr(alert, "schema_id", None) == COMMON_ALERT_SCHEMA:
        extra["source_check"] = AZURE_MONITOR
        event = activity_event_ref(alert)
        if event:  # verify13: an Activity Log alert's event, read back from the Activity Log by the check
            extra["source_ref"] = event
    elif source_check:  # a Defender for Cloud alert or a Sentinel incident: read back from where it says it lives
        checked, ref = source_of(alert, True)
        if checked:
            extra["source_check"] = checked
            if ref:
                extra["source_ref"] = ref
    unverified = _drift_unverified(alert)
    if unverified:  # A13-08: a drift finding "new" only because the previous audit could not be verified: ask first
        extra["drift_unverified"] = unverified
        extra["responder_flow"] = GENUINE_FLOW
    if "source_check" in extra:  # not confirmed: one "alert genuine" decision, not one approval per step
        extra["responder_flow"] = GENUINE_FLOW
        extra["check_again"] = True  # variants14: a check that could not check is tried again (CHECK_ATTEMPTS)
        if variant_of:
            extra["variant_of"] = variant_of
            extra["variant_reports"] = True  # variants14: its check's outcome goes to variant_of's tally
            extra["unchecked_cap"] = UNCHECKED_VARIANTS_WAITING  # cap15: at most this many wait unchecked
        if pending_joins:
            extra["pending_joins"] = True
    return {
        **extra,
        "indicators_truncated": truncated,
        "incident_id": incident_id or alert.incident_key,
        "alert": summary,
        "received_at": isoformat(received_at),  # (received_at.isoformat(), written faster for UTC)
        "sandbox": sandbox,
        "exercise": exercise,
    }
