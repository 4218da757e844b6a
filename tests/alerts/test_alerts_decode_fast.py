"""The alert body decoder (orjson, collector paused) gives what the standard library gives, for every
corpus body, and answers what orjson refuses exactly as the strict decoder does (4xx, never 500)."""

from __future__ import annotations

import gc
import json
from pathlib import Path

import pytest

from firestop.alerts import AlertPayloadError, parse_alert
from firestop.alerts.body import decode_body

ROOT = Path(__file__).resolve().parents[2]
CORPUS = sorted((ROOT / "tests" / "alerts" / "data").rglob("*.json")) + sorted((ROOT / "examples" / "alerts").glob("*.json"))


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.name)
def test_decodes_every_corpus_body_as_the_standard_library(path: Path) -> None:
    raw = path.read_bytes()
    assert decode_body(raw) == json.loads(raw)


@pytest.mark.parametrize("depth", [1_025, 100_000])
def test_nesting_past_orjsons_limit_is_400(depth: int) -> None:
    body = b'{"schemaId": ' + b"[" * depth + b"]" * depth + b"}"
    with pytest.raises(AlertPayloadError) as err:
        parse_alert(body)
    assert err.value.http_status == 400 and "nested too deeply" in err.value.reason


def _nested(levels: int, inner: bytes = b"[]") -> bytes:
    """A body nested ``levels`` deep in all (the top object is level 1)."""
    return b'{"schemaId": ' + b"[" * (levels - 2) + inner + b"]" * (levels - 2) + b"}"


@pytest.mark.parametrize("kind", [bytes, str])
def test_firestops_nesting_bound_is_the_same_on_every_interpreter(kind: type) -> None:
    """MAX_DEPTH (1,024) levels are taken and one more is a 400, given as bytes or text, whatever the interpreter's
    recursion budget (the standard library takes 1,025 levels on 3.12 and 3.13, not on 3.11)."""
    from firestop.alerts.body import MAX_DEPTH

    def given(raw: bytes) -> bytes | str:
        return raw if kind is bytes else raw.decode()

    assert decode_body(given(_nested(MAX_DEPTH)))["schemaId"]
    with pytest.raises(AlertPayloadError) as err:
        decode_body(given(_nested(MAX_DEPTH + 1)))
    assert err.value.http_status == 400 and "nested too deeply" in err.value.reason


def test_a_dict_past_the_bound_is_400_on_every_interpreter() -> None:
    """A dict (already decoded, from Firestop's own callers) is encoded by the standard library first, which on
    3.11 gives up near 990 levels; past the bound it is a 400 everywhere."""
    from firestop.alerts.body import MAX_DEPTH

    deep: list = []
    for _ in range(MAX_DEPTH):  # built without recursion: with the top object, MAX_DEPTH + 1 levels
        deep = [deep]
    with pytest.raises(AlertPayloadError) as err:
        decode_body({"schemaId": deep})
    assert err.value.http_status == 400 and "nested too deeply" in err.value.reason


@pytest.mark.parametrize("inner", [b'["\\ud800"]', b"[1e400]", b'["]]]]"]'])
def test_past_the_bound_what_orjson_refuses_for_another_reason_is_400_too(inner: bytes) -> None:
    """A lone surrogate escape or a double past its range sends the body to the standard library, which on 3.13
    would decode 9,990 levels: the bound is measured first (brackets inside strings not counted)."""
    from firestop.alerts.body import MAX_DEPTH

    with pytest.raises(AlertPayloadError) as err:
        decode_body(_nested(MAX_DEPTH + 1, inner))
    assert err.value.http_status == 400 and "nested too deeply" in err.value.reason
    assert decode_body(_nested(64, inner))["schemaId"]


@pytest.mark.parametrize(("raw", "says"), [
    (b'{"a": NaN}', "NaN is not valid JSON"),
    (b'{"a": 1', "line 1, column 8"),
    (b'{"a": "\xff"}', "offset 7"),
])
def test_refusals_keep_the_strict_message(raw: bytes, says: str) -> None:
    with pytest.raises(AlertPayloadError) as err:
        decode_body(raw)
    assert err.value.http_status == 400 and says in err.value.reason


def test_what_orjson_refuses_but_json_reads_decodes_as_before() -> None:
    # a lone surrogate escape and a double overflow: orjson refuses both, the standard library reads them
    assert decode_body(b'{"a": "\\ud800", "b": 1e400}') == {"a": "\ud800", "b": float("inf")}


def test_collector_state_restored() -> None:
    assert gc.isenabled()
    decode_body(b'{"a": [1]}')
    with pytest.raises(AlertPayloadError):
        decode_body(b'{"a": ')
    assert gc.isenabled()
    gc.disable()
    try:
        decode_body(b'{"a": [1]}')
        assert not gc.isenabled()  # a caller that turned it off keeps it off
    finally:
        gc.enable()
