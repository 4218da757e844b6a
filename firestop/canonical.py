"""Canonical JSON and its SHA-256 (pure; no key, no I/O).

What a seal (:mod:`firestop.trust.seal`) covers is the digest of a document
in this form, so orchestrator code can compute it deterministically and hand
an activity 64 hex characters instead of the whole document (Durable history
stays small). The form: the document as JSON, round-tripped once (tuples →
lists, non-string keys → strings, as Durable history stores it), then dumped
with sorted keys, no whitespace, ASCII only (``\\uXXXX`` escapes), Python's
float repr (stable across a JSON round trip). ``NaN``/``Infinity`` are kept
as Python writes them: an alert may carry them and history does too.

The top-level key ``"seal"`` of a dict is left out: that is where the seal
itself travels.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

SEAL_FIELD = "seal"


def canonical_json(document: Any) -> str:
    """The canonical text of ``document`` (see the module docstring). Raises TypeError/ValueError
    for a value JSON cannot carry (a set, bytes, a circular structure)."""
    if isinstance(document, dict):
        document = {k: v for k, v in document.items() if k != SEAL_FIELD}
    normal = json.loads(json.dumps(document))
    return json.dumps(normal, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def digest(document: Any) -> str:
    """SHA-256 (64 lowercase hex) of :func:`canonical_json` of ``document``."""
    return hashlib.sha256(canonical_json(document).encode("ascii")).hexdigest()
