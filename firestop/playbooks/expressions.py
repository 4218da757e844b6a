"""A small, safe expression language for playbooks (no ``eval``).

Used in a step's ``when`` and ``approval.condition`` (a whole expression) and
in ``with`` values (``"${{ expr }}"`` alone gives the value with its type;
embedded in a longer string it is interpolated as text).

Grammar::

    expr    := or
    or      := and ("or" and)*
    and     := not ("and" not)*
    not     := "not" not | compare
    compare := operand (("==" | "!=" | "<" | "<=" | ">" | ">=" | "in" | "not in") operand)?
    operand := literal | path | "(" expr ")" | "[" [expr ("," expr)*] "]"
    path    := NAME ("." (NAME | INTEGER))*      e.g. alert.severity, steps.rotate-keys.after.key2
    literal := number | 'text' | "text" | true | false | null

Path roots are what the orchestrator puts in scope: ``alert`` (the normalised
alert), ``target`` (the step's target: ``id``, ``tags``, the facts :mod:`firestop.analysis` read — ``production``: Firestop's own decision, RT20-09), ``steps`` (earlier
steps: ``ok``, ``changed``, ``before``, ``after``, ``artifacts``, ``verified`` — a step read by a later
one is verified as soon as its group ends, so an escalation can depend on it),
``incident`` (``id``, ``severity``). Names may contain ``-`` (step ids).

A path that does not resolve yields :data:`MISSING`; ``== null`` / ``!= null``
test for it (true / false), any other comparison involving it yields ``None`` ("unknown"), ``not None`` is ``None``, and ``and``/``or``
follow three-valued logic. Callers decide what unknown means (an approval
``required_if`` treats unknown as required: fail closed).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from msgspec import Struct

from firestop.lazy_re import LazyPattern

TEMPLATE = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


class ExpressionError(ValueError):
    """The expression text is not valid; the message says where and what was expected."""


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING: Any = _Missing()

#: compiled on first use (firestop.lazy_re): a playbook without conditions never parses one on alert handle
_TOKEN = LazyPattern(r"""
    (?P<ws>\s+)
  | (?P<number>-?\d+(?:\.\d+)?)
  | (?P<string>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
  | (?P<op>==|!=|<=|>=|<|>|\(|\)|\[|\]|,|\.)
  | (?P<name>[A-Za-z_][A-Za-z0-9_-]*)
    """, re.VERBOSE, globals())
KEYWORDS = {"and", "or", "not", "in", "true", "false", "null"}


class Token(Struct, frozen=True):
    kind: str
    text: str
    pos: int


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m:
            raise ExpressionError(f"unexpected character {text[pos]!r} at position {pos} in {text!r}")
        kind = m.lastgroup or ""
        if kind != "ws":
            tokens.append(Token(kind, m.group(), pos))
        pos = m.end()
    return tokens


# AST nodes are tuples: ("lit", v) ("path", (parts...)) ("list", (nodes...)) ("not", n) ("and"/"or", a, b) ("cmp", op, a, b)


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0

    def peek(self) -> Token | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self, text: str | None = None) -> Token:
        tok = self.peek()
        if tok is None or (text is not None and tok.text != text):
            where = f"at position {tok.pos}" if tok else "at the end"
            raise ExpressionError(f"expected {text or 'a value'} {where} in {self.text!r}")
        self.i += 1
        return tok

    def at(self, text: str) -> bool:
        tok = self.peek()
        return tok is not None and tok.text == text and tok.kind in ("op", "name")

    def parse(self) -> tuple:
        if not self.tokens:
            raise ExpressionError("empty expression")
        node = self.expr()
        tok = self.peek()
        if tok is not None:
            raise ExpressionError(f"unexpected {tok.text!r} at position {tok.pos} in {self.text!r}")
        return node

    def expr(self) -> tuple:
        node = self.and_()
        while self.at("or"):
            self.take()
            node = ("or", node, self.and_())
        return node

    def and_(self) -> tuple:
        node = self.not_()
        while self.at("and"):
            self.take()
            node = ("and", node, self.not_())
        return node

    def not_(self) -> tuple:
        if self.at("not"):
            self.take()
            return ("not", self.not_())
        return self.compare()

    def compare(self) -> tuple:
        left = self.operand()
        tok = self.peek()
        if tok is None:
            return left
        if tok.text in ("==", "!=", "<", "<=", ">", ">=", "in"):
            self.take()
            return ("cmp", tok.text, left, self.operand())
        if tok.text == "not" and self.i + 1 < len(self.tokens) and self.tokens[self.i + 1].text == "in":
            self.take()
            self.take()
            return ("cmp", "not in", left, self.operand())
        return left

    def operand(self) -> tuple:
        tok = self.take()
        if tok.kind == "number":
            return ("lit", float(tok.text) if "." in tok.text else int(tok.text))
        if tok.kind == "string":
            body = tok.text[1:-1]
            return ("lit", re.sub(r"\\(.)", r"\1", body))
        if tok.text == "(":
            node = self.expr()
            self.take(")")
            return node
        if tok.text == "[":
            items = []
            if not self.at("]"):
                items.append(self.expr())
                while self.at(","):
                    self.take()
                    items.append(self.expr())
            self.take("]")
            return ("list", tuple(items))
        if tok.kind == "name":
            if tok.text in ("true", "false", "null"):
                return ("lit", {"true": True, "false": False, "null": None}[tok.text])
            if tok.text in KEYWORDS:
                raise ExpressionError(f"unexpected {tok.text!r} at position {tok.pos} in {self.text!r}")
            parts: list[str | int] = [tok.text]
            while self.at("."):
                self.take()
                nxt = self.take()
                if nxt.kind == "name":
                    parts.append(nxt.text)
                elif nxt.kind == "number" and nxt.text.isdigit():
                    parts.append(int(nxt.text))
                else:
                    raise ExpressionError(f"expected a field name after '.' at position {nxt.pos} in {self.text!r}")
            return ("path", tuple(parts))
        raise ExpressionError(f"unexpected {tok.text!r} at position {tok.pos} in {self.text!r}")


@lru_cache(maxsize=1024)
def _parsed(text: str) -> tuple:
    """The AST of ``text`` (immutable tuples: safe to share). A playbook's expressions are parsed when it is
    validated, again for its steps' references and again each time the orchestrator evaluates them (every
    replay): the same few dozen texts, parsed once per process. Errors are not cached (raised each time)."""
    return _Parser(text).parse()


def parse_expression(text: str, *, roots: frozenset[str] | None = None) -> tuple:
    """Parse ``text``; with ``roots``, every path must start with one of them. Raises :class:`ExpressionError`."""
    node = _parsed(text)
    if roots is not None:
        for path in _paths(node):
            if path[0] not in roots:
                raise ExpressionError(f"unknown name {path[0]!r} in {text!r}; use one of: {', '.join(sorted(roots))}")
    return node


def _paths(node: tuple):
    kind = node[0]
    if kind == "path":
        yield node[1]
    elif kind == "list":
        for item in node[1]:
            yield from _paths(item)
    elif kind == "not":
        yield from _paths(node[1])
    elif kind in ("and", "or"):
        yield from _paths(node[1])
        yield from _paths(node[2])
    elif kind == "cmp":
        yield from _paths(node[2])
        yield from _paths(node[3])


def _resolve(scope: Any, parts: tuple) -> Any:
    value = scope
    for part in parts:
        if isinstance(value, dict):
            value = value.get(part, MISSING) if part in value else value.get(str(part), MISSING)
        elif isinstance(value, (list, tuple)) and isinstance(part, int) and -len(value) <= part < len(value):
            value = value[part]
        else:
            return MISSING
        if value is MISSING:
            return MISSING
    return value


def _compare(op: str, a: Any, b: Any) -> bool | None:
    if op in ("==", "!=") and (a is MISSING or b is MISSING) and (a is None or b is None):
        # "x == null" asks whether x is absent: a missing value is null here (and only here)
        return op == "=="
    if a is MISSING or b is MISSING:
        return None
    try:
        if op == "==":
            return a == b
        if op == "!=":
            return a != b
        if op in ("in", "not in"):
            if isinstance(b, str) and isinstance(a, str):
                found = a in b
            elif isinstance(b, (list, tuple, dict)):
                found = a in b
            else:
                return None
            return found if op == "in" else not found
        if a is None or b is None:
            return None
        return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]
    except TypeError:
        return None


def evaluate(node: tuple, scope: dict[str, Any]) -> Any:
    """Value of a parsed expression in ``scope``; comparisons/logic may give ``None`` (unknown)."""
    kind = node[0]
    if kind == "lit":
        return node[1]
    if kind == "path":
        return _resolve(scope, node[1])
    if kind == "list":
        return [evaluate(n, scope) for n in node[1]]
    if kind == "not":
        value = _truth(evaluate(node[1], scope))
        return None if value is None else not value
    if kind == "and":
        a, b = _truth(evaluate(node[1], scope)), _truth(evaluate(node[2], scope))
        if a is False or b is False:
            return False
        return None if a is None or b is None else True
    if kind == "or":
        a, b = _truth(evaluate(node[1], scope)), _truth(evaluate(node[2], scope))
        if a is True or b is True:
            return True
        return None if a is None or b is None else False
    if kind == "cmp":
        return _compare(node[1], evaluate(node[2], scope), evaluate(node[3], scope))
    raise ExpressionError(f"unknown node {kind}")


def _truth(value: Any) -> bool | None:
    if value is None or value is MISSING:
        return None
    return bool(value)


def condition(text: str, scope: dict[str, Any]) -> bool | None:
    """Evaluate a condition: True, False, or None when it cannot be decided (missing data)."""
    return _truth(evaluate(parse_expression(text), scope))


def templates_in(value: Any) -> list[str]:
    """Every ``${{ expr }}`` expression text inside a (nested) ``with`` value."""
    if isinstance(value, str):
        return TEMPLATE.findall(value)
    if isinstance(value, dict):
        return [t for v in value.values() for t in templates_in(v)]
    if isinstance(value, (list, tuple)):
        return [t for v in value for t in templates_in(v)]
    return []


def render(value: Any, scope: dict[str, Any]) -> Any:
    """Substitute templates in a (nested) ``with`` value.

    ``"${{ expr }}"`` alone becomes the expression's value (None if missing);
    embedded templates are replaced by their text (empty if missing).
    """
    if isinstance(value, str):
        whole = TEMPLATE.fullmatch(value.strip())
        if whole:
            result = evaluate(parse_expression(whole.group(1)), scope)
            return None if result is MISSING else result

        def text(m: re.Match) -> str:
            result = evaluate(parse_expression(m.group(1)), scope)
            return "" if result is MISSING or result is None else str(result)

        return TEMPLATE.sub(text, value)
    if isinstance(value, dict):
        return {k: render(v, scope) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [render(v, scope) for v in value]
    return value
