"""get_settings keeps the settings it built from the environment until a variable they are built from changes."""

from __future__ import annotations

import ast
import inspect
import textwrap
from pathlib import Path

import pytest

from firestop import settings as settings_module
from firestop.settings import FROM_ENV_NAMES, Settings, SettingsError, configure_settings, get_settings


@pytest.fixture(autouse=True)
def _environment(monkeypatch, tmp_path):
    configure_settings(None)
    for name in FROM_ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("FIRESTOP_HOME", str(tmp_path / "one"))
    yield
    configure_settings(None)


def test_every_variable_from_env_reads_is_one_the_kept_settings_watch():
    source = textwrap.dedent(inspect.getsource(Settings.from_env))
    read = {node.args[0].value for node in ast.walk(ast.parse(source))
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get"
            and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)}
    read |= set(settings_module._PARSED_BY_FROM_ENV)
    assert read and read <= set(FROM_ENV_NAMES), sorted(read - set(FROM_ENV_NAMES))


@pytest.mark.parametrize("name", FROM_ENV_NAMES)
def test_a_changed_variable_is_seen_at_the_next_call(monkeypatch, tmp_path, name):
    first = get_settings()
    assert get_settings() is first  # kept: nothing changed
    value = {"FIRESTOP_HOME": str(tmp_path / "two"), "FIRESTOP_PLAYBOOKS": str(tmp_path / "books"),
             "FIRESTOP_KEY_VAULT_URL": "https://kv-other.vault.azure.net",
             "FIRESTOP_KEY_VAULT_ALLOWED_URLS": "https://kv-more.vault.azure.net",
             "FIRESTOP_LOG_WORKSPACE_ID": "11111111-2222-3333-4444-555555555555",
             "FIRESTOP_AUTOMATION_PRINCIPAL_ID": "11111111-2222-3333-4444-555555555555",
             "FIRESTOP_STORAGE_BLOB_URL": "https://acct.blob.core.windows.net",
             "FIRESTOP_NOTIFY_WEBHOOK_URL": "https://hooks.example.com/x",
             "FIRESTOP_SENTINEL_WORKSPACE_ID": "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg/"
                                               "providers/Microsoft.OperationalInsights/workspaces/ws",
             "FIRESTOP_NON_PRODUCTION_ACCOUNTS": "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/"
                                                 "rg/providers/Microsoft.CognitiveServices/accounts/acct",
             "FIRESTOP_EVIDENCE_MAX_WINDOW_SECONDS": "7200"}.get(name, "changed-value")
    monkeypatch.setenv(name, value)
    second = get_settings()
    assert second is not first and second == Settings.from_env()
    assert get_settings() is second
    if name == "FIRESTOP_HOME":
        monkeypatch.setenv(name, str(first.home))
    else:
        monkeypatch.delenv(name)  # unset again: as at first
    assert get_settings() is not second and get_settings() == first


def test_a_wrong_setting_fails_at_every_call_and_its_fix_is_seen_at_once(monkeypatch):
    get_settings()
    monkeypatch.setenv("FIRESTOP_EVIDENCE_MAX_WINDOW_SECONDS", "5")
    for _ in range(2):
        with pytest.raises(SettingsError):
            get_settings()
    monkeypatch.setenv("FIRESTOP_EVIDENCE_MAX_WINDOW_SECONDS", "600")
    assert get_settings().evidence_max_window_seconds == 600


def test_installed_settings_win_over_the_kept_ones(tmp_path):
    get_settings()
    installed = Settings.from_env(home=Path(tmp_path / "installed"))
    configure_settings(installed)
    assert get_settings() is installed
