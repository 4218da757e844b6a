"""leftovers10: a plan's ``blast_radius`` is read from the tenant (an API Management service's subscriptions, an
identity's assignments) and went unbounded into dry-run output, the approval (the custom status) and the record.
Now at most MAX_BLAST_ITEMS items per key of at most MAX_BLAST_ITEM_CHARS characters, MAX_BLAST_CHARS in all, with
what is left out counted (``blast_radius_left_out``) and stated in the list."""

from __future__ import annotations

import json

from runbooks.base import MAX_BLAST_CHARS, MAX_BLAST_ITEMS, MAX_BLAST_KEYS, Plan


def _huge() -> dict[str, list[str]]:
    return {"consumers": [f"subscription {i} " + "x" * 5000 for i in range(5000)],
            "identities": [f"sp-{i}" for i in range(30)],
            **{f"k{n}-" + "y" * 1000: ["z"] for n in range(10)}}


def test_a_plan_bounds_its_blast_radius_and_states_what_it_left_out():
    plan = Plan(runbook="apim.suspend_consumers", target="t", before={}, blast_radius=_huge())
    text = json.dumps(plan.blast_radius)
    assert len(text) < MAX_BLAST_CHARS + 2000, len(text)  # before: 25 MB
    assert len(plan.blast_radius) == MAX_BLAST_KEYS
    assert len(plan.blast_radius["consumers"]) <= MAX_BLAST_ITEMS + 1
    assert plan.blast_radius["consumers"][-1] == f"… and {plan.blast_radius_left_out['consumers']} more (left out)"
    assert plan.blast_radius_left_out["consumers"] == 5000 - (len(plan.blast_radius["consumers"]) - 1)
    assert sum(plan.blast_radius_left_out.values()) + sum(
        len([i for i in v if "(left out)" not in i]) for v in plan.blast_radius.values()) == 5000 + 30 + 10
    again = Plan.model_validate(plan.model_dump())  # through dispatch's JSON and back: the same
    assert again.blast_radius == plan.blast_radius and again.blast_radius_left_out == plan.blast_radius_left_out
    small = Plan(runbook="r", target="t", before={}, blast_radius={"deployments": ["gpt-4o"]})
    assert small.blast_radius == {"deployments": ["gpt-4o"]} and small.blast_radius_left_out == {}


def test_the_approval_preview_bounds_a_raw_blast_radius():
    from firestop.lifecycle.approvals import plan_preview

    preview = plan_preview({"ok": True, "result": {"changes": [], "blast_radius": _huge()}})
    assert len(json.dumps(preview["blast_radius"])) < MAX_BLAST_CHARS + 2000
    assert preview["blast_radius"]["consumers"][-1].endswith("more (left out)")
