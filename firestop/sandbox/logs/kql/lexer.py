"""KQL tokenizer for the sandbox subset.

Token kinds: ``IDENT`` (also keywords and negated/case-insensitive operators such
as ``!in``, ``in~``, ``!has``), ``STRING`` ('..', "..", @'..' verbatim),
``NUMBER`` (int or float), ``TIMESPAN`` (``5m``, ``1h``, ``2d``, ``30s``,
``100ms``; value in seconds), ``DATETIME`` (raw text inside ``datetime(...)``),
``OP`` (``| ( ) , = == != =~ !~ < <= > >= .. + - * / % .``; ``.`` is member access on a dynamic value), ``EOF``.
``//`` starts a comment to end of line.
"""

from __future__ import annotations

from typing import Any

from msgspec import Struct

from .errors import KqlSyntaxError

_TIMESPAN_UNITS = {"ms": 0.001, "milliseconds": 0.001, "s": 1.0, "seconds": 1.0, "m": 60.0, "minutes": 60.0,
                   "h": 3600.0, "hours": 3600.0, "d": 86400.0, "days": 86400.0}
_NEGATABLE = ("in~", "in", "has", "contains", "startswith", "endswith", "between", "has_cs", "contains_cs")
_OPS = ("==", "!=", "=~", "!~", "<=", ">=", "..", "|", "(", ")", ",", "=", "<", ">", "+", "-", "*", "/", "%", ".")


class Token(Struct, frozen=True):
    kind: str
    value: Any
    pos: int  # 0-based offset in the query text

    def is_op(self, *values: str) -> bool:
        return self.kind == "OP" and self.value in values

    def is_word(self, *values: str) -> bool:
        return self.kind == "IDENT" and self.value in values


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
            continue
        if text.startswith("//", i):
            while i < n and text[i] != "\n":
                i += 1
            continue
        start = i
        if c == "@" and i + 1 < n and text[i + 1] in "'\"":
            quote, i = text[i + 1], i + 2
            end = text.find(quote, i)
            if end < 0:
                raise KqlSyntaxError("Unterminated string literal", start, text[start:])
            tokens.append(Token("STRING", text[i:end], start))
            i = end + 1
            continue
        if c in "'\"":
            value, i = _read_string(text, i)
            tokens.append(Token("STRING", value, start))
            continue
        if c.isdigit():
            j = i
            while j < n and text[j].isdigit():
                j += 1
            if j + 1 < n and text[j] == "." and text[j + 1].isdigit():
                j += 1
                while j < n and text[j].isdigit():
                    j += 1
            number_text = text[i:j]
            k = j
            while k < n and text[k].isalpha():
                k += 1
            unit = text[j:k]
            if unit:
                if unit not in _TIMESPAN_UNITS:
                    raise KqlSyntaxError(f"Unexpected token '{text[i:k]}'", start, text[i:k])
                tokens.append(Token("TIMESPAN", float(number_text) * _TIMESPAN_UNITS[unit], start))
                i = k
            else:
                value = float(number_text) if "." in number_text else int(number_text)
                tokens.append(Token("NUMBER", value, start))
                i = j
            continue
        if c.isalpha() or c == "_" or (c == "!" and i + 1 < n and text[i + 1].isalpha()):
            j = i + 1
            while j < n and (text[j].isalnum() or text[j] == "_"):
                j += 1
            word = text[i:j]
            if j < n and text[j] == "~" and word.lstrip("!") == "in":
                word, j = word + "~", j + 1
            if word.startswith("!") and word[1:] not in _NEGATABLE:
                raise KqlSyntaxError(f"Unexpected token '{word}'", start, word)
            if word in ("datetime", "timespan") and _next_nonspace(text, j) == "(":
                open_at = text.index("(", j)
                close_at = text.find(")", open_at)
                if close_at < 0:
                    raise KqlSyntaxError(f"Missing ')' after {word}(", start, word)
                raw = text[open_at + 1 : close_at].strip()
                if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "'\"":
                    raw = raw[1:-1]
                tokens.append(Token("DATETIME" if word == "datetime" else "TIMESPAN_TEXT", raw, start))
                i = close_at + 1
                continue
            tokens.append(Token("IDENT", word, start))
            i = j
            continue
        for op in _OPS:
            if text.startswith(op, i):
                tokens.append(Token("OP", op, start))
                i += len(op)
                break
        else:
            raise KqlSyntaxError(f"Unexpected character '{c}'", start, c)
    tokens.append(Token("EOF", None, n))
    return tokens


def _next_nonspace(text: str, i: int) -> str:
    while i < len(text) and text[i].isspace():
        i += 1
    return text[i] if i < len(text) else ""


def _read_string(text: str, i: int) -> tuple[str, int]:
    quote, i, out = text[i], i + 1, []
    escapes = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", "'": "'", '"': '"'}
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text):
            out.append(escapes.get(text[i + 1], text[i + 1]))
            i += 2
            continue
        if c == quote:
            return "".join(out), i + 1
        out.append(c)
        i += 1
    raise KqlSyntaxError("Unterminated string literal", i, None)
