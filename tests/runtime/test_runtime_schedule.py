"""Timer-trigger schedules: NCRONTAB (six fields) and TimeSpan."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from firestop.runtime.schedule import parse_schedule

SUNDAY = datetime(2026, 11, 29, 3, 14, 40, tzinfo=timezone.utc)  # a Sunday


def nxt(expression: str, after: datetime = SUNDAY) -> datetime | None:
    return parse_schedule(expression).next_after(after)


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


@pytest.mark.parametrize(("expression", "expected"), [
    ("0 */5 * * * *", at(2026, 11, 29, 3, 15, 0)),
    ("*/10 * * * * *", at(2026, 11, 29, 3, 14, 50)),
    ("40 14 3 * * *", at(2026, 11, 30, 3, 14, 40)),  # strictly after: not the same second
    ("0 30 9 * * MON-FRI", at(2026, 11, 30, 9, 30, 0)),
    ("0 30 9 * * mon-fri", at(2026, 11, 30, 9, 30, 0)),
    ("0 0 12 * * 0", at(2026, 11, 29, 12, 0, 0)),
    ("0 0 12 * * 7", at(2026, 11, 29, 12, 0, 0)),  # 7 is Sunday too
    ("0 0 0 1 JAN *", at(2027, 1, 1, 0, 0, 0)),
    ("0 0 0 29 2 *", at(2028, 2, 29, 0, 0, 0)),
    ("0 0 0 13 * FRI", at(2027, 8, 13, 0, 0, 0)),  # day AND weekday, as NCrontab
    ("0 0,30 8-9 * * *", at(2026, 11, 29, 8, 0, 0)),
    ("0 15/20 * * * *", at(2026, 11, 29, 3, 15, 0)),
    ("0 0 0 31 2 *", None),  # never
    ("00:05:00", SUNDAY + timedelta(minutes=5)),
    ("1.02:00:00", SUNDAY + timedelta(days=1, hours=2)),
])
def test_next_occurrence(expression, expected):
    assert nxt(expression) == expected


@pytest.mark.parametrize(("expression", "words"), [
    ("* * * * *", "six fields"),
    ("0 */0 * * * *", "positive"),
    ("0 61 * * * *", "outside 0-59"),
    ("0 0 0 * FOO *", "not a number"),
    ("0 0 10-2 * * *", "backwards"),
    ("%MY_SCHEDULE%", "app-setting"),
    ("00:00:00", "longer than zero"),
    ("0 0, * * * *", "empty"),
])
def test_bad_schedules_say_what_to_fix(expression, words):
    with pytest.raises(ValueError, match=words):
        parse_schedule(expression)


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="aware"):
        nxt("0 * * * * *", datetime(2026, 1, 1))


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(timezone.utc)),
       st.sampled_from(["0 */5 * * * *", "*/7 * * * * *", "0 0 9 * * MON-FRI", "0 0 0 1 * *", "30 15 */6 * JAN,JUL *"]))
def test_next_is_later_matches_and_nothing_in_between_does(after, expression):
    schedule = parse_schedule(expression)
    found = schedule.next_after(after)
    assert found is not None and found > after and found.microsecond == 0
    assert schedule.next_after(found - timedelta(seconds=1)) == found  # found itself matches
    start = after.replace(microsecond=0)
    if found - start <= timedelta(minutes=10):  # brute force the short gaps: no earlier match was skipped
        probe = start + timedelta(seconds=1)
        while probe < found:
            assert schedule.next_after(probe - timedelta(seconds=1)) != probe
            probe += timedelta(seconds=1)
