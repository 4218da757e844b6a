"""Defender for Cloud state and ARM JSON: ``doc["security"]`` = ``{"alerts": {...}, "pricings": {...}}``.

Both tables are keyed by the lower-case ARM id and created on first use (tenants
persisted before this room existed still load).

* Alerts: REST 2022-01-01 ``Alert`` (``Microsoft.Security/Locations/alerts``),
  shape of the spec example ``GetAlertSubscriptionLocation_example.json``
  (``tests/sandbox/data/security/``). An alert on a resource in a resource group
  lives at ``/subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.Security/locations/{asc}/alerts/{name}``.
* Pricings: REST 2024-01-01 ``Pricing`` (``Microsoft.Security/pricings``), shape of
  ``GetPricingByNameCloudPosture_example.json``. Subscription pricings are stored
  for every plan in :data:`PLANS`; a resource-level pricing is stored only when set
  (a GET at resource scope without one answers the subscription's plan with
  ``inherited: "True"``, as ``GetResourcePricingByNameVirtualMachines_example.json`` shows).
"""

from __future__ import annotations

import copy
from typing import Optional

ALERT_TYPE = "Microsoft.Security/Locations/alerts"
PRICING_TYPE = "Microsoft.Security/pricings"
PRICINGS = "/providers/Microsoft.Security/pricings"

#: Plan names of pricings 2024-01-01 (the ``pricingName`` values of the REST examples and the
#: Defender for Cloud plan list; ``AI`` is "Defender for AI services", threat protection for AI workloads).
PLANS = (
    "VirtualMachines", "SqlServers", "AppServices", "StorageAccounts", "SqlServerVirtualMachines",
    "KeyVaults", "Dns", "Arm", "OpenSourceRelationalDatabases", "Containers", "CosmosDbs",
    "CloudPosture", "Api", "AI",
)
#: ``pricingTier`` values (REST 2024-01-01 ``PricingTier`` enum).
TIERS = ("Free", "Standard")
#: Alert status values (REST 2022-01-01 ``AlertStatus`` enum) and the POST action that sets each.
STATUS_OF_ACTION = {"resolve": "Resolved", "dismiss": "Dismissed", "activate": "Active", "inprogress": "InProgress"}


def security(state) -> dict:
    """The mutable ``{"alerts": {}, "pricings": {}}`` section of ``state`` (created when missing)."""
    section = state.doc.setdefault("security", {})
    section.setdefault("alerts", {})
    section.setdefault("pricings", {})
    return section


def alerts(state) -> dict:
    return security(state)["alerts"]


def pricings(state) -> dict:
    return security(state)["pricings"]


def alert_id(subscription_id: str, resource_group: Optional[str], location: str, name: str) -> str:
    """The ARM id of an alert (resource-group level when ``resource_group`` is given)."""
    rg = f"/resourceGroups/{resource_group}" if resource_group else ""
    return f"/subscriptions/{subscription_id}{rg}/providers/Microsoft.Security/locations/{location}/alerts/{name}"


def new_alert(
    *, subscription_id: str, resource_group: Optional[str], location: str, name: str, alert_type: str,
    display_name: str, description: str, severity: str, intent: str, start: str, end: str, generated: str,
    resource_id: str, compromised_entity: str, entities: list, extended_properties: dict,
    remediation_steps: list, status: str = "Active",
) -> dict:
    """An alert's ARM JSON as 2022-01-01 returns it (members of the spec example)."""
    rg_part = f"/resourceGroup/{resource_group}" if resource_group else ""
    return {
        "id": alert_id(subscription_id, resource_group, location, name),
        "name": name,
        "type": ALERT_TYPE,
        "properties": {
            "version": "2022-01-01",
            "alertType": alert_type,
            "systemAlertId": name,
            "productComponentName": "AI",
            "alertDisplayName": display_name,
            "description": description,
            "severity": severity,
            "intent": intent,
            "startTimeUtc": start,
            "endTimeUtc": end,
            "resourceIdentifiers": [{"azureResourceId": resource_id, "type": "AzureResource"}],
            "remediationSteps": list(remediation_steps),
            "vendorName": "Microsoft",
            "status": status,
            "extendedLinks": [],
            "alertUri": (
                f"https://portal.azure.com/#blade/Microsoft_Azure_Security/AlertBlade/alertId/{name}"
                f"/subscriptionId/{subscription_id}{rg_part}/referencedFrom/alertDeepLink/location/{location}"
            ),
            "timeGeneratedUtc": generated,
            "productName": "Microsoft Defender for Cloud",
            "processingEndTimeUtc": generated,
            "entities": copy.deepcopy(entities),
            "isIncident": False,
            "correlationKey": None,
            "extendedProperties": dict(extended_properties),
            "compromisedEntity": compromised_entity,
            "techniques": [],
            "subTechniques": [],
            "supportingEvidence": None,
        },
    }


def pricing_id(scope: str, name: str) -> str:
    return f"{scope.rstrip('/')}{PRICINGS}/{name}"


def new_pricing(*, scope: str, name: str, tier: str, enabled_at: Optional[str], sub_plan: Optional[str] = None,
                extensions: Optional[list] = None) -> dict:
    """A pricing's ARM JSON as 2024-01-01 returns it (members of the spec example; ``enablementTime``
    only on Standard; ``resourcesCoverageStatus`` FullyCovered for Standard, NotCovered for Free)."""
    props: dict = {"pricingTier": tier}
    if sub_plan:
        props["subPlan"] = sub_plan
    props["freeTrialRemainingTime"] = "PT0S"
    if tier == "Standard" and enabled_at:
        props["enablementTime"] = enabled_at
    props["enforce"] = "False"
    props["resourcesCoverageStatus"] = "FullyCovered" if tier == "Standard" else "NotCovered"
    if extensions:
        props["extensions"] = copy.deepcopy(extensions)
    return {"id": pricing_id(scope, name), "name": name, "type": PRICING_TYPE, "properties": props}


#: Sev of a delivered alert (the Common Alert Schema's scale, what ``payload_of`` writes) → Defender's severity.
SEVERITY_OF_SEV = {"Sev0": "High", "Sev1": "High", "Sev2": "Medium", "Sev3": "Low", "Sev4": "Informational"}


def _alert_id_parts(ref: object, subscription_id: str) -> Optional[tuple[Optional[str], str, str]]:
    """``(resource group or None, location, name)`` of a Defender alert id in the tenant's subscription, else None."""
    parts = ref.strip("/").split("/") if isinstance(ref, str) else []
    if len(parts) not in (8, 10) or parts[0].lower() != "subscriptions" or parts[1].lower() != subscription_id.lower():
        return None
    rg = parts[3] if len(parts) == 10 and parts[2].lower() == "resourcegroups" else None
    tail = parts[-6:]
    if [t.lower() for t in (tail[0], tail[1], tail[2], tail[4])] != ["providers", "microsoft.security", "locations", "alerts"]:
        return None
    return rg, tail[3], tail[5]


def record_delivered(state, payload: dict, now: str) -> Optional[str]:
    """Register the Defender for Cloud alert a delivered payload describes (``payload_of`` of a parsed Defender alert:
    ``data.essentials`` and ``data.source.ref``, the delivered alert's ARM id), as Defender holds an alert before a
    workflow automation relays it: what ``alert handle`` and tabletop scenarios fire (``Tenant.fire_alert``). An alert
    already held is left as Defender has it. Returns its id, or None (another schema, no id in the tenant's
    subscription, no target)."""
    data = payload.get("data") if isinstance(payload, dict) else None
    if not isinstance(data, dict) or not str(payload.get("schemaId") or "").startswith("defender:"):
        return None
    source = data.get("source") if isinstance(data.get("source"), dict) else {}
    essentials = data.get("essentials") if isinstance(data.get("essentials"), dict) else {}
    where = _alert_id_parts(source.get("ref"), state.subscription_id)
    targets = [t for t in essentials.get("alertTargetIDs") or [] if isinstance(t, str)]
    if where is None or not targets:
        return None
    rg, location, name = where
    table = alerts(state)
    key = alert_id(state.subscription_id, rg, location, name).lower()
    if key in table:
        return table[key]["id"]
    fired = essentials.get("firedDateTime") or now
    from ..alertsmanagement.models import delivered_entities

    entities, extended = delivered_entities(source)
    body = new_alert(
        subscription_id=state.subscription_id, resource_group=rg, location=location, name=name,
        alert_type=str(essentials.get("alertRule") or ""), display_name=str(essentials.get("description") or essentials.get("alertRule") or ""),
        description=str(essentials.get("description") or ""), severity=SEVERITY_OF_SEV.get(str(essentials.get("severity")), "Medium"),
        intent="Unknown", start=source.get("start") or fired, end=source.get("end") or fired, generated=fired,
        resource_id=targets[0], compromised_entity=targets[0].rstrip("/").rsplit("/", 1)[-1], entities=entities,
        extended_properties=extended, remediation_steps=[],
        status="Resolved" if essentials.get("monitorCondition") == "Resolved" else "Active")
    body["properties"]["resourceIdentifiers"] = [{"azureResourceId": t, "type": "AzureResource"} for t in targets]
    table[key] = body
    return body["id"]
