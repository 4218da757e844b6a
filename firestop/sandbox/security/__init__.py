"""Room ``security``: Microsoft Defender for Cloud — security alerts and Defender plans (pricings).

Contract (see :mod:`firestop.sandbox.core.rooms`): ``models.py`` (state
``doc["security"]`` = ``{"alerts": {lower alert id: ARM JSON}, "pricings":
{lower pricing id: ARM JSON}}``, created on first use so older persisted
tenants load; alert and pricing JSON builders), ``routes.py`` (alerts
get/list/state update, REST 2022-01-01; pricings get/list/update/delete at
subscription and resource scope, REST 2024-01-01 — the api-versions
azure-mgmt-security 7.0.0 sends by default), ``seed.py`` (the seed's
``security`` section, order 60: Defender plans, then alerts on seeded
resources). Operations (names used by ``inject_fault`` and the request log):
``securityAlerts.list``, ``securityAlerts.get``, ``securityAlerts.resolve/dismiss/activate/inProgress``,
``pricings.get``, ``pricings.list``, ``pricings.update``, ``pricings.delete``; ``automations.py``: workflow
automations (continuous export, REST 2019-01-01-preview: ``automations.list``, ``automations.listByResourceGroup``,
``automations.get``, ``automations.createOrUpdate``, ``automations.delete``), the route Defender alerts leave by;
``suppression_rules.py``: alerts suppression rules (REST 2019-01-01-preview: ``alertsSuppressionRules.list``,
``alertsSuppressionRules.get``, ``alertsSuppressionRules.update``, ``alertsSuppressionRules.delete``; state
``doc["security"]["suppression_rules"]``), which dismiss the matching alerts the detector raises (RT20-04).
``detector.py``: Defender for AI
services' threat protection over the data-plane traffic (raises alerts of the AI alert types, writes their
Activity Log ``Security`` events, Sentinel incidents and workflow-automation deliveries) on the virtual clock.
"""

from ..core.rooms import Room

room = Room(
    "security",
    latency={
        "securityAlerts.list": 0.4,
        "securityAlerts.get": 0.2,
        "securityAlerts.resolve": 0.3,
        "securityAlerts.dismiss": 0.3,
        "securityAlerts.activate": 0.3,
        "securityAlerts.inProgress": 0.3,
        "pricings.get": 0.2,
        "pricings.list": 0.3,
        "pricings.update": 0.8,
        "pricings.delete": 0.5,
        "automations.list": 0.3,
        "automations.listByResourceGroup": 0.3,
        "automations.get": 0.2,
        "automations.createOrUpdate": 0.6,
        "automations.delete": 0.4,
        "alertsSuppressionRules.list": 0.3,
        "alertsSuppressionRules.get": 0.2,
        "alertsSuppressionRules.update": 0.5,
        "alertsSuppressionRules.delete": 0.4,
        # not requests (sandbox assumptions, security/detector.py): a call's evidence reaches Defender for AI's
        # detector this long after the call; Sentinel makes an incident of an alert; a workflow automation relays it
        "defender.detection": 60.0,
        "defender.sentinel": 55.0,
        "defender.automation": 60.0,
    },
    modules=("automations", "routes", "seed", "suppression_rules"),  # register on ``room`` (imported by ``room.load()``)
)
