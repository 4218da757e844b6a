"""RT17-01: alert rules an admin trusted explicitly — a customer's own rule routed to a playbook
(``firestop-playbook: <name>``) that is none of the playbook's detections (:mod:`firestop.infra.rule_trust`).

An entry is a JSON document in the records store (``FIRESTOP_RECORDS_CONTAINER``), written create-only at
``trusted-rules/<sha256 of "rule id (lower case)|criteria digest">.json``::

    {"rule_id": str, "criteria": str (64 hex: firestop.infra.rule_trust.trust_digest), "playbooks": [str],
     "trusted_by": str (the admin's object id), "trusted_at": str (ISO 8601 UTC), "digest_version": 2, "seal": {...}}

sealed with the app's seal key (purpose :data:`firestop.seal_contract.Purpose.TRUSTED_RULE`, bound to
``"<rule id lower>|<criteria digest>"``). The digest covers what decides when the rule fires, where it reads and its
``firestop-*`` properties, so any later edit of those voids the entry (its name and binding no longer match) and the
rule waits for a responder again until an admin trusts the new version. An edit that is put back restores the
binding, so the entry alone cannot tell the version that fired: the source check also refuses a rule modified at or
after its alert fired (A13-09, :func:`firestop.infra.rule_trust.changed_after_firing`). A Storage Blob Data writer cannot make an
entry (no seal key); one who deletes an entry only makes the rule wait for a responder (fail closed).

Who may trust: an admin (the CLI command checks the signed-in principal's Firestop role, as ``--app`` commands do).

Revoking (rules16, ``firestop rules untrust``): the store is append-only (no delete; on Azure the records container
is WORM), so a version's trust is a chain of sealed events at ``trusted-rules/<h>.json`` (event 1, the trust above)
and ``trusted-rules/<h>.<n>.json`` (n = 2, 3, …), each create-only::

    {"rule_id", "criteria", "playbooks", "event": n, "action": "untrust" | "trust",
     "by": str (the admin's object id), "at": str (ISO 8601 UTC), "seal": {...}}

sealed for the same purpose, bound to ``"<rule id lower>|<criteria digest>|<n>"`` (an event cannot be moved to another
place in the chain). The newest event that verifies decides: trusted after a trust, not after an untrust. An object
at such a name that does not verify (planted by a Storage Blob Data writer, who has no seal key) is ignored — it can
neither trust nor revoke, and the next event is written at the first free number above the newest that verifies
(:func:`_next_place`, R16-01) — and the store cannot lose an event on Azure (WORM; locally, whoever may delete files in
``FIRESTOP_HOME`` is trusted anyway). Listing (``rules list``): :func:`listing`, the newest verified event of each
version, at most :data:`LIST_LIMIT` objects read.

Digest versions (trust17): ``criteria`` is :func:`firestop.infra.rule_trust.trust_digest` of the document's
``digest_version`` — absent, 1 (entries sealed before trust17: :func:`~firestop.infra.rule_trust.criteria_digest`, which
does not cover ``muteActionsDuration``/``autoMitigate``/``ruleResolveConfiguration``/``kind``); 2 for every event
written now (it covers them: muting a trusted rule voids its trust like any other edit). The version is part of the
sealed document, and the two digests never coincide (the version 2 document holds ``"version": 2``), so an event
cannot be read as the other version's. :func:`trust_state` looks for the rule's version 2 chain first: a verified
event there decides. Only when there is none does a version 1 chain count, and then only while the rule's
notification fields are the spec's defaults (:func:`firestop.infra.rule_trust.notification_is_default`): an old
entry whose rule now has a mute set (or never resolves, or resolves on its own schedule) is not trusted — fail closed,
no admin action needed for it — and a trusted version 1 entry is flagged ``retrust`` in :func:`listing` ("trusted
before mute fields were covered: re-trust", which writes a version 2 entry) and in ``monitoring.alert-rules``.

Retired seal keys (trustkey18, A18-03): a trust is standing authority (a rule's alerts act without a responder at
every later alert), so a trust event sealed with a *retired* key of the ring — by whoever holds the key rotated out,
the reason for a rotation — no longer makes a rule trusted: when a chain's newest verified event is such a trust,
:func:`trust_state` says ``"rekey"`` (not trusted: its alerts wait for a responder), :func:`listing` shows the version
``state: "re-trust"`` with :data:`RETRUST_KEY`, and ``rules trust`` writes the next event under the current key. An
*untrust* sealed with a retired key still counts (it can only remove authority). What was trusted when a local
``seal-key rotate`` ran stays trusted: the rotation calls :func:`reseal_trusts` with the ring to come, before its
switch, which appends to each chain whose newest verified event is a trust sealed with the key current until then a
copy of that event sealed with the new key (never later: a trust sealed with a retired key after the switch is
never carried). On Azure (the ring rotated by a deployment) the README's rotation steps run ``rules list`` and
``rules trust`` for the rules it flags.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from firestop.infra.rule_trust import TRUST_DIGEST_VERSION, notification_is_default, trust_digest
from firestop.seal_contract import Purpose

PREFIX = "trusted-rules/"
#: The most trusted-rule objects :func:`listing` and :func:`untrust_rule` read (each a small JSON document).
LIST_LIMIT = 5000
_EVENT = re.compile(r"^trusted-rules/(?P<h>[0-9a-f]{64})(?:\.(?P<n>[2-9]|[1-9]\d{1,8}))?\.json$")
#: The most bytes a trusted-rule event is read at (one is well under 2 KiB; a bigger object was planted).
READ_LIMIT = 64 * 1024


#: A trusted version 1 entry's flag in :func:`listing` and the audit (trust17).
RETRUST = "trusted before mute fields were covered: re-trust"
#: The flag of a version whose newest event is a trust sealed with a retired seal key (trustkey18, A18-03): not
#: trusted until an admin trusts it again.
RETRUST_KEY = "trusted under a retired seal key, not believed since the rotation: re-trust"


def _ring(key: Any) -> Any:
    """``key`` (a ring or a lone key), or the app's ring (:func:`firestop.trust.seal.load_seal_key`) when None: loaded
    once per public call, never per event read (review19, R19-02). Raises :class:`firestop.trust.seal.SealKeyError`."""
    from firestop.trust.seal import load_seal_key

    return key if key is not None else load_seal_key()


def binding(rule: dict[str, Any], version: int = TRUST_DIGEST_VERSION) -> str:
    """``"<rule id lower>|<trust digest of version>"``: what an entry's seal is bound to."""
    return f"{str((rule or {}).get('id') or '').strip().lower()}|{trust_digest(rule, version)}"


def entry_name(rule: dict[str, Any], version: int = TRUST_DIGEST_VERSION) -> str:
    """The store name of ``rule``'s entry (this version of it, under digest ``version``)."""
    return f"{PREFIX}{hashlib.sha256(binding(rule, version).encode('utf-8', 'replace')).hexdigest()}.json"


def _version(document: dict[str, Any]) -> int | None:
    """The digest version a verified event says it binds (1 when absent: sealed before trust17); None for another."""
    version = document.get("digest_version", 1)
    return version if version in (1, 2) and not isinstance(version, bool) else None


def _binding_of(rule_id: str, criteria: str, n: int) -> str:
    base = f"{str(rule_id).strip().lower()}|{criteria}"
    return base if n == 1 else f"{base}|{n}"


def _chain(store: Any, digest_name: str) -> list[int]:
    """The event numbers at ``trusted-rules/<digest_name>[.<n>].json``, newest first (a StoreError propagates)."""
    found = []
    for name in store.names(f"{PREFIX}{digest_name}"):
        m = _EVENT.match(name)
        if m and m["h"] == digest_name:
            found.append(int(m["n"] or 1))
    return sorted(found, reverse=True)


def _event_name(digest_name: str, n: int) -> str:
    return f"{PREFIX}{digest_name}.json" if n == 1 else f"{PREFIX}{digest_name}.{n}.json"


def _read_event(store: Any, digest_name: str, n: int, rule_id: str | None, criteria: str | None,
                key: Any, version: int | None = None) -> dict[str, Any] | None:
    """Event ``n`` of the chain as a verified document, else None. Without ``rule_id``/``criteria`` (a listing) they
    are taken from the document and must hash to ``digest_name``. ``version``: the digest version the document must
    say it binds (any known one when None). The result carries ``retired_kid``: the retired key that sealed it, or
    None (the current key)."""
    from firestop.storage.base import StoreError
    from firestop.trust.seal import retired_key_of, verify

    try:
        data = store.read(_event_name(digest_name, n), READ_LIMIT)
        document = json.loads(data) if data else None
    except (StoreError, ValueError, OSError, RecursionError):
        return None
    if not isinstance(document, dict):
        return None
    key = _ring(key)  # (the public functions resolve it once; None only in a direct call)
    rid = rule_id if rule_id is not None else str(document.get("rule_id") or "")
    crit = criteria if criteria is not None else str(document.get("criteria") or "")
    if hashlib.sha256(_binding_of(rid, crit, 1).encode("utf-8", "replace")).hexdigest() != digest_name:
        return None
    try:
        ok, _ = verify(Purpose.TRUSTED_RULE, document, binding=_binding_of(rid, crit, n), key=key)
    except ValueError:
        return None
    if not ok or document.get("criteria") != crit or str(document.get("rule_id") or "").strip().lower() != rid.strip().lower():
        return None
    if n > 1 and (document.get("event") != n or document.get("action") not in ("trust", "untrust")):
        return None
    held = _version(document)
    if held is None or (version is not None and held != version):
        return None
    return {**document, "event": n, "action": "trust" if n == 1 else document["action"], "digest_version": held,
            "retired_kid": getattr(retired_key_of(Purpose.TRUSTED_RULE, document, binding=_binding_of(rid, crit, n),
                                                  key=key), "kid", None)}


#: The highest event number a reader parses (:data:`_EVENT`: at most 9 digits).
MAX_EVENT = 999_999_999


def _next_place(chain: list[int], newest: dict[str, Any] | None) -> int:
    """Where the next event of a chain goes: the first number above the newest *verified* event (0 for none) that no
    object holds (R16-01: a planted, unsealed object at any number — ``<h>.999999999.json`` included — is stepped over,
    never built upon: readers take the highest-numbered event that verifies, so this one decides). ValueError when
    every place up to :data:`MAX_EVENT` is taken."""
    taken = set(chain)
    n = (int(newest["event"]) if newest is not None else 0) + 1
    while n in taken:
        n += 1
    if n > MAX_EVENT:
        raise ValueError("the alert rule's trust chain is full")
    return n


def _newest(store: Any, digest_name: str, rule_id: str | None, criteria: str | None, key: Any,
            chain: list[int] | None = None, version: int | None = None) -> dict[str, Any] | None:
    """The newest verified event of a version's chain (None for none). The ring is loaded once, and only for a chain
    that has events (R19-02)."""
    chain = chain if chain is not None else _chain(store, digest_name)
    key = _ring(key) if chain else key
    for n in chain:
        event = _read_event(store, digest_name, n, rule_id, criteria, key, version)
        if event is not None:
            return event
    return None


def trust_rule(store: Any, rule: dict[str, Any], *, by: str, at: str, key: Any = None) -> tuple[dict[str, Any], bool]:
    """Write ``rule``'s (ARM JSON, as read from Azure) sealed entry; returns ``(entry, written)`` — ``entry`` as
    :func:`_shown` gives it, ``written`` False
    when this version is trusted already (its newest event a trust sealed with the current key). After an untrust or a
    trust sealed with a retired key (A18-03), the next event of the chain
    (``action: trust``). ``ValueError`` for a rule without an id or whose ``firestop-*`` properties are not verbatim (R17-04); :class:`firestop.trust.seal.SealKeyError` without a
    seal key; the store's errors propagate."""
    from firestop.azure.alerts_management import rule_routes
    from firestop.storage.base import AlreadyExists
    from firestop.trust.seal import seal

    from firestop.infra.rule_trust import firestop_keys_verbatim

    rule_id = str((rule or {}).get("id") or "").strip()
    if not rule_id:
        raise ValueError("the alert rule has no id")
    if not firestop_keys_verbatim(rule):  # R17-04: trust_state would never believe the entry
        raise ValueError("the alert rule's firestop-* custom properties are not as the playbooks read them (a key not "
                         "lower-case, a value with surrounding spaces, or two keys alike but for case); fix them on the "
                         "rule, then trust it")
    version = TRUST_DIGEST_VERSION
    crit = trust_digest(rule, version)
    digest_name = entry_name(rule, version)[len(PREFIX):-len(".json")]
    key = _ring(key)
    chain = _chain(store, digest_name)
    newest = _newest(store, digest_name, rule_id, crit, key, chain, version)
    if newest is not None and newest["action"] == "trust" and not newest.get("retired_kid"):
        return _shown(newest), False  # (a trust sealed with a retired key is trusted anew: A18-03)
    playbooks = sorted(r for r in rule_routes(rule) if r)
    n = _next_place(chain, newest)
    if n == 1:
        document = {"rule_id": rule_id, "criteria": crit, "trusted_by": str(by), "trusted_at": str(at), "playbooks": playbooks,
                    "digest_version": version}
    else:
        document = {"rule_id": rule_id, "criteria": crit, "playbooks": playbooks, "event": n, "action": "trust",
                    "by": str(by), "at": str(at), "digest_version": version}
    sealed = seal(Purpose.TRUSTED_RULE, document, binding=_binding_of(rule_id, crit, n), key=key)
    try:
        written = bool(store.create(_event_name(digest_name, n), json.dumps(sealed, sort_keys=True).encode(),
                                    "application/json"))
    except AlreadyExists:
        written = False
    return _shown({**sealed, "event": n, "action": "trust", "digest_version": version}), written


def _shown(event: dict[str, Any]) -> dict[str, Any]:
    """A trust event as the CLI shows it: ``{"rule_id", "criteria", "digest_version", "playbooks", "trusted_by",
    "trusted_at", "event", "seal"}`` (whichever event of the chain it is)."""
    by, at = _who(event)
    return {"rule_id": event.get("rule_id"), "criteria": event.get("criteria"), "digest_version": event.get("digest_version", 1),
            "playbooks": list(event.get("playbooks") or []), "trusted_by": by, "trusted_at": at,
            "event": event.get("event", 1), "seal": event.get("seal")}


def trust_state(store: Any, rule: dict[str, Any], key: Any = None) -> str | None:
    """Whether an admin trusts this very version of ``rule`` (ARM JSON): ``"trusted"`` (the newest verified event of
    its digest version 2 chain is a trust), ``"retrust"`` (no version 2 event; the newest verified event of its
    version 1 chain is a trust and the rule's notification fields are the spec's defaults — trusted, but before
    mute fields were covered), ``"rekey"`` (the newest verified event of the chain that decides is a trust sealed with
    a retired seal key: not trusted, A18-03), else None: none, an untrust (sealed with any key of the ring), a version 1 trust of a rule now muted or resolving
    otherwise, a rule whose ``firestop-*`` properties are not as the playbooks read them (R17-04:
    :func:`firestop.infra.rule_trust.firestop_keys_verbatim`; the digests fold them), only unsealed or otherwise sealed
    documents, or a store that cannot be read (fail closed). At most the
    two chains' listings and their events are read. Never raises for the store;
    :class:`firestop.trust.seal.SealKeyError` without a seal key."""
    from firestop.storage.base import StoreError

    from firestop.infra.rule_trust import firestop_keys_verbatim

    rule_id = str((rule or {}).get("id") or "").strip()
    if not firestop_keys_verbatim(rule if isinstance(rule, dict) else {}):
        return None  # R17-04: the digests fold firestop-* key case and spaces, which the playbooks read exactly
    try:
        for version in (2, 1):
            newest = _newest(store, entry_name(rule, version)[len(PREFIX):-len(".json")], rule_id,
                             trust_digest(rule, version), key, version=version)
            if newest is None:
                continue  # (version 2: no entry for this version of the rule yet; the version 1 chain may hold one)
            if newest["action"] != "trust":
                return None
            if newest.get("retired_kid"):
                return "rekey"  # A18-03: a retired key never grants standing authority
            if version == 2:
                return "trusted"
            return "retrust" if notification_is_default(rule) else None
    except (StoreError, OSError):
        return None
    return None


def is_trusted(store: Any, rule: dict[str, Any], key: Any = None) -> bool:
    """True when an admin trusts this very version of ``rule`` (ARM JSON): :func:`trust_state` is ``"trusted"`` or
    ``"retrust"`` (not ``"rekey"``). Never raises for the store; :class:`firestop.trust.seal.SealKeyError` without a
    seal key."""
    return trust_state(store, rule, key) in TRUSTED_STATES


#: The :func:`trust_state` answers under which the rule acts without a responder.
TRUSTED_STATES = ("trusted", "retrust")


def listing(store: Any, key: Any = None) -> dict[str, Any]:
    """Every trusted-rule version in ``store``: ``{"entries": [{"rule_id", "criteria", "digest_version": 1 | 2,
    "playbooks", "state": "trusted" | "revoked" | "re-trust" (its newest event a trust sealed with a retired seal key:
    not trusted, A18-03), "retrust"?: :data:`RETRUST` (a trusted version 1 entry: trust17) or :data:`RETRUST_KEY`,
    "trusted_by", "trusted_at", "untrusted_by"?, "untrusted_at"?}], "ignored": int (objects that do not
    verify), "truncated": bool (more than LIST_LIMIT objects)}`` sorted by rule id; who/when of the newest trust and,
    revoked, of the untrust. The store's errors propagate."""
    names = store.names(PREFIX)
    events = [m for m in map(_EVENT.match, names) if m]  # names that are not events are never read, nor counted in
    key = _ring(key) if events else key
    truncated = len(events) > LIST_LIMIT  # the bound (A16-02: 5,001 empty objects named to sort first hid every one)
    chains: dict[str, list[int]] = {}
    ignored = len(names) - len(events)
    for m in events[:LIST_LIMIT]:
        chains.setdefault(m["h"], []).append(int(m["n"] or 1))
    entries = []
    for digest_name, numbers in chains.items():
        numbers.sort(reverse=True)
        events = [e for e in (_read_event(store, digest_name, n, None, None, key) for n in numbers)]
        ignored += sum(e is None for e in events)
        events = [e for e in events if e is not None]
        if not events:
            continue
        newest = events[0]
        trust = next((e for e in events if e["action"] == "trust"), None)
        item = {"rule_id": newest["rule_id"], "criteria": newest["criteria"], "digest_version": newest["digest_version"],
                "playbooks": list(newest.get("playbooks") or []),
                "state": "trusted" if newest["action"] == "trust" else "revoked",
                "trusted_by": _who(trust)[0] if trust else None, "trusted_at": _who(trust)[1] if trust else None}
        if newest["action"] == "trust" and newest.get("retired_kid"):
            item["state"], item["retrust"] = "re-trust", RETRUST_KEY
        elif newest["digest_version"] == 1 and newest["action"] == "trust":
            item["retrust"] = RETRUST
        if newest["action"] == "untrust":
            item["untrusted_by"], item["untrusted_at"] = _who(newest)
        entries.append(item)
    entries.sort(key=lambda e: (e["rule_id"].lower(), e["criteria"]))
    return {"entries": entries, "ignored": ignored, "truncated": truncated}


def _who(event: dict[str, Any]) -> tuple[str, str]:
    if event.get("event") == 1:
        return str(event.get("trusted_by") or ""), str(event.get("trusted_at") or "")
    return str(event.get("by") or ""), str(event.get("at") or "")


def untrust_rule(store: Any, rule_id: str, *, by: str, at: str, key: Any = None) -> list[dict[str, Any]]:
    """Revoke every trusted version of the rule ``rule_id`` (any case): for each whose newest verified event is a
    trust, the next event, ``action: untrust``, sealed, with who and when. Returns the untrust events written ([]
    when none was trusted). Reads every object under ``trusted-rules/`` at most once (R16-02: a revocation is never
    cut short by a listing bound — objects planted to sort first would hide the rule's chain — so its time grows with
    what is planted there; each read is bounded by :data:`READ_LIMIT`). Each untrust goes at :func:`_next_place`
    (R16-01); its place taken meanwhile, the chain is read again, :data:`UNTRUST_ATTEMPTS` times at most. ValueError
    when a chain is full or its place stays taken; the store's errors and :class:`firestop.trust.seal.SealKeyError`
    propagate."""
    from firestop.storage.base import AlreadyExists
    from firestop.trust.seal import seal

    wanted = str(rule_id).strip().lower()
    chains: dict[str, list[int]] = {}
    for name in store.names(PREFIX):
        m = _EVENT.match(name)
        if m:
            chains.setdefault(m["h"], []).append(int(m["n"] or 1))
    key = _ring(key) if chains else key
    written = []
    for digest_name, numbers in sorted(chains.items()):
        numbers.sort(reverse=True)
        for attempt in range(UNTRUST_ATTEMPTS):
            if attempt:  # a concurrent event (another admin's trust or untrust) took the place: read the chain again
                numbers = _chain(store, digest_name)
            newest = _newest(store, digest_name, None, None, key, numbers)
            if newest is None or newest["rule_id"].strip().lower() != wanted or newest["action"] != "trust":
                break
            n = _next_place(numbers, newest)
            document = {"rule_id": newest["rule_id"], "criteria": newest["criteria"],
                        "playbooks": list(newest.get("playbooks") or []), "event": n, "action": "untrust",
                        "by": str(by), "at": str(at)}
            if newest["digest_version"] != 1:  # (a version 1 chain's events never say so: as sealed before trust17)
                document["digest_version"] = newest["digest_version"]
            sealed = seal(Purpose.TRUSTED_RULE, document, binding=_binding_of(newest["rule_id"], newest["criteria"], n), key=key)
            try:
                if store.create(_event_name(digest_name, n), json.dumps(sealed, sort_keys=True).encode(), "application/json"):
                    written.append({k: v for k, v in sealed.items() if k != "seal"})
                break
            except AlreadyExists:
                continue
        else:
            raise ValueError(f"the trust of a version of {rule_id} could not be revoked: its next place in the chain was "
                             f"taken {UNTRUST_ATTEMPTS} times over while writing; run rules untrust again")
    return written


#: How many times :func:`untrust_rule` reads a chain again when its next place is taken while it writes.
UNTRUST_ATTEMPTS = 3


def reseal_trusts(store: Any, ring: Any) -> int:
    """Carry the standing trusts across a rotation (A18-03): ``ring`` is the ring to come (the new key current, the key
    current until now first among the retired). For each chain under ``trusted-rules/`` whose newest event verifying
    under ``ring`` is a trust sealed with ``ring.retired[0]`` — what was trusted at the moment of the rotation — the
    next event (:func:`_next_place`) is that trust again, sealed with the new key, with the same who and when and
    ``resealed_from`` (the old key id). Returns how many were written. Reads every object under ``trusted-rules/``
    once (as :func:`untrust_rule`: no bound cuts a rotation short). A trust sealed with an older retired key is not
    carried (it was not believed). The store's errors propagate (the caller rotates anyway: the rules then show
    ``re-trust``, the safe side)."""
    from firestop.storage.base import AlreadyExists
    from firestop.trust.seal import seal

    retired = getattr(ring, "retired", ())
    if not retired:
        return 0
    was = retired[0].kid
    chains: dict[str, list[int]] = {}
    for name in store.names(PREFIX):
        m = _EVENT.match(name)
        if m:
            chains.setdefault(m["h"], []).append(int(m["n"] or 1))
    written = 0
    for digest_name, numbers in sorted(chains.items()):
        numbers.sort(reverse=True)
        newest = _newest(store, digest_name, None, None, ring, numbers)
        if newest is None or newest["action"] != "trust" or newest.get("retired_kid") != was:
            continue
        n = _next_place(numbers, newest)
        by, at = _who(newest)
        document = {"rule_id": newest["rule_id"], "criteria": newest["criteria"],
                    "playbooks": list(newest.get("playbooks") or []), "event": n, "action": "trust", "by": by, "at": at,
                    "resealed_from": was}
        if newest["digest_version"] != 1:  # (a version 1 chain's events never say so)
            document["digest_version"] = newest["digest_version"]
        sealed = seal(Purpose.TRUSTED_RULE, document, binding=_binding_of(newest["rule_id"], newest["criteria"], n),
                      key=ring)
        try:
            written += bool(store.create(_event_name(digest_name, n), json.dumps(sealed, sort_keys=True).encode(),
                                         "application/json"))
        except AlreadyExists:
            continue  # (an admin's event took the place meanwhile: it decides)
    return written
