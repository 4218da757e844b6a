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
    """Measures wall time spent inside a ``with`` block (to prove nothing slept)."""

    def __enter__(self):
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.elapsed = time.perf_counter() - self.start


@pytest.fixture
def wall():
    return WallTimer
