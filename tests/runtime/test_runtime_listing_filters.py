"""The local host's instance listing filters in its store (issue 18: intake's aftermath listing read every instance
per webhook, so a webhook for a new resource cost 2.5 ms with no incident open and 8 ms with 900 — ``bench/intake.py
open``). The answer must be exactly what filtering every row in Python gave: status set, creation-time bounds
(inclusive), orchestrator name, instance id prefix (including ids past the prefix in sort order but not starting with
it), oldest first."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pytest

from firestop.runtime.store import InstanceRow, Store, from_text, to_text

T0 = datetime(2026, 12, 5, 4, 0, tzinfo=timezone.utc)
STATUSES = ["Pending", "Running", "Completed", "Failed", "Terminated"]
IDS = ["inc-a", "inc-b", "inc-", "inc", "ind-a", "inc-\U0010ffff", "inc-a\U0010ffffz", "a", "z", "@tally@inc-a",
       "inc-ä", "INC-a"]


def _row(i: int, rng: random.Random) -> InstanceRow:
    created = T0 + timedelta(seconds=rng.randrange(0, 50), microseconds=rng.choice([0, 1, 999_999]))
    return InstanceRow(instance_id=f"{rng.choice(IDS)}{i:04d}" if i % 3 else rng.choice(IDS) + str(i),
                       name=rng.choice(["incident_orchestrator", "other"]), execution_id=f"e{i}",
                       runtime_status=rng.choice(STATUSES), input=None, output=None, custom_status=None,
                       created_time=to_text(created), last_updated_time=to_text(created), parent_instance_id=None,
                       parent_execution_id=None, parent_task_id=None, last_episode_time=None)


def _python_filter(rows, statuses, created_from, created_to, name, prefix):
    out = [r for r in rows
           if (statuses is None or r.runtime_status in statuses)
           and (created_from is None or from_text(r.created_time) >= created_from)
           and (created_to is None or from_text(r.created_time) <= created_to)
           and (name is None or r.name == name)
           and (not prefix or r.instance_id.startswith(prefix))]
    return sorted(out, key=lambda r: (r.created_time, r.instance_id))


@pytest.mark.parametrize("seed", range(6))
def test_the_store_answers_what_filtering_every_row_answered(tmp_path, seed):
    rng = random.Random(seed)
    store = Store(tmp_path / "durable.sqlite")
    try:
        rows = [_row(i, rng) for i in range(300)]
        for row in rows:
            store.put_instance(row)
        for _ in range(60):
            statuses = None if rng.random() < 0.3 else set(rng.sample(STATUSES, rng.randrange(0, 3)))
            created_from = None if rng.random() < 0.4 else from_text(rng.choice(rows).created_time)
            created_to = None if rng.random() < 0.4 else from_text(rng.choice(rows).created_time)
            name = rng.choice([None, "incident_orchestrator", "other", "nobody"])
            prefix = rng.choice([None, "", "inc-", "inc", "inc-a", "inc-\U0010ffff", "@", "ind", "zz"])
            got = store.instances_where(statuses=statuses, created_from=to_text(created_from) if created_from else None,
                                        created_to=to_text(created_to) if created_to else None, name=name,
                                        id_prefix=prefix)
            assert [r.instance_id for r in got] == [
                r.instance_id for r in _python_filter(rows, statuses, created_from, created_to, name, prefix)]
    finally:
        store.close()


def test_the_listing_uses_an_index_not_a_scan_of_every_instance(tmp_path):
    store = Store(tmp_path / "durable.sqlite")
    try:
        plan = store._q("EXPLAIN QUERY PLAN SELECT * FROM instances WHERE runtime_status IN (?) AND created_time >= ? "
                        "ORDER BY created_time, instance_id", ("Completed", to_text(T0)))
        assert any("instances_status_created" in str(tuple(r)) for r in plan), [tuple(r) for r in plan]
    finally:
        store.close()
