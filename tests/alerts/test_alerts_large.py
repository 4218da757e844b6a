"""The large-body path (``firestop.alerts.large``) changes nothing the webhook computes.

``parse_alert(body, keep_context=False)`` decodes a large log alert's search-result rows only as far as the
indicator scan reads them. Each test compares it with the same call with that path switched off (the whole
body decoded, as before): the same lean alert (indicators included) or the same error, field for field — on
generated tables (indicator columns anywhere, repeated and distinct values, values the scan skips, earlier
indicators from the activity-log fields and dimensions, several tables under both result keys, compact or
indented JSON), and on the bench's 256 KB alert broken or bent anywhere (malformed JSON, bytes that are not
UTF-8, lone surrogate escapes, numbers past a double's range or past Python's integer digit limit, nesting
past orjson's limit, duplicate keys, a BOM).
"""

from __future__ import annotations

import copy
import importlib.util
import itertools
import json
import random
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import firestop.alerts.parse as parse_module
from firestop.alerts import AlertPayloadError, parse_alert
from firestop.alerts import large
from firestop.alerts.indicators import MAX_INDICATORS, extract_indicators
from firestop.alerts.body import MAX_PAYLOAD_BYTES
from firestop.alerts.large import LARGE_BODY_BYTES, Lean, decode_lean

ROOT = Path(__file__).resolve().parents[2]
_SPEC = importlib.util.spec_from_file_location("bench_intake", ROOT / "bench" / "intake.py")
_BENCH = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(_BENCH)
LARGE = json.dumps(_BENCH.large_base()).encode()  # the bench's worst case: 256 KB, one CallerIPAddress per row
BASE = json.loads((ROOT / "tests" / "alerts" / "data" / "test-actions" / "log-alert-v1-number-of-results.json").read_text())
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@contextmanager
def _default_recursion_limit() -> Iterator[None]:
    """The interpreter's default recursion limit (1,000): hypothesis raises it while it runs a test (on 3.11 the
    limit is the nesting budget of both decoders: ``firestop.alerts.large.DEPTH_MARGIN``)."""
    saved = sys.getrecursionlimit()
    sys.setrecursionlimit(min(saved, 1000))
    try:
        yield
    finally:
        sys.setrecursionlimit(saved)


@contextmanager
def _always_tried() -> Iterator[None]:
    """The path tried on every body, whatever ``large._guess`` guesses (the rows it decoded still handed on): the
    guess only saves time (a body it declines is decoded whole), so the equivalence below is checked on every
    body, the guess apart."""
    saved = large._guess
    large._guess = lambda raw: (True, saved(raw)[1])
    try:
        yield
    finally:
        large._guess = saved


def _tries(raw: bytes) -> bool:
    return large._guess(raw)[0]


def _lean(body: bytes) -> Lean | None:
    with _default_recursion_limit(), _always_tried():
        return decode_lean(body)


@contextmanager
def _whole_body() -> Iterator[None]:
    """``parse_alert`` with the large-body path off: every body decoded whole."""
    saved = parse_module.decode_lean
    parse_module.decode_lean = lambda payload: None
    try:
        yield
    finally:
        parse_module.decode_lean = saved


def _outcome(body: bytes) -> dict[str, Any]:
    try:
        return {"alert": parse_alert(body, keep_context=False).model_dump(mode="json")}
    except AlertPayloadError as exc:
        return {"error": exc.as_dict()}


def _both(body: bytes) -> tuple[dict[str, Any], dict[str, Any]]:
    with _default_recursion_limit(), _always_tried():
        fast = _outcome(body)
        with _whole_body():
            whole = _outcome(body)
    return fast, whole


@contextmanager
def _rows_read() -> Iterator[list[int]]:
    """Counts of the rows each large rows array gave the indicator scan, while the block runs."""
    counts: list[int] = []
    plain = large._Rows.__iter__

    def counted(rows: Any) -> Iterator[Any]:
        counts.append(0)
        for row in plain(rows):
            counts[-1] += 1
            yield row

    large._Rows.__iter__ = counted
    try:
        yield counts
    finally:
        large._Rows.__iter__ = plain


def _context(raw: bytes) -> dict[str, Any]:
    return json.loads(raw)["data"]["alertContext"]


# -- the bench's body ----------------------------------------------------------------------------------
def test_the_256kb_alert_takes_the_lean_path_and_gives_the_same_alert() -> None:
    with _rows_read() as counts:
        lean = _lean(LARGE)
    assert lean is not None and counts == [MAX_INDICATORS + 2]  # a first row without an address, then 101
    full = json.loads(LARGE)
    assert lean.indicators == extract_indicators(full["data"]["alertContext"])
    full["data"]["alertContext"]["SearchResults"]["tables"][0]["rows"] = []
    assert lean.body == full  # everything but the large rows
    fast, whole = _both(LARGE)
    assert fast == whole and "alert" in fast
    assert len(fast["alert"]["indicators"]["caller_ips"]) == MAX_INDICATORS


def test_small_bodies_and_the_full_parse_never_take_it() -> None:
    small = json.dumps(BASE).encode()
    assert len(small) < LARGE_BODY_BYTES and _lean(small) is None
    assert _lean(LARGE.decode()) is None  # str and dict bodies are decoded whole
    assert parse_alert(LARGE).context == _context(LARGE)  # keep_context: every row


def test_a_table_without_indicator_columns_decodes_no_row() -> None:
    body = json.loads(LARGE)
    body["data"]["alertContext"]["SearchResults"]["tables"][0]["columns"][3]["name"] = "Region"
    raw = json.dumps(body).encode()
    with _rows_read() as counts:
        lean = _lean(raw)
    assert lean is not None and counts == [] and lean.indicators == extract_indicators(_context(raw))
    fast, whole = _both(raw)
    assert fast == whole and fast["alert"]["indicators"]["caller_ips"] == []


def test_a_table_whose_scan_reads_every_row_gives_every_row() -> None:
    body = json.loads(LARGE)
    table = body["data"]["alertContext"]["SearchResults"]["tables"][0]
    del table["rows"][2000:]  # the longer addresses stay under the 256 KB cap
    for i, row in enumerate(table["rows"]):
        if len(row) == 4:
            row[3] = f"198.51.100.{i % 7}"  # 7 callers: the scan never reaches the cap
    raw = json.dumps(body).encode()
    with _rows_read() as counts:
        lean = _lean(raw)
    assert counts == [2000] and lean.indicators == extract_indicators(_context(raw))
    fast, whole = _both(raw)
    assert fast == whole and len(fast["alert"]["indicators"]["caller_ips"]) == 7


def _full_scan_body() -> bytes:
    return json.dumps(_BENCH.large_base(7)).encode()  # the bench's full-scan case: 7 callers over and over


def test_a_body_whose_scan_would_read_every_row_is_decoded_whole() -> None:
    """The guess: the first ~160 rows of the first table hold 7 distinct callers, under the scan's cap, so the
    scan would read every row and the path declines before its msgspec pass (the whole decode is cheaper there);
    the bench's body of distinct callers, a table without indicator columns, and bodies whose text shows no
    table are tried. The alert is the same either way."""
    full = _full_scan_body()
    assert not _tries(full) and decode_lean(full) is None
    with _default_recursion_limit():
        fast = _outcome(full)
    with _whole_body():
        assert fast == _outcome(full)
    assert _tries(LARGE) and decode_lean(LARGE) is not None
    body = json.loads(LARGE)
    body["data"]["alertContext"]["SearchResults"]["tables"][0]["columns"][3]["name"] = "Region"
    assert _tries(json.dumps(body).encode())
    columns_after = LARGE.replace(b'"columns"', b'"kolumns"')
    assert _tries(columns_after)  # no columns before the rows: no guess
    two = json.loads(LARGE)  # distinct callers, but a second indicator column of one principal: the scan reads on
    table = two["data"]["alertContext"]["SearchResults"]["tables"][0]
    table["columns"].append({"name": "Caller", "type": "string"})
    for row in table["rows"][:1000]:
        row.append("someone@contoso.com")
    del table["rows"][1000:]
    assert not _tries(json.dumps(two).encode())


def test_the_rows_cannot_be_used_otherwise_than_iterated() -> None:
    """A scan that would take the length of the rows, index them or compare them gets an error, and the path
    declines (the body is decoded whole) instead of reading an empty list."""
    rows = large._Rows(b"[[1], [2]]", 0, 10)
    assert list(rows) == [[1], [2]]
    for use in (len, bool, lambda r: r[0], lambda r: 1 in r, lambda r: r == [], reversed):
        with pytest.raises(large._OnlyIterated):
            use(rows)
    saved = extract_indicators.__globals__["_Collector"].tables

    def counting(self: Any, results: Any) -> None:
        for table in results.get("tables", []):
            len(table["rows"])
        saved(self, results)

    extract_indicators.__globals__["_Collector"].tables = counting
    try:
        assert _lean(LARGE) is None
    finally:
        extract_indicators.__globals__["_Collector"].tables = saved


# -- generated tables ----------------------------------------------------------------------------------
NAMES = ["CallerIPAddress", "callerIpAddress_s", "ClientIP", "OperationName", "Caller", "PrincipalId",
         "ModelDeploymentName", "ApimSubscriptionId", "Computer", "TimeGenerated", "ipaddr", "Padding"]


def _cell(kind: int, row: int, distinct: int, pad: str) -> Any:
    """A cell: addresses (distinct, repeated, with a port, two in one cell, masked, IPv6), operations and
    principals in mixed case, values the scan skips (numbers, null, nested arrays), escapes and non-ASCII."""
    n = row % distinct
    return [
        f"10.{n // 250 % 250}.{n % 250}.{row % 3}",
        f"203.0.113.{n % 250}:{443 + n}",
        f"192.0.2.{n % 250}, 198.51.100.{(n * 7) % 250}",
        "10.0.0.***",
        f"2001:db8::{n:x}",
        f"Microsoft.CognitiveServices/accounts/read{'' if n % 2 else '/Action'}",
        f"User{n}@Contoso.com" if n % 3 else f"user{n}@contoso.com",
        row * 1.5 if n % 2 else row,
        None,
        [n, [str(n)]],
        f'caf\u00e9 "{n}" \\ \u2028 ], [ ]]{pad}',
        pad,
    ][kind % 12]


def _table(columns: list[str], kinds: list[int], n_rows: int, distinct: int, pad: int, short: int) -> dict[str, Any]:
    rows = [[_cell(k, r, distinct, "x" * pad) for k in kinds][: len(kinds) - (r % 5 == 0) * short] for r in range(n_rows)]
    return {"name": "PrimaryResult", "columns": [{"name": c, "type": "string"} for c in columns], "rows": rows}


@st.composite
def tables(draw: st.DrawFn) -> dict[str, Any]:
    columns = draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=5))
    kinds = draw(st.lists(st.integers(0, 11), min_size=len(columns), max_size=len(columns)))
    # rows: up to 900; distinct values: 1 (the scan reads every row) to 400; padding; some rows shorter
    return _table(columns, kinds, draw(st.integers(0, 900)), draw(st.integers(1, 400)), draw(st.integers(0, 120)),
                  draw(st.integers(0, 3)))


def _body(results: list[dict[str, Any]], result: list[dict[str, Any]] | None, earlier: int | None, style: str) -> bytes:
    body = copy.deepcopy(BASE)
    context = body["data"]["alertContext"]
    context["SearchResults"] = {"tables": results}
    if result is not None:
        context["SearchResult"] = {"tables": result}
    if earlier is not None:  # indicators found before the tables are read
        context["Dimensions"] = [{"name": "CallerIPAddress", "value": f"10.0.{i}.1"} for i in range(earlier)]
        context["caller"] = "User1@contoso.com"
        context["claims"] = json.dumps({"ipaddr": "10.0.0.1"})
    if style == "compact":
        return json.dumps(body, separators=(",", ":")).encode()
    if style == "indented":
        return json.dumps(body, indent=2).encode()
    return json.dumps(body, ensure_ascii=style != "utf8").encode()


@st.composite
def large_bodies(draw: st.DrawFn) -> bytes:
    return _body(draw(st.lists(tables(), min_size=1, max_size=3)),
                 draw(st.none() | st.lists(tables(), max_size=2)),
                 draw(st.none() | st.integers(0, 120)),
                 draw(st.sampled_from(["compact", "spaced", "indented", "utf8"])))


def _generated(seed: int) -> bytes:
    """A body like :func:`large_bodies`, from a seed."""
    rng = random.Random(seed)
    def table() -> dict[str, Any]:
        columns = rng.choices(NAMES, k=rng.randint(1, 5))
        return _table(columns, [rng.randint(0, 11) for _ in columns], rng.randint(200, 900), rng.choice([1, 7, 150, 400]),
                      rng.randint(0, 120), rng.randint(0, 3))
    return _body([table() for _ in range(rng.randint(1, 3))], None, rng.choice([None, 50]),
                 rng.choice(["compact", "spaced", "indented", "utf8"]))


@FAST
@given(large_bodies())
def test_generated_tables_give_the_same_alert(body: bytes) -> None:
    fast, whole = _both(body)
    assert fast == whole


def test_generated_tables_take_the_lean_path() -> None:
    """The generated bodies exercise the path: tables read in part, tables read whole, tables not read."""
    seen = {"lean": 0, "part": 0, "whole": 0, "unread": 0}
    for seed in range(40):
        raw = _generated(seed)
        with _rows_read() as counts:
            found = _lean(raw)
        if found is None:
            continue
        seen["lean"] += 1
        sizes = [len(t["rows"]) for t in _context(raw)["SearchResults"]["tables"]]
        seen["part"] += any(0 < c < n for c, n in zip(counts, sizes))
        seen["whole"] += any(c == n for c, n in zip(counts, sizes))
        seen["unread"] += len(counts) < len(sizes)
    assert seen["lean"] >= 20 and min(seen.values()) >= 3, seen


@FAST
@given(tables(), st.sampled_from([(", ", ": "), (",", ":"), (" , ", " : ")]), st.integers(0, 3000))
def test_rows_iterate_as_the_whole_array_decodes(table: dict[str, Any], separators: tuple[str, str], stop: int) -> None:
    """Iterating a large rows array gives the rows orjson decodes from all of it, in order, however far the
    scan reads (strings holding ']' and '],', nested arrays, whitespace between rows)."""
    raw = json.dumps(table["rows"], separators=separators).encode()
    rows = large._Rows(raw, 0, len(raw))
    assert list(itertools.islice(rows, stop)) == table["rows"][:stop]
    assert list(rows) == table["rows"] and not rows.failed


# -- the 256 KB body broken or bent ---------------------------------------------------------------------
def _trimmed() -> bytes:
    body = json.loads(LARGE)
    del body["data"]["alertContext"]["SearchResults"]["tables"][0]["rows"][2000:]  # room for the longest snippet
    return json.dumps(body).encode()


BENT = _trimmed()  # ~205 KB
_ROWS_AT = BENT.index(b'"rows": [') + len(b'"rows": ')
SNIPPETS = [
    b"\x00", b"\xff", b"\xc3", b'"', b",", b"]", b"[", b"}", b"\\", b"\n", b" ", b"x",
    b'"\\ud800"', b'"\\udc00"', b'"\\ud83d\\ude00"', b'"\\u00e9"', b'"\\x"',
    b"1e400", b"-1e400", b"1E309", b"123456789012345678901234567890", b"-9223372036854775809", b"NaN", b"Infinity",
    b"1" * 5000, b"1" * 4300, b"[" * 1030 + b"]" * 1030, b"[" * 980 + b"]" * 980, b"01", b"1.", b"-", b"tru", b"null",
    b'"rows": [], "rows": ', b'"rows": [[1]], "rows": ', b'{"rows": [[1]]}',
]


def _bent(at: int, snippet: bytes, mode: str) -> bytes:
    if mode == "insert":
        return BENT[:at] + snippet + BENT[at:]
    start = BENT.find(b', "', at) + 2  # the next string after a comma (a cell, in the rows): "x" -> snippet
    end = BENT.find(b'"', start + 1) + 1
    if mode == "cell" and 2 <= start < end:
        return BENT[:start] + snippet + BENT[end:]
    return BENT[:at] + snippet + BENT[at + 1:]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, len(BENT) - 1), st.sampled_from(SNIPPETS), st.sampled_from(["replace", "insert", "cell"]))
@example(_ROWS_AT + 50_000, b"1" * 5000, "cell")  # stdlib refuses the integer: the same 400
@example(_ROWS_AT + 50_000, b"1e400", "cell")  # orjson refuses, the standard library decodes it
@example(_ROWS_AT + 500, b"1e400", "cell")  # within the rows the scan reads
@example(_ROWS_AT + 50_000, b"[" * 1030 + b"]" * 1030, "cell")  # past orjson's nesting limit
@example(_ROWS_AT + 50_000, b'"\\ud800"', "cell")  # orjson refuses, the standard library keeps the surrogate
@example(_ROWS_AT + 50_000, b"\xff", "insert")  # not UTF-8
@example(100, b"123456789012345678901234567890", "cell")  # an integer orjson and the standard library differ on
@example(_ROWS_AT - 2, b'"rows": [], "rows": ', "insert")  # a duplicate key: the last wins
@example(len(BENT) - 1, b"x", "insert")  # after the value
def test_bent_bodies_give_the_same_alert_or_the_same_error(at: int, snippet: bytes, mode: str) -> None:
    body = _bent(at, snippet, mode)
    fast, whole = _both(body)
    assert fast == whole


def test_the_examples_exercise_both_outcomes() -> None:
    """The bent bodies above are not all refused nor all taken: the lean path decodes some and declines some."""
    took = [_lean(_bent(_ROWS_AT + 50_000, s, "cell")) is not None for s in (b"1e400", b'"\\ud800"', b"\xff", b"7")]
    assert took == [True, False, False, True]
    with pytest.raises(AlertPayloadError) as err:
        parse_alert(_bent(_ROWS_AT + 50_000, b"1" * 5000, "cell"), keep_context=False)
    assert "too many digits" in err.value.reason


_KEY_AT = BENT.index(b'"rows": [')
_ROWS_END = BENT.index(b"]]", _ROWS_AT) + 2
_CELL = BENT.index(b'"203.0.', _ROWS_AT + 60_000)
_INF = BENT[:_CELL] + b"1e400" + BENT[BENT.index(b'"', _CELL + 1) + 1:]  # a cell orjson refuses (past a double)


@pytest.mark.parametrize("body", [
    BENT[:_KEY_AT] + b'"rows": [], ' + BENT[_KEY_AT:],  # a duplicate key before: the last (the large one) wins
    BENT[:_ROWS_END] + b', "rows": []' + BENT[_ROWS_END:],  # a duplicate key after: the empty one wins
    BENT[:_ROWS_END] + b', "rows": [["10.0.0.1"]]' + BENT[_ROWS_END:],
    _INF.replace(b'"alertContext": {', b'"customProperties": {"n": 123456789012345678901234567890}, "alertContext": {'),
    _INF,  # orjson refuses the body, the standard library decodes it
    b"\xef\xbb\xbf" + BENT,  # a BOM
    BENT[:_ROWS_AT] + b"\n[\n  " + BENT[_ROWS_AT + 1:],
], ids=["dup-before", "dup-after", "dup-after-small", "bigint-and-inf", "inf", "bom", "whitespace"])
def test_edge_bodies_give_the_same_alert(body: bytes) -> None:
    fast, whole = _both(body)
    assert fast == whole and "alert" in fast


def _deep_cell(levels: int) -> bytes:
    """``BENT`` with an unread cell (far past the rows the scan reads) nested ``levels`` deep."""
    return _bent(_ROWS_AT + 50_000, b"[" * levels + b"]" * levels, "cell")


def _deepest(accepts: Any) -> int:
    """The most ``levels`` for which ``accepts(levels)`` holds (binary search; it holds at 1 and stops holding
    once), up to what a body within the 256 KB cap can hold."""
    low, high = 1, (MAX_PAYLOAD_BYTES - len(BENT)) // 2 - 1
    while low < high:
        mid = (low + high + 1) // 2
        if accepts(mid):
            low = mid
        else:
            high = mid - 1
    return low


def _decodes_whole(levels: int) -> bool:
    from firestop.alerts.body import decode_body

    try:
        decode_body(_deep_cell(levels))
        return True
    except AlertPayloadError as exc:
        assert "nested too deeply" in exc.reason
        return False


def _shape_takes(levels: int) -> bool:
    import msgspec

    try:
        large._shape(_deep_cell(levels))
        return True
    except (msgspec.DecodeError, RecursionError):
        return False


def test_msgspec_gives_up_well_before_the_standard_library() -> None:
    """The premise of ``DEPTH_MARGIN``, measured on the interpreter running the tests: the whole decode of a body
    nested in an unread cell (orjson's limit, 1,024 levels, or past it the standard library's: about 990 levels on
    3.11, 1,490 on 3.12, 9,990 on 3.13) takes more levels than the lean path's ``msgspec`` check by at least half
    the margin (without the margin, msgspec took one to three levels more than the standard library)."""
    import msgspec

    if not large._LEVELS_COUNTED:
        assert decode_lean(LARGE) is None  # the path is off where the margin is not measured
        return
    with _default_recursion_limit():
        whole = _deepest(_decodes_whole)
        lean = _deepest(_shape_takes)
        plain = _deepest(lambda levels: _plain_takes(msgspec, levels))
    assert lean <= whole - large.DEPTH_MARGIN // 2, (lean, whole)
    assert plain > lean + large.DEPTH_MARGIN // 2  # the wrapping is what holds the margin


def _plain_takes(msgspec: Any, levels: int) -> bool:
    try:
        msgspec.json.decode(_deep_cell(levels), type=large._Shape)
        return True
    except (msgspec.DecodeError, RecursionError):
        return False


def test_bodies_nested_at_the_standard_librarys_limit_give_the_same_outcome() -> None:
    """At and around the deepest nesting the whole decode takes (measured here), and at the lean check's own
    limit, the lean path gives what the whole decode gives: the alert, or the same 400 "nested too deeply"."""
    with _default_recursion_limit():
        whole = _deepest(_decodes_whole)
        lean = _deepest(_shape_takes) if large._LEVELS_COUNTED else whole
        outcomes = {}
        for levels in sorted({whole - 1, whole, whole + 1, whole + 2, whole + 3, lean, lean + 1}):
            fast, slow = _both(_deep_cell(levels))
            assert fast == slow, levels
            outcomes[levels] = "alert" in fast
    assert outcomes[whole] and not outcomes[whole + 1]  # both outcomes were compared


def _but_rows(body: dict[str, Any], full: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``body`` whose search-results rows read "a prefix" where they are a prefix of ``full``'s."""
    body = copy.deepcopy(body)
    for key in ("SearchResults", "SearchResult"):
        for mine, theirs in zip(body["data"]["alertContext"].get(key, {}).get("tables", []),
                                full["data"]["alertContext"].get(key, {}).get("tables", [])):
            if mine["rows"] == theirs["rows"][:len(mine["rows"])]:
                mine["rows"] = "a prefix"
    return body


def test_the_lean_body_is_the_body_but_unread_rows() -> None:
    full = json.loads(LARGE)
    rows = full["data"]["alertContext"]["SearchResults"]["tables"][0]["rows"]
    # the same rows bytes three times: a key before the results, then two tables
    copied = {**full, "data": {**full["data"], "alertContext": {"Copy": {"rows": rows[:700]}, **full["data"]["alertContext"]}}}
    table = copied["data"]["alertContext"]["SearchResults"]["tables"][0]
    copied["data"]["alertContext"]["SearchResults"]["tables"] = [{**table, "rows": rows[:700]}, {**table, "rows": rows[:700]}]
    bodies = [LARGE, _INF, json.dumps(copied).encode(), *(_generated(seed) for seed in range(12))]
    taken = 0
    for raw in bodies:
        lean, whole = _lean(raw), json.loads(raw)
        if lean is not None:
            taken += 1
            assert _but_rows(lean.body, whole) == _but_rows(whole, whole)
            assert lean.indicators == extract_indicators(whole["data"]["alertContext"])
    assert taken >= 5


@pytest.mark.parametrize("limit", [0, 640, 4300])
@pytest.mark.parametrize("run", [1, 7, 80, 639, 640, 641, 4300, 4301, 9000])
def test_a_digit_run_past_the_integer_limit_is_found_wherever_it_is(limit: int, run: int) -> None:
    saved = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(limit)
    try:
        for at in (1, 17, 537, 4096, 20_000 - run - 1):
            raw = b"[" + b"x" * (at - 1) + b"7" * run + b"x" * (20_000 - at - run - 1) + b"]"
            found = large._long_digit_run(raw, [0], [("SearchResults", 0, raw)])
            assert found == (limit != 0 and run > limit), (at, run)
    finally:
        sys.set_int_max_str_digits(saved)


@pytest.mark.parametrize("stop", [0, 1, 100, 161, 162, 163, 700, 900, 2529, 2530, 5000])
def test_the_bench_rows_iterate_in_slices_as_the_whole_array_decodes(stop: int) -> None:
    """The 256 KB alert's 2,530 rows: slices of 16 KB, 64 KB, then the rest (~162, ~650, the rest of the rows)."""
    rows = json.loads(LARGE)["data"]["alertContext"]["SearchResults"]["tables"][0]["rows"]
    raw = json.dumps(rows).encode()
    assert list(itertools.islice(large._Rows(raw, 0, len(raw)), stop)) == rows[:stop]


def test_both_result_keys_in_either_order_take_the_path() -> None:
    full = json.loads(LARGE)
    context = full["data"]["alertContext"]
    rows = context["SearchResults"]["tables"][0]["rows"]
    table = context.pop("SearchResults")["tables"][0]
    context["SearchResult"] = {"tables": [{**table, "rows": rows[:1000]}]}  # first in the document
    context["SearchResults"] = {"tables": [{**table, "rows": rows[1000:2000]}]}
    raw = json.dumps(full).encode()
    with _rows_read() as counts:
        lean = _lean(raw)
    # SearchResults is read first (its 101 first rows pass the cap), then SearchResult's until its first row
    assert lean is not None and counts == [MAX_INDICATORS + 1, 1]
    assert lean.indicators == extract_indicators(context)
    fast, whole = _both(raw)
    assert fast == whole
