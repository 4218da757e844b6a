"""NSG security rules through the real NetworkManagementClient (azure-mgmt-network 33.1.0)."""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.mgmt.network import NetworkManagementClient
from azure.mgmt.network.models import SecurityRule, SecurityRulePropertiesFormat

from .conftest import RG, SUB

NSG = "nsg-ai-apps"
NSG_ID = f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Network/networkSecurityGroups/{NSG}"


@pytest.fixture
def net(tenant):
    return NetworkManagementClient(tenant.credential, SUB, transport=tenant.transport)


def _deny(ip: str, priority: int = 100) -> SecurityRule:
    return SecurityRule(
        properties=SecurityRulePropertiesFormat(
            protocol="*", access="Deny", priority=priority, direction="Inbound",
            source_address_prefix=ip, destination_address_prefix="*", source_port_range="*", destination_port_range="*",
        )
    )


def test_nsg_get_has_custom_and_default_rules(net):
    nsg = net.network_security_groups.get(RG, NSG)
    assert [r.name for r in nsg.properties.security_rules] == ["allow-https-from-gateway"]
    assert {r.properties.priority for r in nsg.properties.default_security_rules} == {65000, 65001, 65500}
    assert nsg.etag.startswith('W/"')


def test_create_rule_is_an_lro_and_appears_when_done(tenant, net, wall):
    start = tenant.clock.now()
    with wall() as w:
        rule = net.security_rules.begin_create_or_update(RG, NSG, "deny-attacker", _deny("203.0.113.77")).result()
    assert rule.properties.provisioning_state == "Succeeded"
    assert rule.properties.access == "Deny" and rule.properties.source_address_prefix == "203.0.113.77"
    assert 30 <= (tenant.clock.now() - start).total_seconds() <= 31.5  # done at 10 s, first poll at the SDK's 30 s
    assert w.elapsed < 2.0
    statuses = [(e.operation, e.status) for e in tenant.requests]
    assert statuses[0] == ("securityRules.createOrUpdate", 201)
    assert ("operations.get", 200) in statuses and statuses[-1] == ("securityRules.get", 200)
    nsg = tenant.resource(NSG_ID)
    assert [r["name"] for r in nsg["properties"]["securityRules"]] == ["allow-https-from-gateway", "deny-attacker"]
    assert nsg["etag"] == rule.etag


def test_rule_is_invisible_until_the_operation_completes(tenant, net):
    net.security_rules.begin_create_or_update(RG, NSG, "deny-attacker", _deny("203.0.113.77"), polling=False).result()
    with pytest.raises(ResourceNotFoundError):
        net.security_rules.get(RG, NSG, "deny-attacker")
    tenant.clock.advance(10)
    assert net.security_rules.get(RG, NSG, "deny-attacker").properties.priority == 100


def test_replacing_a_rule_answers_200_and_replaces_all_properties(tenant, net):
    seen = []
    body = SecurityRule(properties=SecurityRulePropertiesFormat(protocol="Tcp", access="Deny", priority=200, direction="Inbound"))
    net.security_rules.begin_create_or_update(
        RG, NSG, "allow-https-from-gateway", body, raw_response_hook=lambda r: seen.append(r.http_response.status_code)
    ).result()
    assert seen[0] == 200
    props = net.security_rules.get(RG, NSG, "allow-https-from-gateway").properties
    assert props.access == "Deny" and props.destination_port_range is None  # PUT replaces, no merge


def test_delete_rule(tenant, net):
    net.security_rules.begin_delete(RG, NSG, "allow-https-from-gateway").result()
    assert list(net.security_rules.list(RG, NSG)) == []
    assert [e.status for e in tenant.requests if e.operation == "securityRules.delete"] == [202]
    net.security_rules.begin_delete(RG, NSG, "allow-https-from-gateway").result()  # already gone: 204
    assert [e.status for e in tenant.requests if e.operation == "securityRules.delete"] == [202, 204]


def test_duplicate_priority_and_direction_is_rejected(net):
    with pytest.raises(HttpResponseError) as err:
        net.security_rules.begin_create_or_update(RG, NSG, "dup", _deny("203.0.113.77", priority=200)).result()
    assert err.value.status_code == 400 and err.value.error.code == "SecurityRuleConflict"


@pytest.mark.parametrize(
    "props",
    [
        {"access": "Deny", "priority": 300, "direction": "Inbound"},  # protocol missing
        {"protocol": "Tcp", "access": "Block", "priority": 300, "direction": "Inbound"},
        {"protocol": "Tcp", "access": "Deny", "priority": 50, "direction": "Inbound"},
    ],
)
def test_invalid_rules_are_400(net, props):
    import io
    import json

    with pytest.raises(HttpResponseError) as err:
        net.security_rules.begin_create_or_update(
            RG, NSG, "bad", io.BytesIO(json.dumps({"properties": props}).encode()), content_type="application/json"
        ).result()
    assert err.value.status_code == 400


def test_writes_on_a_busy_nsg_are_throttled_then_succeed_via_sdk_retries(tenant, net):
    net.security_rules.begin_create_or_update(RG, NSG, "deny-a", _deny("203.0.113.77", 100), polling=False).result()
    rule = net.security_rules.begin_create_or_update(RG, NSG, "deny-b", _deny("203.0.113.78", 110)).result()
    assert rule.name == "deny-b"
    puts = [e.status for e in tenant.requests if e.operation == "securityRules.createOrUpdate"]
    assert puts[0] == 201 and 429 in puts and puts[-1] == 201
    names = [r["name"] for r in tenant.resource(NSG_ID)["properties"]["securityRules"]]
    assert names == ["allow-https-from-gateway", "deny-a", "deny-b"]


def test_if_match_on_rule_put(tenant, net):
    current = net.security_rules.get(RG, NSG, "allow-https-from-gateway").etag
    body = SecurityRule(properties=SecurityRulePropertiesFormat(protocol="Tcp", access="Allow", priority=200, direction="Inbound"))
    with pytest.raises(HttpResponseError) as err:
        net.security_rules.begin_create_or_update(RG, NSG, "allow-https-from-gateway", body, headers={"If-Match": 'W/"stale"'}).result()
    assert err.value.status_code == 412
    net.security_rules.begin_create_or_update(RG, NSG, "allow-https-from-gateway", body, headers={"If-Match": current}).result()
    assert net.security_rules.get(RG, NSG, "allow-https-from-gateway").etag != current


def test_unknown_nsg_is_404(net):
    with pytest.raises(ResourceNotFoundError):
        net.network_security_groups.get(RG, "nsg-missing")
