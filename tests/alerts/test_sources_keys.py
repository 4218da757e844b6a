"""``detect`` skips a source for a body without any of the source's ``keys``: that must never change what
``detect`` finds — each source's ``recognise`` answers None for every such body."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from firestop.alerts.sources import _load, detect

ROOT = Path(__file__).resolve().parents[2]
BODIES = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(
    [*(ROOT / "examples" / "alerts").glob("*.json"), *(ROOT / "tests" / "alerts").rglob("*.json")])]
BODIES = [b for b in BODIES if isinstance(b, dict)]


def _every_source(body):
    """detect without the skip: the first source whose recognise answers."""
    for src in _load():
        try:
            found = src.recognise(body)
        except Exception:  # noqa: BLE001 - as detect
            found = None
        if found is not None:
            return src, found
    return None


def test_every_source_promises_keys_and_the_corpus_is_detected_the_same() -> None:
    assert all(src.keys for src in _load())
    assert len(BODIES) >= 50
    for body in BODIES:
        assert detect(body) == _every_source(body)
    assert sum(detect(b) is not None for b in BODIES) >= 7  # the Defender / Sentinel samples are recognised


_KEYS = ["schemaId", "data", "properties", "Properties", "type", "Type", "TYPE", "objectSchemaType", "object",
         "AlertSeverity", "alertseverity", "systemAlertId", "SystemAlertId", "alertType", "AlertType",
         "alertDisplayName", "AlertName", "TimeGenerated", "timeGeneratedUtc", "id", "name", "x"]
_VALUES = st.sampled_from([None, "", "SecurityAlert", "Incident", "incident", "Microsoft.SecurityInsights/incidents",
                           "Microsoft.Security/Locations/alerts", "AI.Azure_Jailbreak", "2025-01-01T00:00:00Z", 3,
                           {"alertType": "A", "systemAlertId": "s", "timeGeneratedUtc": "2025-01-01T00:00:00Z"},
                           {"id": "i", "properties": {"createdTimeUtc": "2025-01-01T00:00:00Z"}}, [], {}])


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(_KEYS), _VALUES, max_size=6))
def test_a_body_without_a_sources_keys_is_not_recognised_by_it(body: dict) -> None:
    present = {k.lower() for k in body}
    for src in _load():
        if present.isdisjoint(src.keys):
            assert src.recognise(body) is None, (src.name, body)
    assert detect(body) == _every_source(body)
