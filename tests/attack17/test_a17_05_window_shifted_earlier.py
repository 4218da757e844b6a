"""A17-05 (attacker A: the webhook key and the alert id; medium, not fixed: strict xfail): RT19-05's window check
still lets a forger's copy move a log search alert's evidence window ten minutes back.

``monitor_source.window_differs`` accepts a delivered ``windowEndTime`` up to
:data:`~firestop.azure.monitor_source.WINDOW_END_BEFORE_START_SECONDS` (600 s) before the source's ``startDateTime``
— "a platform metric's window closes a few minutes before its evaluation" — for *every* rule kind, and a length of
the rule's ``windowSize`` ± 60 s. A log search alert's window is the query's time range ending when the rule is
evaluated (the real ``content-abuse`` delivery ends it at 02:20:00 for a start at 02:20:03; Microsoft's test-action
payloads give ``windowEndTime`` = ``firedDateTime``). Measured on RT19-05's own scenario (the same alert re-posted
first, its window moved 9 min 50 s back to 01:55:10-02:10:10): the copy is confirmed ("evaluation window ... match")
and the sealed evidence keeps 39 log rows where the window that fired keeps 113 (threshold 30). For a PT5M rule
(``aoai-leaked-key-usage`` and others) the allowed shift exceeds the window: the evidence keeps none of it.

Fix (not done: the metric allowance must stay, and what Azure's log alerts give as window end after a delayed
evaluation needs a source): hold a scheduled query rule's window end to ``startDateTime`` within the length
tolerance; or make the evidence read the union of the delivered window and ``[start − windowSize − 600 s, start]``
so the forger's choice can only widen it.
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest


@pytest.mark.xfail(strict=True, reason="A17-05: a log search alert's delivered window may end 600 s before it started "
                                        "(the metric allowance): a PT5M window disjoint from the one that fired passes")
def test_a_log_search_window_disjoint_from_the_one_that_fired_is_refused():
    from firestop.azure.monitor_source import window_differs

    started = datetime(2026, 11, 29, 2, 20, 3, tzinfo=timezone.utc)
    rule = {"type": "Microsoft.Insights/scheduledQueryRules", "properties": {"windowSize": "PT5M"}}
    assert window_differs({"window_start": "2026-11-29T02:15:00Z", "window_end": "2026-11-29T02:20:00Z"}, rule, started) is None
    # the window that fired is 02:15-02:20; this one is 02:05:10-02:10:10 — no minute of it in common
    assert window_differs({"window_start": "2026-11-29T02:05:10Z", "window_end": "2026-11-29T02:10:10Z"}, rule, started)
