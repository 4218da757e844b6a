"""Injected faults meet azure-core's real RetryPolicy (no mocks, no sleeps)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from azure.core.exceptions import HttpResponseError

from .conftest import ACCOUNT, ACCOUNT_ID, RG


def test_injected_500_on_regenerate_key_is_absorbed_by_the_sdk_retry(tenant, cs, wall):
    old = tenant.account_keys(ACCOUNT_ID)
    issued_before = len(tenant.issued_key_values())
    tenant.inject_fault("accounts.regenerateKey", 500)
    start = tenant.clock.now()

    with wall() as w:
        new = cs.accounts.regenerate_key(RG, ACCOUNT, key_name="Key1")

    calls = [(e.operation, e.status) for e in tenant.requests if e.operation == "accounts.regenerateKey"]
    assert calls == [("accounts.regenerateKey", 500), ("accounts.regenerateKey", 200)]
    assert new.key1 != old["key1"]
    assert len(tenant.issued_key_values()) == issued_before + 1  # the faulted call changed nothing
    [fired] = tenant.faults
    assert (fired.operation, fired.status, fired.kind) == ("accounts.regenerateKey", 500, "InternalServerError")
    # two latencies of 1.5 s; azure-core's first retry has no back-off (RetryPolicy.get_backoff_time)
    assert (tenant.clock.now() - start).total_seconds() == 3.0
    assert w.elapsed < 2.0


def test_429_with_retry_after_is_waited_out_on_the_virtual_clock(tenant, cs, wall):
    tenant.inject_fault("accounts.listKeys", 429, retry_after=7)
    start = tenant.clock.now()
    with wall() as w:
        keys = cs.accounts.list_keys(RG, ACCOUNT)
    assert keys.key1 == tenant.account_keys(ACCOUNT_ID)["key1"]
    statuses = [e.status for e in tenant.requests if e.operation == "accounts.listKeys"]
    assert statuses == [429, 200]
    elapsed = (tenant.clock.now() - start).total_seconds()
    assert 7.0 + 0.6 <= elapsed < 9.0, elapsed  # Retry-After honoured exactly, plus two 0.3 s latencies
    assert w.elapsed < 2.0


def test_nth_and_times_select_which_calls_fail(tenant, cs):
    tenant.inject_fault("accounts.get", 503, nth=2, times=2)
    cs.accounts.get(RG, ACCOUNT)  # call 1: fine
    cs.accounts.get(RG, ACCOUNT)  # calls 2, 3 fail (retried), call 4 succeeds
    assert [e.status for e in tenant.requests] == [200, 503, 503, 200]
    assert len(tenant.faults) == 2


def test_persistent_failures_surface_once_retries_are_exhausted(tenant, cs):
    tenant.inject_fault("accounts.get", 503, times=10)
    start = tenant.clock.now()
    with pytest.raises(HttpResponseError) as err:
        cs.accounts.get(RG, ACCOUNT)
    assert err.value.status_code == 503
    assert err.value.error.code == "ServiceUnavailable"
    assert len([e for e in tenant.requests if e.status == 503]) == 4  # 1 try + azure-core's 3 retries
    # back-off 0 s, then 0.8 * 2**1 and 0.8 * 2**2 on the virtual clock, plus 4 x 0.2 s latency
    assert tenant.clock.now() - start == timedelta(seconds=4 * 0.2 + 1.6 + 3.2)


def test_injected_409_is_not_retried(tenant, cs):
    tenant.inject_fault("accounts.listKeys", 409)
    with pytest.raises(HttpResponseError) as err:
        cs.accounts.list_keys(RG, ACCOUNT)
    assert err.value.status_code == 409
    assert len(tenant.requests) == 1


def test_fault_on_lro_status_poll_is_retried_by_the_poller(tenant, cs):
    from azure.mgmt.cognitiveservices.models import Account, AccountProperties, NetworkRuleSet

    tenant.inject_fault("operations.get", 500)
    body = Account(properties=AccountProperties(network_acls=NetworkRuleSet(default_action="Deny")))
    result = cs.accounts.begin_update(RG, ACCOUNT, body).result()
    assert result.properties.network_acls.default_action == "Deny"
    polls = [e.status for e in tenant.requests if e.operation == "operations.get"]
    assert polls[0] == 500 and polls[-1] == 200


def test_inject_fault_validates_its_arguments(tenant):
    with pytest.raises(ValueError):
        tenant.inject_fault("accounts.regenerate", 500)  # typo in the operation name
    with pytest.raises(ValueError):
        tenant.inject_fault("accounts.get", 200)
    with pytest.raises(ValueError):
        tenant.inject_fault("accounts.get", 500, nth=0)
