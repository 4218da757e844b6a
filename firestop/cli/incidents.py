"""Incidents on the local durable host (sandbox tenant): start, drive, view, decide.

What ``alert handle`` and ``incident show`` print is the incident view of
:mod:`firestop.lifecycle.view`.
"""

from __future__ import annotations

import time
import uuid
from typing import Any, Callable

from firestop.lifecycle import ORCHESTRATOR_NAME
from firestop.lifecycle.start import incident_input
from firestop.lifecycle.view import exit_code, incident_view, with_containment  # noqa: F401  (exit_code re-exported for the CLI)

TERMINAL = {"Completed", "Failed", "Terminated"}


def view(status) -> dict[str, Any]:
    """The incident view (:mod:`firestop.lifecycle.view`) of a local host status; for a finished
    incident, the filed record when there is one (it carries undos done after the orchestration), with its
    ``containment`` (:func:`firestop.lifecycle.view.with_containment`)."""
    incident = incident_view(status.instance_id, status.runtime_status, status.custom_status, status.output,
                             status.created_time, status.last_updated_time)
    if status.runtime_status == "Completed" and isinstance(status.output, dict):
        from firestop.records.store import filed_view
        from firestop.settings import get_settings

        filed = filed_view(get_settings(), status.instance_id, status.output.get("record_files"))
        if filed is not None:
            return with_containment({**filed[0], "record_files": filed[1]})
        return with_containment(incident)
    return incident


def drive(env, instance_id: str, *, on_progress: Callable[[Any], None] | None = None) -> Any:
    """Run the incident until it completes or waits for a human; returns its status.

    Durable timers of this incident (retry backoff, step timeouts) fire by moving the
    sandbox's virtual clock — or, on real Azure, by waiting for them; an approval wait is
    left waiting (its deadline is real policy). ``on_progress(status)`` is called between
    episodes (for a progress display).
    """
    from firestop.clock import is_virtual

    from firestop.cli import interrupt

    host = env.host
    clock = env.clients.clock
    interrupt.about(incident_id=instance_id, state=RUNNING_WORDS)
    while True:
        host.run_until_idle(instance_id)
        status = host.get_status(instance_id)
        interrupt.about(state=state_words(status))
        if on_progress is not None:
            on_progress(status)
        custom = status.custom_status if isinstance(status.custom_status, dict) else {}
        if status.runtime_status in TERMINAL or custom.get("pending_approval"):
            return status
        due = host._earliest_timer(host._scope(instance_id))  # noqa: SLF001 — timers of this incident only
        if due is None:
            return status
        if is_virtual(clock):
            clock.set(max(due, clock.now()))
        else:
            time.sleep(min(max((due - clock.now()).total_seconds(), 0.0), 60.0))


#: What a Ctrl-C line says of an incident that runs (:func:`interrupt.line`: ``incident <id> <this>; resume with: …``).
RUNNING_WORDS = "is running, its next step not yet run (resuming runs it)"
#: … of an incident just started (its input stored; its orchestration not yet run).
STARTED_WORDS = "was started and no step has run yet (resuming runs its steps)"


def state_words(status) -> str:
    """What a Ctrl-C line says an incident is, as the clause after ``incident <id>`` (:func:`firestop.cli.interrupt.about`):
    ``is still waiting for approval of step S``, ``has finished: contained``, :data:`RUNNING_WORDS`."""
    custom = status.custom_status if isinstance(status.custom_status, dict) else {}
    pending = custom.get("pending_approval")
    if status.runtime_status not in TERMINAL and isinstance(pending, dict):
        return f"is still waiting for approval of step {pending.get('step')}"
    if status.runtime_status in TERMINAL:
        return f"has finished: {_status_of(status) or status.runtime_status.lower()}"
    return RUNNING_WORDS


#: Outcomes a break-glass run retries by itself: containment did not hold, so handling the alert
#: again (every runbook is idempotent) is what the responder wants, not the old record.
RETRYABLE = frozenset({"failed", "needs_responder"})


def handle_alert(alert, *, rerun: bool = False, env=None, retry_unfinished: bool = False,
                 on_progress: Callable[[Any], None] | None = None,
                 register: bool = True) -> tuple[dict[str, Any], str | None]:
    """(incident view, note). Starts (or resumes, or shows) the incident for ``alert`` and drives it.

    env: a :class:`firestop.cli.wiring.Environment` (default: the sandbox under FIRESTOP_HOME, closed afterwards).
    retry_unfinished: an earlier incident for the alert that ended ``failed`` or ``needs_responder`` is
    handled again as a new incident (the earlier one is kept) without ``rerun`` — the break-glass path.
    An unfinished rerun of the alert (``<incident>-N``, the newest, left by a Ctrl-C) is resumed rather than the
    first incident shown: that is what the interrupted command's "resume with" line promises.
    register: the sandbox's Azure Monitor fires the alert before the incident starts (so, with the source check on,
    an edited payload is confirmed there, as README says); False (``--unregistered``, variants14): not, so the check
    answers as for a forged delivery. It only changes the sandbox's set-up: an environment without a sandbox tenant
    (``--azure``) has nothing to register, and the input's source check is the same either way.
    """
    from firestop.cli.wiring import sandbox_environment
    from firestop.runtime import InstanceNotFound
    from firestop.settings import alert_source_check_enabled
    from firestop.trust.seal import Purpose, seal

    owned = env is None
    env = env or sandbox_environment()
    try:
        host = env.host
        instance_id = alert.incident_key
        note = None
        try:
            existing = host.get_status(instance_id)
        except InstanceNotFound:
            existing = None
        if existing is not None and (unfinished := _newest_unfinished_rerun(host, instance_id)) is not None:
            # an interrupted rerun (or break-glass retry) is the alert's live incident: resume it, never start a third
            existing, instance_id = unfinished, unfinished.instance_id
        if alert.monitor_condition == "Resolved":
            if alert_source_check_enabled():  # as intake does (variants13): the incident holding its confirmed Fired
                existing = _confirmed_holder(host, alert) or existing
            return _resolved(env, alert, existing), None
        variant_of = None
        if existing is not None and not rerun and alert_source_check_enabled():
            # variants13 item 4: the decision POST /api/alerts takes (firestop.intake.accept.takes_variant): a delivery
            # of this alert id with other content than the one that opened its incident, which was not confirmed at
            # its source, is handled as its own variant, checked on its own (not the forged incident's wait resumed)
            found = _variant_of(host, existing, alert)
            if found is not None:
                variant_of, instance_id, existing = existing.instance_id, found[0], found[1]
                note = (f"this delivery's content differs from the one that opened incident {variant_of}, which was not "
                        f"confirmed at its source: handled as incident {instance_id} of its own, with its own source "
                        "check")
        retry = (retry_unfinished and existing is not None and existing.runtime_status in TERMINAL
                 and _status_of(existing) in RETRYABLE)
        if (rerun or retry) and existing is not None:
            earlier = _status_of(existing)
            # a new incident beside the old one: its history and record stay as they were (audit trail)
            # numbered from the alert's own incident id: with an unfinished rerun <id>-3 resumed above, a new one is
            # <id>-4, not <id>-3-2 (newuser10)
            instance_id = _next_free_id(host, alert.incident_key)
            existing = None
            note = (f"the earlier incident {alert.incident_key} ended {earlier}; retrying as incident {instance_id} (the earlier one is kept)"
                    if retry and not rerun else
                    f"handling the alert again as incident {instance_id}; the earlier incident {alert.incident_key} is kept")
        if existing is not None and existing.runtime_status in TERMINAL:
            note = (
                f"alert already handled as incident {instance_id} ({_status_of(existing) or existing.runtime_status.lower()}); "
                "showing its record. Use --rerun to handle it again."
            ) + _other_delivery(existing, alert)
            return view(existing), note
        if existing is not None:
            # the incident's own status words (awaiting approval, running), not the Durable runtime's ("Running")
            now = str(view(existing).get("status") or existing.runtime_status.lower()).replace("_", " ")
            other = _other_delivery(existing, alert)
            note = f"resuming incident {instance_id} ({now})" + (f".{other}" if other else "")
        elif variant_of is None and not rerun and (linked := _linked_incident(env, alert)) is not None:
            return linked
        else:
            # Azure Monitor holds an alert before it sends it: fire it in the sandbox first (not with --unregistered)
            if register and getattr(env.tenant, "fire_alert", None) is not None:
                from firestop.sandbox.alertsmanagement.models import payload_of

                env.tenant.fire_alert(payload_of(alert))
            inp = incident_input(alert, received_at=env.clients.clock.now(), sandbox=env.clients.sandbox,
                                 source_check=alert_source_check_enabled(), variant_of=variant_of)
            inp["incident_id"] = instance_id
            from firestop.cli import interrupt

            interrupt.about(incident_id=instance_id, state=STARTED_WORDS)
            host.start_new(ORCHESTRATOR_NAME, instance_id, seal(Purpose.INCIDENT, inp, binding=instance_id))
        return view(drive(env, instance_id, on_progress=on_progress)), note
    finally:
        if owned:
            env.close()


def _ref_as_opened(inp: dict, alert: Any) -> str | None:
    """The ``source_ref`` ``alert``'s input would carry beside the incident input ``inp`` (RT16-01: part of a
    delivery's content, :func:`firestop.intake.accept.delivery_digest`): the delivered one when ``inp`` was opened
    with the source check on (it carries ``source_check``), else none — an incident opened with the check off keeps
    no reference, so its content is its alert JSON alone."""
    from firestop.alerts.source_refs import delivered_ref

    return delivered_ref(alert) if inp.get("source_check") else None


def _variant_of(host, existing: Any, alert: Any) -> tuple[str, Any] | None:
    """``(variant id, its status or None)`` when ``alert`` is to be handled as a variant of the incident ``existing``
    (:func:`firestop.intake.accept.takes_variant`, the decision intake takes: ``existing`` was opened by other content
    and not confirmed at its source), else None. One status read of the variant (:func:`firestop.intake.accept.variant_id`:
    keyed by this delivery's content, as intake keys it)."""
    from firestop.intake.accept import confirm_outcome, delivery_digest, takes_variant, variant_id
    from firestop.runtime import InstanceNotFound

    inp = existing.input if isinstance(existing.input, dict) else {}
    digest = delivery_digest(alert, _ref_as_opened(inp, alert))
    if not takes_variant(inp.get("alert"), confirm_outcome(existing), alert, digest, inp.get("source_ref")):
        return None
    instance_id = variant_id(alert, digest)
    try:
        return instance_id, host.get_status(instance_id)
    except InstanceNotFound:
        return instance_id, None


def _other_delivery(existing: Any, alert: Any) -> str:
    """``""``, or — when the incident ``existing`` of this alert id was opened by a delivery with other content (another
    caller IP, deployment, severity …) — a sentence saying so and how to have this one handled on its own (newuser11:
    with FIRESTOP_ALERT_SOURCE_CHECK on, the genuine payload after a forged one only "resumed" the forged incident's
    wait for alert.genuine, where ``POST /api/alerts`` gives it an incident of its own, checked on its own —
    :func:`firestop.intake.accept._variant`). Since variants13 that case is handled as a variant (:func:`_variant_of`);
    the note is left for an incident confirmed at its source, or whose check has not run, opened by other content)."""
    from firestop.intake.accept import delivery_digest

    try:
        inp = existing.input if isinstance(existing.input, dict) else None
        opened_by = inp.get("alert") if inp is not None else None
        if (not isinstance(opened_by, dict)
                or delivery_digest(opened_by, inp.get("source_ref")) == delivery_digest(alert, _ref_as_opened(inp, alert))):
            return ""
    except (TypeError, ValueError, AttributeError):
        return ""
    return (" This delivery's content differs from the one that opened that incident (another caller, target, "
            "severity or route): that incident is not this delivery's check. To handle this delivery as an incident of "
            "its own, with its own source check: add --rerun.")


def _linked_incident(env, alert) -> tuple[dict[str, Any], str] | None:
    """The incident of the Defender alert this alert names by identity (a Sentinel incident's ``providerAlertId``,
    a Graph alert's; :func:`firestop.intake.events.identity_links`) when it ran this alert's own playbook:
    joined while it runs, or — ended and held at most ``FIRESTOP_CORRELATION_WINDOW_SECONDS`` ago — recorded onto it
    (a record revision, :func:`firestop.functions.intake_call.record_after_close_sync`). None: handle it as its own
    incident (no such incident, another playbook — whose containment must run —, or it did not hold).

    ``alert handle`` keys incidents by alert id (not by the intake's slots), so identity is what joins here; an
    identity-linked alert is one that containment covered (:mod:`firestop.intake.coverage`), so recording it onto the
    ended incident hides no new activity. Any other alert of the same route is its own incident here (never recorded)."""
    from firestop.alerts.alert import incident_key_for
    from firestop.intake import CorrelationSettings
    from firestop.intake.accept import HELD_STATUSES
    from firestop.intake.events import alert_summary, correlated_event, identity_links
    from firestop.lifecycle.timeline import parse_time
    from firestop.runtime import InstanceNotFound

    settings = CorrelationSettings.from_env()
    if not settings.enabled or not alert.routed_playbook:
        return None
    for link in identity_links(alert):
        candidate = incident_key_for("Microsoft.Security/alerts/" + link.removeprefix("defender:"))
        if candidate == alert.incident_key:
            continue
        try:
            status = env.host.get_status(candidate)
        except InstanceNotFound:
            continue
        now = env.clients.clock.now()
        if status.runtime_status not in TERMINAL:
            custom = status.custom_status if isinstance(status.custom_status, dict) else {}
            if (custom.get("playbook") or "") != alert.routed_playbook:
                continue
            env.host.raise_event(candidate, "alert_correlated", correlated_event(alert, received_at=now))
            return view(drive(env, candidate)), f"joined incident {candidate}, the incident of the Defender alert it holds"
        record = view(status)
        closed = parse_time(record.get("closed_at"))
        if ((record.get("playbook") or {}).get("name") != alert.routed_playbook or record.get("status") not in HELD_STATUSES
                or closed is None or (now - closed).total_seconds() > settings.window_seconds):
            continue
        from firestop.functions.intake_call import record_after_close_sync

        done = record_after_close_sync(candidate, alert_summary(alert, received_at=now))
        if done is None:
            continue
        word = "already recorded on" if done == "duplicate" else "recorded onto"
        return view(env.host.get_status(candidate)), (
            f"{word} incident {candidate}, the incident of the Defender alert it holds: its playbook "
            f"{alert.routed_playbook} already ran there and held (nothing to contain again)")
    return None


def _status_of(status) -> str | None:
    """The incident outcome (``contained``, ``needs_responder``, …) a finished orchestration reported."""
    out = status.output
    return out.get("status") if isinstance(out, dict) else None


def _newest_unfinished_rerun(host, base: str):
    """The status of the newest of ``base-2``, ``base-3``, … (the incidents ``--rerun`` and break-glass retries
    start, :func:`_next_free_id`) when it has not finished (an interrupted rerun), else None."""
    from firestop.runtime import InstanceNotFound

    newest = None
    n = 2
    while True:
        try:
            newest = host.get_status(f"{base}-{n}")
        except InstanceNotFound:
            break
        n += 1
    return newest if newest is not None and newest.runtime_status not in TERMINAL else None


def _next_free_id(host, base: str) -> str:
    from firestop.runtime import InstanceNotFound

    n = 2
    while True:
        candidate = f"{base}-{n}"
        try:
            host.get_status(candidate)
        except InstanceNotFound:
            return candidate
        n += 1


def _confirmed_holder(host, alert) -> Any | None:
    """The status of the incident whose source check confirmed ``alert``'s Fired delivery (its once-marker names it:
    :func:`firestop.functions.intake_call.confirmed_incident_sync`), None when none did, it is gone, or it was not
    opened by this alert id (a planted marker, R12-02)."""
    from firestop.functions.intake_call import confirmed_incident_sync
    from firestop.runtime import InstanceNotFound

    held = confirmed_incident_sync(alert.alert_id)
    try:
        status = host.get_status(held) if held else None
    except InstanceNotFound:
        return None
    # R12-02 (as intake's _to_confirmed): only an incident opened by this alert id holds it (the marker is sealed since
    # bounds14; a copy of this alert's own sealed marker could still name another run of its id)
    inp = status.input if status is not None and isinstance(status.input, dict) else {}
    opened_by = inp.get("alert") if isinstance(inp.get("alert"), dict) else {}
    if str(opened_by.get("alert_id") or "").strip().lower() != str(alert.alert_id).strip().lower():
        return None
    return status


def _resolved(env, alert, existing) -> dict[str, Any]:
    """A Resolved alert never starts an incident: it reaches the open one as an event, or is noted."""
    from datetime import datetime

    if existing is not None and existing.runtime_status not in TERMINAL:
        env.host.raise_event(existing.instance_id, "alert_resolved", {
            "alert_id": alert.alert_id,
            "resolved_at": alert.resolved_at.isoformat() if isinstance(alert.resolved_at, datetime) else None,
            "received_at": env.clients.clock.now().isoformat(),
        })
        return view(drive(env, existing.instance_id))
    from firestop.lifecycle.view import NOTHING_TO_CONTAIN

    if existing is None:
        reason = "the alert is Resolved and no incident was opened for it: nothing to contain, no incident opened"
    else:
        reason = f"the alert is Resolved; its incident {existing.instance_id} has already finished: nothing changed"
    return {
        "incident_id": existing.instance_id if existing is not None else None,
        "status": NOTHING_TO_CONTAIN,
        "reason": reason,
        "runtime_status": existing.runtime_status if existing is not None else None,
    }


def decide(env, instance_id: str, step: str, decision: str, by: str, *, groups: list[str] | None = None,
           comment: str | None = None) -> dict[str, Any]:
    """Approve or reject the pending approval of ``step`` as ``by``; drives the incident on.

    Raises ``LookupError`` when the incident or that pending approval does not exist, and
    ``PermissionError`` when ``by`` may not decide (not an approver, two-person rule); nothing is sent then.
    """
    from firestop.lifecycle.approvals import decision_event, judge
    from firestop.playbooks.models import Approval
    from firestop.runtime import InstanceNotFound
    from firestop.trust.seal import seal_decision

    try:
        status = env.host.get_status(instance_id)
    except InstanceNotFound:
        raise LookupError(f"ID: no incident {instance_id!r}; list them with: python -m firestop incident list") from None
    pending = (status.custom_status or {}).get("pending_approval") if isinstance(status.custom_status, dict) else None
    if status.runtime_status in TERMINAL or not pending:
        raise LookupError(f"--step: incident {instance_id} is not waiting for an approval (it is {_status_of(status) or status.runtime_status.lower()}); "
                          f"see: python -m firestop incident show {instance_id}")
    if pending.get("step") != step:
        raise LookupError(f"--step: incident {instance_id} is waiting for step {pending.get('step')!r}, not {step!r}")
    data = decision_event(instance_id, pending, decision=decision, by=by, groups=groups or [], comment=comment,
                          decision_id=uuid.uuid4().hex,  # tells a new decision from the SDK replaying a buffered one
                          at=env.clients.clock.now().isoformat())
    verdict, reason, _ = judge(
        Approval(mode="required", approvers=pending.get("approvers") or [], two_person=bool(pending.get("two_person"))),
        data,
        requested_by=pending.get("requested_by") or "",
    )
    if verdict == "refused":
        raise PermissionError(f"--as: {reason}; nothing was sent")
    env.host.raise_event(instance_id, pending["event"], seal_decision(data))  # the CLI holds the local seal key
    return view(drive(env, instance_id))


def stop(env, instance_id: str, by: str, reason: str, *, groups: list[str] | None = None) -> dict[str, Any]:
    """Stop a running or waiting incident as ``by`` (the local counterpart of ``POST /api/incidents/{id}/stop``): the
    stop event ``{"incident_id", "by", "groups", "reason", "stop_id", "at"}`` sealed with the local seal key, then the
    incident driven until it has handled it. Returns the incident view.

    Raises ``LookupError`` when there is no such incident or it has already finished (nothing is sent then)."""
    from firestop.lifecycle.incident import EVENT_STOP
    from firestop.runtime import InstanceNotFound
    from firestop.trust.seal import seal_stop

    try:
        status = env.host.get_status(instance_id)
    except InstanceNotFound:
        raise LookupError(f"ID: no incident {instance_id!r}; list them with: python -m firestop incident list") from None
    if status.runtime_status in TERMINAL:
        from firestop.lifecycle.undo import undo_left_hint

        raise LookupError(f"ID: incident {instance_id} has already finished ({_status_of(status) or status.runtime_status.lower()}); "
                          f"nothing to stop ({undo_left_hint(instance_id, view(status))})")
    event = {"incident_id": instance_id, "by": by, "groups": list(groups or []), "reason": reason, "stop_id": uuid.uuid4().hex,
             "at": env.clients.clock.now().isoformat()}
    env.host.raise_event(instance_id, EVENT_STOP, seal_stop(event))  # the CLI holds the local seal key
    return view(drive(env, instance_id))
