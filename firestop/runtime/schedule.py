"""Timer-trigger schedules as Azure Functions reads them: NCRONTAB or a TimeSpan.

* **NCRONTAB**, six fields ``{second} {minute} {hour} {day} {month}
  {day-of-week}`` (https://learn.microsoft.com/azure/azure-functions/functions-bindings-timer#ncrontab-expressions).
  Each field: ``*``, a value, a range ``a-b``, a list ``a,b,c``, a step
  ``*/n`` / ``a-b/n`` / ``a/n``; months ``JAN``–``DEC`` and days ``SUN``–``SAT``
  by name (case-insensitive); day-of-week ``0``–``6`` (Sunday = 0; ``7`` is
  Sunday too). Like the NCrontab library the Functions host uses, a time
  matches only if **every** field matches (day-of-month *and* day-of-week).
  Times are evaluated in UTC (``WEBSITE_TIME_ZONE`` is not supported).
* **TimeSpan** ``hh:mm:ss`` or ``d.hh:mm:ss``: every that long, counted from
  the previous occurrence (the first one a period after the host starts).

:func:`parse_schedule` raises ValueError naming the field and the fix.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

_MONTHS = {m: i for i, m in enumerate(
    ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"], start=1)}
_DAYS = {d: i for i, d in enumerate(["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"])}
_FIELDS = [  # name, low, high, names
    ("second", 0, 59, {}),
    ("minute", 0, 59, {}),
    ("hour", 0, 23, {}),
    ("day", 1, 31, {}),
    ("month", 1, 12, _MONTHS),
    ("day-of-week", 0, 7, _DAYS),
]
_TIMESPAN = re.compile(r"^(?:(?P<d>\d+)\.)?(?P<h>\d{1,2}):(?P<m>\d{2}):(?P<s>\d{2})$")
#: Give up looking for a next occurrence after this many years (e.g. "0 0 0 31 2 *").
_HORIZON_YEARS = 8


class Schedule:
    """A parsed schedule. :meth:`next_after` gives the next occurrence."""

    expression: str

    def next_after(self, when: datetime) -> datetime | None:
        """First occurrence strictly after ``when`` (aware UTC), or None if there is none."""
        raise NotImplementedError


@dataclass(frozen=True)
class CronSchedule(Schedule):
    expression: str
    seconds: frozenset[int]
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 = Sunday

    def next_after(self, when: datetime) -> datetime | None:
        if when.tzinfo is None:
            raise ValueError("next_after needs an aware (UTC) datetime")
        t = when.astimezone(timezone.utc).replace(microsecond=0) + timedelta(seconds=1)
        limit = t.replace(year=min(t.year + _HORIZON_YEARS, 9999))
        while t < limit:
            if t.month not in self.months:
                year, month = (t.year + 1, 1) if t.month == 12 else (t.year, t.month + 1)
                t = t.replace(year=year, month=month, day=1, hour=0, minute=0, second=0)
                continue
            if t.day not in self.days or (t.isoweekday() % 7) not in self.weekdays:
                t = (t + timedelta(days=1)).replace(hour=0, minute=0, second=0)
                continue
            if t.hour not in self.hours:
                t = (t + timedelta(hours=1)).replace(minute=0, second=0)
                continue
            if t.minute not in self.minutes:
                t = (t + timedelta(minutes=1)).replace(second=0)
                continue
            if t.second not in self.seconds:
                t += timedelta(seconds=1)
                continue
            return t
        return None


@dataclass(frozen=True)
class IntervalSchedule(Schedule):
    expression: str
    period: timedelta

    def next_after(self, when: datetime) -> datetime | None:
        if when.tzinfo is None:
            raise ValueError("next_after needs an aware (UTC) datetime")
        return when.astimezone(timezone.utc) + self.period


def parse_schedule(expression: str) -> Schedule:
    """Parse an NCRONTAB (six fields) or TimeSpan schedule. Raises ValueError."""
    text = (expression or "").strip()
    if "%" in text:
        raise ValueError(f"schedule {expression!r}: app-setting references (%NAME%) are not resolved locally; "
                         "write the expression itself")
    span = _TIMESPAN.match(text)
    if span:
        period = timedelta(days=int(span["d"] or 0), hours=int(span["h"]), minutes=int(span["m"]),
                           seconds=int(span["s"]))
        if period <= timedelta(0):
            raise ValueError(f"schedule {expression!r}: a TimeSpan schedule must be longer than zero")
        return IntervalSchedule(text, period)
    parts = text.split()
    if len(parts) != 6:
        raise ValueError(f"schedule {expression!r}: NCRONTAB needs six fields "
                         "({second} {minute} {hour} {day} {month} {day-of-week}), "
                         f"got {len(parts)}; e.g. '0 */5 * * * *' for every five minutes")
    sets = [_parse_field(part, *spec) for part, spec in zip(parts, _FIELDS)]
    weekdays = frozenset(d % 7 for d in sets[5])
    return CronSchedule(text, sets[0], sets[1], sets[2], sets[3], sets[4], weekdays)


def _parse_field(text: str, name: str, low: int, high: int, names: dict[str, int]) -> frozenset[int]:
    values: set[int] = set()
    for item in text.split(","):
        if not item:
            raise ValueError(f"{name} field {text!r}: empty list item")
        base, _, step_text = item.partition("/")
        step = 1
        if step_text:
            if not step_text.isdigit() or int(step_text) == 0:
                raise ValueError(f"{name} field {text!r}: the step after '/' must be a positive number")
            step = int(step_text)
        if base == "*":
            start, end = low, high if name != "day-of-week" else 6
        elif "-" in base:
            a, _, b = base.partition("-")
            start, end = _value(a, name, low, high, names), _value(b, name, low, high, names)
            if start > end:
                raise ValueError(f"{name} field {text!r}: range {base} runs backwards")
        else:
            start = _value(base, name, low, high, names)
            end = high if step_text else start
        values.update(range(start, end + 1, step))
    return frozenset(values)


def _value(text: str, name: str, low: int, high: int, names: dict[str, int]) -> int:
    key = text.strip().upper()
    if key in names:
        return names[key]
    if not key.isdigit():
        known = f" or a name ({', '.join(names)})" if names else ""
        raise ValueError(f"{name} field: {text!r} is not a number{known}")
    value = int(key)
    if not low <= value <= high:
        raise ValueError(f"{name} field: {value} is outside {low}-{high}")
    return value
