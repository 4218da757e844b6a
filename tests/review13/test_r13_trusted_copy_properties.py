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

Left (xfail): closing it needs the deployed values at run time — e.g. infra writing its ``nsgId``/``apimId``/
``strictRaiPolicy`` parameters to app settings the trust check matches the placeholders against (a GUID or empty
when unset, as ``{automation_principal_id}`` is), or the check comparing the copy's properties with those of
Firestop's own deployed rule for the same account.
"""

from __future__ import annotations

import copy

import pytest

from tests.rules14.test_rule_trust import SUB, _check, deployed  # noqa: F401 (fixture)

VICTIM_NSG = f"/subscriptions/{SUB}/resourceGroups/rg-other-team/providers/Microsoft.Network/networkSecurityGroups/nsg-payments"


@pytest.mark.xfail(strict=True, reason="R13-05: placeholder-valued firestop-* properties of a trusted copy are free "
                   "(Firestop does not know the deployed nsgId/apimId/strictRaiPolicy at run time)")
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
