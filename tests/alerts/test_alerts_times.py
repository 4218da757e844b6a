"""``times.isoformat`` / ``times.isoformat_utc`` write what ``datetime.isoformat`` writes (orjson for a plain UTC
datetime, ``isoformat`` itself otherwise): every year 1..9999, with and without microseconds, fold, other zones,
naive values and a subclass; ``isoformat_utc`` refuses a naive datetime as the events' ``_iso`` always did."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from firestop.alerts import times


class _Stamp(datetime):
    """A datetime subclass (orjson refuses it: written by isoformat)."""


def _random_utc(rng: random.Random) -> datetime:
    return datetime(rng.randint(1, 9999), rng.randint(1, 12), rng.randint(1, 28), rng.randint(0, 23),
                    rng.randint(0, 59), rng.randint(0, 59), rng.choice([0, rng.randint(0, 999_999)]),
                    tzinfo=timezone.utc, fold=rng.randint(0, 1))


@pytest.mark.parametrize("seed", range(3))
def test_isoformat_is_datetime_isoformat(seed: int) -> None:
    rng = random.Random(seed)
    zones = [timezone.utc, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-8)),
             timezone(timedelta(0)), ZoneInfo("UTC"), ZoneInfo("Europe/Paris"), None]
    for _ in range(3000):
        when = _random_utc(rng)
        assert times.isoformat(when) == when.isoformat()
        zone = rng.choice(zones)
        other = when.replace(tzinfo=zone, year=max(2, min(when.year, 9998)))
        assert times.isoformat(other) == other.isoformat()
        stamp = _Stamp(*when.timetuple()[:6], when.microsecond, tzinfo=zone)
        assert times.isoformat(stamp) == stamp.isoformat()
    for year in (1, 9, 99, 999, 1000, 2000, 2099, 9999):
        for micro in (0, 1, 999_999):
            when = datetime(year, 1, 2, 3, 4, 5, micro, tzinfo=timezone.utc)
            assert times.isoformat(when) == when.isoformat()


def test_isoformat_utc_is_astimezone_utc_then_isoformat() -> None:
    rng = random.Random(7)
    zones = [timezone.utc, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-8, minutes=-15)),
             ZoneInfo("UTC"), ZoneInfo("America/New_York")]
    for _ in range(3000):
        when = _random_utc(rng).replace(year=rng.randint(2, 9998), tzinfo=rng.choice(zones))
        assert times.isoformat_utc(when) == when.astimezone(timezone.utc).isoformat()
    with pytest.raises(ValueError, match="naive datetime"):
        times.isoformat_utc(datetime(2025, 1, 1))
