"""RT18-01 (attacker D: alert-rule write, plus an API Management instance whose gateway logs reach Firestop's
workspace): a copy of ``aoai-anomalous-usage-apim`` whose ``{account_endpoint}`` lacks the trailing slash was trusted
as the playbook's detection.

rules14 compares the copy's query with the detection's, ``{account_endpoint}`` standing for the target account's own
endpoint (:func:`firestop.infra.rule_trust._placeholders`). Its pattern ended ``/?``, so
``| where BackendUrl startswith "https://contoso-openai-prod.openai.azure.com"`` was accepted. In KQL ``startswith``
is a prefix test: that copy also counts the gateway rows whose backend is ``https://contoso-openai-prod.openai.azure.com.evil.example/``
or ``…azure.com-x.example``, hosts its author owns — no call ever reaches the account, yet the alert targets it
(``extend AccountId = "{account_id}"``, ``resourceIdColumn``) and acts without a responder (the playbook's
lock-network and rotate-keys run unapproved when the copy leaves ``firestop-apim`` out). README ("A copy of a detection
… fires only when Firestop's own rule does") says a copy gains its author nothing; this one is broader than the rule
``firestop infra`` deploys (an account's ``properties.endpoint`` always ends with ``/``).

Severity low: the author also needs an API Management instance logging into Firestop's workspace, and from there could
send the calls to the real endpoint (401s, counted by the genuine rule too).
"""

from __future__ import annotations

import copy

from tests.rules14.test_rule_trust import RULES, SUB, _check, deployed  # noqa: F401 (the fixture)

ENDPOINT = "https://contoso-openai-prod.openai.azure.com/"


def test_rt18_01_an_endpoint_without_its_slash_is_not_the_detection(deployed):  # noqa: F811
    tenant, _, client, _, playbooks = deployed
    rule = client.get_rule(f"/subscriptions/{SUB}/resourceGroups/rg-ai-prod{RULES}aoai-anomalous-usage-apim-contoso-openai-prod")
    condition = rule["properties"]["criteria"]["allOf"][0]
    assert f'startswith "{ENDPOINT}"' in condition["query"]  # as deployed: the account's own endpoint, slash included
    assert _check(rule, playbooks, client, tenant, playbook="anomalous-usage") is None
    broader = copy.deepcopy(rule)
    broader["properties"]["criteria"]["allOf"][0]["query"] = condition["query"].replace(ENDPOINT, ENDPOINT.rstrip("/"))
    why = _check(broader, playbooks, client, tenant, playbook="anomalous-usage")
    assert why is not None and "allOf[0].query differs" in why
