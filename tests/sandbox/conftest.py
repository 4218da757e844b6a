"""Fixtures for the sandbox tests: a fresh default tenant and real SDK clients bound to it."""

from __future__ import annotations

import time

import pytest
from azure.keyvault.secrets import SecretClient
from azure.keyvault.secrets._shared import http_challenge_cache
from azure.mgmt.cognitiveservices import CognitiveServicesManagementClient
from azure.monitor.query import LogsQueryClient

from firestop.sandbox import Tenant

SUB = "11111111-2222-3333-4444-555555555555"
RG = "rg-ai-prod"
ACCOUNT = "contoso-openai-prod"
ACCOUNT_ID = f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.CognitiveServices/accounts/{ACCOUNT}"
VAULT_URL = "https://kv-contoso-ai.vault.azure.net"
WORKSPACE_ID = "0a6c2f6e-7f1c-4f61-9d3a-5c1f2d9e8b7a"


@pytest.fixture(autouse=True)
def _clear_keyvault_challenge_cache():
    """Key Vault's SDK caches auth challenges per vault host, process-wide."""
    http_challenge_cache.clear()
    yield
    http_challenge_cache.clear()


@pytest.fixture
def tenant() -> Tenant:
    return Tenant.load()


@pytest.fixture
def cs(tenant):
    return CognitiveServicesManagementClient(credential=tenant.credential, subscription_id=SUB, transport=tenant.transport)


@pytest.fixture
def secrets(tenant):
    return SecretClient(VAULT_URL, tenant.credential, transport=tenant.transport)


@pytest.fixture
def logs(tenant):
    return LogsQueryClient(tenant.credential, transport=tenant.transport)


class WallTimer:
    """Measures the wall time spent inside a ``with`` block, less the time this thread waited for a CPU, to prove
    nothing slept: a real sleep (``time.sleep``, a timed wait) counts, a busy machine does not.

    ``elapsed`` is in seconds. The wait for a CPU is the second field of Linux's ``/proc/thread-self/schedstat``
    (nanoseconds spent runnable on a run queue; Documentation/scheduler/sched-stats.rst); elsewhere nothing is
    subtracted. The blocks measured run the SDK call on this thread (synchronous clients).
    """

    _SCHEDSTAT = "/proc/thread-self/schedstat"

    @classmethod
    def _run_queue_wait(cls) -> float:
        try:
            with open(cls._SCHEDSTAT, encoding="ascii") as f:
                return int(f.read().split()[1]) / 1e9
        except (OSError, IndexError, ValueError):
            return 0.0

    def __enter__(self):
        self.start, self.waited = time.perf_counter(), self._run_queue_wait()
        return self

    def __exit__(self, *exc):
        self.elapsed = (time.perf_counter() - self.start) - (self._run_queue_wait() - self.waited)


@pytest.fixture
def wall():
    return WallTimer
