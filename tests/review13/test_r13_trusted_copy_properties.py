"""R13-05 (low; rules14, RT17-01's trust anchor): a copy of a shipped detection is trusted when its criteria and its
``firestop-*`` properties equal the detection's — but a property whose deployed value comes from an infra placeholder
(``firestop-nsg: "{nsg_id}"``, ``firestop-apim: "{apim_id}"``, ``firestop-rai-policy: "{strict_rai_policy}"``) matches
*any* string without a quote, backslash or line break (``rule_trust._FREE``): Firestop does not know at run time what
``firestop infra`` was given. So the copy's author (Monitoring Contributor) chooses which NSG the trusted copy's
``network.block_ips`` step writes deny rules to, with Firestop's identity and no responder — README's Trust model says
the copy's ``firestop-*`` properties "must equal the detection's".

Bound today: Firestop's containment role is assigned only at the protected accounts and the NSGs ``firestop infra``
was given (README, write-back scopes), so the chosen NSG must be one of those; ``deployment.content_filter`` refuses
a policy that is not at least as strict. The IPs blocked are the real condition's (the criteria are identical).

Closed (rules16): a copy — any rule that is not Firestop's own deployed rule for the target (its resource group,
``<rule>-<account>`` or ``<rule>``: ``rule_trust.own_rule_ids``) — that sets such a property must set it as
Firestop's own deployed rule does (read through the source check's ``get_rule``); with none deployed there, or one
that cannot be read, it is not trusted (an admin may trust it, having read it). Firestop's own rule keeps the bound
above (whoever may edit it in the account's resource group could already edit its condition).
"""

from __future__ import annotations

import copy

import pytest

from tests.rules14.test_rule_trust import SUB, _check, deployed  # noqa: F401 (fixture)

VICTIM_NSG = f"/subscriptions/{SUB}/resourceGroups/rg-other-team/providers/Microsoft.Network/networkSecurityGroups/nsg-payments"


def _content_abuse_rule(ids, client) -> dict:
    for rule_id in ids[1:]:
        if "/scheduledqueryrules/" not in rule_id.lower() or "contoso-openai-prod" not in rule_id.lower():
            continue
        rule = client.get_rule(rule_id)
        properties = ((rule.get("properties") or {}).get("actions") or {}).get("customProperties") or {}
        if properties.get("firestop-playbook") == "content-abuse" and properties.get("firestop-nsg"):
            return rule
    pytest.fail("no deployed content-abuse rule with firestop-nsg on the production account")


def _copy(rule: dict, nsg: str | None) -> dict:
    copied = copy.deepcopy(rule)
    copied["id"] = rule["id"].replace("/rg-ai-prod/", "/rg-ai-dev/").rsplit("/", 1)[0] + "/appteam-copy"
    copied["name"] = "appteam-copy"
    if nsg is None:
        copied["properties"]["actions"]["customProperties"].pop("firestop-nsg")
    else:
        copied["properties"]["actions"]["customProperties"]["firestop-nsg"] = nsg
    return copied


def test_a_copy_naming_firestops_own_nsg_is_trusted(deployed):  # noqa: F811
    """The copy names the NSG Firestop's own deployed rule names (in another case too: ARM ids), or none: trusted."""
    tenant, ids, client, _, playbooks = deployed
    rule = _content_abuse_rule(ids, client)
    nsg = rule["properties"]["actions"]["customProperties"]["firestop-nsg"]
    assert _check(_copy(rule, nsg.upper()), playbooks, client, tenant, playbook="content-abuse") is None
    assert _check(_copy(rule, None), playbooks, client, tenant, playbook="content-abuse") is None


def test_a_copy_setting_an_nsg_with_no_own_rule_to_compare_is_not_trusted(deployed):  # noqa: F811
    """Firestop's own rule for the account deleted (or never deployed there): the copy's NSG is nobody's but its
    author's — not trusted, naming the ids looked at; without a rule reader neither (fail closed)."""
    from firestop.infra.rule_trust import trusted_detection

    tenant, ids, client, monitor, playbooks = deployed
    rule = _content_abuse_rule(ids, client)
    nsg = rule["properties"]["actions"]["customProperties"]["firestop-nsg"]
    monitor.scheduled_query_rules.delete("rg-ai-prod", rule["name"])
    why = _check(_copy(rule, nsg), playbooks, client, tenant, playbook="content-abuse")
    assert why is not None and "(firestop-nsg) are set but Firestop's own deployed rule is not there" in why, why
    why = trusted_detection(_copy(rule, nsg), playbooks["content-abuse"], target=rule["properties"]["scopes"][0].lower(),
                            read_workspace=client.get_workspace, workspace_guid=None,
                            automation_principal_id=tenant.credential.principal_id)
    assert why is not None and "cannot be compared with Firestop's own deployed rule" in why, why


def test_a_copy_naming_another_nsg_is_not_trusted(deployed):  # noqa: F811
    tenant, ids, client, _, playbooks = deployed
    for rule_id in ids[1:]:
        if "/scheduledqueryrules/" not in rule_id.lower() or "contoso-openai-prod" not in rule_id.lower():
            continue
        rule = client.get_rule(rule_id)
        properties = ((rule.get("properties") or {}).get("actions") or {}).get("customProperties") or {}
        if properties.get("firestop-playbook") == "content-abuse" and properties.get("firestop-nsg"):
            break
    else:
        pytest.fail("no deployed content-abuse rule with firestop-nsg on the production account")
    assert _check(rule, playbooks, client, tenant, playbook="content-abuse") is None  # Firestop's own: trusted
    copied = copy.deepcopy(rule)
    copied["id"] = rule["id"].replace("/rg-ai-prod/", "/rg-ai-dev/").rsplit("/", 1)[0] + "/appteam-copy"
    copied["name"] = "appteam-copy"
    copied["properties"]["actions"]["customProperties"]["firestop-nsg"] = VICTIM_NSG
    why = _check(copied, playbooks, client, tenant, playbook="content-abuse")
    assert why is not None and "firestop-* custom properties" in why, why  # rough15: None (trusted)
    assert "(firestop-nsg) differ from Firestop's own deployed rule" in why and rule["name"] in why, why
