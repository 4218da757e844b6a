"""The entity batch protocol's JSON on the local host (firestop.runtime.entities) written and read with orjson:
the same values as the json module's, and what orjson refuses still handled the json module's way."""

from __future__ import annotations

import json

import pytest

from firestop.runtime import entities as ent


def _op(i: int, text: str) -> ent.Operation:
    return ent.Operation(id=i, entity_id="@tally@k", name="add", input=ent.operation_input_text(text),
                         request_id=f"req-{i}", is_signal=i % 2 == 0, parent_instance_id=None, parent_execution_id=None)


def _reference_context(ref: ent.EntityRef, *, exists: bool, state: str | None, operations: list[ent.Operation]) -> str:
    """batch_context as it was written with json.dumps (the oracle)."""
    return json.dumps({"self": {"name": ref.name, "key": ref.key}, "exists": bool(exists),
                       "state": state if exists else None,
                       "batch": [{"name": op.name, "input": op.input, "isSignal": op.is_signal, "id": op.request_id}
                                 for op in operations]})


@pytest.mark.parametrize("state", [
    None,
    json.dumps({"count": 3, "digests": "0123456789abcdef" * 3, "alerts": [{"alert_id": "a\"b\\c"}]}),
    json.dumps({"name": "Zürich ☃ \U0001f525", "ctl": "\x00\x1f\n\t"}, ensure_ascii=False),
    "\ud800 a lone surrogate",  # orjson refuses to write it: json.dumps writes it
])
def test_batch_context_carries_the_values_json_carried(state):
    ref = ent.entity_ref("Tally", "kéy \u2028")
    ops = [_op(1, json.dumps({"x": "ü"})), _op(2, json.dumps("\U0001f525", ensure_ascii=False))]
    for exists in (True, False):
        ours = ent.batch_context(ref, exists=exists, state=state, operations=ops)
        assert isinstance(ours, str)
        assert json.loads(ours) == json.loads(_reference_context(ref, exists=exists, state=state, operations=ops))


def test_parse_batch_result_reads_what_json_reads():
    results = [{"isError": False, "duration": 0, "startTime": 1, "result": "null"}]
    plain = json.dumps({"entityExists": True, "entityState": json.dumps({"n": 1, "s": "ü"}), "results": results})
    assert ent.parse_batch_result(plain, 1) == ent.BatchResult(True, json.dumps({"n": 1, "s": "ü"}),
                                                               [ent.OperationOutcome(False, "null")])
    # orjson refuses these; the json module reads them (the SDK writes with json.dumps, allow_nan=True)
    # orjson reads an integer beyond 64 bits as a float: where such a number is a value the host keeps, json reads it
    for odd in ('{"entityExists": true, "entityState": {"x": NaN, "big": 123456789012345678901234567890}, '
                '"results": [{"isError": false, "result": "1"}]}',
                '{"entityExists": true, "entityState": "\\ud800", "results": [{"isError": true, "result": "2"}]}',
                '{"entityExists": true, "entityState": {"big": 123456789012345678901234567890}, '
                '"results": [{"isError": false, "result": 98765432109876543210987654321}]}',
                '{"entityExists": true, "entityState": "{}", "results": [{"isError": false, "result": [1e400]}]}'):
        parsed = ent.parse_batch_result(odd, 1)
        expected = json.loads(odd)
        state = expected["entityState"]
        assert parsed.exists and parsed.state == (state if isinstance(state, str) else json.dumps(state))
        assert parsed.outcomes == [ent.OperationOutcome(r["isError"], r["result"]) for r in expected["results"]]
        assert [type(o.result) for o in parsed.outcomes] == [type(r["result"]) for r in expected["results"]]


@pytest.mark.parametrize("text", ["", "not json", "[1, 2]", '{"results": 3}', '{"results": []}'])
def test_parse_batch_result_refuses_what_it_refused(text):
    with pytest.raises(ValueError):
        ent.parse_batch_result(text, 1)


@pytest.mark.parametrize("input_text", [None, "null", json.dumps({"a": [1, 2.5, "ü"]}), json.dumps("\U0001f525"),
                                        '{"x": NaN}', "\"\\ud800\"", json.dumps({"s": "\u2028 \" \\"}, ensure_ascii=False)])
def test_a_signals_stored_input_decodes_as_the_json_module_wrote_it(input_text):
    ours = ent.signal_input_text(input_text)
    theirs = ent.operation_input_text(input_text)
    assert json.loads(ours) == json.loads(theirs)  # the batch context carries it; the SDK decodes it twice
    assert json.loads(json.loads(ours)) == json.loads(json.loads(theirs)) or input_text == '{"x": NaN}'


_SIGNAL_BODIES = [
    json.dumps(json.dumps({"count": 2, "alert_ids": ["a", "b"], "alerts": [{"alert_id": "a", "t": "Zürich"}]})),
    json.dumps({"count": 1}),  # an object, not JSON text in a string
    json.dumps("not json text"),  # a string that is not JSON: encoded
    json.dumps(json.dumps({"big": 123456789012345678901234567890})),
    json.dumps({"big": 123456789012345678901234567890}),  # orjson would read a float
    '{"x": NaN}', json.dumps('{"x": NaN}'), json.dumps("\"\\ud800\""), '"\\ud800"', "123456789012345678901234567890",
    "1e400", "[1, 2", "{'a': 1}", "\ufeff{}", "[1,]", "nul", '"\\u00"', " \t\n{} ", "{} x",
]


@pytest.mark.parametrize("body", _SIGNAL_BODIES)
def test_a_signal_body_is_read_as_the_json_module_read_it(body):
    from firestop.runtime.management import _signal_input, _unwrap_json_text

    try:
        expected = _unwrap_json_text(json.loads(body))
    except ValueError:
        with pytest.raises(ValueError):
            _signal_input(body)
        return
    assert _signal_input(body) == expected
