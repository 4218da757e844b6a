"""apim.suspend_subscription with the consumers an alert names (``subscriptions``, from indicators.apim_subscriptions):
each suspended and verified, undo restores each exactly, the list is bounded and an empty one is refused."""

from __future__ import annotations

import json

from runbooks import get_runbook
from runbooks.apim import MAX_SUBSCRIPTIONS
from tests.runbooks.narrow_cases import APIM


def _states(tenant, *sids):
    return {sid: json.dumps(tenant.resource(f"{APIM}/subscriptions/{sid}")["properties"], sort_keys=True) for sid in sids}


def test_suspends_each_consumer_the_alert_names_and_undo_restores_each(sandbox):
    params = {"subscriptions": ["partner-acme", "batch-summaries", "Partner-Acme"], "subscription": None}
    original = _states(sandbox.tenant, "partner-acme", "batch-summaries", "chatbot-web")
    plan = sandbox.run("apim.suspend_subscription", "plan", target=APIM, params=params)
    assert plan["ok"], plan
    assert [c["field"] for c in plan["result"]["changes"]] == [
        "subscriptions/partner-acme.properties.state", "subscriptions/batch-summaries.properties.state"]
    assert any("chatbot-web" in n for n in plan["result"]["notes"])  # the other consumer keeps working
    applied = sandbox.run("apim.suspend_subscription", "apply", target=APIM, params=params)
    assert applied["ok"] and applied["result"]["changed"], applied
    assert [s["subscription"] for s in applied["result"]["before"]["subscriptions"]] == ["partner-acme", "batch-summaries"]
    now = {sid: json.loads(v)["state"] for sid, v in _states(sandbox.tenant, "partner-acme", "batch-summaries", "chatbot-web").items()}
    assert now == {"partner-acme": "suspended", "batch-summaries": "suspended", "chatbot-web": "active"}
    verify = sandbox.run("apim.suspend_subscription", "verify", target=APIM, params=params, applied=applied["result"])
    assert verify["ok"] and [c["name"] for c in verify["result"]["checks"]] == ["partner-acme is suspended", "batch-summaries is suspended"]
    undo = sandbox.run("apim.suspend_subscription", "undo", target=APIM, params=params, applied=applied["result"])
    assert undo["ok"] and undo["result"]["changed"], undo
    assert _states(sandbox.tenant, "partner-acme", "batch-summaries", "chatbot-web") == original


def test_the_consumer_list_is_bounded_and_an_empty_one_is_refused_naming_the_parameter(sandbox):
    runbook = get_runbook("apim.suspend_subscription")
    too_many = [f"consumer-{i}" for i in range(MAX_SUBSCRIPTIONS + 1)]
    answer = sandbox.run("apim.suspend_subscription", "plan", target=APIM, params={"subscriptions": too_many})
    assert not answer["ok"] and f"at most {MAX_SUBSCRIPTIONS}" in json.dumps(answer)
    assert runbook.parse_params({"subscriptions": ["a", "A", "b"]}).sids() == ["a", "b"]
    # a hand-written alert's firestop-apim-subscription and the rule's ApimSubscriptionId merge into one list
    assert runbook.parse_params({"subscriptions": ["partner-acme"], "subscription": "Partner-Acme"}).sids() == ["partner-acme"]
    assert runbook.parse_params({"subscriptions": None, "subscription": "partner-acme"}).sids() == ["partner-acme"]
    empty = sandbox.run("apim.suspend_subscription", "plan", target=APIM, params={"subscriptions": [], "subscription": None})
    assert not empty["ok"] and "params.subscription" in json.dumps(empty)
    path = sandbox.run("apim.suspend_subscription", "plan", target=APIM, params={"subscriptions": ["x/../y"]})
    assert not path["ok"] and "not a path" in json.dumps(path)
