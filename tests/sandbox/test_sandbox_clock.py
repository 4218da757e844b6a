"""VirtualClock contract (firestop.clock.VirtualClockLike) and the transport's sleep."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from firestop.clock import VirtualClockLike, is_virtual
from firestop.sandbox import VirtualClock


def test_satisfies_the_shared_protocol(tenant):
    assert isinstance(tenant.clock, VirtualClockLike) and is_virtual(tenant.clock)


def test_default_tenant_starts_at_the_incident_time(tenant):
    assert tenant.clock.now() == datetime(2026, 11, 29, 3, 14, 40, tzinfo=timezone.utc)
    assert tenant.clock.now().tzinfo is not None


def test_set_advance_sleep():
    clock = VirtualClock(datetime(2026, 1, 1, tzinfo=timezone.utc))
    clock.advance(1.5)
    clock.sleep(0.5)
    assert clock.now() == datetime(2026, 1, 1, 0, 0, 2, tzinfo=timezone.utc)
    clock.set(datetime(2025, 12, 31, 23, 0, tzinfo=timezone(timedelta(hours=-1))))
    assert clock.now() == datetime(2026, 1, 1, 0, 0, tzinfo=timezone.utc)
    assert clock.now().utcoffset() == timedelta(0)


def test_rejects_naive_datetimes_and_negative_advances():
    clock = VirtualClock()
    with pytest.raises(ValueError):
        clock.set(datetime(2026, 1, 1))
    with pytest.raises(ValueError):
        clock.advance(-1)


def test_transport_sleep_moves_the_virtual_clock_without_blocking(tenant, wall):
    start = tenant.clock.now()
    with wall() as w:
        tenant.transport.sleep(3600)
    assert tenant.clock.now() - start == timedelta(hours=1)
    assert w.elapsed < 0.5
