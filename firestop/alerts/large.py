"""Large webhook bodies: a log alert's search-result rows decoded only as far as the indicator scan reads them.

A log alert V1 carries its query's results in ``data.alertContext.SearchResults.tables[].rows`` (or
``SearchResult``), up to the 256 KB payload cap (``action-groups.md``; Azure omits SearchResults beyond it).
Decoded whole, a 256 KB body is ~12,600 lists and strings, and building and freeing them was three quarters
of parsing it. The webhook (``parse_alert(..., keep_context=False)``) reads the rows only in the indicator scan
(:func:`firestop.alerts.indicators.extract_indicators`), which stops once every kind it reads is past the cap
of kept indicators; the lean alert keeps no row (:func:`firestop.alerts.parse.lean_context`).

:func:`decode_lean` gives what ``parse_alert`` needs of such a body, as :func:`firestop.alerts.body.decode_body`
and ``extract_indicators`` would give it:

1. ``msgspec`` decodes the body's shape down to the tables, each large rows array (:data:`LARGE_ROWS_BYTES` or
   more) kept as its raw bytes (``msgspec.Raw``): it checks the whole body's JSON syntax (strings, escapes,
   surrogate pairs, numbers, nesting, nothing after the value) without building the values it skips;
2. ``orjson`` decodes the rest of the body (each large rows array replaced by ``[]``), as ``decode_body``
   decodes every body;
3. ``extract_indicators`` reads the context with each large rows array in place as :class:`_Rows`, which
   decodes (``orjson``) its first ~16 KB of rows when the scan starts reading it, and further slices (each four
   times the last) only as the scan reads on: the scan sees the same rows, in the same order, and stops where it
   always stopped (a 256 KB alert of distinct caller IPs: 102 of its 2,530 rows);
4. the body is returned with those arrays left empty, beside the indicators (:class:`Lean`).

Anything the split cannot prove equal gives None, and the caller decodes the whole body as before: a body
under :data:`LARGE_BODY_BYTES` or not ``bytes``, no large rows, rows that are not an array, a shape ``msgspec``
refuses (any malformed JSON: ``decode_body`` then refuses it with its own message), keys other than
``schemaId`` and ``data`` at the top (other sources read other paths), text that is not UTF-8, rows ``orjson``
will not decode, a run of 19 or more digits outside the large rows (an integer that ``orjson`` and the
standard library decode differently: ``decode_body`` uses the latter when ``orjson`` refuses the body, e.g. for
an unread row's number past a double's range), a run of digits in the rows longer than Python converts to an
integer (``sys.get_int_max_str_digits``: the standard library refuses it), and nesting within
:data:`DEPTH_MARGIN` levels of where the standard library's decoder gives up.

Nesting: ``decode_body`` decodes a body ``orjson`` refuses (deeper than 1,024 levels, or holding a number or a
lone surrogate it will not take) again with the standard library, whose C scanner counts each level against the
interpreter's recursion budget: the Python recursion limit on 3.11 (about 990 levels at the default 1,000), the
C recursion limit from 3.12 (about 1,490 on 3.12, 9,990 on 3.13). ``msgspec`` counts its levels against the same
budget and, called from the same place, accepts one to three levels more (measured on 3.11.7, 3.12.1, 3.13.0).
So a body nested just past the standard library's limit in a row the scan never reads was taken here but
refused (400, "nested too deeply") whole. ``msgspec`` therefore checks the body inside :data:`DEPTH_MARGIN` more
levels of arrays (``[[...body...]]``, a copy of the body): it gives up that many levels before the standard
library does, on every interpreter that counts levels this way (3.11 to 3.13; from 3.14 the limit is the C
stack's size, which each decoder uses differently, so the path is off there until measured). Within that bound
the whole decode takes the body too, and sees in it what this path sees. Past Firestop's own bound
(:data:`firestop.alerts.body.MAX_DEPTH`, 1,024 levels) the whole decode refuses a body on every interpreter,
while 3.12's and 3.13's budgets let ``msgspec`` nest far deeper: there the body is first skipped inside
:data:`_PAD` levels of arrays (the budget measured at import, less the bound, plus the margin), so that this
path gives up :data:`DEPTH_MARGIN` levels before the bound too. ``tests/alerts/test_alerts_large.py``
holds ``parse_alert`` equal with and without this path on generated tables and on malformed, non-UTF-8, deep
(at the standard library's limit, on the interpreter running the tests) and oddly-numbered bodies.
"""

from __future__ import annotations

import sys
from itertools import chain
from typing import Any, Iterator, NamedTuple

import msgspec
import orjson

from firestop.alerts.body import _BOM, LARGE_BODY_BYTES, MAX_DEPTH, MAX_PAYLOAD_BYTES
from firestop.alerts.indicators import MAX_INDICATORS, Indicators, extract_indicators, indicator_columns

__all__ = ["FIRST_ROWS_BYTES", "LARGE_BODY_BYTES", "LARGE_ROWS_BYTES", "Lean", "decode_lean"]

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


#: Levels of arrays the body is checked inside (see the module docstring): ``msgspec`` then refuses nesting this
#: many levels before the standard library's decoder does (measured: it otherwise accepts one to three more).
DEPTH_MARGIN = 64
_WRAPPED: Any = _Shape
for _ in range(DEPTH_MARGIN):
    _WRAPPED = tuple[_WRAPPED]
_SHAPE = msgspec.json.Decoder(_WRAPPED)
_OPEN, _CLOSE = b"[" * DEPTH_MARGIN, b"]" * DEPTH_MARGIN
#: Interpreters whose recursion check counts levels (3.11: the recursion limit; 3.12, 3.13: the C recursion
#: limit), where the margin is measured; from 3.14 the check is the C stack's size.
_LEVELS_COUNTED = sys.version_info < (3, 14)
_SKIP = msgspec.json.Decoder(msgspec.Raw)


def _budget() -> int:
    """Levels of arrays ``msgspec`` skips when called from here (binary search, at most 15 decodes of at most
    64 KB): about 997 on 3.11, 9,998 on 3.13 (measured on 3.11.7 and 3.13.0)."""
    low, high = 1, 1 << 15
    while low < high:
        mid = (low + high + 1) // 2
        try:
            _SKIP.decode(b"[" * mid + b"]" * mid)
            low = mid
        except RecursionError:
            high = mid - 1
    return low


#: Where the interpreter lets ``msgspec`` (and the standard library) nest past :data:`MAX_DEPTH` (3.12, 3.13),
#: the body is also skipped inside this many levels of arrays, so that ``msgspec`` gives up about
#: :data:`DEPTH_MARGIN` levels before Firestop's bound, as the shape check does before the standard library's on
#: 3.11; 0 where it is not needed (3.11: its recursion budget is under the bound) or not measured (3.14).
_BUDGET = _budget() if _LEVELS_COUNTED else 0
_PAD = _BUDGET - MAX_DEPTH + DEPTH_MARGIN if _BUDGET > MAX_DEPTH else 0
_PAD_OPEN, _PAD_CLOSE = b"[" * _PAD, b"]" * _PAD


def _shape(raw: bytes) -> _Shape:
    """``raw`` decoded as :class:`_Shape` inside :data:`DEPTH_MARGIN` levels of arrays (and first skipped inside
    :data:`_PAD` levels, where that is not 0). Raises what the decoder raises (``msgspec.DecodeError``,
    ``RecursionError``)."""
    if _PAD:
        _SKIP.decode(_PAD_OPEN + raw + _PAD_CLOSE)
    shape = _SHAPE.decode(b"".join((_OPEN, raw, _CLOSE)))  # (one copy of the body, where + made two)
    for _ in range(DEPTH_MARGIN):
        shape = shape[0]
    return shape


class Lean(NamedTuple):
    """What :func:`decode_lean` gives: ``body`` as ``decode_body`` gives it but with every large rows array
    empty, and the ``indicators`` ``extract_indicators`` gives for its ``alertContext`` with every row."""

    body: dict[str, Any]
    indicators: Indicators


def decode_lean(payload: Any) -> Lean | None:
    """The webhook body ``payload`` (``bytes``) decoded without its large search-results rows, and the
    indicators of its ``alertContext`` (see the module docstring), or None: decode it whole. Never raises."""
    if type(payload) is not bytes or not LARGE_BODY_BYTES <= len(payload) <= MAX_PAYLOAD_BYTES:
        return None
    raw = payload[3:] if payload.startswith(_BOM) else payload
    if not _LEVELS_COUNTED:
        return None
    tried, first = _guess(raw)
    if not tried:
        return None
    try:
        shape = _shape(raw)
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
    located = _locate(raw, spans)
    if located is None:
        return None
    starts, spans = [start for start, _ in located], [span for _, span in located]
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
    tables = []
    for start, (key, index, rows) in zip(starts, spans):
        table = _table(body, key, index)
        if table is None or raw[start] != 0x5B:  # '[': rows that are not an array are not worth a special case
            return None
        table["rows"] = _Rows(raw, start, start + len(rows), first[1:] if first and first[0] == start else None)
        tables.append(table)
    try:
        indicators = extract_indicators(body["data"]["alertContext"])
    except _OnlyIterated:
        return None
    finally:
        lazy = [table["rows"] for table in tables]
        for table in tables:
            table["rows"] = []
    if any(rows.failed for rows in lazy):
        return None
    return Lean(body, indicators)


def _guess(raw: bytes) -> tuple[bool, tuple[int, int, list[Any]] | None]:
    """Whether to try the path on ``raw``: whether the indicator scan looks like it stops early in the first
    search-results table the text shows (the ``columns`` array before the first ``"rows"`` key, and the first
    ~:data:`FIRST_ROWS_BYTES` of those rows, ~160 rows). It does when each column it reads holds more than
    :data:`MAX_INDICATORS` distinct strings there (its cap: the scan stops at about row 100), or when it reads
    no column (it reads no row). Otherwise it most likely reads every row, and the path would cost more than
    the whole decode: its msgspec pass and sliced decode come on top of decoding every row
    (``bench/intake.py large``, the full-scan case: 0.83x before this guess). True when the text shows no such
    table (the path decides as before). A guess either way: the result is exact whatever it says.

    Also returns the rows it decoded, ``(start, cut, rows)``: ``raw[start]`` is the array's ``[`` and ``rows``
    what :class:`_Rows` decodes first (up to the ``]`` at ``cut``, found as it finds it), or None."""
    key = raw.find(b'"rows"')
    start = _after_colon(raw, key + 6) if key >= 0 else None
    named = raw.rfind(b'"columns"', 0, key) if start is not None and raw[start] == 0x5B else -1  # '['
    at = _after_colon(raw, named + 9) if named >= 0 else None
    if start is None or at is None or raw[at] != 0x5B:
        return True, None
    columns = _array_at(raw, at, at + 1, key, whole=True)
    rows = _array_at(raw, start, start + FIRST_ROWS_BYTES, len(raw), whole=False)
    if columns is None or rows is None:
        return True, None
    first = (start, rows[0], rows[1])
    for index in indicator_columns(columns[1]):
        distinct = {row[index] for row in rows[1]
                    if type(row) is list and index < len(row) and type(row[index]) is str}
        if len(distinct) <= MAX_INDICATORS:
            return False, first
    return True, first


def _array_at(raw: bytes, start: int, after: int, end: int, *, whole: bool) -> tuple[int, list[Any]] | None:
    """The array that starts at ``raw[start]`` (``[``), decoded by ``orjson`` up to the first of
    :data:`_CUT_TRIES` ``]`` from ``after`` on (before ``end``) where it decodes: the whole array (``whole``:
    that ``]`` closes it) or its leading elements (that ``]`` closes one of them). ``(cut, array)``: that ``]``'s
    index and the array; None when none decodes."""
    cut = raw.find(b"]", after, end)
    for _ in range(_CUT_TRIES):
        if cut < 0:
            return None
        try:
            found = orjson.loads(raw[start:cut + 1] if whole else raw[start:cut + 1] + b"]")
        except orjson.JSONDecodeError:
            cut = raw.find(b"]", cut + 1, end)
            continue
        return (cut, found) if type(found) is list else None
    return None


def _locate(raw: bytes, spans: list[tuple[str, int, msgspec.Raw]]) -> list[tuple[int, tuple[str, int, msgspec.Raw]]] | None:
    """Where each of ``spans`` (the rows arrays of one key's tables in order, then the next key's) starts in
    ``raw`` — the value of a ``"rows"`` key equal to the span's bytes, searched from the previous table's of the
    same key — sorted by start; None when one is not found or two overlap. A start found at another ``"rows"``
    key holding the same bytes is caught by the caller: it checks every large table's rows were replaced
    (:func:`_table`)."""
    located: list[tuple[int, tuple[str, int, msgspec.Raw]]] = []
    at, group = 0, None
    for span in spans:
        key, _, rows = span
        if key != group:
            at, group = 0, key
        for _ in range(64):  # bounded: a body could name "rows" thousands of times
            found = raw.find(b'"rows"', at)
            if found < 0:
                return None
            value = _after_colon(raw, found + 6)
            at = found + 6
            if value is not None and raw.startswith(rows, value):
                located.append((value, span))
                at = value + len(rows)
                break
        else:
            return None
    located.sort(key=lambda pair: pair[0])
    if any(start < prev + len(span[2]) for (prev, span), (start, _) in zip(located, located[1:])):
        return None
    return located


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
    """Whether a rows span holds a run of more than ``sys.get_int_max_str_digits()`` digits, as an integer
    literal longer than the standard library converts would be (it refuses it; ``orjson`` refuses any number
    past a double's range, so ``decode_body`` would answer with the standard library's error).

    A run of more than ``limit`` digits holds 8 consecutive sample points ``(limit + 1) // 8`` bytes apart: the
    samples (~500 bytes for 256 KB) are searched for 8 digits in a row, and around each such group the bytes
    for ``limit + 1`` digits in a row (exact; a group is rare in real rows: addresses and times are short runs)."""
    limit = sys.get_int_max_str_digits()
    if not limit:
        return False
    step, group, run = max(1, (limit + 1) // 8), b"0" * 8, b"0" * (limit + 1)
    for start, (_, _, rows) in zip(starts, spans):
        end = start + len(rows)
        samples = raw[start:end:step].translate(_DIGIT_MAP)
        at = samples.find(group)
        while at >= 0:
            first = start + at * step  # the group's first sample; a long run through the group starts after it
            if run in raw[max(start, first - limit):min(end, first + 8 * step + limit)].translate(_DIGIT_MAP):
                return True
            at = samples.find(group, at + 1)
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


class _OnlyIterated(TypeError):
    """A :class:`_Rows` was used otherwise than iterated (the indicator scan changed): decode the body whole.
    A ``TypeError``, as ``len()`` of an iterator raises: ``list(rows)`` falls back to iterating."""


class _Rows(list):
    """A large rows array (``raw[start:end]``, checked JSON) as the indicator scan reads it: iterating yields
    the rows ``orjson.loads(raw[start:end])`` holds, in order, decoding them in slices as the scan reads on:
    the first ~:data:`FIRST_ROWS_BYTES`, then each four times the last, the slice cut after a row. A ``list`` because the scan
    reads only arrays; its own items are always empty, so anything but iteration raises :class:`_OnlyIterated`.
    ``failed``: ``orjson`` refused rows the scan reached (a number past a double's range): the caller decodes
    the body whole, as ``decode_body`` would then."""

    __slots__ = ("_raw", "_start", "_end", "_first", "failed")

    def __init__(self, raw: bytes, start: int, end: int, first: tuple[int, list[Any]] | None = None) -> None:
        """``first``: ``(cut, rows)``, the first slice already decoded by :func:`_guess` (the same ``]``, found
        the same way from ``start``), used when that ``]`` is within this array."""
        super().__init__()
        self._raw, self._start, self._end, self._first, self.failed = raw, start, end, first, False

    def __iter__(self) -> Iterator[Any]:
        # the rows of each decoded slice are handed on by chain (C), not one by one through a generator: a scan
        # that reads every row (2,500 of a 256 KB body) otherwise paid ~0.1 µs of generator resumption per row
        return chain.from_iterable(self._slices())

    def _slices(self) -> Iterator[list[Any]]:
        """The decoded slices, in order (see the class docstring); sets ``failed`` and stops when ``orjson``
        refuses the rest."""
        raw, at, end, size = self._raw, self._start, self._end, FIRST_ROWS_BYTES
        first = self._first
        while True:  # raw[at]: the array's '[', or the ',' after the rows given so far
            cut, chunk = (raw.find(b"]", at + size, end) if end - at > size else -1), None
            if first is not None and end - at > size and at < first[0] < end - 1:
                cut, chunk = first  # the cuts tried before it lie within this array too: the same failures
            first = None
            for _ in range(_CUT_TRIES if chunk is None else 0):
                if not at < cut < end - 1:
                    break
                # A ']' closing a row (depth 2), then ']': an array of the next rows, as decoded from the whole
                # array. A ']' anywhere else leaves a string or a container open, and orjson refuses the text.
                try:
                    chunk = orjson.loads(b"[" + raw[at + 1:cut + 1] + b"]")
                    break
                except orjson.JSONDecodeError:
                    cut = raw.find(b"]", cut + 1, end)
            if chunk is None:  # the rest at once
                try:
                    chunk = orjson.loads(b"[" + raw[at + 1:end])
                except orjson.JSONDecodeError:
                    self.failed = True
                    return
                yield chunk
                return
            yield chunk
            at = raw.find(b",", cut + 1, end)  # after a row: whitespace, then ',' or the array's closing ']'
            if at < 0:
                return
            size *= 4

    def _refuse(self, *args: Any, **kwargs: Any) -> Any:
        raise _OnlyIterated

    __len__ = __getitem__ = __contains__ = __reversed__ = __bool__ = __eq__ = _refuse  # type: ignore[assignment]
