"""Shared fixtures: an isolated FIRESTOP_HOME per test and clean process-global state."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _clean_globals():
    """Key Vault's challenge cache and Firestop's injected clients/settings are process-global."""
    from azure.keyvault.secrets._shared import http_challenge_cache

    from firestop.azure.clients import configure_clients
    from firestop.settings import configure_settings

    http_challenge_cache.clear()
    yield
    http_challenge_cache.clear()
    configure_clients(None)
    configure_settings(None)


@pytest.fixture
def firestop_home(tmp_path, monkeypatch):
    """A fresh FIRESTOP_HOME for one test."""
    home = tmp_path / "home"
    monkeypatch.setenv("FIRESTOP_HOME", str(home))
    for name in ("FIRESTOP_KEY_VAULT_URL", "FIRESTOP_LOG_WORKSPACE_ID", "FIRESTOP_PLAYBOOKS", "FIRESTOP_KEY_SECRET_NAME"):
        monkeypatch.delenv(name, raising=False)
    return home
