"""Issue 15's narrow runbooks on the sandbox through the real SDKs: plan changes nothing, apply → verify,
apply again is a no-op, undo restores the state exactly (twice: a no-op), each injected fault ends in the
mapped error, and a fault at any call of apply, then a retry, never loses the before-state."""

from __future__ import annotations

import json

import pytest

from tests.runbooks.narrow_cases import CASES, IRREVERSIBLE
from tests.runbooks.test_runbooks_containment import world, writes


def _text(value) -> str:
    return json.dumps(value, sort_keys=True)


@pytest.mark.parametrize("name", sorted(CASES))
def test_plan_changes_nothing_and_names_the_blast_radius(sandbox, name):
    case = CASES[name]
    case.get("prepare", lambda t: None)(sandbox.tenant)
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
    case.get("prepare", lambda t: None)(sandbox.tenant)
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
    case = CASES.get(name) or IRREVERSIBLE[name]
    case.get("prepare", lambda t: None)(box.tenant)
    start = len(box.tenant.requests)
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
        case.get("prepare", lambda t: None)(box.tenant)
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
    ("network.reject_private_endpoint", "privateEndpointConnections.createOrUpdate", 403, 1, "forbidden",
     "Microsoft.CognitiveServices/accounts/privateEndpointConnections/write"),
    ("network.reject_private_endpoint", "privateEndpointConnections.get", 404, 1, "not_found", None),
    ("network.restrict_outbound", "accounts.update", 429, 10, "throttled", None),
    ("network.restrict_outbound", "accounts.update", 403, 1, "forbidden", "Microsoft.CognitiveServices/accounts/write"),
    ("apim.suspend_subscription", "apimSubscriptions.update", 412, 1, "conflict", None),
    ("apim.suspend_subscription", "apimSubscriptions.update", 403, 1, "forbidden", "Microsoft.ApiManagement/service/subscriptions/write"),
    ("apim.regenerate_subscription_key", "apimSubscriptions.regeneratePrimaryKey", 403, 1, "forbidden",
     "Microsoft.ApiManagement/service/subscriptions/regeneratePrimaryKey/action"),
    ("apim.regenerate_subscription_key", "apimSubscriptions.listSecrets", 429, 10, "throttled", None),
    ("identity.disable_service_principal", "servicePrincipals.update", 429, 10, "throttled", None),
    ("identity.disable_service_principal", "servicePrincipals.update", 403, 1, "forbidden", "Application.ReadWrite.All"),
    ("identity.disable_service_principal", "servicePrincipals.get", 503, 10, "transient", None),
    ("identity.revoke_sessions", "users.revokeSignInSessions", 403, 1, "forbidden", "User.RevokeSessions.All"),
    ("identity.revoke_sessions", "users.get", 404, 1, "not_found", None),
    ("identity.confirm_compromised", "riskyServicePrincipals.confirmCompromised", 429, 10, "throttled", None),
    ("identity.confirm_compromised", "riskyServicePrincipals.confirmCompromised", 403, 1, "forbidden",
     "IdentityRiskyServicePrincipal.ReadWrite.All"),
]


@pytest.mark.parametrize("name,operation,status,times,kind,permission", FAULTS)
def test_injected_fault_ends_in_the_mapped_error(sandbox, name, operation, status, times, kind, permission):
    case = CASES.get(name) or IRREVERSIBLE[name]
    case.get("prepare", lambda t: None)(sandbox.tenant)
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


@pytest.mark.parametrize("name", sorted(IRREVERSIBLE))
def test_irreversible_runbooks_apply_once_verify_and_refuse_undo_with_the_reason(tmp_path, name):
    from tests.runbooks.conftest import Sandbox

    case = IRREVERSIBLE[name]
    ops = _apply_ops(tmp_path, name)
    writes_ = [op for op in ops if op.endswith(("revokeSignInSessions", "confirmCompromised", "Key"))]
    assert 1 <= len(writes_) <= 2
    for index, op in enumerate(ops):  # a fault at any call, then a retry: one effect, the original before-state
        box = Sandbox(tmp_path / f"fault-{index}")
        original = case["state"](box.tenant)
        box.tenant.inject_fault(op, status=403, nth=ops[:index + 1].count(op))
        assert not box.run(name, "apply", target=case["target"], params=case["params"])["ok"]
        retry = box.run(name, "apply", target=case["target"], params=case["params"])
        assert retry["ok"], (index, op, retry)
        for write in writes_:  # each effect exactly once, whatever failed first
            assert sum(1 for r in box.tenant.requests if r.operation == write and r.status < 300) == 1, (index, op, write)
        assert box.run(name, "verify", target=case["target"], params=case["params"], applied=retry["result"])["ok"]
        assert case["state"](box.tenant) != original
        assert retry["result"]["before"] != retry["result"]["after"]  # the marker kept the state before the effect
        undo = box.run(name, "undo", target=case["target"], params=case["params"], applied=retry["result"])
        assert undo["error"]["kind"] == "invalid" and "cannot be undone" in undo["error"]["message"]


def test_identity_runbooks_never_act_on_firestops_own_identity(sandbox):
    own = "5b0c7d0e-1f2a-4b3c-8d4e-5f6a7b8c9d0e"  # the sandbox credential's object id
    for name in ("identity.disable_service_principal", "identity.confirm_compromised"):
        answer = sandbox.run(name, "apply", target=None, params={"service_principal_id": own})
        assert answer["error"]["kind"] == "invalid" and "own identity" in answer["error"]["message"]
    assert not [r for r in sandbox.tenant.requests if r.host == "graph.microsoft.com"]
