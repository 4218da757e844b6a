"""A recorded state as text (firestop.cli.state_text): NSG rules one a line, as the portal's rule table reads."""

from __future__ import annotations

from firestop.cli.state_text import MAX_RULES_SHOWN, nsg_rule_line, restore_lines, state_lines


def test_an_arm_rule_with_plural_prefixes_groups_and_port_ranges_reads_as_one_line():
    rule = {"name": "allow-apps", "etag": "W/\"1\"", "properties": {
        "direction": "Outbound", "priority": 310, "access": "Allow", "protocol": "Udp",
        "sourceAddressPrefixes": ["10.0.0.0/24", "10.0.1.0/24"], "sourcePortRange": "1024-65535",
        "destinationApplicationSecurityGroups": [{"id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/applicationSecurityGroups/asg-db"}],
        "destinationPortRanges": ["53", "5353"]}}
    assert nsg_rule_line(rule) == ("allow-apps: Outbound, priority 310, Allow Udp from 10.0.0.0/24, 10.0.1.0/24 port 1024-65535 "
                                   "to ASG asg-db, ports 53, 5353")


def test_a_flat_firestop_deny_rule_names_its_network_as_the_source():
    assert nsg_rule_line({"name": "firestop-x", "network": "203.0.113.7/32", "priority": 100, "direction": "Inbound",
                          "access": "Deny"}) == "firestop-x: Inbound, priority 100, Deny any protocol from 203.0.113.7/32 to any, any port"


def test_rules_sorted_as_azure_evaluates_them_and_other_fields_as_json():
    rules = [{"name": n, "properties": {"direction": d, "priority": p, "access": "Deny", "protocol": "*",
                                        "sourceAddressPrefix": "*", "destinationAddressPrefix": "*", "destinationPortRange": "*"}}
             for n, d, p in (("c", "Outbound", 100), ("b", "Inbound", 300), ("a", "Inbound", 200))]
    lines = state_lines({"etag": "x", "securityRules": rules, "tags": {"k": True}})
    assert lines[0] == "securityRules: 3 rules"
    assert [line.split(":")[0].strip() for line in lines[1:4]] == ["a", "b", "c"]
    assert lines[4] == 'tags = {"k": true}' and len(lines) == 5  # etag: nothing to restore


def test_an_empty_list_a_long_list_and_an_empty_state():
    assert restore_lines({"securityRules": []}) == ("securityRules: 0 rules (none)", [])
    assert restore_lines(None) == ("the state before", [])
    many = [{"name": f"r{i}", "properties": {"priority": 100 + i, "direction": "Inbound"}} for i in range(MAX_RULES_SHOWN + 7)]
    head, below = restore_lines({"securityRules": many})
    assert head == "" and len(below) == MAX_RULES_SHOWN + 2
    assert below[-1] == "    … and 7 more (--json shows every one)"


def test_role_assignments_one_a_line_naming_role_principal_and_scope():
    """New user 13: undoing identity.revoke_role_assignment previewed 'assignments = [{"id": …, "properties":
    {"condition": null, …}}]' — the assignment it restores as one line of ARM JSON, where NSG rules read as the
    portal's table. Now one line per assignment: its name, the role, who holds it, at which scope, its description."""
    sub = "/subscriptions/11111111-2222-3333-4444-555555555555"
    account = sub + "/resourceGroups/rg-ai-prod/providers/Microsoft.CognitiveServices/accounts/contoso-openai-prod"
    assignment = {"id": account + "/providers/Microsoft.Authorization/roleAssignments/5e6f", "name": "5e6f",
                  "type": "Microsoft.Authorization/roleAssignments",
                  "properties": {"condition": None, "principalId": "d4c3", "principalType": "ServicePrincipal",
                                 "roleDefinitionId": sub + "/providers/Microsoft.Authorization/roleDefinitions/25fbc0a9",
                                 "scope": account, "description": "build-pipeline-sp"}}
    lines = state_lines({"assignments": [assignment], "inherited": [], "principal_id": "d4c3"})
    assert lines == ["assignments: 1 role assignment",
                     f"  5e6f: role definition 25fbc0a9 held by ServicePrincipal d4c3 at {account} — build-pipeline-sp",
                     "inherited = []", "principal_id = d4c3"], lines
