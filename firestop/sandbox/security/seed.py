"""Seed step of the security room: the seed file's ``security`` section (order 60, after the resources).

::

    security:
      location: westeurope              # the subscription's Defender for Cloud location (``ascLocation`` in alert ids)
      pricings:                         # subscription-level plans; a plan not listed is Free
        AI: {tier: Standard, enabled_at: "2026-06-01T09:00:00Z", extensions: {AIPromptEvidence: true}}
      resource_pricings:                # optional per-resource overrides
        - {account: contoso-openai-dev, plan: AI, tier: Free}
      automations:                      # workflow automations (Microsoft.Security/automations, a Logic App relay): each
        - {name: firestop-relay, url: https://func-firestop.azurewebsites.net/api/alerts, delay: 60,   # alert the detector
           resource_group: rg-ai-prod, logic_app: firestop-relay, enabled: true, trigger: https://prod-00…/invoke?…}
                                        # raises is posted to url (REST 2022-01-01 shape) delay s later (default 60)
                                        # by each automation whose action's uri is the relay's trigger (default: one
                                        # made from the Logic App's id, automations.trigger_uri);
                                        # the automation resource (automations.py, 2019-01-01-preview: Alerts source on the
                                        # subscription, a LogicApp action naming logic_app — default: the name — in
                                        # resource_group — default: the tenant's first) is what the detector delivers by
      sentinel_workspace: law-contoso-sec   # Sentinel's Defender for Cloud connector: an incident per alert (detector.py)
      sentinel_relay: {url: https://…/api/alerts, delay: 5}   # optional: an automation rule relays each such incident
      alerts:                           # Defender for Cloud alerts already raised (REST 2022-01-01 shape)
        - {name, alert_type, display_name, description?, severity, intent?, account, start, end?, generated?,
           status?, entities?: [...], extended_properties?: {...}, remediation_steps?: [...]}

A seed (or digital twin) without the section has every plan Free and no alert.
"""

from __future__ import annotations

from ..arm.models import account_by_name
from ..core.rooms import SeedContext
from . import room
from .automations import automations as automation_table
from .automations import new_automation, trigger_uri
from .models import PLANS, TIERS, alerts, new_alert, new_pricing, pricing_id, pricings, security


def _extensions(spec: dict) -> list:
    return [{"name": str(k), "isEnabled": "True" if v else "False"} for k, v in (spec or {}).items()]


@room.seeder(order=60)
def seed_security(ctx: SeedContext) -> None:
    state, section = ctx.state, ctx.spec.get("security") or {}
    sub_scope = f"/subscriptions/{state.subscription_id}"
    table = pricings(state)
    for plan, entry in (section.get("pricings") or {}).items():
        if plan not in PLANS or entry.get("tier", "Free") not in TIERS:
            raise ValueError(f"security.pricings.{plan}: plan must be one of {PLANS} and tier one of {TIERS}")
        enabled = ctx.arm_time(entry.get("enabled_at") or ctx.clock)
        body = new_pricing(scope=sub_scope, name=plan, tier=entry.get("tier", "Free"), enabled_at=enabled,
                           sub_plan=entry.get("sub_plan"), extensions=_extensions(entry.get("extensions")))
        table[body["id"].lower()] = body
    for entry in section.get("resource_pricings") or []:
        account = account_by_name(state, str(entry["account"]))
        body = new_pricing(scope=account["id"], name=str(entry["plan"]), tier=entry.get("tier", "Free"),
                           enabled_at=ctx.arm_time(entry.get("enabled_at") or ctx.clock))
        table[pricing_id(account["id"], str(entry["plan"])).lower()] = body
    location = str(section.get("location") or "westeurope")
    security(state)["location"] = location
    relays: dict[str, dict] = {}
    groups = list(state.doc.get("resource_groups") or [])
    for entry in section.get("automations") or []:
        if not isinstance(entry, dict) or not str(entry.get("url") or "").startswith(("https://", "http://")):
            raise ValueError("security.automations[]: give {name, url: https://…, delay?, resource_group?, logic_app?, "
                             "enabled?} (the relay's URL)")
        name = str(entry.get("name") or "relay")
        rg = str(entry.get("resource_group") or (groups[0] if groups else "rg-security"))
        logic_app = state.arm_id(rg, f"Microsoft.Logic/workflows/{entry.get('logic_app') or name}")
        trigger = str(entry.get("trigger") or trigger_uri(logic_app, location))
        relays[logic_app.lower()] = {"url": str(entry["url"]), "trigger": trigger,
                                     **({"delay": float(entry["delay"])} if entry.get("delay") is not None else {})}
        body = new_automation(subscription_id=state.subscription_id, resource_group=rg, name=name, location=location,
                              properties={"description": "Relays Defender for Cloud alerts to Firestop (sandbox seed)",
                                          "isEnabled": entry.get("enabled", True) is not False,
                                          "scopes": [{"description": "the subscription", "scopePath": sub_scope}],
                                          "sources": [{"eventSource": "Alerts", "ruleSets": []}],
                                          "actions": [{"actionType": "LogicApp", "logicAppResourceId": logic_app,
                                                       "uri": trigger}]})
        automation_table(state)[body["id"].lower()] = body
    security(state)["relays"] = relays
    if section.get("sentinel_workspace"):
        security(state)["sentinel_workspace"] = str(section["sentinel_workspace"])
    relay = section.get("sentinel_relay")
    if relay:
        if not isinstance(relay, dict) or not str(relay.get("url") or "").startswith(("https://", "http://")):
            raise ValueError("security.sentinel_relay: give {url: https://…, delay?} (the automation rule's relay)")
        security(state)["sentinel_relay"] = {"url": str(relay["url"]), **({"delay": float(relay["delay"])} if relay.get("delay") is not None else {})}
    for entry in section.get("alerts") or []:
        account = account_by_name(state, str(entry["account"]))
        rg = account["id"].split("/")[4]
        start = ctx.arm_time(entry["start"])
        end = ctx.arm_time(entry.get("end") or entry["start"])
        body = new_alert(
            subscription_id=state.subscription_id, resource_group=rg, location=location, name=str(entry["name"]),
            alert_type=str(entry["alert_type"]), display_name=str(entry["display_name"]),
            description=str(entry.get("description") or entry["display_name"]), severity=str(entry.get("severity", "Medium")),
            intent=str(entry.get("intent") or "Unknown"), start=start, end=end,
            generated=ctx.arm_time(entry.get("generated") or entry.get("end") or entry["start"]),
            resource_id=account["id"], compromised_entity=account["name"], entities=list(entry.get("entities") or []),
            extended_properties={str(k): str(v) for k, v in (entry.get("extended_properties") or {}).items()},
            remediation_steps=list(entry.get("remediation_steps") or []), status=str(entry.get("status") or "Active"),
        )
        alerts(state)[body["id"].lower()] = body
