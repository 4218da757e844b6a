"""The record's wording for a tally counted past its bound (leftovers12 item 5; review 12 noticed): the Markdown said
"None alerts joined" for a record with ``correlated_count_unchecked`` but no ``correlated_count``, and
``joined_counts`` wrote the tally's bound as a literal beside :data:`firestop.lifecycle.tally.MAX_TRACKED`."""

from __future__ import annotations

from firestop.lifecycle import tally
from firestop.lifecycle.view import joined_counts
from firestop.records.render import render_markdown


def _record(**fields) -> dict:
    return {"incident_id": "aoai-x", "status": "contained",
            "correlated_alerts": [{"rule_name": "aoai-key-leak", "alert_id": "/subscriptions/s/alerts/1"}], **fields}


def test_no_count_is_not_written_as_none():
    text = render_markdown(_record(correlated_count_unchecked=3))
    assert "None alerts" not in text and "3 of them were counted without the duplicate check" in text


def test_a_count_says_how_many_too_many():
    text = render_markdown(_record(correlated_count=12_005, correlated_count_unchecked=5))
    assert "12005 alerts joined, at most 5 too many: 5 of them were counted without the duplicate check" in text


def test_the_bound_named_is_the_tallys(monkeypatch):
    monkeypatch.setattr(tally, "MAX_TRACKED", 1234)
    assert "past the 1,234 distinct alerts" in joined_counts({"correlated_count": 9, "correlated_count_unchecked": 2})
