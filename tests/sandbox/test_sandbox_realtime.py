"""The real-time factor: simulated waits also block seconds x factor of wall time (for live demos)."""

from __future__ import annotations

import time

import pytest

from firestop.sandbox import Tenant

from .conftest import ACCOUNT, RG


class SleepRecorder:
    def __init__(self):
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def test_default_factor_never_blocks(tenant, cs):
    recorder = tenant.wall_sleep = SleepRecorder()
    assert tenant.realtime_factor == 0.0
    tenant.inject_fault("accounts.listKeys", 429, retry_after=7)
    cs.accounts.list_keys(RG, ACCOUNT)
    assert recorder.calls == []


def test_request_latency_and_transport_sleeps_are_scaled(tenant, cs):
    recorder = tenant.wall_sleep = SleepRecorder()
    tenant.realtime_factor = 0.5
    tenant.inject_fault("accounts.listKeys", 429, retry_after=7)
    start = tenant.clock.now()
    cs.accounts.list_keys(RG, ACCOUNT)
    # 429 answer (latency 0.3 s) -> Retry-After 7 s (transport.sleep) -> 200 answer (0.3 s)
    assert recorder.calls == pytest.approx([0.15, 3.5, 0.15])
    assert (tenant.clock.now() - start).total_seconds() == pytest.approx(7.6)  # virtual time unchanged by the factor


def test_lro_polling_is_paced_in_real_time_too(tenant, cs):
    from azure.mgmt.cognitiveservices.models import Account, AccountProperties, NetworkRuleSet

    recorder = tenant.wall_sleep = SleepRecorder()
    tenant.realtime_factor = 0.1
    start = tenant.clock.now()
    cs.accounts.begin_update(RG, ACCOUNT, Account(properties=AccountProperties(network_acls=NetworkRuleSet(default_action="Deny")))).result()
    virtual = (tenant.clock.now() - start).total_seconds()
    assert sum(recorder.calls) == pytest.approx(virtual * 0.1)


def test_a_positive_factor_really_blocks(tenant, cs):
    tenant.realtime_factor = 0.25  # accounts.get latency 0.2 s -> 0.05 s of wall time each
    # a lower bound on plain wall time: load only lengthens it (the wall fixture subtracts the thread's run-queue wait,
    # right for proving nothing slept, but under load 10+ it took 13 ms off four real 50 ms sleeps: 0.187 s)
    start = time.perf_counter()
    for _ in range(4):
        cs.accounts.get(RG, ACCOUNT)
    assert time.perf_counter() - start >= 0.2


def test_factor_is_validated_and_not_taken_from_the_environment(monkeypatch):
    monkeypatch.setenv("FIRESTOP_SANDBOX_REALTIME_FACTOR", "1")  # firestop serve's pacing setting, not the tenant's
    tenant = Tenant.load()
    assert tenant.realtime_factor == 0.0
    for bad in (-1, float("nan"), float("inf")):
        with pytest.raises(ValueError):
            tenant.realtime_factor = bad
    tenant.realtime_factor = 0.5
    assert tenant.realtime_factor == 0.5
