"""Line and column of every value of a JSON text, by path — so template errors can name the line.

ARM reports template errors "at line 'L' and column 'C'" of the template as it received it
(https://learn.microsoft.com/azure/azure-resource-manager/troubleshooting/common-deployment-errors,
``InvalidTemplate``). :func:`value_positions` maps each path (a tuple of keys and indexes) to the
1-based (line, column) where its value starts. Raises ValueError for text that is not JSON.
"""

from __future__ import annotations

import json
import re

_WS = re.compile(r"[ \t\r\n]*")
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_decoder = json.JSONDecoder()


def value_positions(text: str) -> dict[tuple, tuple[int, int]]:
    """``{path: (line, column)}`` for every value in ``text`` (``()`` is the document)."""
    line_starts = [0] + [m.end() for m in re.finditer("\n", text)]
    out: dict[tuple, tuple[int, int]] = {}

    def where(offset: int) -> tuple[int, int]:
        lo, hi = 0, len(line_starts) - 1
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if line_starts[mid] <= offset:
                lo = mid
            else:
                hi = mid - 1
        return lo + 1, offset - line_starts[lo] + 1

    def value(pos: int, path: tuple) -> int:
        pos = _WS.match(text, pos).end()
        out[path] = where(pos)
        ch = text[pos : pos + 1]
        if ch == "{":
            pos = _WS.match(text, pos + 1).end()
            if text[pos : pos + 1] == "}":
                return pos + 1
            while True:
                pos = _WS.match(text, pos).end()
                key, pos = _decoder.raw_decode(text, pos)
                pos = _WS.match(text, pos).end()
                if text[pos : pos + 1] != ":":
                    raise ValueError(f"expected ':' at offset {pos}")
                pos = _WS.match(text, value(pos + 1, path + (key,))).end()
                if text[pos : pos + 1] == ",":
                    pos += 1
                    continue
                if text[pos : pos + 1] == "}":
                    return pos + 1
                raise ValueError(f"expected ',' or '}}' at offset {pos}")
        if ch == "[":
            pos = _WS.match(text, pos + 1).end()
            if text[pos : pos + 1] == "]":
                return pos + 1
            i = 0
            while True:
                pos = _WS.match(text, value(pos, path + (i,))).end()
                i += 1
                if text[pos : pos + 1] == ",":
                    pos += 1
                    continue
                if text[pos : pos + 1] == "]":
                    return pos + 1
                raise ValueError(f"expected ',' or ']' at offset {pos}")
        _, end = _decoder.raw_decode(text, pos)
        return end

    value(0, ())
    return out
