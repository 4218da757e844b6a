"""One call of the alert intake for every Functions entry point (``POST /api/alerts``, ``POST /api/events``,
the audit's drift incidents): the sealed start input, the playbook routes probed for the attack's incident,
and the record revision that puts a late alert onto a finished incident.

:func:`accept` wraps :func:`firestop.intake.accept_alert` (decisions: :mod:`firestop.intake.accept`).

:func:`record_after_close` is the only writer of a revision here: it reads the newest filed record of the
finished incident, adds the alert (``correlated_after_close``, ``correlated_alerts``/``correlated_count``, a
timeline line, and ``parts`` when the alert's own playbook runs in another incident), and files it through
``records.file`` with ``revision_of`` = the SHA-256 of what it read — so two writers never lose each other's
entry: the loser reads again (at most :data:`REVISION_ATTEMPTS` times, then the sender gets 503 and
retries). An alert already recorded is ``"duplicate"`` (exactly once across redeliveries): the record keeps the key
of every late alert (``correlated_after_close_keys``: 16 hex digits of SHA-256 of its id each,
:func:`firestop.intake.events.alert_digest`, one string), up to :data:`MAX_AFTER_CLOSE_KEYS` of them (32 KB); past
that a late alert is counted apart in ``correlated_after_close_unchecked`` (a redelivery of one of those may be counted
twice there; ``correlated_after_close_count`` stays exact). A record filed before the keys existed is seeded from the
entries it still lists (older ones it dropped cannot be known again). At most
:data:`MAX_AFTER_CLOSE` entries are kept; the rest are counted (``correlated_after_close_count``), and only the first
:data:`MAX_AFTER_CLOSE` alerts add a timeline line (RT8-06), so a revision's size stays bounded however many join.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from functools import lru_cache
from typing import Any

log = logging.getLogger("firestop.intake")

REVISION_ATTEMPTS = 4
MAX_AFTER_CLOSE = 100
#: Late alerts whose key a record keeps for the exact duplicate check (16 characters each: 32 KB at most).
MAX_AFTER_CLOSE_KEYS = 2_000
_KEY_WIDTH = 16
_SAMPLE = 20


#: firestop.settings, imported at the first call that needs it and kept (an import statement per webhook was ~2-3 µs
#: of CPU, load ~20); get_settings is still looked up on it at each call.
_settings: Any = None


def _settings_module() -> Any:
    global _settings
    import firestop.settings as settings

    _settings = settings
    return settings


#: How long a playbook file's in-place edit may go unnoticed (seconds, ``time.monotonic``): the folder itself is
#: stat-ed on every call (a file added, removed or renamed into place — how editors and deployments write — is
#: seen at once), each file only this often (a scandir and a stat per file were a tenth of a correlated alert's
#: webhook).
ROUTES_RECHECK_SECONDS = 1.0
#: directory -> (the folder's (mtime_ns, inode), routes, monotonic time its files were stat-ed)
_checked: dict[str, tuple[tuple[int, int], tuple[str, ...], float]] = {}


@lru_cache(maxsize=8)
def _routes_of(directory: str, stamp: tuple) -> tuple[str, ...]:
    from firestop.playbooks import load_playbooks_lenient

    playbooks, _ = load_playbooks_lenient(directory)
    return tuple(sorted(f"playbook:{p.name.strip().lower()}" for p in playbooks))


def playbook_routes(*, now: float | None = None) -> tuple[str, ...]:
    """``playbook:<name>`` of every valid playbook of ``FIRESTOP_PLAYBOOKS``, read again when a file is added,
    removed or renamed (at the next call) or changed in place (name, mtime, size: within
    :data:`ROUTES_RECHECK_SECONDS`). ``now``: a ``time.monotonic`` reading (tests). An unreadable folder has no
    routes."""
    directory = str((_settings or _settings_module()).get_settings().playbooks_dir)
    now = time.monotonic() if now is None else now
    try:
        folder = os.stat(directory)
    except OSError:
        _checked.pop(directory, None)
        return ()
    version = (folder.st_mtime_ns, folder.st_ino)
    hit = _checked.get(directory)
    if hit is not None and hit[0] == version and 0 <= now - hit[2] < ROUTES_RECHECK_SECONDS:
        return hit[1]
    try:
        stamp = tuple(sorted((e.name, st.st_mtime_ns, st.st_size) for e in os.scandir(directory) for st in (e.stat(),)))
    except OSError:
        _checked.pop(directory, None)
        return ()
    routes = _routes_of(directory, stamp)
    if len(_checked) >= 8:  # one folder in practice; bounded for test runs with many
        _checked.clear()
    _checked[directory] = (version, routes, now)
    return routes


def _entry_event(entry: dict[str, Any], received: Any) -> dict[str, Any]:
    from firestop.lifecycle.timeline import parse_time, seconds_between

    at = parse_time(entry.get("received_at"))
    part = entry.get("part")
    detail = (f"{entry.get('rule_name')} ({entry.get('alert_id')}): its own playbook runs as part {part}" if part else
              f"{entry.get('rule_name')} ({entry.get('alert_id')}) joined after the incident ended; its playbook already ran and held"
              + (f": {entry['covered']}" if isinstance(entry.get("covered"), str) else ""))
    return {"phase": "detect", "step": "part started" if part else "alert joined after close", "runbook": None,
            "target": (entry.get("target_ids") or [None])[0], "outcome": "ok", "detail": detail,
            "at": at.isoformat() if at else None, "offset_s": seconds_between(parse_time(received), at), "duration_s": None}


def _after_close_keys(record: dict[str, Any]) -> str:
    """The keys of the late alerts ``record`` counted (aligned :data:`_KEY_WIDTH`-character digests, one string); a
    record filed before they were kept: the keys of the entries it lists."""
    from firestop.intake.events import alert_digest

    keys = record.get("correlated_after_close_keys")
    if isinstance(keys, str) and len(keys) % _KEY_WIDTH == 0:
        return keys
    listed = [e.get("alert_id") for e in record.get("correlated_after_close") or [] if isinstance(e, dict)]
    return "".join(dict.fromkeys(alert_digest(a) for a in listed if isinstance(a, str)))


def is_after_close_duplicate(record: dict[str, Any], entry: dict[str, Any]) -> bool:
    """``entry``'s alert was recorded on ``record`` after close already (its key is kept, or it is listed)."""
    from firestop.intake.events import alert_digest

    alert_id = entry.get("alert_id")
    if not isinstance(alert_id, str):
        return False
    from firestop.lifecycle.tally import contains_digest  # the tally's aligned search over the same digests

    listed = record.get("correlated_after_close") or []
    return contains_digest(_after_close_keys(record), alert_digest(alert_id)) or any(
        isinstance(e, dict) and e.get("alert_id") == alert_id for e in listed)


def _revised(record: dict[str, Any], entry: dict[str, Any]) -> dict[str, Any]:
    from firestop.intake.events import alert_digest

    after = [e for e in record.get("correlated_after_close") or [] if isinstance(e, dict)]
    revised = dict(record)
    before = int(record.get("correlated_after_close_count") or len(after))
    revised["correlated_after_close"] = [*after, entry][-MAX_AFTER_CLOSE:]
    keys = _after_close_keys(record)
    if len(keys) // _KEY_WIDTH < MAX_AFTER_CLOSE_KEYS and isinstance(entry.get("alert_id"), str):
        revised["correlated_after_close_keys"] = keys + alert_digest(entry["alert_id"])
        revised["correlated_after_close_count"] = before + 1
    else:  # no room for its key: counted apart, as a count a redelivery may add to again
        revised["correlated_after_close_keys"] = keys
        revised["correlated_after_close_count"] = before
        revised["correlated_after_close_unchecked"] = int(record.get("correlated_after_close_unchecked") or 0) + 1
    sample = {"alert_id": entry.get("alert_id"), "rule_name": entry.get("rule_name"),
              "target_ids": (entry.get("target_ids") or [])[:1], "received_at": entry.get("received_at"),
              **{k: entry[k] for k in ("part", "links") if entry.get(k)}}
    revised["correlated_alerts"] = [*(record.get("correlated_alerts") or []), sample][-_SAMPLE:]
    revised["correlated_count"] = int(record.get("correlated_count") or 0) + 1
    if entry.get("part"):
        revised["parts"] = [*(record.get("parts") or []), {"incident_id": entry["part"], "alert_id": entry.get("alert_id"),
                                                           "rule_name": entry.get("rule_name")}][-MAX_AFTER_CLOSE:]
    if before < MAX_AFTER_CLOSE:  # past that, counted and listed among the newest only: every alert's line in every
        # revision made n alerts write ~n²/2 lines (RT8-06: one evaluation split by caller IP fires one alert per IP)
        revised["timeline"] = [*(record.get("timeline") or []), _entry_event(entry, record.get("received_at"))]
    return revised


def record_after_close_sync(incident_id: str, entry: dict[str, Any]) -> str | None:
    """File a revision of ``incident_id``'s record with ``entry`` added: ``"recorded"``, ``"duplicate"``
    (already listed), or None (no record filed). Raises RuntimeError when the store keeps failing, StoreError when
    the filed record cannot be read (never "no record filed" unread; the intake answers 503 and the sender retries)."""
    from firestop.records.store import filed_record, record_json
    from firestop.settings import get_settings
    from runbooks.dispatch import execute

    for _ in range(REVISION_ATTEMPTS):
        record = filed_record(get_settings(), incident_id)
        if record is None:
            return None
        if is_after_close_duplicate(record, entry):
            return "duplicate"
        revision_of = hashlib.sha256(record_json(record)).hexdigest()
        answer = execute({"runbook": "records.file", "action": "apply", "step_id": "file-record", "incident_id": incident_id,
                          "params": {"record": _revised(record, entry), "revision_of": revision_of}})
        if answer.get("ok"):
            return "recorded"
        error = answer.get("error") or {}
        if error.get("kind") != "conflict":  # another writer filed first: read again
            raise RuntimeError(f"records.file: {error.get('kind')}")
    raise RuntimeError("records.file: the record kept changing")


def confirmed_incident_sync(alert_id: str) -> str | None:
    """The incident whose source check confirmed ``alert_id``'s Fired delivery: the ``incident_id`` its once-marker
    names (:func:`firestop.azure.alerts_management.claim_name`, in the records store) when the marker carries the
    app's seal for it (:func:`firestop.azure.alerts_management.claimed_by`, bounds14); None when there is none, it is
    over :data:`~firestop.azure.alerts_management.CLAIM_READ_LIMIT` bytes, unsealed or mis-sealed (a storage writer's,
    or one written before bounds14: as if absent), or its id is no valid instance id
    (:func:`firestop.boundary.instance_id_problem`). Raises the store's error when it cannot be read, SealKeyError
    without a usable key (intake answers 503)."""
    from firestop.azure.alerts_management import claim_name, claimed_by
    from firestop.boundary import instance_id_problem
    from firestop.records.store import records_store
    from firestop.settings import get_settings
    from firestop.trust.seal import load_seal_key

    name = claim_name({"alert_id": alert_id, "monitor_condition": "Fired"})
    held = claimed_by(records_store(get_settings()), name, load_seal_key())
    # R12-02: the id reaches the Durable SDK's URL unescaped (sealed since bounds14; the shape checked all the same)
    return held if held and instance_id_problem(held) is None else None


async def confirmed_incident(alert_id: str) -> str | None:
    """:func:`confirmed_incident_sync` (the records store is read synchronously, as every runbook does)."""
    return confirmed_incident_sync(alert_id)


def _pending_store() -> Any:
    from firestop.records.store import records_store
    from firestop.settings import get_settings

    return records_store(get_settings())


def keep_pending_sync(incident_id: str, received_at: str, digest: str, variant_id: str, sealed_input: Any) -> None:
    """Keep the delivery as a pending join of the run of ``incident_id`` received at ``received_at``
    (:func:`firestop.records.pending_joins.keep`, create-if-absent: the same content twice is one). Raises the
    store's errors (intake answers 503). One blob create."""
    from firestop.records import pending_joins
    from firestop.trust.seal import load_seal_key

    # the name sealed (RT16: planted names cannot crowd it out of the incident's read; SealKeyError: answered 503)
    pending_joins.keep(_pending_store(), incident_id, received_at, digest, variant_id, sealed_input, load_seal_key())


def verdict_sync(incident_id: str, received_at: str) -> bool | None:
    """That run's source check verdict (:func:`firestop.records.check_verdicts.read`): True, False, None (not
    answered). Raises the store's errors. One blob read."""
    from firestop.records import check_verdicts
    from firestop.trust.seal import load_seal_key

    # sealed (RT16-03): a verdict planted in the store is no verdict (SealKeyError: the delivery is answered 503)
    return check_verdicts.read(_pending_store(), incident_id, received_at, load_seal_key())


async def _keep_pending(incident_id: str, received_at: str, digest: str, variant_id: str, sealed_input: Any) -> None:
    keep_pending_sync(incident_id, received_at, digest, variant_id, sealed_input)


async def _verdict(incident_id: str, received_at: str) -> bool | None:
    return verdict_sync(incident_id, received_at)


async def pending_join(incident_id: str, received_at: str, digest: str, variant_id: str, sealed_input: Any) -> bool | None:
    """joins14 (:data:`firestop.intake.accept.PendingJoin`): keep the pending join, *then* read the run's verdict —
    in that order: the incident writes its verdict before it lists its pending joins, so one of the two sees the
    other (the records store is used synchronously, as every runbook does). Raises the store's errors."""
    await _keep_pending(incident_id, received_at, digest, variant_id, sealed_input)
    return await _verdict(incident_id, received_at)


async def record_after_close(incident_id: str, entry: dict[str, Any]) -> str | None:
    """:func:`record_after_close_sync` (the records store is written synchronously, as every runbook is)."""
    return record_after_close_sync(incident_id, entry)


#: (firestop.intake, firestop.lifecycle, firestop.lifecycle.start, firestop.trust.seal, firestop.settings): imported at the first call
#: (not when this module is: the warm-up and the CLI import it for other functions) and kept — four import statements
#: per delivery were ~8 µs of CPU (``timeit``, load ~20). Functions are looked up on the modules at each call.
_below: tuple[Any, ...] | None = None


def _modules() -> tuple[Any, ...]:
    global _below
    if _below is None:
        import firestop.intake as intake
        import firestop.lifecycle as lifecycle
        import firestop.lifecycle.start as start
        import firestop.settings as settings
        import firestop.trust.seal as sealing

        _below = (intake, lifecycle, start, sealing, settings)
    return _below


def sealed_start_input(alert: Any, now: Any, instance_id: str, *, sandbox: bool, key: Any, check: bool,
                       part_of: str | None = None, follows: str | None = None,
                       variant_of: str | None = None) -> dict[str, Any]:
    """The incident input intake starts ``instance_id`` with for ``alert`` (a parsed ``Alert`` or ``IntakeAlert``)
    received at ``now`` (aware datetime): :func:`firestop.lifecycle.start.incident_input`, sealed for
    ``instance_id`` (:data:`~firestop.seal_contract.Purpose.INCIDENT`) with ``key``'s current key. ``check``: the
    source check is on (the input then names its check; a root incident, not a variant, also starts its pending
    joins' variants). Raises ValueError for a binding with a line break. Intake's ``start_input`` and
    :func:`rederived_variant_input` both build inputs here."""
    _, _, start, sealing, _ = _below or _modules()
    return sealing.seal(sealing.Purpose.INCIDENT,
                        start.incident_input(alert, received_at=now, sandbox=sandbox, incident_id=instance_id,
                                             part_of=part_of, follows=follows, source_check=check,
                                             variant_of=variant_of, pending_joins=check and not variant_of),
                        binding=instance_id, key=key, leaves_plain=True)  # (incident_input: str/int/bool/None leaves)


def rederived_variant_input(kept: Any, variant_id: str, variant_of: str, *, key: Any) -> dict[str, Any]:
    """joins18: a fresh input for a pending join's variant whose kept input was sealed with a key since retired
    (RT20-01 refuses it as a live purpose): built from the kept input's ``"alert"`` alone through
    :func:`sealed_start_input` — as intake builds a variant (``variant_of``, its own source check, received now by
    the client factory's clock, the factory's sandbox flag), sealed with ``key``'s current key. Nothing else of
    ``kept`` is carried over (a pinned ``playbook``, ``requested_by``, ``part_of``, ``source_ref``…): a retired key
    chooses no field intake would not. An Activity Log alert's ``source_ref`` came from the delivery's context, which
    the input does not keep: its check then reads "not confirmed" and a responder decides (the fail-safe side).
    The source check is on whatever ``FIRESTOP_ALERT_SOURCE_CHECK`` says now: a pending join exists only under a
    check, and this variant is checked on its own. Raises ValueError (pydantic's ValidationError) when ``kept``
    holds no alert that parses, or one whose input would not be a checked variant of ``variant_of`` (no source check
    for its schema: it would run unchecked — never started so)."""
    from firestop.alerts.alert import Alert
    from firestop.azure.clients import get_client_factory

    alert = kept.get("alert") if isinstance(kept, dict) else None
    if not isinstance(alert, dict):
        raise ValueError("the kept input holds no alert")
    factory = get_client_factory()
    fresh = sealed_start_input(Alert.model_validate(alert), factory.clock.now(), variant_id, sandbox=factory.sandbox,
                               key=key, check=True, variant_of=variant_of)
    if fresh.get("variant_of") != variant_of or not fresh.get("source_check"):
        # (an alert intake would not check at its source is no variant: it would run unchecked; fail closed)
        raise ValueError("the kept alert re-derives to no checked variant")
    return fresh


async def accept(client: Any, alert: Any, *, factory: Any, settings: Any, key: bytes) -> Any:
    """:func:`firestop.intake.accept_alert` for ``alert`` with Firestop's start input, routes and revisions."""
    intake, lifecycle, _, _, settings_module = _below or _modules()
    check = settings_module.alert_source_check_enabled()  # decided at intake, in the input: replays never change

    def start_input(a, now, iid, part_of=None, follows=None, variant_of=None):
        return sealed_start_input(a, now, iid, sandbox=factory.sandbox, key=key, check=check, part_of=part_of,
                                  follows=follows, variant_of=variant_of)

    return await intake.accept_alert(
        client, alert, now=factory.clock.now(), settings=settings, orchestrator_name=lifecycle.ORCHESTRATOR_NAME,
        start_input=start_input, cache_scope=str(id(factory)),  # a local environment (tests, serve) installs its own factory
        routes=playbook_routes(), record_after_close=record_after_close, source_checked=check,
        confirmed_incident=confirmed_incident, pending_join=pending_join,
    )
