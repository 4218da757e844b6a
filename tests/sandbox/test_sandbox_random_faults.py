"""Seeded random faults: reproducible, rate-bounded, logged, and absorbed or surfaced by the real SDK."""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError
from azure.core.rest import HttpRequest
from azure.mgmt.cognitiveservices import CognitiveServicesManagementClient

from firestop.sandbox import Tenant

from .conftest import ACCOUNT, ACCOUNT_ID, RG, SUB

URL = f"https://management.azure.com{ACCOUNT_ID}?api-version=2024-10-01"


def _raw_statuses(tenant: Tenant, n: int) -> list[int]:
    """n GETs through an azure-core pipeline without retries, so every drawn fault is visible."""
    cs = CognitiveServicesManagementClient(tenant.credential, SUB, transport=tenant.transport, retry_total=0)
    return [cs._client.send_request(HttpRequest("GET", URL)).status_code for _ in range(n)]


def test_same_seed_same_faults_different_seed_different_faults():
    runs = []
    for seed in (7, 7, 8):
        tenant = Tenant.load()
        tenant.inject_random_faults(rate=0.3, seed=seed, statuses=(429, 500, 503))
        runs.append(_raw_statuses(tenant, 60))
    assert runs[0] == runs[1]
    assert runs[0] != runs[2]
    assert set(runs[0]) <= {200, 429, 500, 503} and {429, 500, 503} <= set(runs[0])


def test_rate_is_respected_and_every_fault_is_logged():
    tenant = Tenant.load()
    tenant.inject_random_faults(rate=0.1, seed=7)
    statuses = _raw_statuses(tenant, 400)
    faulted = [s for s in statuses if s != 200]
    assert 20 <= len(faulted) <= 60  # 10 % of 400, deterministic for seed 7 (binomial sd = 6)
    assert len(tenant.faults) == len(faulted)
    assert all(f.source == "random" and f.operation == "accounts.get" for f in tenant.faults)
    assert [f.status for f in tenant.faults] == faulted


def test_only_the_named_operations_are_affected(tenant, cs):
    tenant.inject_random_faults(rate=1.0, seed=1, statuses=(409,), operations=["accounts.listKeys"])
    assert cs.accounts.get(RG, ACCOUNT).name == ACCOUNT
    with pytest.raises(HttpResponseError) as err:
        cs.accounts.list_keys(RG, ACCOUNT)
    assert err.value.status_code == 409  # azure-core does not retry 409


def test_sdk_retries_absorb_transient_random_faults(tenant, cs):
    tenant.inject_random_faults(rate=0.25, seed=3, statuses=(500, 503), retry_after=1)
    for _ in range(20):
        assert cs.accounts.get(RG, ACCOUNT).name == ACCOUNT  # RetryPolicy retries 500/503 on GET
    assert 0 < len(tenant.faults) < len(tenant.requests)
    assert len(tenant.requests) == 20 + len(tenant.faults)


def test_scripted_faults_win_and_rate_zero_switches_random_off(tenant):
    tenant.inject_random_faults(rate=1.0, seed=1, statuses=(503,))
    tenant.inject_fault("accounts.get", 429)  # scripted: the first call
    assert _raw_statuses(tenant, 2) == [429, 503]
    assert [f.source for f in tenant.faults] == ["scripted", "random"]
    tenant.inject_random_faults(rate=0)
    assert _raw_statuses(tenant, 3) == [200, 200, 200]


def test_clear_faults_drops_every_pending_rule(tenant):
    tenant.inject_fault("accounts.get", 500, times=5)
    tenant.inject_lro_fault("accounts.update", outcome="Failed")
    tenant.inject_random_faults(rate=1.0, seed=1)
    tenant.clear_faults()
    assert _raw_statuses(tenant, 3) == [200, 200, 200]
    assert tenant.faults == []


def test_random_faults_persist_and_keep_their_sequence(tmp_path):
    reference = Tenant.load()
    reference.inject_random_faults(rate=0.5, seed=11)
    expected = _raw_statuses(reference, 10)

    persisted = Tenant.open(tmp_path)
    persisted.inject_random_faults(rate=0.5, seed=11)
    got = _raw_statuses(persisted, 5) + _raw_statuses(Tenant.open(tmp_path), 5)
    assert got == expected


def test_inject_random_faults_validates_its_arguments(tenant):
    with pytest.raises(ValueError):
        tenant.inject_random_faults(rate=1.5)
    with pytest.raises(ValueError):
        tenant.inject_random_faults(rate=0.1, statuses=(200,))
    with pytest.raises(ValueError):
        tenant.inject_random_faults(rate=0.1, statuses=())
    with pytest.raises(ValueError):
        tenant.inject_random_faults(rate=0.1, operations=["accounts.nope"])
