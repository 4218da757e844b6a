"""The tenant store reads its snapshot and journal into exactly the values the standard library's decoder gives
(firestop/sandbox/core/store.py ``exact_loads``: orjson where it agrees, json where it would not)."""

from __future__ import annotations

import json
import math
import random

from firestop.sandbox.core import store as S

AWKWARD = {
    "huge": 123456789012345678901234567890,  # past 64 bits: orjson would read a float
    "negative_huge": -18446744073709551617,
    "u64_max": 18446744073709551615,
    "text": "é \u2028 \x00 \"quoted\" \\",
    "negative_zero": -0.0,
}  # (no NaN here: orjson refuses it, so a snapshot holding one is all read by the standard library)


def _same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a):
        return math.isnan(b)
    if isinstance(a, dict) and isinstance(b, dict):  # (the store's sections are a dict subclass)
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if type(a) is not type(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return repr(a) == repr(b)


def test_awkward_values_and_random_floats_read_back_as_the_standard_library_reads_them(tmp_path):
    rng = random.Random(28)
    floats = [rng.uniform(-1e6, 1e6) for _ in range(300)] + [rng.random() * 10 ** rng.randint(-300, 300) for _ in range(300)]
    doc = {"section": dict(AWKWARD), "floats": {"values": floats}, "resources": {"a": {"n": 2 ** 70}, "b": {"n": 7}}}
    store = S.Store(tmp_path)
    store.write_snapshot(json.loads(json.dumps(doc)))  # written as the store writes (its C encoder)
    plain = json.loads((tmp_path / S.STATE_FILE).read_bytes())
    plain.pop(S.TOKEN_KEY)
    loaded = S.Store(tmp_path).load()
    assert _same(dict(loaded), plain)
    assert loaded["section"]["huge"] == AWKWARD["huge"] and isinstance(loaded["resources"]["a"]["n"], int)


def test_a_journal_line_with_a_huge_integer_replays_exact(tmp_path):
    S.Store(tmp_path).write_snapshot({"resources": {"a": {"n": 1}}})
    writer = S.Store(tmp_path)
    doc = writer.load()
    doc["resources"]["a"] = {"n": 10 ** 25 + 1, "f": 0.1}
    assert writer.commit(doc)
    again = S.Store(tmp_path).load()
    assert again["resources"]["a"]["n"] == 10 ** 25 + 1 and isinstance(again["resources"]["a"]["n"], int)
    assert again["resources"]["a"]["f"] == 0.1


def test_what_orjson_refuses_is_read_by_the_standard_library():
    for raw in (b'{"a":"\\ud800"}', b'{"a":NaN,"b":-Infinity}', b'{"a":1e400}'):
        assert _same(S.exact_loads(raw), json.loads(raw))


def _stdlib_reads(monkeypatch) -> list:
    """Calls exact_loads makes to the standard library's decoder (it still answers them)."""
    calls: list = []

    def loads(raw):
        calls.append(raw)
        return json.loads(raw)

    monkeypatch.setattr(S, "json", type("StdJson", (), {"loads": staticmethod(loads)}))
    return calls


def test_digits_inside_strings_are_read_by_orjson_and_numbers_of_19_digits_by_the_standard_library(monkeypatch):
    calls = _stdlib_reads(monkeypatch)
    # the seed tenant's Defender alert names hold 19-digit runs: text, never a number
    in_strings = json.dumps({"alerts": {"da2516935104399999999_5f0c2e8a": {"name": "2516935104399999999_5f0c2e8a",
                                                                           "id": "/alerts/25169351043999999991234"}}},
                            separators=(",", ":")).encode()
    assert S.exact_loads(in_strings) == json.loads(in_strings)
    assert calls == []  # failed before: any 19-digit run sent the whole text to the standard library
    for raw in (b"9999999999999999999", b"[1,-9999999999999999999]", b'{"n": 12345678901234567890}',
                b'{"n":\n1234567890123456789012}', b'{"a":"x","n":0.12345678901234567890123}',
                b'{"n":1e1234567890123456789}', b'{"s":"ab:1234567890123456789"}'):
        calls.clear()
        got = S.exact_loads(raw)
        assert calls == [raw], raw  # a run that may be (part of) a number: read by the standard library
        assert _same(got, json.loads(raw)), raw


def test_random_documents_mixing_long_digit_texts_and_long_integers_read_back_exact():
    rng = random.Random(16)
    for _ in range(200):
        digits = "".join(rng.choice("0123456789") for _ in range(rng.randint(17, 25)))
        value = rng.choice([int(digits), -int(digits), f"id-{digits}", f"{digits}_x", digits, float(f"0.{digits}")])
        doc = {"k": [value, {"v": value, digits: rng.random()}]}
        raw = json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode()
        assert _same(S.exact_loads(raw), json.loads(raw)), raw
