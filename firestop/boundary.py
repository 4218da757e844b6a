"""Bounds for values that cross the trust boundary: JSON bodies and headers, escaping for logs.

Every reader of an outside JSON document (an HTTP body, a header holding JSON)
goes through :func:`loads_bounded`, which refuses a document larger than
``max_bytes`` (before decoding anything) or nested deeper than ``max_depth``.
It decodes with ``orjson`` (C, no recursion into Python; its own depth limit is
1,024) and measures the depth on the decoded object, iteratively. Whatever orjson
refuses — not UTF-8, not JSON, ``NaN``, nested past its limit — goes through the
original strict path for the answer: the depth measured on the raw text (brackets
outside string literals: a body of 100,000 ``[`` costs one linear scan and never a
``RecursionError``), then the standard library's decoder for the line and column.
So an orjson error never escapes, and every message is what it was. One difference
on success: an integer outside the 64-bit range decodes as the nearest ``float``.
Errors are :class:`BoundaryError`, which carries the HTTP
status to answer (400 or 413) and a message naming the field and the fix — a
caller turns it into a 4xx, never a 500.

Pure; imports nothing from Firestop (usable from every layer).
"""

from __future__ import annotations

import json
import re
from itertools import accumulate
from typing import Any

import orjson

from firestop.lazy_re import LazyPattern

__all__ = ["MAX_BODY_BYTES", "MAX_JSON_DEPTH", "BoundaryError", "instance_id_problem", "json_depth", "loads_bounded"]

#: Default cap on a JSON body Firestop reads (the responders' API; alerts have their own 256 KB cap).
MAX_BODY_BYTES = 1_048_576
#: Default cap on nesting: Common Alert Schema payloads nest about 8 deep, API bodies 3.
MAX_JSON_DEPTH = 64

#: A string literal; an unterminated one (invalid JSON: the parser refuses it afterwards) runs to the end of the text,
#: trailing backslash included, so every match attempt that starts at a ``"`` succeeds and ``sub`` scans the text
#: once. Requiring the closing ``"`` made each ``"`` of an unterminated ``"\\"\\"\\"…`` rescan to the end:
#: quadratic (48 KB ~16 s of CPU, the API's 1 MB hours; red team 8, RT8-01).
_STRING = LazyPattern(r'"[^"\\]*(?:\\.[^"\\]*)*(?:"|\\?\Z)', re.DOTALL, globals())
_BRACKETS = {ord("{"): 1, ord("["): 1, ord("}"): -1, ord("]"): -1}


class BoundaryError(ValueError):
    """An outside value over a bound or unreadable: ``status`` (400/413), ``field``, ``reason``, ``fix``.

    ``str(err)`` is ``"<field>: <reason>. Fix: <fix>"``; :meth:`as_dict` is the JSON error body.
    """

    def __init__(self, status: int, field: str, reason: str, fix: str) -> None:
        self.status, self.field, self.reason, self.fix = int(status), field, reason, fix
        super().__init__(f"{field}: {reason}. Fix: {fix}")

    def as_dict(self) -> dict[str, Any]:
        return {"error": self.field, "reason": self.reason, "fix": self.fix, "status": self.status}


def json_depth(text: str) -> int:
    """Deepest bracket nesting of JSON ``text`` (0 for a scalar), ignoring brackets inside strings.

    Linear in ``len(text)``; never recurses. Text that is not JSON gives some number (the parser
    rejects it afterwards).
    """
    skeleton = _STRING.sub("", text)
    steps = [_BRACKETS[c] for c in skeleton.encode("ascii", "ignore") if c in _BRACKETS]
    return max(accumulate(steps), default=0)


def loads_bounded(raw: bytes | bytearray | str, *, field: str = "$", max_bytes: int = MAX_BODY_BYTES,
                  max_depth: int = MAX_JSON_DEPTH) -> Any:
    """``json.loads(raw)`` within bounds.

    Args:
        raw: UTF-8 bytes (a BOM is tolerated) or text.
        field: what the document is, for messages (``"$"`` = the body, or a header's name).

    Raises:
        BoundaryError: 413 over ``max_bytes``; 400 not UTF-8, nested deeper than ``max_depth``,
            not JSON (line and column given), ``NaN``/``Infinity``, or an integer too long to convert.
    """
    size = len(raw) if isinstance(raw, (bytes, bytearray)) else len(raw.encode("utf-8", "surrogatepass"))
    if size > max_bytes:
        raise BoundaryError(413, field, f"{size:,} bytes is over the {max_bytes:,}-byte limit", "send a smaller document")
    fast = bytes(raw) if isinstance(raw, bytearray) else raw
    if isinstance(fast, bytes) and fast.startswith(b"\xef\xbb\xbf"):
        fast = fast[3:]
    try:
        document = orjson.loads(fast)
    except orjson.JSONDecodeError:
        pass  # the strict path below says why, as precisely as it always has
    else:
        if not _deeper_than(document, max_depth):
            return document
    if isinstance(raw, (bytes, bytearray)):
        try:
            text = bytes(raw).decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise BoundaryError(400, field, f"not UTF-8 (invalid byte at offset {exc.start})", "send UTF-8 JSON") from None
    else:
        text = raw
    depth = json_depth(text)
    if depth > max_depth:
        raise BoundaryError(400, field, f"JSON nested {depth} deep, over the limit of {max_depth}", "send a flatter JSON document")
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise BoundaryError(400, field, f"not JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}", "send valid JSON") from None
    except (ValueError, RecursionError) as exc:  # NaN/Infinity, over-long integers; recursion is a backstop
        reason = str(exc) if str(exc).endswith("is not valid JSON") else "not usable JSON (a number too long, or too deep)"
        raise BoundaryError(400, field, reason, "send valid JSON") from None


def _deeper_than(document: Any, limit: int) -> bool:
    """True when ``document`` (decoded JSON) nests containers more than ``limit`` deep (the same count as
    :func:`json_depth`: a scalar is 0, ``[]`` 1). Iterative; stops at the first container past the limit."""
    if not isinstance(document, (dict, list)):
        return False
    stack = [(document, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        children = node.values() if isinstance(node, dict) else node
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


#: Longest Durable instance id accepted from outside (Firestop's ids are ``inc-`` + 16 hex, ``-N`` on reruns).
MAX_INSTANCE_ID = 100
_INSTANCE_ID_BAD = LazyPattern(r"[\x00-\x1f\x7f/\\#?%]", 0, globals())


def instance_id_problem(value: str) -> str | None:
    """Why ``value`` cannot name a Durable orchestration instance (None: it can).

    Durable Functions instance ids may not contain ``/``, ``\\``, ``#``, ``?`` or control characters
    (they are Azure Storage table keys, https://learn.microsoft.com/rest/api/storageservices/understanding-the-table-service-data-model),
    and ``.``/``..`` would be normalised away in the management URL the SDK builds
    (``…/instances/.`` is the list-all URL). ``%`` is refused too (RT9-02): the durable-functions SDK puts the id into
    that URL unescaped, so ``inc-…7%34`` reaches the instance ``inc-…74`` while the records store and the ledger look
    the alias up by its own name (no Firestop id holds a ``%``). Empty or over :data:`MAX_INSTANCE_ID` characters is
    refused too.
    """
    if not value or not value.strip():
        return "the incident id is empty"
    if len(value) > MAX_INSTANCE_ID:
        return f"the incident id is {len(value)} characters, over {MAX_INSTANCE_ID}"
    if value in (".", "..") or _INSTANCE_ID_BAD.search(value):
        return f"{value[:40]!r} is not an incident id (no '.'/'..', '/', '\\\\', '#', '?', '%' or control characters)"
    return None
