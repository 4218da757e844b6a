"""A17-02 (attacker E, Security Admin; high; fixed by defender18): the Defender route check passed an automation that
calls another Logic App.

trust17's check (``monitoring.alert-rules`` ``_defender_route``) counted a Defender-only playbook fed when an enabled
workflow automation had a ``LogicApp`` action whose ``logicAppResourceId`` is in ``FIRESTOP_DEFENDER_RELAY``. What
Defender for Cloud calls is the action's ``uri`` — "The Logic App trigger URI endpoint (it will not be included in any
response)" (``AutomationActionLogicApp``, azure-rest-api-specs ``Microsoft.Security/preview/2019-01-01-preview/
automations.json``); ``logicAppResourceId`` is "The triggered Logic App Azure Resource ID", a label the caller gives
beside it. A Security Admin (``Microsoft.Security/*``) PUTs the automation keeping the relay's resource id and giving
the trigger URI of any other Logic App (or a typo): the four Defender-only playbooks are starved and the control —
which cannot read the URI back — passed. The sandbox hid it: its detector delivered by ``logicAppResourceId``.

Fix (defender18): a configured route is judged end to end — Defender's alerts the automation exports
(``Microsoft.Security/alerts`` list, REST 2022-01-01) against the receipts ``POST /api/alerts`` keeps of the Defender
alerts it received (:mod:`firestop.records.defender_receipts`); an alert raised that never arrived fails the control
naming it and the automation; none raised is "not proven", never a pass. The sandbox now delivers by the action's
``uri``. This test failed before (strict xfail: the control passed on the diverted automation); the end-to-end path
through the real webhook is ``tests/defender18/test_d18_relay_proof.py``.
"""

from __future__ import annotations

from tests.defender18.relay import relay_raised_alerts
from tests.trust17.test_t17_defender_route import RG, _control, deployed  # noqa: F401 - the fixture

ELSEWHERE = ("https://prod-07.westeurope.logic.azure.com/workflows/0123456789abcdef/triggers/manual/"
             "paths/invoke?api-version=2016-10-01&sig=not-the-relay")


def test_an_automation_naming_the_relay_but_calling_another_trigger_does_not_feed(deployed):  # noqa: F811
    tenant, security = deployed
    [automation] = list(security.automations.list())
    # keep the relay's id as the label, point the call elsewhere (what Defender for Cloud posts to)
    automation.actions[0].uri = ELSEWHERE
    security.automations.create_or_update(RG, automation.name, automation)
    assert relay_raised_alerts(tenant) == []  # the sandbox delivers by the uri now: Firestop received nothing
    result = _control(tenant)
    assert result.status.value == "fail", result.detail
    for name in ("ai-credential-theft", "ai-risky-service-principal", "ai-sensitive-data-exposure", "ai-suspicious-user-agent"):
        assert f"{name} (Defender plan AI: Standard; Defender raised " in result.detail, result.detail
    assert "reached no Firestop intake" in result.detail and "exported by 'firestop-relay'" in result.detail, result.detail
    assert "2516935104300000001_00000001-1111-4a2b-8c3d-000000000001 (AI.Azure_CredentialTheftAttempt" in result.detail
