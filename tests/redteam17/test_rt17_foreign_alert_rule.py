"""RT17-01 (attacker D — whoever may write an alert rule; medium-high): any alert rule that notifies Firestop's
action group is believed as a detection, whoever wrote it and whatever it detects.

The source check (``FIRESTOP_ALERT_SOURCE_CHECK=on``, the template's setting) proves that Azure Monitor fired the
alert from the rule it names, that the rule routes where the delivery says and — for a log rule's dimensions — that
the rule's *own* query finds them. It never asks whether that rule is a Firestop detection. Writing an alert rule
takes ``Microsoft.Insights/scheduledQueryRules/write`` (Monitoring Contributor: a role app teams and observability
engineers commonly hold at subscription scope), and attaching Firestop's action group to it takes only read on the
action group — no role on the Azure OpenAI account, none in Firestop. Such a person writes a rule scoped to the
production account in their own resource group, named to match a playbook's ``rule_names`` glob (``*leaked*key*``)
or with the ``firestop-playbook`` custom property, whose query is always true. Azure Monitor fires it for real, the
check confirms every field, and the leaked-key playbook rotates both keys of the production account and locks its
network with nobody approving: an outage of every consumer, made by someone who may not change the account
(a confused deputy: Firestop's identity holds the write). With a ``Caller`` dimension in the rule's own query the
same person names the principal ``identity.revoke_role_assignment`` strips (suspicious-key-access).

PoC (main 2fcae0a): the rule ``appteam-leaked-keys-dashboard`` in ``rg-ai-dev`` fires on
``contoso-openai-prod``; the check says ``ok``; keys rotated, ``networkAcls.defaultAction`` Deny, no approval asked.

Expected: an alert from a rule Firestop was not told to trust is not confirmed — nothing acts until a responder
decides it genuine, as for any unconfirmed alert. Fixed (rules14): the fired rule must be the routed playbook's own
``detect:`` rule as ``firestop infra`` deploys it (query, scopes, threshold, window, dimensions, ``firestop-*``
properties: :mod:`firestop.infra.rule_trust`; an identical rule fires only on the real condition, so writing one gains
nothing) or one an admin trusted (``rules trust``, a sealed entry bound to the rule's criteria:
:mod:`firestop.infra.trusted_rules`); tags, names and resource groups are the author's to write and count for nothing.
"""

from __future__ import annotations

import json
import uuid

import pytest

from firestop.settings import REPO_ROOT
from tests.e2e.test_webhook import served  # noqa: F401 (fixture)
from tests.source_check_steps import confirm_outcomes, fire_genuine, post_delivery

SUB = "11111111-2222-3333-4444-555555555555"
ACCOUNT = f"/subscriptions/{SUB}/resourcegroups/rg-ai-prod/providers/microsoft.cognitiveservices/accounts/contoso-openai-prod"
RAW = (REPO_ROOT / "examples" / "alerts" / "leaked-key.json").read_bytes()


@pytest.fixture(autouse=True)
def check_on(monkeypatch):
    monkeypatch.setenv("FIRESTOP_ALERT_SOURCE_CHECK", "on")


def _foreign_rule_alert(*, route_property: bool) -> dict:
    """A delivery of an alert that a rule written by a monitoring engineer fired: their resource group, their name,
    their always-true query, no dimension (the leaked-key playbook's rotate and lock act on the target alone)."""
    body = json.loads(RAW)
    rule = "appteam-leaked-keys-dashboard"
    essentials = body["data"]["essentials"]
    essentials["alertId"] = f"/subscriptions/{SUB}/providers/Microsoft.AlertsManagement/alerts/{uuid.uuid4()}"
    essentials["alertRule"] = rule
    essentials["alertRuleID"] = (f"/subscriptions/{SUB}/resourceGroups/rg-ai-dev/providers/microsoft.insights/"
                                 f"scheduledqueryrules/{rule}")
    essentials["description"] = "Dashboard feed (counts every request)"
    essentials["originAlertId"] = f"{SUB}_rg-ai-dev_microsoft.insights_scheduledqueryrules_{rule}_1"
    condition = body["data"]["alertContext"]["condition"]["allOf"][0]
    condition["searchQuery"] = "AzureDiagnostics | summarize requests = count()"
    condition["threshold"] = "0"
    condition["dimensions"] = []
    if route_property:
        body["data"]["customProperties"] = {"firestop-playbook": "leaked-api-key"}
    else:  # routed by the playbook's rule_names glob *leaked*key*
        body["data"]["customProperties"] = {}
    return body


def _network(env) -> str | None:
    account = env.tenant.resource(ACCOUNT)
    return ((account.get("properties") or {}).get("networkAcls") or {}).get("defaultAction")


@pytest.mark.parametrize("route_property", [True, False], ids=["firestop-playbook-property", "rule-name-glob"])
def test_an_alert_rule_firestop_never_deployed_does_not_contain_on_its_own(served, route_property):  # noqa: F811
    env, server, app = served
    body = _foreign_rule_alert(route_property=route_property)
    keys_before = env.tenant.issued_key_values()
    network_before = _network(env)
    fire_genuine(env, json.dumps(body))  # Azure Monitor really fired it: the rule exists and its query is true
    incident = post_delivery(env, server, app, body)["id"]
    assert confirm_outcomes(env, incident) == ["not confirmed"]
    assert env.tenant.issued_key_values() == keys_before, "the production account's keys were rotated"
    assert _network(env) == network_before, "the production account's network was locked"
