"""R12-05 (low, sandbox): ``exact_loads`` read a 19-digit integer below -2**63 as a float.

suite28's guard sends a text to the standard library when it holds a run of 20 digits (orjson reads past 64 bits as a
float), but a negative integer leaves orjson's i64 at 19 digits: ``-9999999999999999999`` came back as ``-1e+19``
where ``json.loads`` keeps it exact — not "the same value" its docstring promises. Fixed: the guard is 19 digits.
"""

from __future__ import annotations

import json

from firestop.sandbox.core.store import exact_loads


def test_a_19_digit_negative_integer_reads_exact():
    for raw in (b"-9999999999999999999", b'{"n":-9223372036854775809}', b"[9999999999999999999]"):
        got, want = exact_loads(raw), json.loads(raw)
        assert got == want and repr(got) == repr(want), raw
