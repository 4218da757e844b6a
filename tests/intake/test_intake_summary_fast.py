"""mix24: the in-line paths of ``alert_summary`` (datetimes written by orjson, identity_links not called for a context
naming no identity) and of ``alert_keys`` (the route of an alert without custom properties, the cacheable-targets
check) give what the functions they stand for give, on every corpus alert and on the edge values."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace

import pytest

from firestop.alerts import parse_alert
from firestop.alerts.parse import parse_intake_alert
from firestop.alerts.times import isoformat_utc
from firestop.intake.correlation import (
    CorrelationKey,
    _compute_sorted_routed_keys,
    alert_keys,
    route_of,
)
from firestop.intake.events import SAMPLE_SIZE, alert_summary, identity_links

ROOT = Path(__file__).resolve().parents[2]
BODIES = sorted((ROOT / "tests" / "alerts" / "data").rglob("*.json")) + [ROOT / "examples" / "alerts" / "leaked-key.json"]
NOW = datetime(2026, 11, 29, 3, 20, 1, 250, tzinfo=timezone.utc)


def _parsed() -> list:
    out = []
    for path in BODIES:
        body = path.read_bytes()
        try:
            out += [parse_alert(body), parse_alert(body, keep_context=False), parse_intake_alert(body)]
        except Exception:  # noqa: BLE001 - a refused sample is not a case here
            continue
    assert len(out) >= 30
    return out


def _expected_summary(alert, received_at: datetime) -> dict:
    """alert_summary as it was written before mix24 (isoformat_utc, identity_links called for every alert)."""
    summary = {
        "alert_id": alert.alert_id,
        "rule_name": alert.rule_name,
        "severity": alert.severity,
        "target_ids": list(alert.target_ids[:SAMPLE_SIZE]),
        "fired_at": isoformat_utc(alert.fired_at) if alert.fired_at is not None else None,
        "received_at": isoformat_utc(received_at),
    }
    links = identity_links(alert)
    if links:
        summary["links"] = links
    return summary


@pytest.mark.parametrize("received_at", [NOW, NOW.replace(microsecond=0), NOW.astimezone(timezone(timedelta(hours=-7)))])
def test_summary_equals_the_general_path(received_at: datetime) -> None:
    for alert in _parsed():
        assert alert_summary(alert, received_at=received_at) == _expected_summary(alert, received_at)


def test_summary_other_zones_and_naive_as_before() -> None:
    east = timezone(timedelta(hours=5, minutes=30))
    alert = SimpleNamespace(alert_id="a", rule_name=None, severity=None, target_ids=(), context={"systemAlertId": "x"},
                            fired_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=east))
    assert alert_summary(alert, received_at=NOW) == _expected_summary(alert, NOW)
    assert alert_summary(alert, received_at=NOW)["fired_at"] == "2026-01-01T21:34:05+00:00"
    with pytest.raises(ValueError):
        alert_summary(alert, received_at=NOW.replace(tzinfo=None))
    naive = SimpleNamespace(**{**vars(alert), "fired_at": datetime(2026, 1, 2)})
    with pytest.raises(ValueError):
        alert_summary(naive, received_at=NOW)
    linked = SimpleNamespace(**{**vars(alert), "context": {"source": "defender:alert", "systemAlertId": " ABC "}})
    assert alert_summary(linked, received_at=NOW)["links"] == ["defender:abc"]


@pytest.mark.parametrize("key", list(CorrelationKey))
def test_alert_keys_equal_the_general_path(key: CorrelationKey) -> None:
    for alert in _parsed():
        expected = list(_compute_sorted_routed_keys(tuple(alert.target_ids), key, route_of(alert)))
        assert alert_keys(alert, key) == expected


def test_alert_keys_long_targets_and_routes() -> None:
    body = json.loads((ROOT / "examples" / "alerts" / "leaked-key.json").read_text())
    body["data"]["essentials"]["alertTargetIDs"] = ["/subscriptions/s/resourceGroups/rg/providers/x/y/" + "n" * 1500]
    body["data"]["essentials"]["alertRule"] = "r" * 3000
    for custom in ({}, {"firestop-playbook": "Leaked-API-Key"}):
        body["data"]["customProperties"] = custom
        alert = parse_intake_alert(json.dumps(body).encode())
        for key in CorrelationKey:
            assert alert_keys(alert, key) == list(_compute_sorted_routed_keys(tuple(alert.target_ids), key,
                                                                              route_of(alert)))
