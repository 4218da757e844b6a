"""A recorded state (a runbook's ``before``, what an undo restores) as a responder reads it, for text output.

:func:`state_lines` turns a state dict into lines: NSG security rules (the ``securityRules`` value the network
runbooks record, :mod:`runbooks.network`) one rule a line, the way the Azure portal's rule table reads —
name, direction, priority, access, protocol, source → destination, ports::

    allow-https-from-gateway: Inbound, priority 200, Allow Tcp from 198.51.100.0/24 to any, port 443

Role assignments (``identity.revoke_role_assignment``'s
``assignments``) one a line too: name, role definition, who holds it, scope, description. Any other field is
``name = compact JSON``; ``etag`` is left out (a concurrency token, nothing to restore).
``--json`` output never goes through here: it keeps the recorded values as they are.

Rule fields are those of ARM's ``SecurityRulePropertiesFormat`` (REST spec
``specification/network/resource-manager/Microsoft.Network/stable/<api-version>/networkSecurityGroup.json``):
``protocol``, ``access``, ``priority``, ``direction``, ``source``/``destinationAddressPrefix(es)``,
``source``/``destinationApplicationSecurityGroups`` (``[{"id"}]``), ``source``/``destinationPortRange(s)``;
``*`` means any. A rule is read either as ARM sends it (``{"name", "properties": {…}}``) or flat
(``{"name", "access", …}``; Firestop's own deny rules name their source as ``network``).
The lines are plain text, not yet cleaned: print them with :func:`firestop.cli.output.clean` and ``markup=False``.
"""

from __future__ import annotations

from typing import Any

from firestop.cli.output import compact

#: Rules shown per state field at most; the rest are counted (an NSG holds at most 1,000 rules — Azure
#: subscription limits, "Networking limits": security rules per network security group).
MAX_RULES_SHOWN = 50


def _values(props: dict[str, Any], single: str, plural: str, groups: str | None = None) -> list[str]:
    values = [str(v) for v in props.get(plural) or [] if v not in (None, "")]
    if props.get(single) not in (None, ""):
        values.insert(0, str(props[single]))
    for group in (props.get(groups) or []) if groups else []:
        gid = group.get("id") if isinstance(group, dict) else group
        if gid:
            values.append("ASG " + str(gid).rstrip("/").rsplit("/", 1)[-1])
    return values


def _any(values: list[str], word: str = "any") -> str:
    return word if not values or values == ["*"] else ", ".join(values)


def nsg_rule_line(rule: dict[str, Any]) -> str:
    """One NSG security rule as one line (the module doc shows the form)."""
    props = rule.get("properties") if isinstance(rule.get("properties"), dict) else rule
    name = rule.get("name") or "(unnamed rule)"
    protocol = props.get("protocol")
    protocol = "any protocol" if protocol in (None, "", "*") else str(protocol)
    source = _any(_values(props, "sourceAddressPrefix", "sourceAddressPrefixes", "sourceApplicationSecurityGroups")
                  or ([str(props["network"])] if props.get("network") else []))
    destination = _any(_values(props, "destinationAddressPrefix", "destinationAddressPrefixes",
                               "destinationApplicationSecurityGroups"))
    source_ports = _values(props, "sourcePortRange", "sourcePortRanges")
    ports = _values(props, "destinationPortRange", "destinationPortRanges")
    from_ports = "" if _any(source_ports) == "any" else f" {'port' if len(source_ports) == 1 else 'ports'} {_any(source_ports)}"
    to_ports = "any port" if _any(ports) == "any" else f"{'port' if len(ports) == 1 else 'ports'} {_any(ports)}"
    return (f"{name}: {props.get('direction') or '?'}, priority {props.get('priority', '?')}, {props.get('access') or '?'} "
            f"{protocol} from {source}{from_ports} to {destination}, {to_ports}")


def role_assignment_line(assignment: dict[str, Any]) -> str:
    """One Azure role assignment as one line: ``<name>: role definition <id's last segment> held by <principalType>
    <principalId> at <scope> — <description>``, a built-in role named as ``<role name> (<guid>)``
    (:func:`firestop.azure.builtin_roles.role_label`) (ARM's ``RoleAssignmentProperties``, Microsoft.Authorization
    2022-04-01: ``roleDefinitionId``, ``principalId``, ``principalType``, ``scope``, ``description``)."""
    props = assignment.get("properties") if isinstance(assignment.get("properties"), dict) else assignment
    name = assignment.get("name") or str(assignment.get("id") or "(unnamed assignment)").rstrip("/").rsplit("/", 1)[-1]
    from firestop.azure.builtin_roles import BUILTIN_ROLE_NAMES, role_label

    role = str(props.get("roleDefinitionId") or "?").rstrip("/").rsplit("/", 1)[-1]
    role = role_label(role) if role.lower() in BUILTIN_ROLE_NAMES else f"role definition {role}"
    holder = " ".join(str(v) for v in (props.get("principalType"), props.get("principalId")) if v) or "?"
    line = f"{name}: {role} held by {holder} at {props.get('scope') or '?'}"
    return f"{line} — {props['description']}" if props.get("description") else line


def _is_role_assignments(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(
        isinstance(a, dict) and str(a.get("type", "")).lower() == "microsoft.authorization/roleassignments" for a in value)


def _is_rules(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(r, dict) and "name" in r for r in value)


def state_lines(state: dict[str, Any] | None) -> list[str]:
    """``state`` as lines (the module doc); [] for an empty state. NSG rule lists are sorted by direction and priority,
    as Azure evaluates them, at most :data:`MAX_RULES_SHOWN` each."""
    lines: list[str] = []
    for key, value in (state or {}).items():
        if key == "etag":
            continue
        if key == "securityRules" and _is_rules(value):
            rules = sorted(value, key=lambda r: (str((r.get("properties") or r).get("direction") or ""),
                                                 _priority(r), str(r.get("name"))))
            lines.append(f"{key}: {len(rules)} rule{'' if len(rules) == 1 else 's'}" + ("" if rules else " (none)"))
            lines.extend("  " + nsg_rule_line(r) for r in rules[:MAX_RULES_SHOWN])
            if len(rules) > MAX_RULES_SHOWN:
                lines.append(f"  … and {len(rules) - MAX_RULES_SHOWN} more (--json shows every one)")
            continue
        if _is_role_assignments(value):  # identity.revoke_role_assignment's before-state
            lines.append(f"{key}: {len(value)} role assignment{'' if len(value) == 1 else 's'}")
            lines.extend("  " + role_assignment_line(a) for a in value[:MAX_RULES_SHOWN])
            if len(value) > MAX_RULES_SHOWN:
                lines.append(f"  … and {len(value) - MAX_RULES_SHOWN} more (--json shows every one)")
            continue
        lines.append(f"{key} = {compact(value)}")
    return lines


def restore_lines(state: dict[str, Any] | None) -> tuple[str, list[str]]:
    """What an undo preview says it restores: (the end of its first line, indented lines under it)."""
    lines = state_lines(state if isinstance(state, dict) else None)
    if not lines:
        return "the state before", []
    if len(lines) == 1:
        return lines[0], []
    return "", ["  " + line for line in lines]


def _priority(rule: dict[str, Any]) -> int:
    value = (rule.get("properties") if isinstance(rule.get("properties"), dict) else rule).get("priority")
    return value if isinstance(value, int) else 1 << 30
