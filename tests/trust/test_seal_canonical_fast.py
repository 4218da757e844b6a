"""canonical_json's orjson path writes exactly what the definition (JSON round trip, then the standard
library's sorted ASCII dump) writes, for random documents over every character class and leaf type."""

from __future__ import annotations

import json
import random
from collections import OrderedDict
from enum import IntEnum, StrEnum

import pytest

from firestop import seal_contract
from firestop.seal_contract import canonical_json, digest


def _definition(doc):
    if isinstance(doc, dict):
        doc = {k: v for k, v in doc.items() if k != "seal"}
    return json.dumps(json.loads(json.dumps(doc)), sort_keys=True, separators=(",", ":"), ensure_ascii=True)


class Colour(StrEnum):
    RED = "red"


class Level(IntEnum):
    HIGH = 3


class Tagged(dict):
    pass


_ALPHABET = [chr(i) for i in range(128)] + ["é", "ü", "\u202e", "\u2028", "😀", "\ufeff", "ſ"]


def _text(rng: random.Random) -> str:
    return "".join(rng.choice(_ALPHABET) for _ in range(rng.randrange(0, 8)))


def _leaf(rng: random.Random, plain_only: bool):
    choices = [lambda: _text(rng), lambda: rng.randrange(-10**6, 10**6), lambda: rng.choice([True, False, None]),
               lambda: rng.choice([2**63 - 1, -2**63, 2**64 - 1, 2**64, -2**63 - 1, 10**30])]
    if not plain_only:
        choices += [lambda: rng.choice([0.1, -0.0, 1e-7, 1e16, 2.5, float("nan"), float("inf")]), lambda: Colour.RED,
                    lambda: Level.HIGH]
    return rng.choice(choices)()


def _key(rng: random.Random, plain_only: bool):
    if not plain_only and rng.random() < 0.1:
        return rng.choice([7, Colour.RED, True, None])  # keys the JSON round trip turns into strings
    return _text(rng) or "k"


def _document(rng: random.Random, depth: int, plain_only: bool):
    if depth <= 0 or rng.random() < 0.3:
        return _leaf(rng, plain_only)
    if rng.random() < 0.5:
        made = {_key(rng, plain_only): _document(rng, depth - 1, plain_only) for _ in range(rng.randrange(0, 5))}
        if not plain_only and rng.random() < 0.1:
            return rng.choice([OrderedDict, Tagged])(made)
        return made
    items = [_document(rng, depth - 1, plain_only) for _ in range(rng.randrange(0, 5))]
    return tuple(items) if rng.random() < 0.3 else items


def _all_plain(doc) -> bool:
    """What _kind_of calls a plain document, written out recursively: exact dict (str keys) / list / tuple
    containers, exact str / int / bool / None leaves."""
    if type(doc) is dict:
        return all(type(k) is str for k in doc) and all(_all_plain(v) for v in doc.values())
    if type(doc) in (list, tuple):
        return all(_all_plain(v) for v in doc)
    return type(doc) in (str, int, bool, type(None))


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


def test_the_one_pass_check_calls_plain_exactly_what_the_walk_does() -> None:
    """_plain_leaves (after orjson's own type refusals) agrees with the recursive definition of a plain document
    on random documents of every kind, shared containers included."""
    import orjson

    assert seal_contract._REFERENTS_SEE_ITEMS  # CPython: the one-pass check is in use
    rng = random.Random(19)
    checked = plain = 0
    for i in range(3_000):
        doc = [_document(rng, 4, plain_only=i % 3 == 0)]
        if i % 7 == 0:
            doc.append(doc[0])  # one container reached twice
        try:
            orjson.dumps(doc, default=seal_contract._refuse, option=seal_contract._ORJSON_CHECKED)
        except TypeError:
            continue  # the general path, as before
        checked += 1
        assert seal_contract._plain_leaves(doc) == _all_plain(doc), doc
        plain += _all_plain(doc)
    assert checked > 1_500 and 500 < plain < checked  # both answers were exercised


def test_plain_documents_never_take_the_per_container_walk(monkeypatch: pytest.MonkeyPatch) -> None:
    import orjson

    def in_64_bits(doc) -> bool:  # a plain document with an integer past 64 bits is left to the walk
        try:
            return bool(orjson.dumps(doc))
        except TypeError:
            return False

    rng = random.Random(20)
    docs = [d for d in (_document(rng, 4, plain_only=True) for _ in range(400))
            if isinstance(d, (dict, list, tuple)) and in_64_bits(d)]
    assert len(docs) > 100
    expected = [_definition(d) for d in docs]

    def walk(document):
        raise AssertionError("the per-container walk ran on a plain document")

    monkeypatch.setattr(seal_contract, "_kind_of", walk)
    assert [canonical_json(d) for d in docs] == expected
