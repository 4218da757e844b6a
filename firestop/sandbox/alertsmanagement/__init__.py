"""Room ``alertsmanagement``: Azure Monitor's fired alerts (Microsoft.AlertsManagement/alerts, REST 2019-03-01).

Contract (see :mod:`firestop.sandbox.core.rooms`): ``models.py`` (state ``doc["alerts_management"]`` =
``{"alerts": {lower alert id: ARM JSON}}``, created on first use so older persisted tenants load;
:func:`~firestop.sandbox.alertsmanagement.models.record_fired` builds an alert from a Common Alert Schema
payload), ``routes.py`` (``Alerts_GetById``), ``seed.py`` (order 95: the seed's optional
``alerts_management`` section). Azure Monitor holds an alert before its action group posts the webhook, so the
sandbox's ways of firing one register it here first: the Monitor room's rule evaluation
(:meth:`firestop.sandbox.Tenant.evaluate_alerts`) and :meth:`firestop.sandbox.Tenant.fire_alert` (``alert handle``,
tabletop scenarios). An alert posted straight to the webhook is not here — as on Azure, where a forged one is not
either. Operations: ``alerts.get``; ``alertProcessingRules.{get,createOrUpdate,delete,list}`` (alert processing
rules, ``Microsoft.AlertsManagement/actionRules`` REST 2021-08-08, state ``doc["alerts_management"]["action_rules"]``,
:mod:`.processing`): an enabled ``RemoveAllActionGroups`` rule covering an alert the Monitor room fires leaves its
action groups un-notified (:meth:`firestop.sandbox.Tenant.evaluate_alerts`), as on Azure.
"""

from ..core.rooms import Room

room = Room("alertsmanagement", latency={"alerts.get": 0.2, "alertProcessingRules.get": 0.1,
                                         "alertProcessingRules.createOrUpdate": 0.5, "alertProcessingRules.delete": 0.3,
                                         "alertProcessingRules.list": 0.2},
            modules=("routes", "seed"))  # register on ``room`` (imported by ``room.load()``)
