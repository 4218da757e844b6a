"""The CLI commands Firestop hands a person to decide on or undo an incident — one wording everywhere (pure).

The CLI's output (``alert handle``, ``incident show``), the web console's pages and the pages the app sends
all build their hint here, so they never disagree. Who the person is depends on where the incident lives
(README, "Remote mode: the CLI against the deployed app" and "Trust model"):

* in a deployed app — the console on Azure, a page the app sent, the CLI with ``--app`` — ``--app ORIGIN``: the
  person is their Entra sign-in, validated by App Service authentication (``--as``/``--azure`` are refused with
  ``--app``; a laptop's store does not hold the app's incidents, so nothing else works from there);
* in this machine's store, an incident that acted on real Azure (``alert handle --azure``, the break-glass path) —
  ``--azure``: the person is their Azure sign-in (the token's ``oid``); ``--as`` is refused for it;
* in this machine's store, a sandbox incident (``alert handle``, ``firestop serve``'s console) —
  ``--as <your object id>``: the labelled simulation (``FIRESTOP_PRINCIPAL_ID`` instead of the flag works too);
  ``sandbox=None`` (the incident's input does not say) is read as a sandbox incident, the local default.

``incident undo`` has no ``--azure`` (an undo in the app is ``--app``, in the sandbox ``--as``).
"""

from __future__ import annotations

import re
from typing import Any

from firestop.alerts.source_refs import ACTIVITY_EVENT_REASON
from firestop.lazy_re import LazyPattern
from firestop.source_reasons import CHECK_DRIFT, CHECK_RULE, CHECK_RULE_HISTORY, LOOK_UP, OPEN_EVENT, OPEN_METRIC, REDELIVERY, RUN_QUERY, advice, code_of

#: What a hint says in place of the app's address when the caller does not know it (a page sent by the app
#: without FIRESTOP_PUBLIC_URL/WEBSITE_HOSTNAME).
APP_PLACEHOLDER = "<app URL>"
#: What a hint says in place of the person's Entra object ID in the sandbox simulation.
OBJECT_ID_PLACEHOLDER = "<your object id>"


def identity_flags(*, app_origin: str | None = None, sandbox: bool | None = None, undo: bool = False) -> str:
    """The flags naming who acts (the module doc's rules): ``--app ORIGIN``, ``--azure`` or ``--as <your object id>``."""
    if app_origin:
        return f"--app {app_origin}"
    if sandbox is False and not undo:
        return "--azure"
    return f"--as {OBJECT_ID_PLACEHOLDER}"


#: The approver of the sandbox's demo role table (:data:`firestop.trust.roles.SANDBOX_TABLE`; README "Trust model"),
#: the example a sandbox hint names when the step lists no approver of its own.
SANDBOX_DEMO_APPROVER = "oid-alice"


def decide_command(incident_id: str, step: str, *, app_origin: str | None = None, sandbox: bool | None = None,
                   approvers: list[str] | None = None) -> str:
    """``python -m firestop incident approve ID --step STEP <flags>   (or: reject …)`` for a pending approval.
    In the sandbox simulation the ``--as`` placeholder names an example: the step's first listed approver
    (``approvers``), else :data:`SANDBOX_DEMO_APPROVER` — ``--as <your object id, e.g. oid-alice>``."""
    flags = identity_flags(app_origin=app_origin, sandbox=sandbox)
    if flags == f"--as {OBJECT_ID_PLACEHOLDER}":
        example = next((str(a) for a in approvers or [] if str(a).strip()), SANDBOX_DEMO_APPROVER)
        flags = f"--as {OBJECT_ID_PLACEHOLDER[:-1]}, e.g. {example}>"
    return (f"python -m firestop incident approve {incident_id} --step {step} {flags}   "
            f"(or: incident reject {incident_id} --step {step} {flags})")


def undo_command(incident_id: str, *, app_origin: str | None = None, sandbox: bool | None = None) -> str:
    """``python -m firestop incident undo ID <flags>`` (it shows what it would restore and asks first)."""
    return f"python -m firestop incident undo {incident_id} {identity_flags(app_origin=app_origin, sandbox=sandbox, undo=True)}"


def stop_command(incident_id: str, *, app_origin: str | None = None, sandbox: bool | None = None) -> str:
    """``python -m firestop incident stop ID --reason '…' <flags>`` (it says what a stop does and asks first)."""
    return f"python -m firestop incident stop {incident_id} --reason '<why>' {identity_flags(app_origin=app_origin, sandbox=sandbox)}"


#: The pseudo-step of the one "alert genuine" decision (``pending_approval["step"]``, ``approval:alert.genuine``, the
#: record's ``approvals``; a playbook step id cannot hold a dot, firestop.playbooks.models.NAME_PATTERN: never a step's).
GENUINE_STEP = "alert.genuine"
#: An incident id this module may put in a shell command it shows (letters, digits, ``._:-``; never a space, quote or
#: shell metacharacter): an id read from the store unsealed is named only when it has this shape (attack12).
_PLAIN_ID = LazyPattern(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,199}", 0, globals())
#: The timeline step of the source check (its detail ``<source>: <why>``): the orchestrator writes it, the hints and
#: intake's variant check (firestop.intake.accept, its own copy of the name) read it.
CONFIRM_STEP = "confirm alert at source"

def step_now(view: dict[str, Any]) -> str:
    """What an unfinished incident's view says it is at: ``step <its step group>``, or — when it waits for an approval
    of a step outside that group, the one ``alert.genuine`` decision — ``waiting for alert.genuine; step group <…>``
    (newuser11: ``awaiting_approval (phase contain, step rotate-keys, lock-network, snapshot-logs)`` read as if
    rotate-keys waited, while snapshot-logs had run and the wait was alert.genuine). ``""`` without a step."""
    steps = str(view.get("step") or "")
    pending = str((view.get("pending_approval") or {}).get("step") or "")
    if pending and pending not in [s for s in steps.split(", ") if s]:
        return f"waiting for {pending}" + (f"; step group {steps}" if steps else "")
    return f"step {steps}" if steps else ""


#: Where a responder looks an alert up by hand, per source check (``confirm alert at source`` detail's prefix,
#: :func:`firestop.lifecycle.incident`'s ``source_check``: azure-monitor, defender, sentinel).
_LOOK_UP = {"azure-monitor": "Azure Monitor → Alerts (the alert rule's fired alert on the target)",
            "defender": "Defender for Cloud → Security alerts (the alert's systemAlertId)",
            "sentinel": "Microsoft Sentinel → Incidents (the incident and its alerts)",
            "graph-defender": "Defender for Cloud → Security alerts (the alert's systemAlertId: Graph's providerAlertId)"}


def _advice(pending: dict[str, Any], source: str, reason: str) -> str:
    """Which "Check first" advice the ``alert.genuine`` card gives (:data:`firestop.source_reasons.ADVICE`): chosen by
    the confirm result's ``reason_code`` (``pending_approval["reason_code"]``); a wait recorded before the code
    existed (none) by the reason's words, as it was chosen then."""
    code = code_of(pending.get("reason_code"))
    if code is not None:
        return advice(code) or LOOK_UP
    if source == "azure-monitor" and reason.startswith(("the rule's query", "the rule's workspace", "the alert rule has",
                                                          "the alert rule holds", "the alert rule's windowSize",
                                                          "the alert rule's scope")):
        return RUN_QUERY
    if source == "azure-monitor" and reason.startswith(ACTIVITY_EVENT_REASON):
        return OPEN_EVENT
    if source == "azure-monitor" and reason.startswith(("the metric", "the delivered", "the delivery names")):
        return OPEN_METRIC
    if re.search(r"already confirmed for incident '([^']+)'", reason) is not None:
        return REDELIVERY
    return LOOK_UP


def unconfirmed_hint(view: dict[str, Any]) -> str:
    """What a responder does about a step waiting only because the alert was not confirmed at its source
    (FIRESTOP_ALERT_SOURCE_CHECK; README, Choices and limits): look the alert up at its source, approve if it is there,
    reject if not; and that each step of the group asks in turn. ``""`` for any other wait."""
    pending = view.get("pending_approval") or {}
    if not str(pending.get("why") or "").startswith("alert not confirmed at its source"):
        return ""
    detail = next((str(e.get("detail") or "") for e in view.get("timeline_so_far") or []
                   if isinstance(e, dict) and e.get("step") == CONFIRM_STEP), "")
    source, _, reason = detail.partition(":")
    where = _LOOK_UP.get(source, "the alert's source (Azure Monitor, Defender for Cloud or Sentinel)")
    if pending.get("step") == GENUINE_STEP:  # one decision for the incident (firestop.lifecycle.incident.genuine_gate)
        then = ("(the steps then run as for a confirmed alert; a step with its own approval still asks), reject it if "
                "{not_so} (a forged or replayed delivery: no step that acts runs).")
        reason = (reason or str(pending.get("why") or "")).strip()
        chosen = _advice(pending, source, reason)
        if chosen == RUN_QUERY:
            # newuser11: the alert itself is in Azure Monitor → Alerts even when its dimensions are forged (Alerts
            # Management keeps no dimension values, firestop/azure/monitor_source.py): "look it up there" misled
            return ("Check first: the alert is at its source, but the caller, deployment or consumer it names could not "
                    "be confirmed there (Azure Monitor → Alerts keeps no dimension values, so finding the alert there "
                    "proves nothing about them). Run the alert rule's query (Azure Monitor → Alert rules → its "
                    "condition) in its Log Analytics workspace over the window that fired: approve "
                    f"{GENUINE_STEP} only if it shows the delivered values above the rule's threshold "
                    + then.format(not_so="it does not"))
        if chosen == OPEN_EVENT:
            # verify13: an activity log alert's caller, principal or IP not found in the event it names
            return ("Check first: the alert is at its source, but the caller, principal or IP it names could not be "
                    "confirmed in the Activity Log event it reports (finding the alert in Azure Monitor → Alerts proves "
                    "nothing about them). Open that event (Azure Monitor → Activity log on the target, by its "
                    f"correlation id and time): approve {GENUINE_STEP} only if it names the delivered caller, principal "
                    "and IP " + then.format(not_so="it does not"))
        if chosen == OPEN_METRIC:
            return ("Check first: the alert is at its source, but the dimension value it names could not be confirmed "
                    "in the rule's metric (Azure Monitor → Alerts keeps no dimension values, so finding the alert there "
                    "proves nothing about it). Open the rule's metric on the target (Azure Monitor → Metrics) over the "
                    "window that fired, split by that dimension: approve "
                    f"{GENUINE_STEP} only if the delivered value is there above the rule's threshold "
                    + then.format(not_so="it is not"))
        if chosen == CHECK_RULE_HISTORY:
            # A13-09: the rule read now need not be the rule that fired (rewritten after firing, or edited and restored)
            return ("Check first: the alert did fire in Azure Monitor, but its alert rule was changed after it fired, "
                    "so what fired may not be the rule as it reads now (an always-true rule rewritten to look like a "
                    "detection). Open the rule's change history (Azure Monitor → Alert rules → the rule → Activity "
                    f"log): approve {GENUINE_STEP} only if you know who changed it and why, and the condition it reports "
                    "really happened " + then.format(not_so="you do not"))
        if chosen == CHECK_DRIFT:
            # A13-08: a finding of an audit whose previous audit could not be verified — it may have failed for weeks
            return ("Check first: this finding comes from an audit whose previous audit could not be verified (documents "
                    "Firestop did not seal stand in the records store where it was looked for), so every failing "
                    "finding counted as new. Ask the resource's owner whether it is configured this way on purpose: "
                    f"approve {GENUINE_STEP} only if the change is unwanted "
                    + then.format(not_so="it is intended"))
        if chosen == CHECK_RULE:
            # RT17-01: the alert is genuine, but the rule that fired it is not a Firestop detection: whoever may write
            # an alert rule could have written it (an always-true query routed to a playbook)
            return ("Check first: the alert did fire in Azure Monitor, but from an alert rule that is not the playbook's "
                    "own detection (named below: its query, threshold, window or scope differ) and that no admin has "
                    "trusted (python -m firestop rules trust). Open the rule (Azure Monitor → Alert rules): approve "
                    f"{GENUINE_STEP} only if you know who wrote it, what it detects, and the condition it reports "
                    "really happened " + then.format(not_so="you do not"))
        if chosen == REDELIVERY:
            held = re.search(r"already confirmed for incident '([^']+)'", reason)  # the id, to name it (not to choose)
            # attack12: the id is the once-marker's, an unsealed blob a storage writer can plant ("x; curl …|sh"):
            # it is named, and put in a command, only when it has an instance id's plain shape
            held = held if held and _PLAIN_ID.fullmatch(held.group(1)) else None
            other = held.group(1) if held else "another incident"
            show = f" (python -m firestop incident show {other})" if held else ""
            return (f"Check first: this alert was already confirmed and handled as {'incident ' if held else ''}{other}"
                    f"{show}; this is a second delivery of it. Approve "
                    f"{GENUINE_STEP} only if that incident did not cover what this delivery reports "
                    + then.format(not_so="it is a redelivery, a replay or a re-route of the same alert"))
        return (f"Check first: Firestop could not confirm this alert at its source. Look it up in {where}: approve "
                f"{GENUINE_STEP} if it is there as delivered " + then.format(not_so="it is not"))
    steps = [s for s in str(view.get("step") or "").split(", ") if s]
    turn = f"; each step of this group asks in turn ({', '.join(steps)})" if len(steps) > 1 else ""
    return (f"Check first: Firestop could not confirm this alert at its source. Look it up in {where}: approve if it is "
            f"there as delivered, reject if it is not (a forged or replayed delivery){turn}.")
