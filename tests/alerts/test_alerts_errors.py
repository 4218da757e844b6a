"""Body-level and envelope errors: status codes, field paths, fix text, no pydantic leakage."""

from __future__ import annotations

import json
import pickle

import pytest

from firestop.alerts import MAX_PAYLOAD_BYTES, AlertPayloadError, parse_alert


def _reject(payload) -> AlertPayloadError:
    with pytest.raises(AlertPayloadError) as info:
        parse_alert(payload)
    return info.value


def test_error_is_a_value_error_with_formatted_message() -> None:
    err = AlertPayloadError("data.essentials.alertId", "required field is missing.", "Send it.", 422)
    assert isinstance(err, ValueError)
    assert err.reason == "required field is missing"
    assert str(err) == "data.essentials.alertId: required field is missing. Fix: Send it."
    assert err.as_dict() == {
        "status": 422,
        "field": "data.essentials.alertId",
        "reason": "required field is missing",
        "fix": "Send it.",
        "message": str(err),
    }


def test_error_survives_pickling() -> None:
    err = AlertPayloadError("$", "bad", "Do this.", 413)
    clone = pickle.loads(pickle.dumps(err))
    assert (clone.field, clone.reason, clone.fix, clone.http_status) == ("$", "bad", "Do this.", 413)


@pytest.mark.parametrize(
    ("body", "line", "column"),
    [
        (b"", 1, 1),
        (b"{", 1, 2),
        (b'{\n  "schemaId": "azureMonitorCommonAlertSchema",\n  "data": {,}\n}', 3, 12),
        ("{'single': 'quotes'}", 1, 2),
    ],
)
def test_malformed_json_is_400_with_line_and_column(body, line: int, column: int) -> None:
    err = _reject(body)
    assert (err.http_status, err.field) == (400, "$")
    assert f"line {line}, column {column}" in err.reason
    assert "JSON" in err.fix


def test_nan_is_rejected_as_not_json() -> None:
    err = _reject(b'{"schemaId": NaN}')
    assert err.http_status == 400 and "NaN" in err.reason


def test_invalid_utf8_is_400() -> None:
    err = _reject(b'{"schemaId": "\xff"}')
    assert err.http_status == 400 and "UTF-8" in err.reason and "offset 14" in err.reason


def test_utf8_bom_is_tolerated(envelope) -> None:
    body = b"\xef\xbb\xbf" + json.dumps(envelope()).encode()
    assert parse_alert(body).alert_id == envelope()["data"]["essentials"]["alertId"]


def test_deeply_nested_json_is_400_not_recursion_error() -> None:
    err = _reject(b"[" * 100_000 + b"]" * 100_000)
    assert err.http_status == 400


@pytest.mark.parametrize(
    ("body", "kind"),
    [(b"[]", "array"), (b'"x"', "string"), (b"3", "number"), (b"null", "null"), (b"true", "boolean")],
)
def test_non_object_body_is_400(body: bytes, kind: str) -> None:
    err = _reject(body)
    assert (err.http_status, err.field) == (400, "$")
    assert f"JSON {kind}, not an object" in err.reason


def test_unsupported_payload_type_is_400() -> None:
    err = _reject(12345)  # type: ignore[arg-type]
    assert err.http_status == 400 and "bytes, str or dict" in err.reason


def test_dict_that_is_not_json_is_400(envelope) -> None:
    body = envelope()
    body["data"]["alertContext"] = {"when": object()}
    assert _reject(body).http_status == 400
    body["data"]["alertContext"] = {"x": float("nan")}
    assert _reject(body).http_status == 400


def _padded(envelope, total: int) -> bytes:
    body = envelope(context={"pad": ""})
    base = len(json.dumps(body, separators=(",", ":")).encode())
    body["data"]["alertContext"]["pad"] = "x" * (total - base)
    raw = json.dumps(body, separators=(",", ":")).encode()
    assert len(raw) == total
    return raw


def test_exactly_256_kb_is_accepted(envelope) -> None:
    raw = _padded(envelope, MAX_PAYLOAD_BYTES)
    assert parse_alert(raw).context["pad"].startswith("x")
    assert parse_alert(raw.decode()).alert_id
    assert parse_alert(json.loads(raw)).alert_id


@pytest.mark.parametrize("as_type", [bytes, str, dict])
def test_over_256_kb_is_413(envelope, as_type) -> None:
    raw = _padded(envelope, MAX_PAYLOAD_BYTES + 1)
    payload = {bytes: raw, str: raw.decode(), dict: json.loads(raw)}[as_type]
    err = _reject(payload)
    assert (err.http_status, err.field) == (413, "$")
    assert "262,145 bytes" in err.reason and "256 KB" in err.reason


def test_size_counts_utf8_bytes_not_characters(envelope) -> None:
    body = envelope(context={"pad": "é" * (MAX_PAYLOAD_BYTES // 2)})
    text = json.dumps(body, ensure_ascii=False)
    assert len(text) < MAX_PAYLOAD_BYTES < len(text.encode())
    assert _reject(text).http_status == 413


@pytest.mark.parametrize("field", ["alertId", "monitorCondition", "firedDateTime"])
def test_missing_required_essential_is_422_naming_it(envelope, field: str) -> None:
    err = _reject(envelope(**{field: ...}))
    assert err.http_status == 422
    assert err.field == f"data.essentials.{field}"
    assert err.reason.startswith("required field is missing")
    assert field in err.fix


@pytest.mark.parametrize(
    ("field", "value", "reason_part"),
    [
        ("alertId", "", "non-empty"),
        ("alertId", None, "null"),
        ("alertId", 42, "non-empty string, got a number"),
        ("monitorCondition", "Activated", '"Fired" or "Resolved"'),
        ("monitorCondition", None, "null"),
        ("firedDateTime", "yesterday", "not a timestamp"),
        ("firedDateTime", 1700000000, "timestamp"),
        ("severity", "Sev9", "Sev0..Sev4"),
        ("severity", "Critical", "Sev0..Sev4"),
        ("alertTargetIDs", [""], "resource id"),
        ("alertTargetIDs", {"a": 1}, "array of resource id strings"),
        ("configurationItems", 3, "array of strings"),
        ("configurationItems", [{"a": 1}], "items must be strings"),
        ("resolvedDateTime", "soon", "not a timestamp"),
        ("alertRule", ["a"], "string"),
    ],
)
def test_invalid_essential_is_422_with_path_and_fix(envelope, field, value, reason_part) -> None:
    err = _reject(envelope(**{field: value}))
    assert err.http_status == 422
    assert err.field.startswith(f"data.essentials.{field}")
    assert reason_part in err.reason
    assert err.fix and err.fix.endswith(".")
    for leak in ("pydantic", "ValidationError", "Traceback", "errors.pydantic.dev", "Value error,"):
        assert leak not in str(err)


def test_required_field_errors_are_reported_first(envelope) -> None:
    err = _reject(envelope(severity="bogus", firedDateTime=...))
    assert err.field == "data.essentials.firedDateTime"
    assert "1 more invalid field: data.essentials.severity)" in err.reason  # named (newuser10), not only counted


@pytest.mark.parametrize(
    ("mutate", "field", "reason_part"),
    [
        (lambda b: b.pop("schemaId"), "schemaId", "missing"),
        (lambda b: b.update(schemaId=7), "schemaId", "expected a string"),
        (lambda b: b.pop("data"), "data", "missing"),
        (lambda b: b.update(data=None), "data", "null"),
        (lambda b: b.update(data=[1]), "data", "array"),
        (lambda b: b["data"].pop("essentials"), "data.essentials", "missing"),
        (lambda b: b["data"].update(essentials="x"), "data.essentials", "string"),
        (lambda b: b["data"].update(alertContext=[1]), "data.alertContext", "array"),
        (lambda b: b["data"].update(customProperties="k=v"), "data.customProperties", "string"),
    ],
)
def test_envelope_shape_errors_are_422(envelope, mutate, field, reason_part) -> None:
    body = envelope()
    mutate(body)
    err = _reject(body)
    assert (err.http_status, err.field) == (422, field)
    assert reason_part in err.reason


def test_caller_dict_is_not_mutated_or_shared(envelope) -> None:
    body = envelope(context={"nested": {"a": [1]}})
    before = json.dumps(body, sort_keys=True)
    alert = parse_alert(body)
    alert.context["nested"]["a"].append(2)
    assert json.dumps(body, sort_keys=True) == before


def test_huge_integer_is_400_without_python_advice(envelope) -> None:
    raw = json.dumps(envelope(severity=12345)).replace("12345", "9" * 5000)
    err = _reject(raw)
    assert err.http_status == 400 and "too many digits" in err.reason
    assert "sys." not in str(err)


@pytest.mark.parametrize("sent", ["9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00+05:00"])
def test_timestamp_out_of_range_in_utc_is_422(envelope, sent) -> None:
    err = _reject(envelope(firedDateTime=sent))
    assert (err.http_status, err.field) == (422, "data.essentials.firedDateTime")
    assert "out of range once converted to UTC" in err.reason
