"""Issue 15's narrow runbooks on the sandbox through the real SDKs: plan changes nothing, apply → verify,
apply again is a no-op, undo restores the state exactly (twice: a no-op), each injected fault ends in the
mapped error, and a fault at any call of apply, then a retry, never loses the before-state."""

from __future__ import annotations

import json

import pytest

from tests.runbooks.narrow_cases import CASES
from tests.runbooks.test_runbooks_containment import world, writes


def _text(value) -> str:
    return json.dumps(value, sort_keys=True)


@pytest.mark.parametrize("name", sorted(CASES))
def test_plan_changes_nothing_and_names_the_blast_radius(sandbox, name):
    case = CASES[name]
    before = world(sandbox.tenant)
    answer = sandbox.run(name, "plan", target=case["target"], params=case["params"])
    assert answer["ok"], answer
    assert answer["result"]["changes"]
    radius = answer["result"]["blast_radius"]
    assert radius and all(isinstance(v, list) for v in radius.values())
    assert world(sandbox.tenant) == before and not writes(sandbox.tenant)


@pytest.mark.parametrize("name", sorted(CASES))
def test_apply_verify_apply_again_undo_exactly(sandbox, name):
    case = CASES[name]
    original = _text(case["state"](sandbox.tenant))
    first = sandbox.run(name, "apply", target=case["target"], params=case["params"])
    assert first["ok"] and first["result"]["changed"], first
    assert _text(case["state"](sandbox.tenant)) != original
    verify = sandbox.run(name, "verify", target=case["target"], params=case["params"], applied=first["result"])
    assert verify["ok"], verify
    count = len(writes(sandbox.tenant))
    second = sandbox.run(name, "apply", target=case["target"], params=case["params"])
    assert second["ok"] and not second["result"]["changed"], second
    assert len(writes(sandbox.tenant)) == count
    assert _text(second["result"]["before"]) == _text(first["result"]["before"])  # the marker keeps the original
    undo = sandbox.run(name, "undo", target=case["target"], params=case["params"], applied=first["result"])
    assert undo["ok"] and undo["result"]["changed"], undo
    assert _text(case["state"](sandbox.tenant)) == original
    again = sandbox.run(name, "undo", target=case["target"], params=case["params"], applied=first["result"])
    assert again["ok"] and not again["result"]["changed"], again


def _apply_ops(tmp_path, name) -> list[str]:
    from tests.runbooks.conftest import Sandbox

    box = Sandbox(tmp_path / "clean")
    start = len(box.tenant.requests)
    case = CASES[name]
    assert box.run(name, "apply", target=case["target"], params=case["params"])["ok"]
    return [r.operation for r in box.tenant.requests[start:] if r.status != 401]


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_fault_at_any_call_then_a_retry_keeps_the_before_state(tmp_path, name):
    from tests.runbooks.conftest import Sandbox

    case = CASES[name]
    ops = _apply_ops(tmp_path, name)
    assert len(ops) >= 2
    for index, op in enumerate(ops):
        box = Sandbox(tmp_path / f"fault-{index}")
        original = _text(case["state"](box.tenant))
        box.tenant.inject_fault(op, status=403, nth=ops[:index + 1].count(op))
        first = box.run(name, "apply", target=case["target"], params=case["params"])
        assert not first["ok"] and first["error"]["kind"] == "forbidden", (index, op, first)
        retry = _retried(box, name, case)
        assert retry["ok"], (index, op, retry)
        assert box.run(name, "verify", target=case["target"], params=case["params"], applied=retry["result"])["ok"], (index, op)
        undo = box.run(name, "undo", target=case["target"], params=case["params"], applied=retry["result"])
        assert undo["ok"], (index, op, undo)
        assert _text(case["state"](box.tenant)) == original, (index, op)


def _retried(box, name, case, attempts: int = 3) -> dict:
    """Apply again as the step group would: a retryable error (an LRO still running: 409) waits, then retries."""
    for _ in range(attempts):
        answer = box.run(name, "apply", target=case["target"], params=case["params"])
        if answer["ok"] or not answer["error"]["retryable"]:
            return answer
        box.tenant.clock.advance(10)
    return answer


FAULTS = [
    ("deployment.throttle", "deployments.createOrUpdate", 429, 10, "throttled", None),
    ("deployment.throttle", "deployments.createOrUpdate", 409, 1, "conflict", None),
    ("deployment.throttle", "deployments.get", 500, 10, "transient", None),
    ("deployment.throttle", "deployments.createOrUpdate", 403, 1, "forbidden", "Microsoft.CognitiveServices/accounts/deployments/write"),
    ("deployment.suspend", "deployments.delete", 403, 1, "forbidden", "Microsoft.CognitiveServices/accounts/deployments/delete"),
    ("deployment.suspend", "deployments.delete", 503, 10, "transient", None),
    ("deployment.suspend", "deployments.get", 404, 1, "not_found", None),
    ("deployment.content_filter", "raiBlocklistItems.createOrUpdate", 429, 10, "throttled", None),
    ("deployment.content_filter", "raiPolicies.get", 403, 1, "forbidden", "Microsoft.CognitiveServices/accounts/raiPolicies/read"),
    ("deployment.content_filter", "deployments.createOrUpdate", 403, 1, "forbidden", "Microsoft.CognitiveServices/accounts/deployments/write"),
]


@pytest.mark.parametrize("name,operation,status,times,kind,permission", FAULTS)
def test_injected_fault_ends_in_the_mapped_error(sandbox, name, operation, status, times, kind, permission):
    case = CASES[name]
    sandbox.tenant.inject_fault(operation, status=status, times=times, retry_after=3 if status == 429 else None)
    answer = sandbox.run(name, "apply", target=case["target"], params=case["params"])
    assert not answer["ok"], answer
    assert answer["error"]["kind"] == kind, answer["error"]
    assert answer["error"]["permission"] == permission


def test_throttle_by_percent_retried_after_its_put_cuts_from_the_original(sandbox):
    params = {"deployment": "gpt-4o", "percent": 10}
    sandbox.tenant.inject_fault("deployments.get", status=403, nth=3)  # after the PUT: its answer is "lost"
    first = sandbox.run("deployment.throttle", "apply", params=params)
    assert not first["ok"]
    retry = sandbox.run("deployment.throttle", "apply", params=params)
    assert retry["ok"] and retry["result"]["before"]["body"]["sku"]["capacity"] == 150
    assert retry["result"]["after"]["body"]["sku"]["capacity"] == 15  # not 1 (10 % of 15)


def test_content_filter_refuses_items_on_a_system_policy_naming_the_fix(sandbox):
    answer = sandbox.run("deployment.content_filter", "apply", params={"deployment": "gpt-4o", "items": ["x"]})
    assert answer["error"]["kind"] == "invalid" and "policy" in answer["error"]["message"]


def test_unknown_deployment_is_not_found_naming_the_parameter(sandbox):
    answer = sandbox.run("deployment.suspend", "apply", params={"deployment": "nope"})
    assert answer["error"]["kind"] == "not_found" and "deployment parameter" in answer["error"]["message"]
