"""Scripted LRO faults (slow operation, operation ending Failed/Canceled) through the real SDK pollers."""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError
from azure.mgmt.cognitiveservices.models import Account, AccountProperties, NetworkRuleSet
from azure.mgmt.network import NetworkManagementClient
from azure.mgmt.network.models import SecurityRule, SecurityRulePropertiesFormat

from .conftest import ACCOUNT, ACCOUNT_ID, RG, SUB

NSG = "nsg-ai-apps"
NSG_ID = f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Network/networkSecurityGroups/{NSG}"
DENY_ALL = Account(properties=AccountProperties(network_acls=NetworkRuleSet(default_action="Deny", ip_rules=[])))


@pytest.fixture
def net(tenant):
    return NetworkManagementClient(tenant.credential, SUB, transport=tenant.transport)


def _deny(ip: str, priority: int = 300) -> SecurityRule:
    return SecurityRule(
        properties=SecurityRulePropertiesFormat(
            protocol="*", access="Deny", priority=priority, direction="Inbound",
            source_address_prefix=ip, destination_address_prefix="*", source_port_range="*", destination_port_range="*",
        )
    )


def test_slow_lro_is_polled_until_done_on_the_virtual_clock(tenant, cs, wall):
    tenant.inject_lro_fault("accounts.update", seconds=300)
    start = tenant.clock.now()
    with wall() as w:
        result = cs.accounts.begin_update(RG, ACCOUNT, DENY_ALL).result()
    assert result.properties.network_acls.default_action == "Deny"
    elapsed = (tenant.clock.now() - start).total_seconds()
    assert 300 <= elapsed <= 332, elapsed  # done at +300 s; the poller waits its default 30 s between polls
    polls = [e for e in tenant.requests if e.operation == "operations.get"]
    assert 10 <= len(polls) <= 11
    assert w.elapsed < 3.0
    [fired] = tenant.faults
    assert (fired.operation, fired.kind, fired.status, fired.source) == ("accounts.update", "SlowOperation", None, "scripted")
    assert fired.at == start


def test_slow_lro_applies_to_the_nth_lro_only(tenant, cs):
    tenant.inject_lro_fault("accounts.update", seconds=120, nth=2)
    cs.accounts.begin_update(RG, ACCOUNT, Account(tags={"a": "1"})).result()  # synchronous 200: starts no LRO, not counted
    t0 = tenant.clock.now()
    cs.accounts.begin_update(RG, ACCOUNT, DENY_ALL).result()  # LRO 1: normal (20 s)
    t1 = tenant.clock.now()
    cs.accounts.begin_update(RG, ACCOUNT, Account(properties=AccountProperties(disable_local_auth=True))).result()  # LRO 2: slow
    t2 = tenant.clock.now()
    assert (t1 - t0).total_seconds() < 40 <= 120 <= (t2 - t1).total_seconds()
    assert [f.kind for f in tenant.faults] == ["SlowOperation"]


def test_account_patch_that_ends_failed_raises_and_changes_nothing_but_the_state(tenant, cs):
    before = tenant.resource(ACCOUNT_ID)
    tenant.inject_lro_fault("accounts.update", outcome="Failed", code="InternalServerError", message="RP failure")
    with pytest.raises(HttpResponseError) as err:
        cs.accounts.begin_update(RG, ACCOUNT, DENY_ALL).result()
    # azure-core's ARMPolling reads status "Failed" from Azure-AsyncOperation and raises with its error
    assert err.value.error.code == "InternalServerError"
    assert "RP failure" in str(err.value)
    after = tenant.resource(ACCOUNT_ID)
    assert after["properties"]["provisioningState"] == "Failed"
    assert after["properties"]["networkAcls"] == before["properties"]["networkAcls"]
    assert after["etag"] != before["etag"]
    assert [(f.kind, f.status) for f in tenant.faults] == [("OperationFailed", None)]
    # the account accepts the next write (no operation is left in flight)
    assert cs.accounts.begin_update(RG, ACCOUNT, DENY_ALL).result().properties.provisioning_state == "Succeeded"


def test_failed_operation_status_and_location_bodies(tenant, cs):
    from azure.core.rest import HttpRequest

    tenant.inject_lro_fault("accounts.update", outcome="Failed", code="Conflict", message="nope", seconds=30)
    seen = []
    cs.accounts.begin_update(RG, ACCOUNT, DENY_ALL, polling=False, raw_response_hook=lambda r: seen.append(r.http_response)).result()
    headers = seen[0].headers
    running = cs._client.send_request(HttpRequest("GET", headers["Azure-AsyncOperation"]))
    assert running.json()["status"] == "InProgress" and "error" not in running.json()
    tenant.clock.advance(30)
    status = cs._client.send_request(HttpRequest("GET", headers["Azure-AsyncOperation"])).json()
    assert status["status"] == "Failed"
    assert status["error"] == {"code": "Conflict", "message": "nope"}
    assert set(status) == {"id", "name", "status", "startTime", "endTime", "error"}
    location = cs._client.send_request(HttpRequest("GET", headers["Location"]))
    assert location.status_code == 500 and location.json()["error"]["code"] == "Conflict"


def test_nsg_rule_create_that_ends_failed_creates_no_rule(tenant, net):
    tenant.inject_lro_fault("securityRules.createOrUpdate", outcome="Failed")
    with pytest.raises(HttpResponseError) as err:
        net.security_rules.begin_create_or_update(RG, NSG, "deny-attacker", _deny("203.0.113.77")).result()
    assert err.value.error.code == "InternalServerError"
    rules = tenant.resource(NSG_ID)["properties"]["securityRules"]
    assert [r["name"] for r in rules] == ["allow-https-from-gateway"]


def test_nsg_rule_delete_that_is_canceled_keeps_the_rule(tenant, net):
    tenant.inject_lro_fault("securityRules.delete", outcome="Canceled")
    with pytest.raises(HttpResponseError) as err:
        net.security_rules.begin_delete(RG, NSG, "allow-https-from-gateway").result()
    assert err.value.error.code == "OperationCanceled"
    rule = net.security_rules.get(RG, NSG, "allow-https-from-gateway")
    assert rule.properties.provisioning_state == "Canceled" and rule.properties.priority == 200
    assert tenant.faults[0].kind == "OperationCanceled"


def test_lro_faults_persist_with_the_tenant(tmp_path):
    from firestop.sandbox import Tenant

    first = Tenant.open(tmp_path)
    first.inject_lro_fault("accounts.update", outcome="Failed")
    second = Tenant.open(tmp_path)
    from azure.mgmt.cognitiveservices import CognitiveServicesManagementClient

    cs = CognitiveServicesManagementClient(second.credential, SUB, transport=second.transport)
    with pytest.raises(HttpResponseError):
        cs.accounts.begin_update(RG, ACCOUNT, DENY_ALL).result()
    assert [f.kind for f in Tenant.open(tmp_path).faults] == ["OperationFailed"]


def test_inject_lro_fault_validates_its_arguments(tenant):
    with pytest.raises(ValueError):
        tenant.inject_lro_fault("accounts.get", seconds=10)  # not an LRO
    with pytest.raises(ValueError):
        tenant.inject_lro_fault("accounts.update")  # neither slow nor failing
    with pytest.raises(ValueError):
        tenant.inject_lro_fault("accounts.update", outcome="Exploded")
    with pytest.raises(ValueError):
        tenant.inject_lro_fault("accounts.update", seconds=-1)
