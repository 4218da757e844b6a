"""The one-IP-column fast path of the indicator scan keeps exactly what the general row loop keeps."""

from __future__ import annotations

import random

from firestop.alerts.indicators import MAX_INDICATORS, _Collector, extract_indicators


def _general(rows, index):
    found = _Collector()
    for row in rows:
        if isinstance(row, list) and index < len(row):
            found.ip(row[index])
        if len(found.ips) > MAX_INDICATORS:
            break
    return found.result()


class Row(list):
    pass


def _cell(rng: random.Random):
    n = rng.randrange(60)
    return rng.choice([
        f"203.0.{n}.{rng.randrange(256)}", f"10.0.0.{n}", f"010.0.0.{n}", f"10.0.0.{n}:443", f" 10.0.0.{n} ",
        f"10.0.0.{n},10.0.1.{n}", f"2001:DB8::{n:x}", f"[2001:db8::{n:x}]:443", "10.0.0.***", "", None, n,
        f"fe80::{n}%eth0", "not an ip", "256.1.1.1",
    ])


def test_fast_path_equals_the_general_loop() -> None:
    rng = random.Random(18)
    for trial in range(300):
        rows = []
        for _ in range(rng.randrange(0, 400)):
            kind = rng.random()
            if kind < 0.9:
                rows.append([f"t{trial}", _cell(rng)])
            elif kind < 0.95:
                rows.append(["short"])
            elif kind < 0.98:
                rows.append(Row(["sub", _cell(rng)]))
            else:
                rows.append({"not": "a row"})
        context = {"SearchResults": {"tables": [{"columns": [{"name": "Id"}, {"name": "CallerIPAddress"}], "rows": rows}]}}
        assert extract_indicators(context) == _general(rows, 1), trial
