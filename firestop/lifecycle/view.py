"""The incident view (pure): what the CLI and the HTTP API show for an incident.

The post-incident record once the orchestration completed; otherwise where it
stands::

    {"incident_id", "status": "awaiting_approval" | "running" | "failed" | "terminated",
     "phase", "step", "playbook": {"name"} | null, "pending_approval": {...} | null,
     "received_at", "timeline_so_far": [...] (what already ran: the newest entries the orchestrator's custom status carries),
     "holds": [str], "does_not_hold": [str] (:func:`so_far_holds`: the record's words, read from what ran so far),
     "metrics": {"mttd_s", "mtta_s", "mttc_s", "mttr_s"} (seconds or null: what is known so far, :func:`so_far_metrics`),
     "runtime_status", "created_at", "updated_at" (ISO 8601 UTC)}

A finished incident whose containment was undone afterwards (``incident undo``, the console's Undo, the API) keeps
the ``status`` it ended with (``contained``: exit codes and ``--status`` filters mean the outcome); what holds now
is :func:`containment_state` — ``undone`` or ``partly undone`` — which every surface reads from here: the views'
``containment`` field (:func:`with_containment`; ``--json`` and the HTTP API) and :func:`status_label` (the text
of ``incident list``/``show`` and the console).
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from firestop.lifecycle.outcome import EXIT_CODES
from firestop.lifecycle.tally import VARIANT_KINDS, variant_kind, variant_kinds

AWAITING_APPROVAL = "awaiting_approval"

#: Exit codes of views that are not records: waiting on a human or stopped → a responder is needed.
#: A Resolved alert with no open incident opens none: nothing to contain is "done" (0), not "no playbook".
NOTHING_TO_CONTAIN = "nothing_to_contain"
VIEW_EXIT_CODES = {**EXIT_CODES, AWAITING_APPROVAL: 3, "running": 3, "terminated": 3, "failed": 1, NOTHING_TO_CONTAIN: 0}
#: The statuses an incident can have — what ``incident list --status`` and ``GET /api/incidents?status=`` accept.
#: Not :data:`NOTHING_TO_CONTAIN`: that is ``alert handle``'s answer for a Resolved alert, which opens no incident.
INCIDENT_STATUSES = frozenset(VIEW_EXIT_CODES) - {NOTHING_TO_CONTAIN}


def status_refusal(status: str) -> str:
    """Why ``status`` filters no incident, and the statuses that do (for ``--status`` and the API's ``status``)."""
    why = (f"{status!r} is what alert handle answers for a Resolved alert with no open incident; it opens none, so "
           "no incident has that status" if status == NOTHING_TO_CONTAIN else f"{status!r} is not an incident status")
    return f"{why}; use one of: {', '.join(sorted(INCIDENT_STATUSES))}"


def incident_view(
    instance_id: str,
    runtime_status: str | None,
    custom_status: Any,
    output: Any,
    created_time: datetime | None = None,
    last_updated_time: datetime | None = None,
) -> dict[str, Any]:
    if runtime_status == "Completed" and isinstance(output, dict):
        return output
    custom = custom_status if isinstance(custom_status, dict) else {}
    base = {
        "incident_id": instance_id,
        "runtime_status": runtime_status,
        "phase": custom.get("phase"),
        "step": custom.get("step"),
        "playbook": {"name": custom.get("playbook")} if custom.get("playbook") else None,
        "pending_approval": custom.get("pending_approval"),
        "rule_name": custom.get("rule_name"),
        "target_name": custom.get("target_name"),  # the alert's first target's name (absent in older statuses)
        "received_at": custom.get("received_at"),
        "timeline_so_far": custom.get("timeline") if isinstance(custom.get("timeline"), list) else [],
        # whole seconds: the Durable HTTP API's status times carry no fraction, so a remote view (the CLI's --app,
        # through the Functions host) and a local one read the same
        "created_at": created_time.replace(microsecond=0).isoformat() if created_time else None,
        "updated_at": last_updated_time.replace(microsecond=0).isoformat() if last_updated_time else None,
    }
    base.update(so_far_holds(base["timeline_so_far"]))
    base["metrics"] = so_far_metrics(custom.get("metrics"), base["timeline_so_far"])
    if runtime_status == "Failed":
        return {**base, "status": "failed", "error": str(output)}
    if runtime_status == "Terminated":
        return {**base, "status": "terminated", "reason": str(output)}
    return {**base, "status": AWAITING_APPROVAL if custom.get("pending_approval") else "running"}


#: Timeline outcomes of a step that applied (``firestop.lifecycle.group``'s events): it holds, not yet verified.
_APPLIED = frozenset({"done"})
#: Timeline outcomes of a step that has not changed anything (yet), and why, as the record's ``does_not_hold`` says it.
_NOT_HELD = {"awaiting approval": "waiting for approval", "failed": "failed", "rejected": "rejected",
             "approval timed out": "approval timed out", "timed out": "timed out", "not run": "not run", "undone": "rolled back",
             "undo failed": "undo failed", "approved": "approved, not applied yet"}


#: Variants named in a waiting card's note (the tally names up to ``firestop.lifecycle.tally.MAX_VARIANTS_NAMED``).
VARIANTS_ON_CARD = 5
#: How the card's note says each kind of variant (``firestop.lifecycle.tally.VARIANT_KINDS``, in that order).
_KIND_WORDS = {"confirmed": "confirmed at their source", "unchecked": "could not be checked",
               "unconfirmed": "not confirmed"}
#: The kind word of one named variant on the card.
_KIND_WORD = {"confirmed": "confirmed at its source", "unchecked": "could not be checked", "unconfirmed": "not confirmed"}


def with_variants(view: dict[str, Any], tally_state: Any) -> dict[str, Any]:
    """trust16: ``view`` with what its incident's tally entity (:mod:`firestop.lifecycle.tally`, ``get``'s state, as
    the durable client reads it) knows of its variants, while it waits for a responder. A variant is a delivery of
    this alert or resource with other content, checked on its own (:mod:`firestop.intake.accept` ``_variant``); the
    orchestrator learns of them only when it reads its tally to file its record, so the card did not say that they
    exist. Adds to ``pending_approval``: ``variants`` (:data:`VARIANTS_ON_CARD` ``{"variant", "alert_id",
    "outcome", "kind"}``), ``variant_count``, ``variant_kinds`` (``{"confirmed", "unchecked", "unconfirmed"[,
    "unknown"]: int}``; ``unknown``: counted by a tally written before it kept kinds) and ``variants_note``, "N other
    contents of this alert arrived …; review them" (the console and ``incident show`` print it above the plan).

    variants16: the named variants are those that matter to the responder first — confirmed at their source, then
    could not be checked, then not confirmed (the tally keeps a few of each kind,
    ``firestop.lifecycle.tally.VARIANTS_KEPT_PER_KIND``), arrival order within a kind — and the note says how many of
    each kind exist beyond the list: a forger who posts 20 variants first no longer keeps a later confirmed one off
    the card. Pure; ``view`` as it is when nothing waits, the state is not a tally's, or it names no variant. Every
    value is bounded (ids 128, alert ids 512, outcomes 40 characters), and surfaces escape them where they land."""
    approval = view.get("pending_approval")
    state = tally_state if isinstance(tally_state, dict) else {}
    named = [v for v in state.get("variants") or [] if isinstance(v, dict)] if isinstance(state.get("variants"), list) else []
    count = state.get("variant_count")
    kinds = variant_kinds(state)
    count = max(count if isinstance(count, int) and not isinstance(count, bool) else 0, len(named), sum(kinds.values()))
    if not isinstance(approval, dict) or count <= 0:
        return view
    rank = {kind: n for n, kind in enumerate(VARIANT_KINDS)}
    ordered = sorted(named, key=lambda v: rank[variant_kind(v.get("outcome"))])  # (stable: arrival order in a kind)
    shown = [{"variant": str(v.get("variant") or "")[:128],
              "alert_id": str(v["alert_id"])[:512] if isinstance(v.get("alert_id"), str) else None,
              "outcome": str(v.get("outcome") or "")[:40], "kind": variant_kind(v.get("outcome"))}
             for v in ordered[:VARIANTS_ON_CARD]]
    unknown = count - sum(kinds.values())  # (a tally written before variants16: kinds of those past the named)
    totals = {**kinds, **({"unknown": unknown} if unknown > 0 else {})}
    beyond = {kind: kinds[kind] - sum(1 for v in shown if v["kind"] == kind) for kind in VARIANT_KINDS}
    beyond_words = [f"{beyond[kind]} {_KIND_WORDS[kind]}" for kind in VARIANT_KINDS if beyond[kind] > 0]
    if unknown > 0:
        beyond_words.append(f"{unknown} of no kept kind (reported before this tally kept kinds)")
    ids = ", ".join(f"{v['variant']} ({_KIND_WORD[v['kind']]})" for v in shown)
    more = count - len(shown)
    note = (f"{count} other content{'s' if count != 1 else ''} of this alert arrived while this waits (deliveries that "
            f"differ from this one, each checked on its own incident: "
            + ", ".join(f"{kinds[kind]} {_KIND_WORDS[kind]}" for kind in VARIANT_KINDS)
            + (f", {unknown} of no kept kind" if unknown > 0 else "")
            + f"): review them before deciding — this decision acts on this incident's content only: {ids}"
            + (f" and {more} more ({', '.join(beyond_words)})" if more > 0 else ""))
    card = {**approval, "variants": shown, "variant_count": count, "variant_kinds": totals, "variants_note": note}
    return {**view, "pending_approval": card}


def so_far_holds(timeline: Any) -> dict[str, list[str]]:
    """What holds and what does not in an incident that has not finished (waiting for approval, running, stopped),
    read from its ``timeline_so_far`` (the custom status's newest entries, oldest first), in the words of a finished
    record's ``holds``/``does_not_hold`` (``step (runbook): detail``; the orchestrator's ``_outcome``)::

        {"holds": ["rotate-keys (keys.rotate): rotated both keys … (applied; verified when the incident ends)"],
         "does_not_hold": ["revoke-principal (identity.revoke_role_assignment): waiting for approval — …"]}

    Only steps that name a runbook count (``alert received``, ``select playbook`` do not); a step's latest entry wins
    (``awaiting approval`` then ``approved`` then ``done``) — the orchestrator's ``approved`` entry names no runbook, so
    a later entry of a step already seen keeps that step's runbook: an approved step waiting for the rest of its group
    reads ``approved, not applied yet``, not the ``waiting for approval`` it was decided out of. Entries the bounded
    custom status dropped are not read."""
    latest: dict[tuple[Any, Any], dict[str, Any]] = {}
    for entry in timeline if isinstance(timeline, list) else []:
        if not isinstance(entry, dict) or not entry.get("step"):
            continue
        key = (entry.get("step"), entry.get("target"))
        seen = latest.pop(key, None)
        if entry.get("runbook"):
            latest[key] = entry  # re-inserted: the order is that of each step's latest entry
        elif seen is not None:
            latest[key] = {**entry, "runbook": seen.get("runbook")}
    holds: list[str] = []
    not_held: list[str] = []
    for entry in latest.values():
        label = f"{entry.get('step')} ({entry.get('runbook')})"
        outcome, detail = entry.get("outcome"), str(entry.get("detail") or "")
        if outcome in _APPLIED:
            holds.append(f"{label}: {detail} (applied; verified when the incident ends)")
        elif outcome in _NOT_HELD:
            not_held.append(f"{label}: {_NOT_HELD[outcome]}" + (f" — {detail}" if detail else ""))
    return {"holds": holds, "does_not_hold": not_held}


_METRICS = ("mttd_s", "mtta_s", "mttc_s", "mttr_s")


def so_far_metrics(metrics: Any, timeline: Any) -> dict[str, float | None]:
    """The record's ``metrics`` shape for an incident that has not finished: the custom status's ``metrics`` (numbers
    only; the orchestrator sets them, :class:`firestop.lifecycle.timeline.IncidentDoc.metrics`), else — a custom status
    written before it carried them — MTTD read from the timeline's ``alert fired`` entry (its ``offset_s`` is seconds
    before the alert was received, negative; a positive one is clock skew and no MTTD, as in the record)."""
    given = metrics if isinstance(metrics, dict) else {}
    out: dict[str, float | None] = {
        k: float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and v >= 0 else None
        for k in _METRICS for v in [given.get(k)]}
    if out["mttd_s"] is None and not given:
        fired = next((e for e in timeline if isinstance(e, dict) and e.get("step") == "alert fired"), None) \
            if isinstance(timeline, list) else None
        offset = fired.get("offset_s") if fired else None
        if isinstance(offset, (int, float)) and not isinstance(offset, bool) and offset <= 0:
            out["mttd_s"] = round(-float(offset), 3)
    return out


def after_close_counts(record: dict[str, Any]) -> str:
    """How many alerts joined a finished incident after it closed, when the record lists fewer than that or counted some
    without its duplicate check (``correlated_after_close_count``, ``correlated_after_close_unchecked``:
    :mod:`firestop.functions.intake_call` — past its key bound a redelivery may be counted twice), else ``""``.
    The wording of ``incident show`` and the console's record view."""
    def count(key: str) -> int:
        value = record.get(key)
        return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0

    listed = len([e for e in record.get("correlated_after_close") or [] if isinstance(e, dict)])
    exact, unchecked = count("correlated_after_close_count"), count("correlated_after_close_unchecked")
    if not unchecked and exact <= listed:
        return ""
    said = f"{exact + unchecked} alert(s) in all, the newest {listed} listed"
    if unchecked:
        said += (f"; {unchecked} of them unchecked (counted past the record's bound on kept alert keys, without the "
                 "duplicate check: a redelivery may be counted twice)")
    return said


def joined_counts(record: dict[str, Any]) -> str:
    """How many alerts joined an incident when some were counted without the duplicate check
    (``correlated_count_unchecked``: the tally past its ``MAX_TRACKED`` distinct alerts, :mod:`firestop.lifecycle.tally`
    — a redelivery of one of them counts again, so ``correlated_count`` is at most that much too high), else ``""``.
    The wording of ``incident show``, the console's record view and the record's Markdown."""
    unchecked, count = record.get("correlated_count_unchecked"), record.get("correlated_count")
    if not (isinstance(unchecked, int) and not isinstance(unchecked, bool) and unchecked > 0 and isinstance(count, int)):
        return ""
    from firestop.lifecycle.tally import MAX_TRACKED

    return (f"{count} alert(s) joined, at most {unchecked} too many: {unchecked} of them were counted without the "
            f"duplicate check (past the {MAX_TRACKED:,} distinct alerts an incident's tally remembers, or not named in "
            "their batch: a redelivery may be counted twice)")


#: What :func:`containment_state` answers: every change the containment made was undone / some of them were.
UNDONE = "undone"
PARTLY_UNDONE = "partly undone"


def containment_state(record: dict[str, Any]) -> str | None:
    """:data:`UNDONE` when every containment action that changed the tenant (``ok`` and ``changed`` in the record's
    ``actions``) is marked ``undone``, :data:`PARTLY_UNDONE` when some are, None when none is (or nothing changed).
    Actions that changed nothing (an evidence snapshot) do not count; one that cannot be undone (a key rotation)
    keeps a full undo ``partly undone``: that change still holds."""
    actions = record.get("actions") if isinstance(record, dict) else None
    changed = [a for a in actions or [] if isinstance(a, dict) and a.get("ok") and a.get("changed")]
    undone = sum(1 for a in changed if a.get("undone") is True)
    if not undone:
        return None
    return UNDONE if undone == len(changed) else PARTLY_UNDONE


def with_containment(view: dict[str, Any]) -> dict[str, Any]:
    """``view`` with ``"containment": "undone" | "partly undone" | None`` (:func:`containment_state`)."""
    return {**view, "containment": containment_state(view)}


#: Keys a view adds to a filed record (where it was filed, the filing's error, :func:`with_containment`): never part of
#: the record itself — an undo's revision names the record it revises by the hash of exactly what was filed.
VIEW_ONLY_KEYS = frozenset({"record_files", "record_error", "containment"})


def record_of(view: dict[str, Any]) -> dict[str, Any]:
    """The record inside a finished incident's view: ``view`` without :data:`VIEW_ONLY_KEYS`."""
    return {k: v for k, v in view.items() if k not in VIEW_ONLY_KEYS}


#: ``status`` of a list row whose incident's filed record cannot be read (:func:`unreadable_row`).
UNREADABLE = "unreadable"


def unreadable_row(incident_id: str, created_at: Any, reason: str) -> dict[str, Any]:
    """The row a list *for display* (``incident list``, ``GET /api/incidents``, the console's front page) shows for an
    incident whose filed record cannot be read (``StoreError`` of :func:`firestop.records.store.filed_record`), instead
    of failing the whole list: ``{"incident_id", "status": "unreadable", "unreadable": True, "reason", "created_at"}``
    (``created_at``: the orchestration's, ISO 8601, for ordering). ``reason``: what people may read (the API answers a
    fixed sentence; the local CLI the store's message). Never used where safety is decided: an undo's reliance checks
    refuse on an unreadable record (:class:`firestop.lifecycle.undo.UndoUnchecked`)."""
    when = created_at.isoformat() if isinstance(created_at, datetime) else created_at
    return {"incident_id": incident_id, "status": UNREADABLE, "unreadable": True, "reason": reason, "created_at": when}


def status_label(view: dict[str, Any]) -> str:
    """An incident's status as people read it: its ``status`` (``contained``, ``needs_responder``: the words
    ``--status`` takes); after an undo what holds now and what it ended as — ``partly undone (was contained)``,
    ``undone (was contained)``. Reads the view's ``containment`` (:func:`with_containment`; a summary row of
    ``incident list`` carries only that), else the view's actions."""
    status = str(view.get("status") or "unknown")
    if status == UNREADABLE:
        return "record unreadable"
    state = view.get("containment") if "containment" in view else containment_state(view)
    state = state if state in (UNDONE, PARTLY_UNDONE) else None  # a view from elsewhere (--app) names no other word
    return f"{state} (was {status})" if state else status


def exit_code(incident: dict[str, Any]) -> int:
    """CLI exit code of an incident view: 0 contained, 3 needs a responder, 4 no playbook, 1 failed."""
    return VIEW_EXIT_CODES.get(incident.get("status") or "", 1)
