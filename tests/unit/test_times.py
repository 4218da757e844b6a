"""One way to write time in a scorecard (firestop.times)."""

from __future__ import annotations

from datetime import datetime, timezone

from firestop.times import instant, offset, seconds


def test_durations_offsets_and_instants():
    assert [seconds(v) for v in (0, 21.25, 164, 64.85, None, True, "x")] == ["0.0 s", "21.2 s", "164.0 s", "64.8 s", "—", "—", "—"]
    assert [offset(v) for v in (0, 164, -37.84, None)] == ["+0.0 s", "+164.0 s", "-37.8 s", "—"]
    assert instant("2026-11-29T04:03:21.200000+00:00") == "2026-11-29 04:03:21.2 UTC"
    assert instant("2026-11-29T05:03:00+01:00") == "2026-11-29 04:03:00.0 UTC"
    assert instant("2026-11-29T04:03:21Z") == instant(datetime(2026, 11, 29, 4, 3, 21, tzinfo=timezone.utc)) == "2026-11-29 04:03:21.0 UTC"
    assert instant(None) == "—" and instant("t0") == "t0"
