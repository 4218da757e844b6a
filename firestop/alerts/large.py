"""Large webhook bodies: a log alert's search-result rows decoded only as far as the indicator scan reads them.

A log alert V1 carries its query's results in ``data.alertContext.SearchResults.tables[].rows`` (or
``SearchResult``), up to the 256 KB payload cap (``action-groups.md``; Azure omits SearchResults beyond it).
Decoded whole, a 256 KB body is ~12,600 lists and strings, and building and freeing them was three quarters
of parsing it. The webhook (``parse_alert(..., keep_context=False)``) reads the rows only in the indicator scan
(:func:`firestop.alerts.indicators.extract_indicators`), which stops once every kind it reads is past the cap
of kept indicators; the lean alert keeps no row (:func:`firestop.alerts.parse.lean_context`).

:func:`decode_lean` gives the body as :func:`firestop.alerts.body.decode_body` would, except that each large
rows array (:data:`LARGE_ROWS_BYTES` or more) holds only the rows the indicator scan reads:

1. ``msgspec`` decodes the body's shape down to the tables, each large rows array kept as its raw bytes
   (``msgspec.Raw``): it checks the whole body's JSON syntax (strings, escapes, surrogate pairs, numbers,
   nesting, nothing after the value) without building the values it skips;
2. the rest of the body (each large rows array replaced by ``[]``) is decoded by ``orjson``, as
   ``decode_body`` decodes every body;
3. per large table, a slice of its first rows (about :data:`FIRST_ROWS_BYTES`) is decoded by ``orjson``; when
   :func:`~firestop.alerts.indicators.scan_stops_within` proves the scan stops within them they replace the
   ``[]``, else the whole array is decoded.

Same result, or None (the caller decodes the whole body): ``None`` for anything the split cannot prove
equal — a body under :data:`LARGE_BODY_BYTES`, bodies with no large rows, rows that are not an array, a
shape ``msgspec`` refuses (any malformed JSON, which ``decode_body`` then refuses with its own message), keys
other than ``schemaId`` and ``data`` at the top (other sources read other paths), text that is not UTF-8,
a run of 19 or more digits outside the rows (an integer that ``orjson`` and the standard library would
decode differently: ``decode_body`` uses the latter when ``orjson`` refuses the body, e.g. for a number in
the rows past a double's range), a run of digits in the rows longer than Python converts to an integer
(``sys.get_int_max_str_digits``: the standard library refuses it), and any interpreter on which ``msgspec``
could accept nesting deeper than ``orjson`` (1,024 levels): its depth check is the interpreter's recursion
limit, which bounds it below 1,024 only on Python 3.11 with a limit of at most 1,000 (the default).
``tests/alerts/test_alerts_large.py`` holds ``parse_alert`` equal with and without this path on generated
tables and on malformed, non-UTF-8, over-deep and oddly-numbered bodies.
"""

from __future__ import annotations

import sys
from typing import Any

import msgspec
import orjson

from firestop.alerts.body import _BOM, MAX_PAYLOAD_BYTES
from firestop.alerts.indicators import scan_stops_within

__all__ = ["FIRST_ROWS_BYTES", "LARGE_BODY_BYTES", "LARGE_ROWS_BYTES", "decode_lean"]

#: Smaller bodies are decoded whole: the split costs more than it saves.
LARGE_BODY_BYTES = 32 * 1024
#: A rows array smaller than this is decoded with the rest of the body.
LARGE_ROWS_BYTES = 8 * 1024
#: The first slice of a large rows array decoded for the indicator scan (~160 rows of a 4-column table: the
#: scan keeps 100 values of a kind).
FIRST_ROWS_BYTES = 16 * 1024
#: Keys of a search-results object in ``alertContext`` whose tables the indicator scan reads.
RESULT_KEYS = ("SearchResults", "SearchResult")
_CUT_TRIES = 3
#: ``bytes.translate`` table: ASCII digits to ``0``, every other byte to ``x`` (digit runs found with ``in``).
_DIGIT_MAP = bytes(0x30 if 0x30 <= b <= 0x39 else 0x78 for b in range(256))
#: the shortest integer literal ``orjson`` decodes as a float where the standard library gives an int
#: (outside [-2**63, 2**64): ``firestop.alerts.body``)
_LONG_INT_DIGITS = 19
_NO_ROWS = msgspec.Raw(b"")


class _Table(msgspec.Struct, gc=False):
    rows: msgspec.Raw = _NO_ROWS


class _Results(msgspec.Struct, gc=False):
    tables: list[_Table] = msgspec.field(default_factory=list)


class _Context(msgspec.Struct, gc=False):
    SearchResults: _Results | None = None  # noqa: N815 — the JSON key
    SearchResult: _Results | None = None  # noqa: N815


class _Data(msgspec.Struct, gc=False):
    alertContext: _Context | None = None  # noqa: N815


class _Shape(msgspec.Struct, gc=False):
    data: _Data | None = None


_SHAPE = msgspec.json.Decoder(_Shape)


def _depth_bounded() -> bool:
    """Whether ``msgspec`` refuses nesting before ``orjson`` does (1,024 levels): on Python 3.11 its check is
    the shared recursion counter (limit 1,000 by default); from 3.12 it counts C recursion with another limit."""
    return sys.version_info < (3, 12) and sys.getrecursionlimit() <= 1000


def decode_lean(payload: Any) -> dict[str, Any] | None:
    """The webhook body ``payload`` (``bytes``) decoded with each large search-results rows array cut to the
    rows the indicator scan reads (see the module docstring), or None: decode it whole
    (:func:`firestop.alerts.body.decode_body`). Never raises."""
    if type(payload) is not bytes or not LARGE_BODY_BYTES <= len(payload) <= MAX_PAYLOAD_BYTES:
        return None
    raw = payload[3:] if payload.startswith(_BOM) else payload
    if not _depth_bounded():
        return None
    try:
        shape = _SHAPE.decode(raw)
    except (msgspec.DecodeError, RecursionError):  # msgspec.ValidationError is a DecodeError
        return None
    context = shape.data.alertContext if shape.data is not None else None
    if context is None:
        return None
    spans = [(key, index, table.rows)
             for key in RESULT_KEYS if (results := getattr(context, key)) is not None
             for index, table in enumerate(results.tables) if len(table.rows) >= LARGE_ROWS_BYTES]
    if not spans or sum(len(rows) for _, _, rows in spans) * 2 < len(raw):
        return None  # no large rows, or the rest of the body would dominate
    if not raw.isascii():
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            return None
    starts = _locate(raw, [rows for _, _, rows in spans])
    if starts is None:
        return None
    pieces, last = [], 0
    for start, (_, _, rows) in zip(starts, spans):
        pieces += [raw[last:start], b"[]"]
        last = start + len(rows)
    pieces.append(raw[last:])
    rest = b"".join(pieces)
    if b"0" * _LONG_INT_DIGITS in rest.translate(_DIGIT_MAP) or _long_digit_run(raw, starts, spans):
        return None
    try:
        body = orjson.loads(rest)
    except orjson.JSONDecodeError:
        return None
    if type(body) is not dict or body.keys() != {"schemaId", "data"}:
        return None
    for start, (key, index, rows) in zip(starts, spans):
        table = _table(body, key, index)
        if table is None:
            return None
        read = _rows_read(table.get("columns"), raw, start, start + len(rows))
        if read is None:
            return None
        table["rows"] = read
    return body


def _locate(raw: bytes, spans: list[msgspec.Raw]) -> list[int] | None:
    """Where each of ``spans`` (rows arrays, in document order) starts in ``raw``: the value of a ``"rows"``
    key equal to the span's bytes. None when one is not found (the caller checks every span was replaced:
    :func:`_table`)."""
    starts: list[int] = []
    at = 0
    for rows in spans:
        for _ in range(64):  # bounded: a body could name "rows" thousands of times
            key = raw.find(b'"rows"', at)
            if key < 0:
                return None
            value = _after_colon(raw, key + 6)
            at = key + 6
            if value is not None and raw.startswith(rows, value):
                starts.append(value)
                at = value + len(rows)
                break
        else:
            return None
    return starts


def _after_colon(raw: bytes, at: int) -> int | None:
    """The index of the value after ``ws* ':' ws*`` at ``at`` in ``raw``, or None."""
    n = len(raw)
    while at < n and raw[at] in b" \t\n\r":
        at += 1
    if at >= n or raw[at] != 0x3A:  # ':'
        return None
    at += 1
    while at < n and raw[at] in b" \t\n\r":
        at += 1
    return at


def _long_digit_run(raw: bytes, starts: list[int], spans: list[tuple[str, int, msgspec.Raw]]) -> bool:
    """Whether a rows span may hold an integer literal longer than ``sys.get_int_max_str_digits()`` (the
    standard library refuses it; ``orjson`` refuses any number past a double's range, so ``decode_body``
    would answer with the standard library's error). A run of more than ``limit`` digits covers a whole
    aligned window of ``(limit + 1) // 2`` bytes: one byte test per window, a window test where it is a digit."""
    limit = sys.get_int_max_str_digits()
    if not limit:
        return False
    width = (limit + 1) // 2
    for start, (_, _, rows) in zip(starts, spans):
        end = start + len(rows)
        for at in range(-(-start // width) * width, end - width + 1, width):
            if 0x30 <= raw[at] <= 0x39 and raw[at:at + width].isdigit():
                return True
    return False


def _table(body: dict[str, Any], key: str, index: int) -> dict[str, Any] | None:
    """``body.data.alertContext[key].tables[index]`` when it is an object whose ``rows`` is the ``[]`` put in
    place of its large rows (so that span, and only such spans, were replaced), else None."""
    data = body.get("data")
    context = data.get("alertContext") if type(data) is dict else None
    results = context.get(key) if type(context) is dict else None
    tables = results.get("tables") if type(results) is dict else None
    table = tables[index] if type(tables) is list and index < len(tables) else None
    if type(table) is not dict or table.get("rows") != [] or type(table.get("rows")) is not list:
        return None
    return table


def _rows_read(columns: Any, raw: bytes, start: int, end: int) -> list[Any] | None:
    """The rows of a large table (the array ``raw[start:end]``) the indicator scan reads: ``[]`` when no column
    names an indicator, the first rows when the scan provably stops within them, else all of them; None when
    they do not decode, or are not an array (the scan would skip the table: not worth a special case)."""
    if raw[start] != 0x5B:  # '['
        return None
    if scan_stops_within(columns, []):
        return []
    cut = raw.find(b"]", start + FIRST_ROWS_BYTES, end) if end - start > FIRST_ROWS_BYTES else -1
    for _ in range(_CUT_TRIES):
        if not start < cut < end - 1:
            break
        # A ']' closing a row (depth 2), then ']': the array of the rows before it, as decoded from the whole
        # array. A ']' anywhere else leaves a string or a container open, and orjson refuses the text.
        try:
            first = orjson.loads(raw[start:cut + 1] + b"]")
        except orjson.JSONDecodeError:
            cut = raw.find(b"]", cut + 1, end)
            continue
        return first if scan_stops_within(columns, first) else _whole(raw, start, end)
    return _whole(raw, start, end)


def _whole(raw: bytes, start: int, end: int) -> list[Any] | None:
    try:
        decoded = orjson.loads(memoryview(raw)[start:end])
    except orjson.JSONDecodeError:
        return None
    return decoded if type(decoded) is list else None
