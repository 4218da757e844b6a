"""Shared fixtures for the alert tests: the copied corpus and envelope builders.

The sample payloads live in ``tests/alerts/data`` (a byte-for-byte copy of
``shared/corpus/alerts``; ``test_alerts_corpus_sync.py`` checks the copy when the
shared folder is present) so the suite is self-contained.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any, Callable

import pytest

DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture
def load() -> Callable[[str], dict[str, Any]]:
    """``load("test-actions/service-health.json")`` → a fresh dict."""

    def _load(rel: str) -> dict[str, Any]:
        return json.loads((DATA / rel).read_text(encoding="utf-8"))

    return _load


@pytest.fixture
def load_bytes() -> Callable[[str], bytes]:
    return lambda rel: (DATA / rel).read_bytes()


BASE_ESSENTIALS: dict[str, Any] = {
    "alertId": "/subscriptions/11111111-1111-1111-1111-111111111111/providers/Microsoft.AlertsManagement/alerts/22222222-2222-2222-2222-222222222222",
    "alertRule": "aoai-rule",
    "severity": "Sev2",
    "signalType": "Metric",
    "monitorCondition": "Fired",
    "monitoringService": "Platform",
    "alertTargetIDs": [
        "/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/rg-ai/providers/Microsoft.CognitiveServices/accounts/aoai-prod"
    ],
    "configurationItems": ["aoai-prod"],
    "originAlertId": "origin-1",
    "firedDateTime": "2025-04-15T18:17:12.851Z",
    "description": "synthetic",
    "essentialsVersion": "1.0",
    "alertContextVersion": "1.0",
}


@pytest.fixture
def envelope() -> Callable[..., dict[str, Any]]:
    """Build a common-schema body: ``envelope(context, **essentials_overrides)``.

    An override value of ``...`` deletes that essentials key.
    """

    def _envelope(context: Any = None, custom: Any = ..., **overrides: Any) -> dict[str, Any]:
        essentials = copy.deepcopy(BASE_ESSENTIALS)
        for key, value in overrides.items():
            if value is ...:
                essentials.pop(key, None)
            else:
                essentials[key] = value
        data: dict[str, Any] = {"essentials": essentials, "alertContext": context if context is not None else {}}
        if custom is not ...:
            data["customProperties"] = custom
        return {"schemaId": "azureMonitorCommonAlertSchema", "data": data}

    return _envelope
