"""Decode a webhook body (bytes / str / dict) into a JSON object, with limits.

* Size: a common-schema alert payload is at most 256 KB (``action-groups.md``,
  ``includes/azure-monitor-limits-action-groups.md``); anything larger than
  :data:`MAX_PAYLOAD_BYTES` (262,144 bytes, UTF-8) is rejected with 413. A
  ``dict`` is measured as its compact JSON encoding.
* Encoding: UTF-8 (a leading BOM is tolerated).
* JSON: strict — ``NaN`` / ``Infinity`` are rejected (Azure never sends them and
  they would break equality of the resulting model). Errors carry line/column.
* The top level must be a JSON object.
* Nesting: at most :data:`MAX_DEPTH` (1,024) levels of arrays and objects; deeper is a 400 ("nested too
  deeply") on every interpreter. The bound is Firestop's (a Common Alert Schema payload nests about 8 deep),
  set at ``orjson``'s own limit so the common path checks nothing more; the standard library's decoder, used for
  what ``orjson`` refuses, takes a different number of levels on each Python (its recursion budget: about 990
  on 3.11, 1,490 on 3.12, 9,990 on 3.13), so its input is measured first (:func:`_too_deep`). One difference is
  left within the bound: a body ``orjson`` refuses for another reason (a lone surrogate escape, a number past a
  double's range) and nested between about 990 and 1,024 levels is refused on 3.11 only, where the standard
  library runs out of recursion (the same 400). Bytes and text take the same path; a ``dict`` (already decoded,
  from Firestop's own callers) is encoded by the standard library first, which on 3.11 gives up near 990 levels.

A ``dict`` is deep-copied through JSON so the caller's object is never shared
with (or mutated by) the resulting ``Alert``.

Decoder: ``orjson`` (C; ~3x the standard library on a small alert), with the cyclic garbage
collector paused while it builds the objects (a 256 KB log alert is ~12,000 lists and strings: with
the collector running, the collections the allocations trigger, full ones included, cost as much as
the decode). Anything orjson refuses (not UTF-8, not JSON, ``NaN``, a lone surrogate escape, nested
past its depth limit of 1,024) is checked against :data:`MAX_DEPTH` and decoded again by the standard library's strict decoder, which
gives the error — so every message (line, column, offset) is what it always was, and nothing orjson
raises reaches the caller. One difference on success: an integer outside the 64-bit range decodes
as the nearest ``float`` (orjson); Azure Monitor payloads carry none (``alerts-common-schema.md``:
counts, thresholds and metric values are 32/64-bit numbers or doubles).
"""

from __future__ import annotations

import gc
import json
from typing import Any

import orjson

from firestop.alerts.errors import AlertPayloadError
from firestop.boundary import json_depth

__all__ = ["LARGE_BODY_BYTES", "MAX_DEPTH", "MAX_PAYLOAD_BYTES", "decode_body"]

MAX_PAYLOAD_BYTES = 262_144
#: Deepest nesting of arrays and objects a body may have (``[]`` is 1): Firestop's bound, ``orjson``'s limit.
MAX_DEPTH = 1_024

#: Bodies from this size (bytes) may take the large-body path (firestop.alerts.large); smaller ones are decoded
#: whole (the split costs more than it saves) and never load it.
LARGE_BODY_BYTES = 32 * 1024

_SEND_JSON_FIX = (
    "Post the alert exactly as the Azure Monitor action group sends it: one "
    "UTF-8 JSON object (Content-Type: application/json)."
)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _check_size(text: str) -> None:
    """The UTF-8 size of ``text`` must be within the 256 KB Common Alert Schema cap (413 otherwise);
    text that cannot be UTF-8 (unpaired surrogates) is a 400."""
    try:
        size = len(text.encode("utf-8"))
    except UnicodeEncodeError:
        raise AlertPayloadError("$", "body contains unpaired surrogate characters", _SEND_JSON_FIX, 400) from None
    if size > MAX_PAYLOAD_BYTES:
        raise _too_large(size)


def _too_large(size: int) -> AlertPayloadError:
    return AlertPayloadError(
        "$",
        f"body is {size:,} bytes, over the 256 KB ({MAX_PAYLOAD_BYTES:,} bytes) "
        "limit of a common-schema alert payload",
        "Send the alert unmodified; Azure Monitor caps alert payloads at 256 KB "
        "(log alert V1 omits SearchResults beyond it), so trim any content added "
        "on the way.",
        http_status=413,
    )


#: One decoder for every body (``json.loads`` with a keyword builds a new decoder per call).
_DECODER = json.JSONDecoder(parse_constant=_reject_constant)
_BOM = b"\xef\xbb\xbf"


def _too_deep(text: str) -> bool:
    """Whether JSON ``text`` nests arrays and objects more than :data:`MAX_DEPTH` deep (brackets inside string
    literals not counted). Free for a text with at most that many ``[`` and ``{`` in all; otherwise one linear
    pass (:func:`firestop.boundary.json_depth`), never recursive."""
    return text.count("[") + text.count("{") > MAX_DEPTH and json_depth(text) > MAX_DEPTH


def _loads(text: str) -> Any:
    if _too_deep(text):
        raise AlertPayloadError(
            "$", f"body is not usable JSON: it is nested too deeply (over {MAX_DEPTH:,} levels)", _SEND_JSON_FIX, 400
        )
    try:
        return _DECODER.decode(text)
    except json.JSONDecodeError as exc:
        raise AlertPayloadError(
            "$",
            f"body is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}",
            _SEND_JSON_FIX,
            http_status=400,
            position={"line": exc.lineno, "column": exc.colno, "offset": exc.pos},
        ) from None
    except RecursionError:  # within the bound, only on 3.11 (see the module docstring)
        raise AlertPayloadError(
            "$", "body is not usable JSON: it is nested too deeply", _SEND_JSON_FIX, 400
        ) from None
    except ValueError as exc:  # NaN/Infinity (our parse_constant), integer digit limit
        text = str(exc)
        reason = (
            f"body is not usable JSON: {text}"
            if text.endswith("is not valid JSON")
            else "body is not usable JSON: it contains a number with too many digits"
        )
        raise AlertPayloadError("$", reason, _SEND_JSON_FIX, 400) from None


def _fast_loads(raw: bytes | str) -> Any:
    """``orjson.loads(raw)`` with the cyclic collector paused (see the module docstring); the standard
    library's decoder (:func:`_loads`, which raises the precise error) for whatever orjson refuses. Text and
    bytes take the same path, so a body nests as deep given either way."""
    paused = gc.isenabled()
    if paused:
        gc.disable()
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        pass
    finally:
        if paused:
            gc.enable()
    if isinstance(raw, str):
        return _loads(raw)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise AlertPayloadError(
            "$",
            f"body is not UTF-8 text: invalid byte at offset {exc.start}",
            _SEND_JSON_FIX,
            http_status=400,
        ) from None
    return _loads(text)


def decode_body(payload: bytes | bytearray | memoryview | str | dict[str, Any]) -> dict[str, Any]:
    """Return the webhook body as a fresh ``dict``.

    Raises:
        AlertPayloadError: 413 over :data:`MAX_PAYLOAD_BYTES`; 400 not UTF-8,
            not JSON (with line/column), not a JSON object, or a ``dict`` that
            is not JSON-serialisable; 400 for any other input type.
    """
    if isinstance(payload, (bytes, bytearray, memoryview)):
        raw = payload if isinstance(payload, bytes) else bytes(payload)
        if len(raw) > MAX_PAYLOAD_BYTES:
            raise _too_large(len(raw))
        body = _fast_loads(raw[3:] if raw.startswith(_BOM) else raw)  # a leading BOM is tolerated
    elif isinstance(payload, str):
        _check_size(payload)
        body = _fast_loads(payload.lstrip("\ufeff"))
    elif isinstance(payload, dict):
        try:
            text = json.dumps(payload, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
        except (TypeError, ValueError, RecursionError) as exc:
            reason = (
                "body is nested too deeply"
                if isinstance(exc, RecursionError)
                else f"body is not JSON-serialisable: {exc}"
            )
            raise AlertPayloadError("$", reason, _SEND_JSON_FIX, http_status=400) from None
        _check_size(text)
        body = _fast_loads(text)
    else:
        raise AlertPayloadError(
            "$",
            f"body must be bytes, str or dict, got {type(payload).__name__}",
            "Pass the raw request body (bytes) or its decoded JSON object to parse_alert.",
            http_status=400,
        )
    if not isinstance(body, dict):
        kind = {list: "array", str: "string", int: "number", float: "number", bool: "boolean"}.get(
            type(body), "null"
        )
        raise AlertPayloadError(
            "$",
            f"body is a JSON {kind}, not an object",
            _SEND_JSON_FIX,
            http_status=400,
        )
    return body
