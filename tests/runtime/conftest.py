"""Shared fixtures for the local durable host tests."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

T0 = datetime(2024, 5, 24, 12, 0, 0, tzinfo=timezone.utc)


class ManualClock:
    """A virtual clock (has set/advance) for deterministic tests."""

    def __init__(self, start: datetime = T0) -> None:
        self._now = start

    def now(self) -> datetime:
        return self._now

    def set(self, when: datetime) -> None:
        self._now = when

    def advance(self, seconds: float) -> None:
        self._now = self._now + timedelta(seconds=seconds)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def db_path(tmp_path):
    return tmp_path / "durable.db"
