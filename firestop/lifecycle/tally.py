"""The alerts that joined an incident, counted outside its history: a tally entity per incident.

A storm of correlated alerts must not grow the incident's orchestration
history (replay cost grows with it; issue 18 measured 650 ``alert_correlated``
events in one incident). So intake (:mod:`firestop.intake.accept`) *signals*
the durable entity :data:`TALLY_ENTITY` (``incident_alerts``) whose key is
the incident id, operation ``add``, with a batch of joined alerts
(:func:`firestop.intake.events.correlated_batch`), and answers 202 once the
signal is stored (on Azure: the extension has queued the operation; locally:
one insert into ``entity_ops``). The orchestrator reads the tally once, when it
drains its events before filing the record (:func:`summary`: one
``call_entity``, two history events, however many alerts joined).

Operations (:func:`operate`), input/result JSON:

* ``add`` — a batch ``{"count", "alert_ids", "alerts", ...}``; each alert id
  not seen before (by :func:`~firestop.intake.events.alert_digest`, up to
  :data:`MAX_TRACKED` remembered) adds one to ``count``; alerts of the batch
  beyond its listed ids are counted without dedupe; the newest
  :data:`SAMPLE_SIZE` summaries are kept. After ``summary`` closed the tally,
  alerts are still counted (``late``: they reached the incident after its
  tally was read; the 202 named this incident), and the first :data:`MAX_LATE_NAMED` of them kept
  (``late_alerts``: their summaries, or ``{"alert_id"}`` for an id the batch did not summarise) → ``None``.
* ``summary {"exclude": alert id | null, "close": bool}`` →
  ``{"count", "alerts": [summary, …], "parts": [summary with "part", …], "late", "untracked"}`` (``untracked``: how
  many of ``count`` were counted without the duplicate check — past :data:`MAX_TRACKED`, or unnamed in their batch —
  so ``count`` is exact only when it is 0; the record says so) without the ``exclude``\\ d alert
  (the incident's own starting alert, redelivered); ``close`` marks later adds
  ``late``.
* ``variant`` ``{"variant", "alert_id", "outcome", "why"}`` (variants14) — a variant of this incident (a delivery
  that would have joined it, checked on its own: :mod:`firestop.intake.accept` ``_variant``) says how its check
  ended: the first :data:`MAX_VARIANTS_NAMED` are named (``variants``), all counted (``variant_count``, and by kind
  in ``variant_kinds``, :func:`variant_kind`); past the first :data:`MAX_VARIANTS_NAMED` a variant is still kept
  while fewer than :data:`VARIANTS_KEPT_PER_KIND` of its kind are (variants16: a forger who posts 20 variants first
  cannot keep a later confirmed one off the waiting card, :func:`firestop.lifecycle.view.with_variants`; at most
  ``MAX_VARIANTS_NAMED + 3 * VARIANTS_KEPT_PER_KIND`` kept, and ``summary`` answers the first
  :data:`MAX_VARIANTS_NAMED` kept — the first to arrive, as before, so records and histories are unchanged). Its alert
  is *taken*: were it tallied here (a pending join, joins14), it is no longer counted or sampled, and an ``add`` of
  it later counts nothing (``taken``, digests like ``digests``, at most :data:`MAX_TRACKED`): one alert is counted by
  one incident. → ``{"closed", "asked"}``: whether the tally was closed (the incident read it: nothing waits there
  any more) and, closed, the variant that already asked a responder about the deliveries after it (None: the
  caller is the first, and asks — recorded as ``asked``; variants14 item 2).
* ``unchecked`` ``{"variant"}`` (cap15) — a variant of this incident whose first source check *could not check*
  (throttled, a 5xx, a timeout) asks its place: → ``{"k": n}``, it is the n-th such variant of this incident (1 for
  the first). Atomic (an entity runs one operation at a time), so variants racing get distinct places; a variant
  asking again (an operation sent again) gets its own place back while it is among the first
  :data:`MAX_VARIANTS_NAMED` (``unchecked_ids``; past them a repeat counts again — only ever more conservative). The
  caller compares n with its input's ``unchecked_cap`` (:data:`firestop.lifecycle.incident` ``_unchecked_place``).
  ``summary`` answers ``unchecked_count``.
* ``late`` → ``{"late", "alerts"}``: how many alerts were counted after the close, and ``late_alerts``. The
  orchestrator reads it once its record is filed and puts them on the record through the after-close path
  (:func:`late`; before lifecycle8 they were in no record).
* ``get`` → the state ``{"count", "digests", "alerts", "parts", "untracked", "late", "closed", "variants",
  "variant_count", "variant_kinds", …}`` (``parts``: the
  first :data:`SAMPLE_SIZE` alerts carrying ``part``, the incident another route's playbook runs in, kept apart;
  ``digests``: the remembered alert digests as one string, :data:`DIGEST_WIDTH` characters each in the order
  first seen — :func:`tracked` lists them).

State shape and cost: the entity's whole state is decoded and re-encoded on every batch (the Durable extension
passes it as JSON text), so the remembered digests are one string, not a list: 1,000 of them decode and encode as
one JSON string instead of 1,000. ``python bench/tally.py`` (CPU, the list state side by side): 1,000 alerts in
batches of 2 cost 185 → 108 ms (1.7x), 10,000 in batches of 10 2.43 → 1.23 s (2.0x). Up to :data:`_SCAN_LIMIT`
new alerts a batch are looked up by searching the string; a larger batch builds a set of it once.
A state written before this shape (``"ids"``: a list) is read and
rewritten in the new one.

Incremental dedupe (hot25): searching the string costs in proportion to the remembered digests for every alert
(``str.find`` over hex text, ~12 µs an alert at 1,000 remembered, 2 µs a KB; ``MAX_TRACKED`` is 10,000), so an
entity context that names its key (the SDK's ``DurableEntityContext.entity_key``) looks alerts up in a set kept
beside the stored string instead (:class:`_Seen`: per entity, for the last :data:`SEEN_KEPT` entities this process
ran). The set is trusted only for the exact string it was built from: each batch compares the stored ``digests``
with the string the set belongs to (one ``memcmp``); equal → the set as is, the stored one longer and beginning with
it → the set extended by the new tail only (another worker's batches), anything else (a batch that was never
committed — a crash, a fenced commit, an operation that raised — another store with the same incident id, an edited
state) → rebuilt from the stored string. So the answer is the one the string search gives (tested side by side), a
changed state is seen at the next batch, and a batch run again after a crash counts what the first run counted.
The cost left per batch is the string compare and the JSON passes the Durable protocol makes over the state.
Deterministic still: the set is derived from the state, never a source of its own.

Deterministic: no clock, no I/O. Repeats delivered to several workers are
counted once (the digests), up to :data:`MAX_TRACKED` distinct alerts per
incident; beyond that they are counted without dedupe (``untracked``).
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from typing import Any, Generator

from firestop.source_reasons import UNCHECKED_NOT_WAITING

__all__ = ["DIGEST_WIDTH", "MAX_LATE_NAMED", "MAX_TRACKED", "MAX_VARIANTS_NAMED", "SAMPLE_SIZE", "TALLY_ADD",
           "TALLY_ENTITY", "TALLY_UNCHECKED", "TALLY_VARIANT", "VARIANTS_KEPT_PER_KIND", "VARIANT_KINDS", "alert_digest",
           "operate", "late", "report_variant", "summary", "tracked", "unchecked_place", "variant_kind", "variant_kinds"]

# The contract with intake (firestop.intake.events, which lifecycle does not import; a test checks they agree)
TALLY_ENTITY = "incident_alerts"
TALLY_ADD = "add"
#: A variant's report of its check (variants14; the incident orchestrator of the variant calls it)
TALLY_VARIANT = "variant"
#: A variant whose first check could not check asks its place among them (cap15; the variant's orchestrator calls it)
TALLY_UNCHECKED = "unchecked"

#: Joined alerts kept in the tally and named in the record (the rest are counted).
SAMPLE_SIZE = 20
#: Distinct alerts whose digest a tally remembers (16 hex digits each: ~19 bytes of state per alert).
MAX_TRACKED = 10_000
#: Late alerts (tallied after the close) a tally names for the record; later ones are counted only (``late``).
MAX_LATE_NAMED = 100
#: Variants a tally names for the record (``variant``); later ones are counted only (``variant_count``).
MAX_VARIANTS_NAMED = 20
#: Variants of one kind (:data:`VARIANT_KINDS`) the tally keeps past the first :data:`MAX_VARIANTS_NAMED` (variants16:
#: the waiting card names :data:`firestop.lifecycle.view.VARIANTS_ON_CARD`, confirmed ones first).
VARIANTS_KEPT_PER_KIND = 5
#: A variant's kind by its check's outcome, in the order a responder needs them: confirmed at its source (``ok``),
#: could not check (``could not check``, ``firestop.lifecycle.incident.COULD_NOT_CHECK``; past the cap
#: ``firestop.source_reasons.UNCHECKED_NOT_WAITING``), not confirmed (any other outcome).
VARIANT_KINDS = ("confirmed", "unchecked", "unconfirmed")
#: Outcomes of the ``unchecked`` kind (a test checks they are the lifecycle's).
_UNCHECKED_OUTCOMES = frozenset({"could not check", UNCHECKED_NOT_WAITING})
#: Longest "why" kept of a variant's check (characters).
VARIANT_WHY_CHARS = 300
#: Characters of one digest (:func:`alert_digest`) in the state's ``digests`` string.
DIGEST_WIDTH = 16
#: Most new alerts in one ``add`` checked by string search; a larger batch builds a set of the remembered digests.
_SCAN_LIMIT = 32
#: Entities whose remembered digests this process keeps as a set beside the stored string (:class:`_Seen`; at most
#: ``MAX_TRACKED`` digests each, ~1 MB for a full one).
SEEN_KEPT = 8


def alert_digest(alert_id: str) -> str:
    """16 hex digits of SHA-256 of ``alert_id`` (``firestop.intake.events.alert_digest``)."""
    return hashlib.sha256(alert_id.encode("utf-8")).hexdigest()[:16]


def variant_kind(outcome: Any) -> str:
    """The kind (one of :data:`VARIANT_KINDS`) of a variant whose check ended with ``outcome``."""
    if outcome == "ok":
        return "confirmed"
    return "unchecked" if outcome in _UNCHECKED_OUTCOMES else "unconfirmed"


def variant_kinds(state: Any) -> dict[str, int]:
    """How many variants of each kind a tally state (stored or ``get``'s) counted: ``{"confirmed", "unchecked",
    "unconfirmed": int ≥ 0}`` from its ``variant_kinds``, or — a state written before variants16 kept them, or not a
    shape this module writes — counted from the variants it names (those counted past them are of no known kind)."""
    state = state if isinstance(state, dict) else {}
    kept = state.get("variant_kinds")
    if isinstance(kept, dict) and all(isinstance(kept.get(k), int) and not isinstance(kept.get(k), bool)
                                      and kept[k] >= 0 for k in VARIANT_KINDS):
        return {k: kept[k] for k in VARIANT_KINDS}
    named = state.get("variants") if isinstance(state.get("variants"), list) else []
    counted = dict.fromkeys(VARIANT_KINDS, 0)
    for v in named:
        if isinstance(v, dict):
            counted[variant_kind(v.get("outcome"))] += 1
    return counted


def _empty() -> dict[str, Any]:
    return {"count": 0, "digests": "", "alerts": [], "parts": [], "untracked": 0, "late": 0, "closed": False,
            "late_alerts": [], "variants": [], "variant_count": 0, "taken": "", "asked": None,
            "unchecked_ids": [], "unchecked_count": 0}


def tracked(state: dict[str, Any]) -> list[str]:
    """The digests a tally state remembers (``get``'s answer or the stored state), oldest first."""
    digests = state.get("digests")
    if isinstance(digests, str):
        return [digests[i:i + DIGEST_WIDTH] for i in range(0, len(digests), DIGEST_WIDTH)]
    legacy = state.get("ids")
    return [d for d in legacy if isinstance(d, str)] if isinstance(legacy, list) else []


def _normalised(stored: Any) -> dict[str, Any]:
    """The stored state in the current shape (a legacy ``ids`` list folded into ``digests``)."""
    state = {**_empty(), **(stored if isinstance(stored, dict) else {})}
    if "ids" in state:
        legacy = state.pop("ids")
        legacy = legacy if isinstance(legacy, list) else []
        state["digests"] = "".join(d for d in legacy if isinstance(d, str) and len(d) == DIGEST_WIDTH)
    elif not isinstance(state["digests"], str) or len(state["digests"]) % DIGEST_WIDTH:
        state["digests"] = ""  # not a shape this module wrote: remember nothing rather than mis-align
    if not isinstance(state["taken"], str) or len(state["taken"]) % DIGEST_WIDTH:
        state["taken"] = ""
    if not isinstance(state["variants"], list):
        state["variants"] = []
    state["variant_kinds"] = variant_kinds(state)  # (older states: counted from the named ones)
    if not isinstance(state["unchecked_ids"], list):
        state["unchecked_ids"] = []
    if not isinstance(state["unchecked_count"], int) or isinstance(state["unchecked_count"], bool):
        state["unchecked_count"] = len(state["unchecked_ids"])
    return state


def contains_digest(digests: str, digest: str) -> bool:
    """``digest`` is one of the aligned entries of ``digests`` (a match straddling two entries does not count)."""
    at = digests.find(digest)
    while at != -1:
        if at % DIGEST_WIDTH == 0:
            return True
        at = digests.find(digest, at + 1)
    return False


def _entries(digests: str) -> set[str]:
    """The aligned :data:`DIGEST_WIDTH`-character entries of ``digests`` as a set."""
    return {digests[i:i + DIGEST_WIDTH] for i in range(0, len(digests), DIGEST_WIDTH)}


class _Seen:
    """Per entity (``(name, key)``), the set of the digests of the ``digests`` string it was built from
    (module docstring, "Incremental dedupe"). Thread-safe: an entry is taken out while a batch uses it and put back
    with the batch's string, so two threads never share one set (the second builds its own)."""

    def __init__(self, kept: int) -> None:
        self._kept = kept
        self._lock = threading.Lock()
        self._sets: OrderedDict[Any, tuple[str, set[str]]] = OrderedDict()

    def take(self, entity: Any, stored: str) -> set[str]:
        """The set of ``stored``'s entries, from the kept one when it was built from ``stored`` or from a string
        ``stored`` begins with (extended by the tail), else built now. The caller owns it until :meth:`put`."""
        with self._lock:
            hit = self._sets.pop(entity, None)
        if hit is not None:
            text, seen = hit
            if text == stored:
                return seen
            if len(stored) > len(text) and stored.startswith(text) and not len(text) % DIGEST_WIDTH:
                seen.update(_entries(stored[len(text):]))
                return seen
        return _entries(stored)

    def put(self, entity: Any, digests: str, seen: set[str]) -> None:
        """Keep ``seen`` as the set of ``digests`` (the string the batch wrote)."""
        with self._lock:
            self._sets[entity] = (digests, seen)
            self._sets.move_to_end(entity)
            while len(self._sets) > self._kept:
                self._sets.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._sets.clear()


_seen = _Seen(SEEN_KEPT)


def _entity_of(context: Any) -> Any:
    """``(entity name, key)`` of an SDK entity context, None for anything else (no set kept: string search)."""
    key = getattr(context, "entity_key", None)
    name = getattr(context, "entity_name", None)
    return (name, key) if isinstance(key, str) and isinstance(name, str) else None


def batch_parts(batch: dict[str, Any]) -> tuple[list[str], list[dict[str, Any]], int]:
    """An ``add`` batch read: ``(alert ids, alert summaries, alerts beyond the ids listed)``. The ids are
    ``alert_ids`` (strings only), else the summaries' ``alert_id``s; ``count`` beyond them counts alerts the
    batch holds without naming (never negative)."""
    ids = [i for i in batch.get("alert_ids") or [] if isinstance(i, str)]
    alerts = [a for a in batch.get("alerts") or [] if isinstance(a, dict)]
    if not ids:
        ids = [a["alert_id"] for a in alerts if isinstance(a.get("alert_id"), str)]
    declared = batch.get("count")
    return ids, alerts, max((declared if isinstance(declared, int) else len(ids)) - len(ids), 0)


def _add(state: dict[str, Any], batch: Any, entity: Any = None) -> None:
    """Apply an ``add`` batch to ``state``; ``entity`` (``(name, key)``, :func:`_entity_of`): look the alerts up in the
    set :data:`_seen` keeps for it (else search the string)."""
    if not isinstance(batch, dict):
        return
    ids, alerts, beyond = batch_parts(batch)
    stored: str = state["digests"]
    remembered = len(stored) // DIGEST_WIDTH
    if entity is not None:
        # the set of the stored digests (kept beside the string, checked against it): this batch's remembered ones
        # are added to it as they come, so it also answers repeats within the batch
        seen_before = batch_seen = _seen.take(entity, stored)
    else:
        # small batches (the usual: one group commit of a few alerts) search the string; large ones build a set once
        seen_before = None if len(ids) <= _SCAN_LIMIT else set(tracked(state))
        batch_seen = set()
    added: list[str] = []  # digests remembered by this batch (appended to ``digests`` at the end)
    fresh = 0
    new_ids: set[str] = set()
    taken: str = state["taken"] if isinstance(state["taken"], str) else ""
    for alert_id in ids:
        digest = alert_digest(alert_id)
        if digest in batch_seen or (digest in seen_before if seen_before is not None else contains_digest(stored, digest)):
            continue
        if taken and contains_digest(taken, digest):  # its own variant holds it (``variant``, reported first)
            continue
        fresh += 1
        new_ids.add(alert_id)
        if remembered + len(added) < MAX_TRACKED:
            batch_seen.add(digest)
            added.append(digest)
        else:
            state["untracked"] += 1
    if added:
        state["digests"] = stored + "".join(added)
    if entity is not None:
        _seen.put(entity, state["digests"], batch_seen)
    fresh += beyond
    state["untracked"] += beyond
    state["count"] += fresh
    if state["closed"]:
        state["late"] += fresh
        room = MAX_LATE_NAMED - len(state["late_alerts"])
        if room > 0:
            summaries = {a.get("alert_id"): a for a in alerts}
            named = [summaries.get(i) or {"alert_id": i} for i in dict.fromkeys(i for i in ids if i in new_ids)]
            state["late_alerts"] = state["late_alerts"] + named[:room]
    # the newest alerts not seen before (one more than the record names: the summary may leave out the incident's own)
    state["alerts"] = (state["alerts"] + [a for a in alerts if a.get("alert_id") in new_ids])[-(SAMPLE_SIZE + 1):]
    # alerts whose own playbook runs as a part of this incident: kept apart, so a storm after them cannot push
    # them out of the sample the record names
    known = {p.get("part") for p in state["parts"]}
    for a in alerts:
        if a.get("part") and a.get("part") not in known and len(state["parts"]) < SAMPLE_SIZE:
            state["parts"].append(a)
            known.add(a.get("part"))


def _variant(state: dict[str, Any], report: Any) -> dict[str, Any]:
    """Apply a ``variant`` report to ``state`` (module docstring); its answer ``{"closed", "asked"}``."""
    report = report if isinstance(report, dict) else {}
    variant = str(report.get("variant") or "")[:128]
    alert_id = report.get("alert_id")
    named = {v.get("variant") for v in state["variants"] if isinstance(v, dict)}
    if variant and variant not in named:  # (a report sent again — a replayed call — names and counts nothing twice)
        state["variant_count"] = int(state.get("variant_count") or 0) + 1
        kind = variant_kind(report.get("outcome"))
        state["variant_kinds"] = {**state["variant_kinds"], kind: state["variant_kinds"][kind] + 1}
        of_kind = sum(1 for v in state["variants"] if isinstance(v, dict) and variant_kind(v.get("outcome")) == kind)
        if len(state["variants"]) < MAX_VARIANTS_NAMED or of_kind < VARIANTS_KEPT_PER_KIND:  # (variants16)
            state["variants"] = state["variants"] + [{
                "variant": variant, "alert_id": str(alert_id)[:512] if isinstance(alert_id, str) else None,
                "outcome": str(report.get("outcome") or "")[:40],
                "why": str(report.get("why") or "")[:VARIANT_WHY_CHARS]}]
    if isinstance(alert_id, str) and alert_id:
        digest = alert_digest(alert_id)
        taken = state["taken"] if isinstance(state["taken"], str) and not len(state["taken"]) % DIGEST_WIDTH else ""
        if not contains_digest(taken, digest) and len(taken) // DIGEST_WIDTH < MAX_TRACKED:
            state["taken"] = taken + digest
            if contains_digest(state["digests"], digest):  # tallied here (a pending join): counted by its variant
                state["count"] = max(int(state["count"]) - 1, 0)
                state["alerts"] = [a for a in state["alerts"] if a.get("alert_id") != alert_id]
    asked = state.get("asked")
    if state["closed"] and asked is None and report.get("asks"):
        state["asked"] = variant
    return {"closed": bool(state["closed"]), "asked": None if asked == variant else asked}  # (itself: a report again)


def _unchecked(state: dict[str, Any], request: Any) -> dict[str, Any]:
    """Apply an ``unchecked`` request to ``state`` (module docstring): ``{"k": n}``, the caller's place among this
    incident's variants whose first check could not check (1-based)."""
    variant = str((request if isinstance(request, dict) else {}).get("variant") or "")[:128]
    ids = state["unchecked_ids"]
    if variant and variant in ids:  # the same variant asking again: its place, not a new one
        return {"k": ids.index(variant) + 1}
    state["unchecked_count"] = max(int(state["unchecked_count"]), len(ids)) + 1
    if variant and len(ids) < MAX_VARIANTS_NAMED and state["unchecked_count"] == len(ids) + 1:
        state["unchecked_ids"] = ids + [variant]
    return {"k": state["unchecked_count"]}


def operate(context: Any) -> None:
    """Entity function body of :data:`TALLY_ENTITY` (a ``df.DurableEntityContext``); see the module docstring."""
    state = _normalised(context.get_state(_empty))
    request = context.get_input()
    op = context.operation_name
    if op == TALLY_ADD:
        _add(state, request, _entity_of(context))
        context.set_result(None)
    elif op == "summary":
        request = request if isinstance(request, dict) else {}
        exclude = request.get("exclude")
        own = (isinstance(exclude, str) and contains_digest(state["digests"], alert_digest(exclude))
               and not contains_digest(state["taken"], alert_digest(exclude)))  # (taken: not counted already)
        context.set_result({"count": state["count"] - (1 if own else 0), "late": state["late"],
                            "untracked": state["untracked"],
                            "alerts": [a for a in state["alerts"] if a.get("alert_id") != exclude][-SAMPLE_SIZE:],
                            "parts": state["parts"], "variants": state["variants"][:MAX_VARIANTS_NAMED],
                            "variant_count": state["variant_count"],
                            "unchecked_count": state["unchecked_count"]})
        if request.get("close"):
            state["closed"] = True
    elif op == TALLY_VARIANT:
        context.set_result(_variant(state, request))
    elif op == TALLY_UNCHECKED:
        context.set_result(_unchecked(state, request))
    elif op == "late":
        context.set_result({"late": state["late"], "alerts": state["late_alerts"]})
    elif op == "get":
        context.set_result(state)
    else:
        raise ValueError(f"{TALLY_ENTITY}: unknown operation {op!r} ({TALLY_ADD}, summary, {TALLY_VARIANT}, "
                         f"{TALLY_UNCHECKED}, late, get)")
    context.set_state(state)


def summary(context: Any, incident_id: str, exclude: str | None, *, close: bool = True) -> Generator[Any, Any, dict[str, Any]]:
    """Orchestrator code (``yield from``): the tally of ``incident_id`` — ``{"count", "alerts", "parts", "late",
    "untracked", "variants", "variant_count", "unchecked_count"}`` (``parts``: the alerts carrying ``part``, kept apart
    by the entity, at most :data:`SAMPLE_SIZE`) — one ``call_entity``; with ``close`` later alerts are counted as
    ``late``."""
    import azure.durable_functions as df

    answer = yield context.call_entity(df.EntityId(TALLY_ENTITY, incident_id), "summary",
                                       {"exclude": exclude, "close": close})
    answer = answer if isinstance(answer, dict) else {}
    count = answer.get("count") if isinstance(answer.get("count"), int) else 0
    untracked = answer.get("untracked") if isinstance(answer.get("untracked"), int) else 0  # 0 from an older tally
    alerts = [a for a in answer.get("alerts") or [] if isinstance(a, dict)]
    parts = [a for a in answer.get("parts") or [] if isinstance(a, dict) and a.get("part")][:SAMPLE_SIZE]
    variants = [v for v in answer.get("variants") or [] if isinstance(v, dict)][:MAX_VARIANTS_NAMED]
    variant_count = answer.get("variant_count") if isinstance(answer.get("variant_count"), int) else 0  # (older: none)
    unchecked = answer.get("unchecked_count")
    unchecked = unchecked if isinstance(unchecked, int) and not isinstance(unchecked, bool) else 0  # (older: none)
    return {"count": max(count, 0), "alerts": alerts[-SAMPLE_SIZE:], "parts": parts, "late": answer.get("late") or 0,
            "untracked": min(max(untracked, 0), max(count, 0)), "variants": variants,
            "variant_count": max(variant_count, len(variants)), "unchecked_count": max(unchecked, 0)}


def report_variant(context: Any, incident_id: str, report: dict[str, Any]) -> Generator[Any, Any, dict[str, Any]]:
    """Orchestrator code (``yield from``), variants14: a variant's ``report`` (``{"variant", "alert_id", "outcome",
    "why", "asks"}``) to the tally of ``incident_id``, the incident it would have joined — one ``call_entity`` —
    → ``{"closed": bool, "asked": variant id | None}`` (the ``variant`` operation, module docstring)."""
    import azure.durable_functions as df

    answer = yield context.call_entity(df.EntityId(TALLY_ENTITY, incident_id), TALLY_VARIANT, report)
    answer = answer if isinstance(answer, dict) else {}
    asked = answer.get("asked")
    return {"closed": answer.get("closed") is True, "asked": str(asked)[:128] if isinstance(asked, str) else None}


def unchecked_place(context: Any, incident_id: str, variant: str) -> Generator[Any, Any, int]:
    """Orchestrator code (``yield from``), cap15: the place (1-based) of the variant ``variant`` among the variants of
    ``incident_id`` whose first source check could not check — one ``call_entity`` (``unchecked``, module docstring).
    An answer without a place reads as 1."""
    import azure.durable_functions as df

    answer = yield context.call_entity(df.EntityId(TALLY_ENTITY, incident_id), TALLY_UNCHECKED, {"variant": variant})
    k = (answer if isinstance(answer, dict) else {}).get("k")
    return k if isinstance(k, int) and not isinstance(k, bool) and k > 0 else 1


def late(context: Any, incident_id: str) -> Generator[Any, Any, dict[str, Any]]:
    """Orchestrator code (``yield from``): the alerts tallied on ``incident_id`` after its tally was closed —
    ``{"late": count, "alerts": [summary, …]}`` (at most :data:`MAX_LATE_NAMED`) — one ``call_entity``."""
    import azure.durable_functions as df

    answer = yield context.call_entity(df.EntityId(TALLY_ENTITY, incident_id), "late", None)
    answer = answer if isinstance(answer, dict) else {}
    count = answer.get("late") if isinstance(answer.get("late"), int) else 0
    alerts = [a for a in answer.get("alerts") or [] if isinstance(a, dict) and isinstance(a.get("alert_id"), str)]
    return {"late": max(count, 0), "alerts": alerts[:MAX_LATE_NAMED]}
