"""deployment.content_filter never loosens a filter (RT3-05): the policy it moves a deployment to must be at least as
strict as the current one in every content filter, in mode, and keep every blocklist the current one blocks with."""

from __future__ import annotations

import copy

from firestop.sandbox.arm.models import rai_policy, system_rai_policy
from runbooks.deployment import weaker_than
from tests.runbooks.conftest import ACCOUNT

ACC = {"id": ACCOUNT}
DEFAULT_V2 = system_rai_policy(ACC, "Microsoft.DefaultV2")


def custom(threshold: str = "Low", blocklists=("contoso-blocklist",)) -> dict:
    return rai_policy(ACC, name="custom", base="Microsoft.DefaultV2", threshold=threshold, blocklists=list(blocklists),
                      created_at="2026-01-01T00:00:00Z", created_by="someone")


def test_a_stricter_or_equal_policy_passes_and_its_base_supplies_what_it_does_not_list():
    strict = custom()
    assert weaker_than(DEFAULT_V2, None, strict, DEFAULT_V2) == []  # Jailbreak etc. come from its base
    assert weaker_than(strict, DEFAULT_V2, copy.deepcopy(strict), DEFAULT_V2) == []
    assert weaker_than(strict, DEFAULT_V2, custom(blocklists=("contoso-blocklist", "more")), DEFAULT_V2) == []


def test_every_way_of_loosening_is_named():
    strict = custom()
    problems = weaker_than(strict, DEFAULT_V2, DEFAULT_V2, None)
    assert "blocklist contoso-blocklist (Prompt): dropped" in problems
    assert "Hate (Prompt): threshold Medium instead of Low" in problems
    annotating, disabled, deferred, unblocked = (copy.deepcopy(strict) for _ in range(4))
    annotating["properties"]["contentFilters"][0]["blocking"] = False
    disabled["properties"]["contentFilters"][0]["enabled"] = False
    deferred["properties"]["mode"] = "Asynchronous_filter"
    unblocked["properties"]["customBlocklists"][0]["blocking"] = False
    first = strict["properties"]["contentFilters"][0]
    label = f"{first['name']} ({first['source']})"
    assert weaker_than(strict, DEFAULT_V2, annotating, DEFAULT_V2) == [f"{label}: annotates only, does not block"]
    assert weaker_than(strict, DEFAULT_V2, disabled, DEFAULT_V2) == [f"{label}: not filtered"]
    assert weaker_than(strict, DEFAULT_V2, deferred, DEFAULT_V2) == ["mode Asynchronous_filter instead of Blocking"]
    assert weaker_than(strict, DEFAULT_V2, unblocked, DEFAULT_V2) == ["blocklist contoso-blocklist (Prompt): no longer blocks"]
    no_jailbreak = weaker_than(DEFAULT_V2, None, custom(), None)  # without its base a custom list lacks Jailbreak
    assert "Jailbreak (Prompt): not filtered" in no_jailbreak


def test_the_runbook_refuses_a_weaker_policy_and_changes_nothing(sandbox):
    moved = sandbox.run("deployment.content_filter", "apply", params={"deployment": "gpt-4o", "policy": "contoso-strict"})
    assert moved["ok"] and moved["result"]["changed"], moved
    for action in ("plan", "apply"):
        back = sandbox.run("deployment.content_filter", action, params={"deployment": "gpt-4o", "policy": "Microsoft.DefaultV2"},
                           step_id=f"weaker-{action}")
        assert not back["ok"] and back["error"]["kind"] == "invalid", back
        assert "weaker" in back["error"]["message"] and "contoso-blocklist" in back["error"]["message"]
    plan = sandbox.run("deployment.content_filter", "plan", params={"deployment": "gpt-4o", "items": ["x"]}, step_id="check")
    assert plan["ok"] and plan["result"]["before"]["policy_name"] == "contoso-strict"  # still on the strict policy
