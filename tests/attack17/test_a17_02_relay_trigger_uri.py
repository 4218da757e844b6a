"""A17-02 (attacker E, Security Admin; high, not fixed: strict xfail): the Defender route check passes an automation
that calls another Logic App.

trust17's check (``monitoring.alert-rules`` ``_defender_route``) counts a Defender-only playbook fed when an enabled
workflow automation has a ``LogicApp`` action whose ``logicAppResourceId`` is in ``FIRESTOP_DEFENDER_RELAY``. What
Defender for Cloud calls is the action's ``uri`` — "The Logic App trigger URI endpoint (it will not be included in any
response)" (``AutomationActionLogicApp``, azure-rest-api-specs ``Microsoft.Security/preview/2019-01-01-preview/
automations.json``); ``logicAppResourceId`` is "The triggered Logic App Azure Resource ID", a label the caller gives
beside it. A Security Admin (``Microsoft.Security/*``) PUTs the automation keeping the relay's resource id and giving
the trigger URI of any other Logic App (or a typo): the four Defender-only playbooks are starved and the control —
which cannot read the URI back — passes. The sandbox hides it: its detector delivers by ``logicAppResourceId`` and
never by the ``uri`` it keeps.

Fix (not done here: needs a design): the URI is write-only, so no read of the automation can tell. An end-to-end
check can: Defender's alerts of the AI plan in the subscription (``Microsoft.Security/alerts`` list, read) set against
the relay's runs (``Microsoft.Logic/workflows/{relay}/runs``, read) or Firestop's own intake of them; an alert raised
with no relay run after it means the route is broken, whatever the automation says. Until then the control's pass
means "an automation names the relay", and the README should say so.
"""

from __future__ import annotations

import pytest

from tests.trust17.test_t17_defender_route import RG, _control, deployed  # noqa: F401 - the fixture


@pytest.mark.xfail(strict=True, reason="A17-02: an automation's trigger uri is write-only; the control trusts "
                                        "logicAppResourceId, which Defender does not call (needs an end-to-end check)")
def test_an_automation_naming_the_relay_but_calling_another_trigger_does_not_feed(deployed):  # noqa: F811
    tenant, security = deployed
    [automation] = list(security.automations.list())
    # keep the relay's id as the label, point the call elsewhere (what Defender for Cloud posts to)
    automation.actions[0].uri = ("https://prod-07.westeurope.logic.azure.com/workflows/0123456789abcdef/triggers/manual/"
                                 "paths/invoke?api-version=2016-10-01&sig=not-the-relay")
    security.automations.create_or_update(RG, automation.name, automation)
    result = _control(tenant)
    assert result.status.value != "pass", result.detail
