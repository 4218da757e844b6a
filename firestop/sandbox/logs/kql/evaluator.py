"""Evaluate a parsed sandbox-KQL query over in-memory tables.

Tables: ``{"columns": [{"name", "type"}], "rows": [[...]]}`` with KQL column
types ``string | long | int | real | bool | datetime | timespan | guid | dynamic``
(datetime cells are ISO-8601 text). Expressions are compiled once against the
schema (unknown columns/functions and type mismatches -> :class:`KqlSemanticError`,
as KQL checks types before running), then applied row by row.

Semantics follow the Kusto docs for the subset: ``==``/``!=``/``in`` are case
sensitive, ``=~``/``!~``/``in~``/``has``/``contains``/``startswith`` are not;
``has`` matches whole terms (runs of letters/digits); ``between`` is inclusive;
comparisons with null are false; ``order by`` defaults to descending with nulls
last (ascending: nulls first); ``summarize`` names ``count()`` ``count_`` and
``min(X)`` ``min_X``; ``bin(TimeGenerated, 5m)`` keeps the column name.
Comparing a string with a number is a semantic error, as in KQL (use ``toint()``).

Functions: ago, now, datetime, bin, floor, toint, tolong, toreal, todouble,
parse_json/todynamic (a ``dynamic`` value; ``.name`` reads a property, null when absent), tostring, tolower, toupper, strlen, isempty, isnotempty, isnull, isnotnull, not.
Aggregates: count, countif, dcount, min, max, sum, avg.
"""

from __future__ import annotations

import json
import math
import re
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Optional

from msgspec import Struct

from ...core.clock import format_utc, parse_utc
from .errors import KqlSemanticError
from .parser import Between, Binary, Call, Column, CountRows, Distinct, Extend, InList, Literal, Member, Negate, Project, Query, Sort, Summarize, Take, Where

NUMERIC = {"long", "int", "real"}
STRINGISH = {"string", "guid"}

Row = dict
Fn = Callable[[Row], Any]


class Compiled(Struct):
    fn: Fn
    type: str


class Result(Struct):
    """Output table: ``columns`` = [(name, type)], ``rows`` = list of value lists (Python values)."""

    columns: list
    rows: list

    def to_json(self) -> dict:
        """The query API's table JSON (datetimes as ISO UTC text, timespans as ``[d.]hh:mm:ss[.fffffff]``)."""
        types = [t for _, t in self.columns]
        return {
            "name": "PrimaryResult",
            "columns": [{"name": n, "type": t} for n, t in self.columns],
            "rows": [[_encode(v, t) for v, t in zip(row, types)] for row in self.rows],
        }


def _encode(value: Any, type_: str) -> Any:
    if value is None:
        return None
    if type_ == "datetime":
        return format_utc(value)
    if type_ == "timespan":
        return _format_timespan(value)
    return value


def _format_timespan(seconds: float) -> str:
    sign = "-" if seconds < 0 else ""
    total = abs(seconds)
    days, rem = divmod(total, 86400)
    hours, rem = divmod(rem, 3600)
    minutes, secs = divmod(rem, 60)
    whole = int(secs)
    frac = round((secs - whole) * 10_000_000)
    text = f"{int(hours):02d}:{int(minutes):02d}:{whole:02d}"
    if frac:
        text += f".{frac:07d}"
    return f"{sign}{int(days)}.{text}" if days else sign + text


def _to_datetime(value: Any) -> Optional[datetime]:
    if value is None or isinstance(value, datetime):
        return value
    return parse_utc(str(value))


class Evaluator:
    """Runs one query. ``now`` is the (virtual) time ``ago()``/``now()`` use."""

    def __init__(self, tables: dict, now: datetime, time_range: Optional[tuple[datetime, datetime]] = None) -> None:
        self.tables = tables
        self.now = now
        self.time_range = time_range

    # ------------------------------------------------------------------ tabular
    def run(self, query: Query) -> Result:
        table = self.tables.get(query.table)
        if table is None:
            raise KqlSemanticError(f"Failed to resolve table or column expression named '{query.table}'", query.table_pos, query.table)
        columns = [(c["name"], c["type"]) for c in table["columns"]]
        names = [n for n, _ in columns]
        rows = []
        for raw in table["rows"]:
            row = {}
            for (name, type_), value in zip(columns, raw):
                row[name] = _to_datetime(value) if type_ == "datetime" else value
            rows.append(row)
        if self.time_range is not None and "TimeGenerated" in names:
            start, end = self.time_range
            rows = [r for r in rows if r["TimeGenerated"] is not None and start <= r["TimeGenerated"] < end]
        for op in query.operators:
            columns, rows = self.apply(op, columns, rows)
        return Result(columns, [[row.get(n) for n, _ in columns] for row in rows])

    def apply(self, op: Any, columns: list, rows: list) -> tuple[list, list]:
        schema = dict(columns)
        if isinstance(op, Where):
            pred = self.compile(op.predicate, schema, "where")
            if pred.type != "bool":
                raise KqlSemanticError(f"'where' operator: the predicate must be a boolean expression (got {pred.type})")
            return columns, [r for r in rows if pred.fn(r) is True]
        if isinstance(op, (Project, Extend)):
            label = "project" if isinstance(op, Project) else "extend"
            compiled = [(name, self.compile(expr, schema, label)) for name, expr in op.columns]
            if isinstance(op, Project):
                new_columns = [(name, c.type) for name, c in compiled]
            else:
                new_columns = [(n, t) for n, t in columns if n not in {name for name, _ in compiled}] + [(name, c.type) for name, c in compiled]
            out = []
            for r in rows:
                values = {name: c.fn(r) for name, c in compiled}
                out.append(values if isinstance(op, Project) else {**r, **values})
            return new_columns, out
        if isinstance(op, Take):
            return columns, rows[: max(0, op.count)]
        if isinstance(op, Sort):
            keys = [(self.compile(expr, schema, "order by"), desc) for expr, desc in op.keys]
            out = list(rows)
            for key, desc in reversed(keys):  # stable multi-key sort
                present = [r for r in out if key.fn(r) is not None]
                missing = [r for r in out if key.fn(r) is None]
                present.sort(key=lambda r: _sort_key(key.fn(r)), reverse=desc)
                out = present + missing if desc else missing + present
            return columns, out
        if isinstance(op, Summarize):
            return self.summarize(op, schema, rows)
        if isinstance(op, CountRows):
            return [("Count", "long")], [{"Count": len(rows)}]
        if isinstance(op, Distinct):
            for name in op.columns:
                if name not in schema:
                    raise KqlSemanticError(f"'distinct' operator: Failed to resolve scalar expression named '{name}'", None, name)
            seen, out = set(), []
            for r in rows:
                key = tuple(_hashable(r[n]) for n in op.columns)
                if key not in seen:
                    seen.add(key)
                    out.append({n: r[n] for n in op.columns})
            return [(n, schema[n]) for n in op.columns], out
        raise KqlSemanticError(f"unsupported operator {type(op).__name__}")

    def summarize(self, op: Summarize, schema: dict, rows: list) -> tuple[list, list]:
        by = []
        for i, (name, expr) in enumerate(op.by):
            compiled = self.compile(expr, schema, "summarize")
            by.append((name or _default_by_name(expr, i), compiled))
        aggs = [self.compile_aggregate(name, call, schema) for name, call in op.aggregates]
        groups: dict[tuple, list] = {}
        for r in rows:
            groups.setdefault(tuple(_hashable(c.fn(r)) for _, c in by), []).append(r)
        if not by and not groups:
            groups[()] = []
        columns = [(name, c.type) for name, c in by] + [(name, type_) for name, type_, _ in aggs]
        out = []
        for key, members in groups.items():
            row = {name: _unhash(k) for (name, _), k in zip(by, key)}
            for name, _, reduce in aggs:
                row[name] = reduce(members)
            out.append(row)
        return columns, out

    def compile_aggregate(self, name: Optional[str], call: Call, schema: dict) -> tuple[str, str, Callable[[list], Any]]:
        fname = call.name
        if fname == "count":
            if call.args:
                raise KqlSemanticError("count() takes no arguments", call.pos, fname)
            return name or "count_", "long", len
        if fname == "countif":
            pred = self._one_arg(call, schema)
            return name or "countif_", "long", lambda rows: sum(1 for r in rows if pred.fn(r) is True)
        if fname in ("dcount", "min", "max", "sum", "avg"):
            arg = self._one_arg(call, schema)
            label = name or f"{fname}_{_expr_name(call.args[0]) or ''}".rstrip("_")
            if fname == "dcount":
                return label, "long", lambda rows: len({_hashable(arg.fn(r)) for r in rows if arg.fn(r) is not None})
            if fname in ("sum", "avg") and arg.type not in NUMERIC:
                raise KqlSemanticError(f"{fname}(): argument must be numeric (got {arg.type})", call.pos, fname)

            def values(rows: list) -> list:
                return [v for v in (arg.fn(r) for r in rows) if v is not None]

            if fname == "min":
                return label, arg.type, lambda rows: min(values(rows), default=None)
            if fname == "max":
                return label, arg.type, lambda rows: max(values(rows), default=None)
            if fname == "sum":
                return label, arg.type, lambda rows: sum(values(rows)) if values(rows) else None
            return label, "real", lambda rows: (sum(values(rows)) / len(values(rows))) if values(rows) else None
        raise KqlSemanticError(f"'summarize' operator: unknown or unsupported aggregation function '{fname}'", call.pos, fname)

    def _one_arg(self, call: Call, schema: dict) -> Compiled:
        if len(call.args) != 1:
            raise KqlSemanticError(f"{call.name}() expects exactly one argument", call.pos, call.name)
        return self.compile(call.args[0], schema, "summarize")

    # ------------------------------------------------------------------ scalar
    def compile(self, node: Any, schema: dict, where: str) -> Compiled:
        if isinstance(node, Literal):
            value = node.value
            return Compiled(lambda r: value, node.type)
        if isinstance(node, Column):
            if node.name not in schema:
                raise KqlSemanticError(f"'{where}' operator: Failed to resolve scalar expression named '{node.name}'", node.pos, node.name)
            name = node.name
            return Compiled(lambda r: r.get(name), schema[name])
        if isinstance(node, Negate):
            inner = self.compile(node.expr, schema, where)
            if inner.type not in NUMERIC | {"timespan"}:
                raise KqlSemanticError(f"unary '-' needs a number or timespan (got {inner.type})", node.pos, "-")
            return Compiled(lambda r: None if inner.fn(r) is None else -inner.fn(r), inner.type)
        if isinstance(node, Binary):
            return self.compile_binary(node, schema, where)
        if isinstance(node, InList):
            left = self.compile(node.expr, schema, where)
            items = [self.compile(i, schema, where) for i in node.items]
            for item in items:
                _check_comparable(left.type, item.type, "in", node.pos)
            fold = node.case_insensitive

            def in_list(r: Row) -> Optional[bool]:
                v = left.fn(r)
                if v is None:
                    return False if not node.negate else True
                candidates = [i.fn(r) for i in items]
                if fold and isinstance(v, str):
                    found = v.lower() in {c.lower() for c in candidates if isinstance(c, str)}
                else:
                    found = v in candidates
                return found != node.negate

            return Compiled(in_list, "bool")
        if isinstance(node, Between):
            value, low, high = (self.compile(x, schema, where) for x in (node.expr, node.low, node.high))
            _check_comparable(value.type, low.type, "between", node.pos)
            _check_comparable(value.type, high.type, "between", node.pos)
            if value.type in STRINGISH | {"bool"}:
                raise KqlSemanticError("between needs numbers, datetimes or timespans", node.pos, "between")

            def between(r: Row) -> bool:
                v, lo, hi = value.fn(r), low.fn(r), high.fn(r)
                if v is None or lo is None or hi is None:
                    return False
                return (lo <= v <= hi) != node.negate

            return Compiled(between, "bool")
        if isinstance(node, Call):
            return self.compile_call(node, schema, where)
        if isinstance(node, Member):
            base = self.compile(node.base, schema, where)
            if base.type != "dynamic":
                raise KqlSemanticError(f"'.{node.name}' needs a dynamic value on its left (got {base.type}); use parse_json()", node.pos, node.name)
            key = node.name
            return Compiled(lambda r: (lambda v: v.get(key) if isinstance(v, dict) else None)(base.fn(r)), "dynamic")
        raise KqlSemanticError(f"unsupported expression {type(node).__name__}")

    def compile_binary(self, node: Binary, schema: dict, where: str) -> Compiled:
        left, right = self.compile(node.left, schema, where), self.compile(node.right, schema, where)
        op = node.op
        if op in ("and", "or"):
            for side in (left, right):
                if side.type != "bool":
                    raise KqlSemanticError(f"'{op}' needs boolean operands (got {side.type})", node.pos, op)
            if op == "and":
                return Compiled(lambda r: bool(left.fn(r)) and bool(right.fn(r)), "bool")
            return Compiled(lambda r: bool(left.fn(r)) or bool(right.fn(r)), "bool")
        if op in ("+", "-", "*", "/", "%"):
            return _arithmetic(op, left, right, node.pos)
        if op in ("==", "!=", "<", "<=", ">", ">="):
            _check_comparable(left.type, right.type, op, node.pos)
            compare = {"==": lambda a, b: a == b, "!=": lambda a, b: a != b, "<": lambda a, b: a < b,
                       "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b}[op]

            def cmp(r: Row) -> bool:
                a, b = left.fn(r), right.fn(r)
                if a is None or b is None:
                    return False
                return compare(a, b)

            return Compiled(cmp, "bool")
        # string operators
        if right.type not in STRINGISH:
            raise KqlSemanticError(f"'{op}' needs a string on its right-hand side (got {right.type})", node.pos, op)
        if left.type not in STRINGISH:
            raise KqlSemanticError(f"'{op}' needs a string on its left-hand side (got {left.type}); use tostring()", node.pos, op)
        negate = op.startswith("!")
        base = op.lstrip("!")
        test = _STRING_TESTS[base]

        def string_op(r: Row) -> bool:
            a, b = left.fn(r), right.fn(r)
            if a is None or b is None:
                return negate
            return test(str(a), str(b)) != negate

        return Compiled(string_op, "bool")

    def compile_call(self, node: Call, schema: dict, where: str) -> Compiled:
        name, args = node.name, [self.compile(a, schema, where) for a in node.args]

        def arity(n: int) -> None:
            if len(args) != n:
                raise KqlSemanticError(f"{name}() expects {n} argument(s), got {len(args)}", node.pos, name)

        if name == "datetime":
            arity(1)
            text = node.args[0].value if isinstance(node.args[0], Literal) else None
            try:
                value = parse_utc(text.replace(" ", "T", 1) if " " in text.strip() else text)
            except (ValueError, AttributeError):
                raise KqlSemanticError(f"Invalid datetime literal '{text}'", node.pos, text) from None
            return Compiled(lambda r: value, "datetime")
        if name == "now":
            arity(0)
            now = self.now
            return Compiled(lambda r: now, "datetime")
        if name == "ago":
            arity(1)
            _require(args[0], {"timespan"}, name, node)
            now, span = self.now, args[0]
            return Compiled(lambda r: None if span.fn(r) is None else now - timedelta(seconds=span.fn(r)), "datetime")
        if name in ("bin", "floor"):
            arity(2)
            value, size = args
            if value.type == "datetime":
                _require(size, {"timespan"}, name, node)

                def bin_dt(r: Row) -> Optional[datetime]:
                    v, s = value.fn(r), size.fn(r)
                    if v is None or not s:
                        return v
                    epoch = v.timestamp()
                    return datetime.fromtimestamp(math.floor(epoch / s) * s, tz=timezone.utc)

                return Compiled(bin_dt, "datetime")
            _require(value, NUMERIC | {"timespan"}, name, node)
            _require(size, NUMERIC | {"timespan"}, name, node)
            return Compiled(lambda r: None if value.fn(r) is None else math.floor(value.fn(r) / size.fn(r)) * size.fn(r), value.type)
        if name in ("toint", "tolong"):
            arity(1)
            return Compiled(lambda r: _to_int(args[0].fn(r)), "long" if name == "tolong" else "int")
        if name in ("toreal", "todouble"):
            arity(1)
            return Compiled(lambda r: _to_real(args[0].fn(r)), "real")
        if name in ("parse_json", "todynamic"):
            arity(1)
            src = args[0]
            if src.type == "dynamic":
                return src
            _require(src, STRINGISH, name, node)
            return Compiled(lambda r: _parse_json(src.fn(r)), "dynamic")
        if name == "tostring":
            arity(1)
            src = args[0]
            return Compiled(lambda r: _to_string(src.fn(r), src.type), "string")
        if name in ("tolower", "toupper"):
            arity(1)
            _require(args[0], STRINGISH, name, node)
            conv = str.lower if name == "tolower" else str.upper
            return Compiled(lambda r: None if args[0].fn(r) is None else conv(args[0].fn(r)), "string")
        if name == "strlen":
            arity(1)
            _require(args[0], STRINGISH, name, node)
            return Compiled(lambda r: None if args[0].fn(r) is None else len(args[0].fn(r)), "long")
        if name in ("isempty", "isnotempty"):
            arity(1)
            empty = lambda v: v is None or v == ""  # noqa: E731
            if name == "isempty":
                return Compiled(lambda r: empty(args[0].fn(r)), "bool")
            return Compiled(lambda r: not empty(args[0].fn(r)), "bool")
        if name in ("isnull", "isnotnull"):
            arity(1)
            if name == "isnull":
                return Compiled(lambda r: args[0].fn(r) is None, "bool")
            return Compiled(lambda r: args[0].fn(r) is not None, "bool")
        if name == "not":
            arity(1)
            _require(args[0], {"bool"}, name, node)
            return Compiled(lambda r: not bool(args[0].fn(r)), "bool")
        if name in ("count", "countif", "dcount", "min", "max", "sum", "avg"):
            raise KqlSemanticError(f"'{where}' operator: aggregation function '{name}' is only allowed in summarize", node.pos, name)
        raise KqlSemanticError(
            f"'{where}' operator: Failed to resolve scalar expression named '{name}' (function not in the sandbox KQL subset)",
            node.pos,
            name,
        )


# ---------------------------------------------------------------------- helpers
def _term_regex(needle: str) -> re.Pattern:
    return re.compile(r"(?<![0-9a-z])" + re.escape(needle.lower()) + r"(?![0-9a-z])")


_STRING_TESTS: dict[str, Callable[[str, str], bool]] = {
    "=~": lambda a, b: a.lower() == b.lower(),
    "has": lambda a, b: bool(_term_regex(b).search(a.lower())) if b else True,
    "has_cs": lambda a, b: bool(re.search(r"(?<![0-9A-Za-z])" + re.escape(b) + r"(?![0-9A-Za-z])", a)) if b else True,
    "contains": lambda a, b: b.lower() in a.lower(),
    "contains_cs": lambda a, b: b in a,
    "startswith": lambda a, b: a.lower().startswith(b.lower()),
    "endswith": lambda a, b: a.lower().endswith(b.lower()),
}
_STRING_TESTS["~"] = _STRING_TESTS["=~"]  # '!~' is looked up as '~' and negated


def _family(type_: str) -> str:
    if type_ in NUMERIC:
        return "number"
    if type_ in STRINGISH:
        return "string"
    return type_


def _check_comparable(a: str, b: str, op: str, pos: Optional[int]) -> None:
    if "dynamic" in (a, b):
        return
    if _family(a) != _family(b):
        raise KqlSemanticError(
            f"Cannot compare values of types {a} and {b}. Try adding explicit casts", pos, op
        )


def _require(arg: Compiled, allowed: set, name: str, node: Call) -> None:
    if arg.type not in allowed and arg.type != "dynamic":
        raise KqlSemanticError(f"{name}(): argument has type {arg.type}, expected {' or '.join(sorted(allowed))}", node.pos, name)


def _arithmetic(op: str, left: Compiled, right: Compiled, pos: int) -> Compiled:
    lt, rt = left.type, right.type
    if lt in NUMERIC and rt in NUMERIC:
        out = "real" if "real" in (lt, rt) else "long"
    elif lt == "datetime" and rt == "timespan" and op in "+-":
        out = "datetime"
    elif lt == "datetime" and rt == "datetime" and op == "-":
        out = "timespan"
    elif lt == "timespan" and rt == "timespan" and op in "+-":
        out = "timespan"
    elif lt == "timespan" and rt in NUMERIC and op in "*/":
        out = "timespan"
    else:
        raise KqlSemanticError(f"Operator '{op}' is not defined for {lt} and {rt}", pos, op)

    def apply(r: Row) -> Any:
        a, b = left.fn(r), right.fn(r)
        if a is None or b is None:
            return None
        if out == "datetime":
            return a + timedelta(seconds=b) if op == "+" else a - timedelta(seconds=b)
        if out == "timespan" and lt == "datetime":
            return (a - b).total_seconds()
        if op == "+":
            return a + b
        if op == "-":
            return a - b
        if op == "*":
            return a * b
        if b == 0:
            return None
        if op == "/":
            return a // b if out == "long" else a / b
        return a % b

    return Compiled(apply, out)


def _to_int(value: Any) -> Optional[int]:
    if value is None or isinstance(value, bool):
        return int(value) if isinstance(value, bool) else None
    try:
        return int(float(value)) if isinstance(value, (str, float)) else int(value)
    except (TypeError, ValueError):
        return None


def _to_real(value: Any) -> Optional[float]:
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return None


def _parse_json(value: Any) -> Any:
    """KQL ``parse_json``: the JSON value of a string; a string that is not JSON stays the string; null stays null."""
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def _to_string(value: Any, type_: str) -> str:
    if value is None:
        return ""
    if type_ == "dynamic" and not isinstance(value, str):
        return json.dumps(value, separators=(",", ":"))
    if type_ == "datetime":
        return format_utc(value)
    if type_ == "timespan":
        return _format_timespan(value)
    if type_ == "bool":
        return "true" if value else "false"
    return str(value)


def _sort_key(value: Any) -> Any:
    return value


def _hashable(value: Any) -> Any:
    return value if not isinstance(value, (list, dict)) else repr(value)


def _unhash(value: Any) -> Any:
    return value


def _expr_name(expr: Any) -> Optional[str]:
    if isinstance(expr, Column):
        return expr.name
    if isinstance(expr, Call) and expr.name == "bin" and expr.args and isinstance(expr.args[0], Column):
        return expr.args[0].name
    return None


def _default_by_name(expr: Any, index: int) -> str:
    return _expr_name(expr) or f"Column{index + 1}"
