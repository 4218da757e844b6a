"""parse_alert(keep_context=False) (the webhook's call) gives the same alert but a lean context (the few values
intake reads: identity links, event time, metric names), and so the same orchestration input, correlated-event
summary (identity links included) and activity start, for every corpus body of every source."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from firestop.alerts import AlertPayloadError, parse_alert
from firestop.alerts.parse import LEAN_CONTEXT_KEYS, lean_context
from firestop.intake.coverage import activity_start
from firestop.intake.events import alert_summary, identity_links
from firestop.lifecycle.start import incident_input

ROOT = Path(__file__).resolve().parents[2]
CORPUS = sorted((ROOT / "tests" / "alerts" / "data").rglob("*.json")) + sorted((ROOT / "examples" / "alerts").glob("*.json"))
NOW = datetime(2026, 11, 29, 3, 20, tzinfo=timezone.utc)


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.name)
def test_same_alert_without_the_context(path: Path) -> None:
    raw = path.read_bytes()
    try:
        full = parse_alert(raw)
    except AlertPayloadError as exc:
        with pytest.raises(AlertPayloadError) as again:
            parse_alert(raw, keep_context=False)
        assert again.value.as_dict() == exc.as_dict()
        return
    lean = parse_alert(raw, keep_context=False)
    assert set(lean.context) <= set(LEAN_CONTEXT_KEYS)  # only what intake reads survives
    assert lean.context == lean_context(full.context) and len(json.dumps(lean.context)) <= 8192
    assert lean.model_dump(exclude={"context"}) == full.model_dump(exclude={"context"})
    assert incident_input(lean, received_at=NOW, sandbox=True) == incident_input(full, received_at=NOW, sandbox=True)
    assert alert_summary(lean, received_at=NOW) == alert_summary(full, received_at=NOW)
    assert identity_links(lean) == identity_links(full)
    assert activity_start(lean) == activity_start(full)
