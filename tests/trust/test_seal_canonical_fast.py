"""canonical_json's orjson path writes exactly what the definition (JSON round trip, then the standard
library's sorted ASCII dump) writes, for random documents over every character class and leaf type."""

from __future__ import annotations

import json
import random
from enum import StrEnum

from firestop.seal_contract import canonical_json, digest


def _definition(doc):
    if isinstance(doc, dict):
        doc = {k: v for k, v in doc.items() if k != "seal"}
    return json.dumps(json.loads(json.dumps(doc)), sort_keys=True, separators=(",", ":"), ensure_ascii=True)


class Colour(StrEnum):
    RED = "red"


_ALPHABET = [chr(i) for i in range(128)] + ["é", "ü", "\u202e", "\u2028", "😀", "\ufeff", "ſ"]


def _text(rng: random.Random) -> str:
    return "".join(rng.choice(_ALPHABET) for _ in range(rng.randrange(0, 8)))


def _leaf(rng: random.Random, plain_only: bool):
    choices = [lambda: _text(rng), lambda: rng.randrange(-10**6, 10**6), lambda: rng.choice([True, False, None]),
               lambda: rng.choice([2**63 - 1, -2**63, 2**64 - 1, 2**64, -2**63 - 1, 10**30])]
    if not plain_only:
        choices += [lambda: rng.choice([0.1, -0.0, 1e-7, 1e16, 2.5, float("nan"), float("inf")]), lambda: Colour.RED]
    return rng.choice(choices)()


def _document(rng: random.Random, depth: int, plain_only: bool):
    if depth <= 0 or rng.random() < 0.3:
        return _leaf(rng, plain_only)
    if rng.random() < 0.5:
        return {(_text(rng) or "k"): _document(rng, depth - 1, plain_only) for _ in range(rng.randrange(0, 5))}
    items = [_document(rng, depth - 1, plain_only) for _ in range(rng.randrange(0, 5))]
    return tuple(items) if rng.random() < 0.3 else items


def test_fast_path_is_byte_for_byte_the_definition() -> None:
    rng = random.Random(18)
    for i in range(3_000):
        doc = {"seal": "x", "doc": _document(rng, 4, plain_only=i % 2 == 0)}
        assert canonical_json(doc) == _definition(doc), doc


def test_incident_inputs_and_the_usual_shapes() -> None:
    docs = [{"incident_id": "inc-0123456789abcdef", "alert": {"alert_id": "/subscriptions/x/alerts/1", "severity": 1,
             "target_ids": ["/subscriptions/x"], "custom_properties": {"firestop-playbook": "leaked-api-key"}},
             "indicators_truncated": {}, "sandbox": True, "received_at": "2026-11-29T03:20:00+00:00"},
            {"text": "line\nbreak\ttab\x00nul\x1f\x7fdel"}, {"emoji": "😀"}, [], {}, [[]], {"": ""}]
    for doc in docs:
        assert canonical_json(doc) == _definition(doc)
        assert len(digest(doc)) == 64
