"""The timeline a running incident carries in its custom status stays within Azure's limit."""

from __future__ import annotations

import json

from firestop.lifecycle.timeline import SO_FAR_BUDGET_CHARS, SO_FAR_DETAIL_CHARS, timeline_so_far

TARGET = "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-ai-prod/providers/Microsoft.CognitiveServices/accounts/contoso-openai-prod"


def entry(i: int, detail: str = "x") -> dict:
    return {"phase": "contain", "step": f"step-{i}", "runbook": "network.lock", "target": TARGET, "outcome": "done",
            "detail": detail, "at": "2026-11-29T03:14:40+00:00", "offset_s": float(i), "duration_s": 0.1}


def test_newest_entries_kept_oldest_first_within_the_budget():
    timeline = [entry(i, "d" * 5000) for i in range(200)]
    kept = timeline_so_far(timeline)
    assert kept and kept[-1]["step"] == "step-199"
    assert [e["offset_s"] for e in kept] == sorted(e["offset_s"] for e in kept)
    assert sum(len(json.dumps(e)) for e in kept) <= SO_FAR_BUDGET_CHARS
    assert all(len(e["detail"]) <= SO_FAR_DETAIL_CHARS for e in kept)


def test_a_short_timeline_is_kept_whole():
    timeline = [entry(i) for i in range(3)]
    assert [e["step"] for e in timeline_so_far(timeline)] == ["step-0", "step-1", "step-2"]
