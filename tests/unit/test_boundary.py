"""firestop.boundary.loads_bounded: size and depth bounds hold on the orjson path, every refusal is a
BoundaryError (4xx) with the message the strict path gives, never an orjson error or a RecursionError."""

from __future__ import annotations

import json

import pytest

from firestop.boundary import BoundaryError, json_depth, loads_bounded


def _nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


@pytest.mark.parametrize("depth", [65, 1_000, 1_024, 1_025, 5_000, 100_000])
def test_too_deep_is_400_naming_the_depth(depth: int) -> None:
    # under orjson's own limit (1,024) the decoded object is measured; over it the raw text is
    with pytest.raises(BoundaryError) as err:
        loads_bounded(_nested(depth))
    assert err.value.status == 400
    assert f"JSON nested {depth} deep, over the limit of 64" in err.value.reason


def test_depth_at_the_limit_decodes_and_matches_json_depth() -> None:
    assert json_depth(_nested(64).decode()) == 64
    assert loads_bounded(_nested(64)) == json.loads(_nested(64))
    deep_object = b'{"a":' * 63 + b"[]" + b"}" * 63
    assert loads_bounded(deep_object) == json.loads(deep_object)
    with pytest.raises(BoundaryError):
        loads_bounded(b'{"a":' * 64 + b"[]" + b"}" * 64)


def test_depth_limit_is_the_callers() -> None:
    with pytest.raises(BoundaryError):
        loads_bounded(b'{"a":{"b":[1]}}', max_depth=2)
    assert loads_bounded(b'{"a":{"b":[1]}}', max_depth=3) == {"a": {"b": [1]}}


def test_oversized_is_413_before_decoding() -> None:
    with pytest.raises(BoundaryError) as err:
        loads_bounded(b"[" + b"1," * 600_000 + b"1]")
    assert err.value.status == 413
    with pytest.raises(BoundaryError) as err:  # text is measured in UTF-8 bytes
        loads_bounded('"' + "é" * 600 + '"', max_bytes=1_000)
    assert err.value.status == 413


@pytest.mark.parametrize(("raw", "says"), [
    (b"NaN", "NaN is not valid JSON"),
    (b'{"a": Infinity}', "Infinity is not valid JSON"),
    (b'{"a":1', "not JSON: Expecting ',' delimiter at line 1, column 7"),
    (b"\xff{}", "not UTF-8 (invalid byte at offset 0)"),
])
def test_orjson_refusals_answer_with_the_strict_message(raw: bytes, says: str) -> None:
    with pytest.raises(BoundaryError) as err:
        loads_bounded(raw)
    assert err.value.status == 400 and says in err.value.reason


def test_decodes_what_the_standard_library_decodes() -> None:
    docs = [b'{"a": [1, 2.5, -0.0, "x\\u00e9", null, true, {"b": {}}]}', '{"é": "ü"}',
            b'\xef\xbb\xbf{"bom": 1}', b'"\\ud800"', b'{"a": 1, "a": 2}', b"9223372036854775807"]
    for raw in docs:
        text = raw.decode("utf-8-sig") if isinstance(raw, bytes) else raw
        assert loads_bounded(raw) == json.loads(text)


def test_what_orjson_refuses_but_json_reads_decodes_as_before() -> None:
    # orjson refuses a number that overflows a double; the strict path reads it as it always did
    assert loads_bounded(b"[1e400]") == [float("inf")]
