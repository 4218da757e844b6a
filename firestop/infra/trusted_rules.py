"""RT17-01: alert rules an admin trusted explicitly — a customer's own rule routed to a playbook
(``firestop-playbook: <name>``) that is none of the playbook's detections (:mod:`firestop.infra.rule_trust`).

An entry is a JSON document in the records store (``FIRESTOP_RECORDS_CONTAINER``), written create-only at
``trusted-rules/<sha256 of "rule id (lower case)|criteria digest">.json``::

    {"rule_id": str, "criteria": str (64 hex: firestop.infra.rule_trust.criteria_digest), "playbooks": [str],
     "trusted_by": str (the admin's object id), "trusted_at": str (ISO 8601 UTC), "seal": {...}}

sealed with the app's seal key (purpose :data:`firestop.seal_contract.Purpose.TRUSTED_RULE`, bound to
``"<rule id lower>|<criteria digest>"``). The digest covers what decides when the rule fires, where it reads and its
``firestop-*`` properties, so any later edit of those voids the entry (its name and binding no longer match) and the
rule waits for a responder again until an admin trusts the new version. An edit that is put back restores the
binding, so the entry alone cannot tell the version that fired: the source check also refuses a rule modified at or
after its alert fired (A13-09, :func:`firestop.infra.rule_trust.changed_after_firing`). A Storage Blob Data writer cannot make an
entry (no seal key); one who deletes an entry only makes the rule wait for a responder (fail closed).

Who may trust: an admin (the CLI command checks the signed-in principal's Firestop role, as ``--app`` commands do).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from firestop.infra.rule_trust import criteria_digest
from firestop.seal_contract import Purpose

PREFIX = "trusted-rules/"


def binding(rule: dict[str, Any]) -> str:
    """``"<rule id lower>|<criteria digest>"``: what an entry's seal is bound to."""
    return f"{str((rule or {}).get('id') or '').strip().lower()}|{criteria_digest(rule)}"


def entry_name(rule: dict[str, Any]) -> str:
    """The store name of ``rule``'s entry (this version of its criteria)."""
    return f"{PREFIX}{hashlib.sha256(binding(rule).encode('utf-8', 'replace')).hexdigest()}.json"


def trust_rule(store: Any, rule: dict[str, Any], *, by: str, at: str, key: Any = None) -> tuple[dict[str, Any], bool]:
    """Write ``rule``'s (ARM JSON, as read from Azure) sealed entry; returns ``(entry, written)`` — ``written`` False
    when this version was trusted already (create-only: the first entry stays; the same bytes again: a retry). ``ValueError`` for a rule without an
    id; :class:`firestop.trust.seal.SealKeyError` without a seal key; the store's errors propagate."""
    from firestop.azure.alerts_management import rule_routes
    from firestop.storage.base import AlreadyExists
    from firestop.trust.seal import seal

    rule_id = str((rule or {}).get("id") or "").strip()
    if not rule_id:
        raise ValueError("the alert rule has no id")
    document = {"rule_id": rule_id, "criteria": criteria_digest(rule), "trusted_by": str(by), "trusted_at": str(at),
                "playbooks": sorted(r for r in rule_routes(rule) if r)}
    sealed = seal(Purpose.TRUSTED_RULE, document, binding=binding(rule), key=key)
    try:
        return sealed, bool(store.create(entry_name(rule), json.dumps(sealed, sort_keys=True).encode(), "application/json"))
    except AlreadyExists:
        return sealed, False


def is_trusted(store: Any, rule: dict[str, Any], key: Any = None) -> bool:
    """True when an admin's sealed entry for this very version of ``rule`` (ARM JSON) is in ``store``; False for none,
    an unsealed or otherwise sealed document, or a store that cannot be read (fail closed). Never raises for the
    store; :class:`firestop.trust.seal.SealKeyError` without a seal key."""
    from firestop.storage.base import StoreError
    from firestop.trust.seal import verify

    try:
        data = store.read(entry_name(rule))
        document = json.loads(data) if data else None
    except (StoreError, ValueError, OSError, RecursionError):
        return False
    if not isinstance(document, dict):
        return False
    ok, _ = verify(Purpose.TRUSTED_RULE, document, binding=binding(rule), key=key)
    return ok and document.get("criteria") == criteria_digest(rule) and \
        str(document.get("rule_id") or "").strip().lower() == str((rule or {}).get("id") or "").strip().lower()
