"""Recursive-descent parser for the sandbox KQL subset -> AST (msgspec Structs below).

Grammar (informal)::

    query     := IDENT ( "|" operator )* EOF
    operator  := "where" expr
               | "project" name ["=" expr] ("," ...)*
               | "extend" name "=" expr ("," ...)*
               | ("take" | "limit") NUMBER
               | ("order" | "sort") "by" expr ["asc"|"desc"] ("," ...)*      # default desc, as KQL
               | "top" NUMBER "by" expr ["asc"|"desc"]
               | "summarize" [name "="] agg ("," ...)* ["by" [name "="] expr ("," ...)*]
               | "count" | "distinct" name ("," name)*
    expr      := or;  or := and ("or" and)*;  and := cmp ("and" cmp)*
    cmp       := add [ (== != =~ !~ < <= > >= has !has contains !contains startswith !startswith
                        endswith !endswith has_cs contains_cs) add
                     | ("in" | "!in" | "in~" | "!in~") "(" expr ("," expr)* ")"
                     | ("between" | "!between") "(" add ".." add ")" ]
    add       := mul (("+"|"-") mul)*;  mul := unary (("*"|"/"|"%") unary)*
    unary     := "-" unary | primary
    primary   := STRING | NUMBER | TIMESPAN | DATETIME | "true" | "false"
               | IDENT "(" [expr ("," expr)*] ")" | IDENT | "(" expr ")"
"""

from __future__ import annotations

from typing import Any, Optional

from msgspec import Struct, field

# AST nodes (and the lexer's Token, the evaluator's Compiled/Result) are msgspec Structs, not dataclasses: a frozen
# dataclass execs source for each generated method when its class is made (~3.4 M instructions a class, ~1.8 M
# unfrozen, callgrind), a Struct class is made in C (~0.1 M); every process that opens the sandbox loads these 20.
# The same: fields in order, keyword or positional, __eq__/__repr__, frozen ones hashable, __match_args__.

from .errors import KqlSyntaxError
from .lexer import Token, tokenize

# ---------------------------------------------------------------- AST: expressions


class Literal(Struct, frozen=True):
    value: Any
    type: str  # string | long | real | bool | datetime | timespan


class Column(Struct, frozen=True):
    name: str
    pos: int


class Call(Struct, frozen=True):
    name: str
    args: tuple
    pos: int


class Member(Struct, frozen=True):
    """``base.name`` on a dynamic value (``parse_json(properties_s).modelDeploymentName``)."""

    base: Any
    name: str
    pos: int


class Binary(Struct, frozen=True):
    op: str
    left: Any
    right: Any
    pos: int


class InList(Struct, frozen=True):
    expr: Any
    items: tuple
    negate: bool
    case_insensitive: bool
    pos: int


class Between(Struct, frozen=True):
    expr: Any
    low: Any
    high: Any
    negate: bool
    pos: int


class Negate(Struct, frozen=True):
    expr: Any
    pos: int


# ---------------------------------------------------------------- AST: tabular operators


class Where(Struct):
    predicate: Any


class Project(Struct):
    columns: list  # [(name, expr)]


class Extend(Struct):
    columns: list  # [(name, expr)]


class Take(Struct):
    count: int


class Sort(Struct):
    keys: list  # [(expr, descending)]


class Summarize(Struct):
    aggregates: list  # [(name or None, Call)]
    by: list  # [(name or None, expr)]


class CountRows(Struct):
    pass


class Distinct(Struct):
    columns: list  # [name]


class Query(Struct):
    table: str
    table_pos: int
    operators: list = field(default_factory=list)


COMPARISONS = {
    "==", "!=", "=~", "!~", "<", "<=", ">", ">=",
    "has", "!has", "contains", "!contains", "startswith", "!startswith", "endswith", "!endswith",
    "has_cs", "!has_cs", "contains_cs", "!contains_cs",
}
SUPPORTED_OPERATORS = ("where", "project", "extend", "take", "limit", "order", "sort", "top", "summarize", "count", "distinct")


class Parser:
    def __init__(self, text: str) -> None:
        self.tokens = tokenize(text)
        self.i = 0

    # -- token helpers
    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def advance(self) -> Token:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def expect_op(self, value: str) -> Token:
        if not self.tok.is_op(value):
            self.fail(f"Expected '{value}'")
        return self.advance()

    def expect_word(self, *values: str) -> Token:
        if not self.tok.is_word(*values):
            self.fail(f"Expected {' or '.join(repr(v) for v in values)}")
        return self.advance()

    def expect_ident(self) -> Token:
        if self.tok.kind != "IDENT":
            self.fail("Expected a name")
        return self.advance()

    def fail(self, message: str) -> None:
        tok = self.tok
        shown = "<end of query>" if tok.kind == "EOF" else str(tok.value)
        raise KqlSyntaxError(f"{message}; query could not be parsed at '{shown}'", tok.pos, shown)

    # -- query
    def parse_query(self) -> Query:
        if self.tok.is_word("let") or self.tok.kind != "IDENT":
            self.fail("The sandbox KQL subset expects a query that starts with a table name")
        table = self.advance()
        query = Query(table.value, table.pos)
        while self.tok.is_op("|"):
            self.advance()
            query.operators.append(self.parse_operator())
        if self.tok.kind != "EOF":
            self.fail("Unexpected token")
        return query

    def parse_operator(self) -> Any:
        word = self.expect_ident().value
        if word == "where":
            return Where(self.parse_expr())
        if word in ("project", "extend"):
            columns = [self.parse_assignment(require_name=word == "extend")]
            while self.tok.is_op(","):
                self.advance()
                columns.append(self.parse_assignment(require_name=word == "extend"))
            return Project(columns) if word == "project" else Extend(columns)
        if word in ("take", "limit"):
            if self.tok.kind != "NUMBER" or not isinstance(self.tok.value, int):
                self.fail(f"'{word}' expects an integer row count")
            return Take(self.advance().value)
        if word in ("order", "sort"):
            self.expect_word("by")
            keys = [self.parse_sort_key()]
            while self.tok.is_op(","):
                self.advance()
                keys.append(self.parse_sort_key())
            return Sort(keys)
        if word == "top":
            if self.tok.kind != "NUMBER" or not isinstance(self.tok.value, int):
                self.fail("'top' expects an integer row count")
            count = self.advance().value
            self.expect_word("by")
            return [Sort([self.parse_sort_key()]), Take(count)]
        if word == "summarize":
            aggregates = [self.parse_aggregate()]
            while self.tok.is_op(","):
                self.advance()
                aggregates.append(self.parse_aggregate())
            by = []
            if self.tok.is_word("by"):
                self.advance()
                by.append(self.parse_named_expr())
                while self.tok.is_op(","):
                    self.advance()
                    by.append(self.parse_named_expr())
            return Summarize(aggregates, by)
        if word == "count":
            return CountRows()
        if word == "distinct":
            names = [self.expect_ident().value]
            while self.tok.is_op(","):
                self.advance()
                names.append(self.expect_ident().value)
            return Distinct(names)
        self.i -= 1
        self.fail(f"Operator '{word}' is not supported by the Firestop sandbox KQL subset (supported: {', '.join(SUPPORTED_OPERATORS)})")

    def parse_assignment(self, require_name: bool) -> tuple[str, Any]:
        name_tok = self.expect_ident()
        if self.tok.is_op("="):
            self.advance()
            return name_tok.value, self.parse_expr()
        if require_name:
            self.fail("Expected '=' (extend needs 'name = expression')")
        return name_tok.value, Column(name_tok.value, name_tok.pos)

    def parse_named_expr(self) -> tuple[Optional[str], Any]:
        if self.tok.kind == "IDENT" and self.tokens[self.i + 1].is_op("="):
            name = self.advance().value
            self.advance()
            return name, self.parse_expr()
        return None, self.parse_expr()

    def parse_aggregate(self) -> tuple[Optional[str], Call]:
        name, expr = self.parse_named_expr()
        if not isinstance(expr, Call):
            raise KqlSyntaxError("summarize expects aggregation functions such as count()", getattr(expr, "pos", None), None)
        return name, expr

    def parse_sort_key(self) -> tuple[Any, bool]:
        expr = self.parse_expr()
        descending = True  # KQL's default sort order
        if self.tok.is_word("asc", "desc"):
            descending = self.advance().value == "desc"
        if self.tok.is_word("nulls"):
            self.fail("'nulls first|last' is not supported by the sandbox KQL subset")
        return expr, descending

    # -- expressions
    def parse_expr(self) -> Any:
        left = self.parse_and()
        while self.tok.is_word("or"):
            pos = self.advance().pos
            left = Binary("or", left, self.parse_and(), pos)
        return left

    def parse_and(self) -> Any:
        left = self.parse_comparison()
        while self.tok.is_word("and"):
            pos = self.advance().pos
            left = Binary("and", left, self.parse_comparison(), pos)
        return left

    def parse_comparison(self) -> Any:
        left = self.parse_additive()
        tok = self.tok
        if (tok.kind == "OP" and tok.value in COMPARISONS) or (tok.kind == "IDENT" and tok.value in COMPARISONS):
            self.advance()
            return Binary(tok.value, left, self.parse_additive(), tok.pos)
        if tok.is_word("in", "!in", "in~", "!in~"):
            self.advance()
            self.expect_op("(")
            items = [self.parse_expr()]
            while self.tok.is_op(","):
                self.advance()
                items.append(self.parse_expr())
            self.expect_op(")")
            return InList(left, tuple(items), tok.value.startswith("!"), tok.value.endswith("~"), tok.pos)
        if tok.is_word("between", "!between"):
            self.advance()
            self.expect_op("(")
            low = self.parse_additive()
            self.expect_op("..")
            high = self.parse_additive()
            self.expect_op(")")
            return Between(left, low, high, tok.value.startswith("!"), tok.pos)
        return left

    def parse_additive(self) -> Any:
        left = self.parse_multiplicative()
        while self.tok.is_op("+", "-"):
            tok = self.advance()
            left = Binary(tok.value, left, self.parse_multiplicative(), tok.pos)
        return left

    def parse_multiplicative(self) -> Any:
        left = self.parse_unary()
        while self.tok.is_op("*", "/", "%"):
            tok = self.advance()
            left = Binary(tok.value, left, self.parse_unary(), tok.pos)
        return left

    def parse_unary(self) -> Any:
        if self.tok.is_op("-"):
            pos = self.advance().pos
            return Negate(self.parse_unary(), pos)
        return self.parse_primary()

    def parse_primary(self) -> Any:
        node = self._parse_atom()
        while self.tok.is_op("."):
            dot = self.advance()
            if self.tok.kind != "IDENT":
                self.fail("Expected a property name after '.'")
            node = Member(node, self.advance().value, dot.pos)
        return node

    def _parse_atom(self) -> Any:
        tok = self.tok
        if tok.kind == "STRING":
            self.advance()
            return Literal(tok.value, "string")
        if tok.kind == "NUMBER":
            self.advance()
            return Literal(tok.value, "real" if isinstance(tok.value, float) else "long")
        if tok.kind == "TIMESPAN":
            self.advance()
            return Literal(tok.value, "timespan")
        if tok.kind == "DATETIME":
            self.advance()
            return Call("datetime", (Literal(tok.value, "string"),), tok.pos)
        if tok.kind == "TIMESPAN_TEXT":
            self.fail("timespan(...) literals are not supported by the sandbox KQL subset; use 5m, 1h, 2d")
        if tok.is_op("("):
            self.advance()
            inner = self.parse_expr()
            self.expect_op(")")
            return inner
        if tok.kind == "IDENT":
            self.advance()
            if tok.value in ("true", "false"):
                return Literal(tok.value == "true", "bool")
            if self.tok.is_op("("):
                self.advance()
                args = []
                if not self.tok.is_op(")"):
                    args.append(self.parse_expr())
                    while self.tok.is_op(","):
                        self.advance()
                        args.append(self.parse_expr())
                self.expect_op(")")
                return Call(tok.value, tuple(args), tok.pos)
            return Column(tok.value, tok.pos)
        self.fail("Unexpected token")


def parse(text: str) -> Query:
    """Parse a query; raises :class:`KqlSyntaxError`."""
    if not text or not text.strip():
        raise KqlSyntaxError("The query is empty", 0, None)
    query = Parser(text).parse_query()
    flat = []
    for op in query.operators:
        flat.extend(op if isinstance(op, list) else [op])
    query.operators = flat
    return query
