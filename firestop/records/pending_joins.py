"""Alerts that joined an incident while its source check had not answered, kept until that check answers (joins14).

With ``FIRESTOP_ALERT_SOURCE_CHECK`` on, an alert that would join an open incident whose check is still pending
joins it (a burst of genuine alerts is one attack: one incident, one containment). Were that incident forged (the
check says "not confirmed"), each alert that joined it must still be checked on its own — in its variant
(:func:`firestop.intake.accept.variant_id`). Intake (:func:`firestop.intake.accept._variant`) keeps the variant's
sealed input here *before* it reads the incident's verdict (:mod:`firestop.records.check_verdicts`); the incident's
confirm activity writes that verdict *before* the incident lists what is kept here
(:data:`firestop.lifecycle.incident.ACTIVITY_START_PENDING_JOINS`). So either intake reads "not confirmed" and starts
the variant itself, or the incident finds the pending join and starts it (start-if-absent: both is one start);
confirmed, nothing more is started — no instance per joined alert, no polling. A verdict made unreadable (R12-06)
reads as not answered: intake then reads the incident's status, where the incident publishes its outcome, and the
incident lists only once its own read of that status shows it (listing14: on Azure's Storage backend the list's
message is sent before that status is written) — so a join whose status read missed the outcome is listed.

Store: the records store (``FIRESTOP_RECORDS_CONTAINER``),
``pending-joins/<sha256 of "incident id|received_at">/<content digest, 32 hex>.<seal>.json`` =
``{"variant_id": str, "input": the variant's sealed incident input}``, create-if-absent (Put Blob
``If-None-Match: *`` / an atomic link locally): the same content joining twice is one blob (across a seal key
rotation two, one under each key's seal, which the readers count once: seal18). The name carries the
app's seal (:class:`firestop.trust.seal.SealKey`, purpose :data:`PURPOSE`, bound to the run, covering the digest):
a principal with Storage Blob Data write (no Firestop role) who planted 2,000 blobs named ``000…`` in a run's folder
pushed the genuine alert's pending join past the :data:`MAX_STARTS` read (redteam16, noticed at 01:21): it stayed
joined to the forged incident, never checked. Now only names sealed by this app count — a planted name is skipped
unread, so it can crowd nothing out; what it still costs is its share of the folder's listing. Bound: one blob per
distinct content joined per pending incident run (a few KB: the normalised alert, never the raw body). Firestop
never deletes them (on Azure the records container's WORM retention would refuse it): the template's lifecycle rule
``firestop-pending-joins-after-worm`` deletes them once that retention has passed (bounds14: kept as long as the
records' retention keeps everything else, the variants they started included); readers only ever read the run's own
folder. Outside every incident's names (``records.store`` reads ``<incident>.json`` revisions only).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

#: Where pending joins are kept in the records store.
PENDING_PREFIX = "pending-joins/"
#: Hex digits of the delivery's content digest in its blob's name (128 bits: distinct contents never share one).
DIGEST_DIGITS = 32
#: Most pending joins one incident run starts (an incident joined by more distinct contents while its check ran
#: starts the first ones in name order and says how many it left; each of those alerts' own later delivery — Azure
#: Monitor repeats none, so: a responder — is what remains). A forger needs this many distinct posts in the seconds
#: of one check: 2,000 variants are already the bound's cost.
MAX_STARTS = 2000
_VARIANT = re.compile(r"^[A-Za-z0-9._:-]{1,200}$")
#: Hex digits of the content digest a variant id ends with (:data:`firestop.intake.accept.VARIANT_DIGITS`; the
#: records layer does not import intake).
VARIANT_DIGITS = 16
#: What a pending join's name seal is for (part of what its MAC covers, with the run and the content digest).
PURPOSE = "pending-join"
#: The most bytes a pending join is read at (bounds14): its content is the variant's sealed incident input, built from
#: one delivery — an alert body of at most :data:`firestop.alerts.body.MAX_PAYLOAD_BYTES` (256 KiB), an Event Grid
#: delivery of at most :data:`firestop.intake.eventgrid.MAX_DELIVERY_BYTES` (1 MiB, many events) — and a normalised
#: alert keeps less than it came in; JSON's escaping at most sextuples a byte (a control character as ``\u00XX``),
#: plus the seal: 8 MiB. A bigger blob at a sealed name was overwritten by a Storage Blob Data writer (read whole, a
#: multi-GB one exhausted the instance's memory): refused unread, counted as a pending join that could not be read.
READ_LIMIT = 8 * 1024 * 1024
#: ``<digest>.<seal>.json``: the seal's own shape is checked by :meth:`firestop.trust.seal.SealKey.check`.
_NAME = re.compile(r"^([0-9a-f]{%d})\.([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)\.json$" % DIGEST_DIGITS)


def _binding(incident_id: str, received_at: str) -> str:
    """The run a name is sealed for (no line break: :meth:`firestop.trust.seal.SealKey.sign` refuses one)."""
    return f"{incident_id}|{received_at}".replace("\r", " ").replace("\n", " ")


def folder(incident_id: str, received_at: str) -> str:
    """The store folder of the pending joins of the run of ``incident_id`` received at ``received_at``."""
    key = f"{incident_id}|{received_at}".encode("utf-8", "replace")
    return f"{PENDING_PREFIX}{hashlib.sha256(key).hexdigest()}/"


def keep(store: Any, incident_id: str, received_at: str, digest: str, variant_id: str, sealed_input: Any,
         key: Any) -> bool:
    """Keep a pending join (create-if-absent), its name sealed with ``key`` (a :class:`firestop.trust.seal.SealKey`;
    the same content gives the same name). True when written now, False when this content was kept already.
    ValueError for a digest that is not hex or a variant id out of shape; raises the store's errors."""
    from firestop.storage.base import AlreadyExists

    digest = str(digest).lower()
    if len(digest) < DIGEST_DIGITS or not re.fullmatch(r"[0-9a-f]+", digest) or not _VARIANT.match(variant_id):
        raise ValueError("pending join: digest or variant id out of shape")
    data = json.dumps({"variant_id": variant_id, "input": sealed_input}, separators=(",", ":")).encode()
    try:
        digest = digest[:DIGEST_DIGITS]
        seal = key.sign(PURPOSE, _binding(incident_id, received_at), digest)
        return bool(store.create(f"{folder(incident_id, received_at)}{digest}.{seal}.json", data, "application/json"))
    except AlreadyExists:
        return False


@dataclass(frozen=True)
class Pending:
    """What :func:`pending` found in a run's folder. ``kept``: ``[(variant id, sealed input)]`` in name order, at most
    :data:`MAX_STARTS`; ``left``: sealed names past that bound; ``unreadable``: sealed names (within the bound) whose
    content could not be read as the pending join its name was sealed for — gone since the listing (deleted), over
    :data:`READ_LIMIT` bytes, not JSON, not an entry, or naming a variant that is not its name's digest's (overwritten,
    e.g. with a copy of another pending join) — bounds14: each one is an alert that joined and that nobody will check
    on its own unless a responder does."""

    kept: list[tuple[str, Any]]
    left: int
    unreadable: int


def _variant_of_digest(variant: str, digest: str) -> bool:
    """Whether ``variant`` is the variant id of the delivery whose content digest starts with ``digest`` (the name's
    32 hex): :func:`firestop.intake.accept.variant_id` is ``<incident key>-v<first 16 hex of the digest>``."""
    return variant.endswith(f"-v{digest[:VARIANT_DIGITS]}")


class Scan:
    """The run's pending joins read one at a time (attack13 A13-02): iterating yields ``(variant id, sealed input)``
    as :func:`pending` keeps them, in name order, at most :data:`MAX_STARTS`, each read when reached and held by the
    caller only — ``start_pending_joins`` starts each before the next is read, so a pass holds one pending join (at
    most :data:`READ_LIMIT` bytes), not every one of up to :data:`MAX_STARTS` (a webhook-key holder's distinct posts
    while the check ran, each up to a 256 KiB delivery's input: ~500 MB held). ``left`` is known once listed;
    ``unreadable`` counts as the iteration goes (final once it ends). One listing, at construction. Raises the
    store's errors (listing at construction, reading while iterating — other than an object over its bound)."""

    def __init__(self, store: Any, incident_id: str, received_at: str, key: Any) -> None:
        prefix = folder(incident_id, received_at)
        binding = _binding(incident_id, received_at)
        found: dict[str, str] = {}
        for name in store.names(prefix):
            shape = _NAME.match(name[len(prefix):]) if name.startswith(prefix) else None
            if shape is not None and key.check(PURPOSE, binding, shape.group(1), shape.group(2))[0]:
                # one per content digest (seal18): the same content kept again under another key of the ring — a
                # delivery repeated across a seal key rotation — is one pending join, not a second start
                found[shape.group(1)] = min(name, found.get(shape.group(1), name))
        sealed = sorted((name, digest) for digest, name in found.items())
        self._store = store
        self._sealed = sealed[:MAX_STARTS]
        self.left = max(0, len(sealed) - MAX_STARTS)
        self.unreadable = 0

    def __iter__(self):
        from firestop.records.sealed_blob import read_object

        self.unreadable = 0
        for name, digest in self._sealed:
            # bounds14: never read whole; R12-03: a planted blob of nested "[" must not fail the whole run
            entry = read_object(self._store, name, READ_LIMIT)
            if isinstance(entry, dict) and isinstance(entry.get("variant_id"), str) and _VARIANT.match(entry["variant_id"]) \
                    and _variant_of_digest(entry["variant_id"], digest) and entry.get("input") is not None:
                variant, sealed_input = entry["variant_id"], entry["input"]
                entry = None
                yield variant, sealed_input
            else:
                self.unreadable += 1


def pending(store: Any, incident_id: str, received_at: str, key: Any) -> Pending:
    """The run's pending joins (:class:`Pending`): in name order, at most :data:`MAX_STARTS` read. Only names
    :func:`keep` sealed with ``key`` for this run count (anything else in the folder is skipped unread, RT16: it cannot
    push a kept one out); a sealed name whose content is not the pending join it was sealed for is counted
    ``unreadable`` (bounds14: the seal covers the name's digest, and the content must name the variant of that digest;
    the variant's input seal, bound to that variant id, is checked again where it starts and where it runs). Work: one
    listing, at most :data:`MAX_STARTS` reads of at most :data:`READ_LIMIT` bytes each; every kept input is held in
    the answer (a caller that starts them one by one iterates a :class:`Scan` instead, A13-02). Raises the store's
    errors (listing or reading, other than an object over its bound)."""
    scan = Scan(store, incident_id, received_at, key)
    found = list(scan)
    return Pending(found, scan.left, scan.unreadable)
