"""What a seal covers (pure; no key, no I/O): canonical JSON, its digest, purposes, bindings.

Shared by the trust layer, which makes and checks seals
(:mod:`firestop.trust.seal`), and the lifecycle, which asks activities to
check them (:mod:`firestop.lifecycle.sealing`) — neither imports the other.

A seal covers the digest of a document in canonical form, so orchestrator
code can compute it deterministically and hand an activity 64 hex characters
instead of the whole document (Durable history stays small). The form: the document as JSON, round-tripped once (tuples →
lists, non-string keys → strings, as Durable history stores it), then dumped
with sorted keys, no whitespace, ASCII only (``\\uXXXX`` escapes), Python's
float repr (stable across a JSON round trip). ``NaN``/``Infinity`` are kept
as Python writes them: an alert may carry them and history does too.

The top-level key ``"seal"`` of a dict is left out: that is where the seal
itself travels.
"""

from __future__ import annotations

import gc
import hashlib
import json
from enum import StrEnum
from typing import Any

import orjson

SEAL_FIELD = "seal"


class Purpose(StrEnum):
    """What a sealed document is for (part of what the MAC covers)."""

    INCIDENT = "incident"  # an incident orchestration's input, bound to its instance ID
    STEP_GROUP = "step-group"  # a step group's input, bound to the child instance ID the parent chose
    APPROVAL = "approval"  # a decision, bound to binding_of_decision(incident, step)
    STOP = "stop"  # a stop request, bound to the incident ID
    AUDIT = "audit"  # a kept security checklist audit, bound to its audit ID (firestop.audit.store, RT17-02)
    TRUSTED_RULE = "trusted-rule"  # an admin's trust in an alert rule, bound to its id and criteria (firestop.infra.trusted_rules, RT17-01)
    ALERT_DELIVERY = "alert-delivery"  # the status token of a 202 to POST /api/alerts, bound to that delivery's id
    ALERTS_KEY = "alerts-key"  # FIRESTOP_ALERTS_KEY_DIGEST: the SHA-256 of the action group's key, bound to its name (firestop.trust.alerts_key)


def binding_of_decision(incident_id: str, step_id: str) -> str:
    """What a decision is sealed for: one step of one incident."""
    return f"{incident_id}/{step_id}"


_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=True)
_CONTAINERS = (dict, list, tuple)
_STR = {str}
#: Leaf types orjson writes byte for byte as :data:`_CANONICAL` does (given ASCII output without DEL):
#: not ``float`` (repr and NaN differ), nor subclasses, enums, datetimes, UUIDs (orjson writes some that
#: the standard library refuses).
_PLAIN = frozenset({str, int, bool, type(None), dict, list, tuple})
_PLAIN_LEAVES = frozenset({str, int, bool, type(None)})
#: Containers looked at before giving the document to the general path (which also catches a cycle).
_WALK_LIMIT = 100_000

_KEYS_NOT_STR, _KEYS_STR, _PLAIN_DOC = 0, 1, 2


def _kind_of(document: Any) -> int:
    """:data:`_PLAIN_DOC` when every container is a plain ``dict``/``list``/``tuple``, every dict key a plain
    ``str`` and every leaf of a :data:`_PLAIN` type; :data:`_KEYS_STR` when only the first two hold (floats,
    say); :data:`_KEYS_NOT_STR` otherwise: a subclass container (an ``OrderedDict``, a ``StrEnum`` key),
    and a document of more than :data:`_WALK_LIMIT` containers (a cycle, which the general path then
    reports).

    One set of item types per container (C speed); an empty container, or one holding only plain leaves
    (a list of strings: most of an incident input), is done without building the list of its children."""
    stack = [document]
    pop, push = stack.pop, stack.extend
    budget = _WALK_LIMIT
    plain = True
    while stack:
        node = pop()
        budget -= 1
        kind = type(node)
        if budget < 0 or (kind is not dict and kind is not list and kind is not tuple):
            return _KEYS_NOT_STR
        if not node:
            continue
        if kind is dict:
            if set(map(type, node)) != _STR:
                return _KEYS_NOT_STR
            node = node.values()
        types = set(map(type, node))
        if types <= _PLAIN_LEAVES:
            continue
        if plain and not types <= _PLAIN:
            plain = False
        push([item for item in node if isinstance(item, _CONTAINERS)])
    return _PLAIN_DOC if plain else _KEYS_STR


def _keys_all_str(document: Any) -> bool:
    """True when every container in ``document`` is a plain ``dict``, ``list`` or ``tuple`` and every dict key
    a plain ``str`` (see :func:`_kind_of`)."""
    return _kind_of(document) != _KEYS_NOT_STR


def canonical_json(document: Any) -> str:
    """The canonical text of ``document`` (see the module docstring). Raises TypeError/ValueError
    for a value JSON cannot carry (a set, bytes, a circular structure).

    When every key is already a ``str`` (what intake, the API and orchestrators seal), the JSON round trip
    changes nothing the sorted dump writes (tuples are written as lists either way; floats by the same
    ``repr``), so the document is dumped once; otherwise it is round-tripped first (keys become strings,
    and are sorted as strings). A document of only strings, integers, booleans and nulls is dumped by
    ``orjson`` (C, sorted keys), whose bytes are the standard library's whenever they are ASCII without
    DEL (the standard library escapes everything else as ``\\uXXXX``); other output, and integers past
    64 bits, take the standard library's encoder. ``tests/trust/test_seal.py`` holds both equal."""
    return _canonical_bytes(document).decode("ascii")


#: orjson options for the one-pass check of :func:`_canonical_bytes`: subclasses of str/int/dict/list, datetimes
#: and dataclasses go to ``default`` (:func:`_refuse`) instead of being written; a non-``str`` key, a set, bytes, an
#: integer past 64 bits or a nesting past orjson's depth limit (a cycle) raise by themselves.
_ORJSON_CHECKED = (orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_SUBCLASS | orjson.OPT_PASSTHROUGH_DATETIME
                   | orjson.OPT_PASSTHROUGH_DATACLASS)
_CONTAINER_TYPES = frozenset({dict, list, tuple})


def _refuse(value: Any) -> Any:
    raise TypeError(f"{type(value).__name__} is left to the general path")


def _referents_see_every_item() -> bool:
    """Whether this interpreter's ``gc.get_referents`` gives every value of a dict and every item of a list and a
    tuple, atomic ones included (CPython's ``dict_traverse``, ``list_traverse``, ``tupletraverse`` do). The
    Python documentation only promises the objects each type's ``tp_traverse`` visits, so it is checked once
    here; where it does not hold, :func:`_plain_leaves` is never used (the per-container walk is)."""
    probes = (1.5, 7, "s", None, True)
    try:
        return all(set(map(id, gc.get_referents(box))) >= set(map(id, probes))
                   for box in ({"a": probes[0], "b": probes[1], "c": probes[2], "d": probes[3], "e": probes[4]},
                               list(probes), tuple(probes)))
    except Exception:  # noqa: BLE001 - an interpreter without gc.get_referents: the walk
        return False


_REFERENTS_SEE_ITEMS = _referents_see_every_item()


def _plain_leaves(document: Any) -> bool:
    """Whether every object inside ``document`` (a container orjson has just written) is of a :data:`_PLAIN`
    type: no ``float`` (Python's repr and orjson's differ, and NaN), enum member, UUID or other value orjson
    writes but the standard library's canonical dump would not write the same way. Level by level: the items
    of a whole level are listed by one ``gc.get_referents`` call and their types checked against the set, both in
    C, where :func:`_kind_of` takes a Python step per container. The next level is the whole list of items, leaves
    included: ``gc.get_referents`` skips an object whose type has no garbage-collector support (``str``, ``int``,
    ``bool``, None: what a level holds besides containers, once its types passed), so no container needs picking
    out (picking them out, item by item, was half of this walk's time). Dict keys are not looked at: orjson has
    already refused any that is not a plain ``str``. False past :data:`_WALK_LIMIT` objects (containers and
    leaves: the general path, slower, then writes the same bytes)."""
    level = [document]
    budget = _WALK_LIMIT
    get_referents, plain = gc.get_referents, _PLAIN.issuperset
    while level:
        budget -= len(level)
        if budget < 0:
            return False
        level = get_referents(*level)
        if not plain(map(type, level)):
            return False
    return True


def _canonical_bytes(document: Any, leaves_plain: bool = False) -> bytes:
    """:func:`canonical_json` as ASCII bytes (what :func:`digest` hashes: orjson's bytes need no decoding).

    A plain ``dict``/``list``/``tuple`` is first written by orjson with every type it cannot be trusted to write
    as the standard library does refused (:data:`_ORJSON_CHECKED`) and its leaves checked
    (:func:`_plain_leaves`): such a document is what :func:`_kind_of` calls :data:`_PLAIN_DOC`, and its bytes are
    orjson's when they are ASCII without DEL — the same bytes as before, without the per-container walk. Any
    other document takes the walk and the path it chooses, as it always did.

    ``leaves_plain``: the caller built ``document`` itself from ``str``, ``int``, ``bool`` and None leaves only
    (see :func:`digest`): the leaf check is skipped, everything else is as above."""
    if isinstance(document, dict) and (type(document) is not dict or SEAL_FIELD in document):
        document = {k: v for k, v in document.items() if k != SEAL_FIELD}  # (a plain dict without it: as it is)
    if _REFERENTS_SEE_ITEMS and type(document) in _CONTAINER_TYPES:
        try:
            fast: bytes | None = orjson.dumps(document, default=_refuse, option=_ORJSON_CHECKED)
        except TypeError:
            fast = None
        if fast is not None and (leaves_plain or _plain_leaves(document)):
            if fast.isascii() and b"\x7f" not in fast:
                return fast
            return _CANONICAL.encode(document).encode("ascii")  # keys all str: dumped once, as _PLAIN_DOC below
    kind = _kind_of(document) if isinstance(document, _CONTAINERS) else _KEYS_NOT_STR
    if kind == _PLAIN_DOC:
        try:
            fast = orjson.dumps(document, option=orjson.OPT_SORT_KEYS)
        except TypeError:  # an integer past 64 bits
            fast = b"\x7f"
        if fast.isascii() and b"\x7f" not in fast:
            return fast
    if kind == _KEYS_NOT_STR:
        document = json.loads(json.dumps(document))
    return _CANONICAL.encode(document).encode("ascii")


def digest(document: Any, *, leaves_plain: bool = False) -> str:
    """SHA-256 (64 lowercase hex) of :func:`canonical_json` of ``document``.

    ``leaves_plain=True`` is a promise by a caller that built ``document`` itself: every leaf is a ``str``, an
    ``int``, a ``bool`` or None (no ``float``, enum member, UUID, ``str``/``int`` subclass). The leaf check
    (:func:`_plain_leaves`, about a quarter of a 1 KB incident input's digest: 24,000 of 83,000 instructions
    under callgrind) is then skipped; for such a document the digest is the same. A broken promise cannot
    make a seal cover another canonical form: ``str``/``int`` subclasses, datetimes and dataclasses are still
    refused by orjson's checked pass and take the exact path; a ``float``, enum member or UUID inside would
    give a digest of orjson's bytes, which differ from the document's canonical bytes wherever orjson writes
    that value otherwise, so every verifier (which computes the digest exactly, never with the promise) refuses
    the seal (NaN and ±Infinity, which orjson writes ``null``, would seal the same document with ``null`` there).
    Only intake's incident input (:func:`firestop.lifecycle.start.incident_input` of a parsed alert: strings,
    integers, booleans and nulls by construction) is digested with it
    (``tests/trust/test_seal_leaves_plain.py``)."""
    return hashlib.sha256(_canonical_bytes(document, leaves_plain)).hexdigest()
