"""Room ``sentinel``: Microsoft Sentinel (Microsoft.SecurityInsights) incidents, their comments, alerts and entities.

Contract (see :mod:`firestop.sandbox.core.rooms`): ``models.py`` (state ``doc["sentinel"]`` =
``{"incidents": {lower id: ARM JSON}, "alerts": {lower incident id: [alert entity JSON]},
"entities": {lower incident id: [entity JSON]}, "comments": {lower incident id: {lower comment id:
ARM JSON}}}``, created on first use), ``routes.py`` (REST 2024-03-01 — the stable version whose
examples the shapes follow; azure-mgmt-securityinsight 1.0.0 pins 2021-10-01, so Firestop calls the
REST API through azure-mgmt-core's ARM pipeline instead, see ``firestop/azure/sentinel.py``),
``seed.py`` (the seed's ``sentinel`` section, order 70: incidents on a seeded workspace).
Operations: ``incidents.get``, ``incidents.list``, ``incidents.createOrUpdate``,
``incidents.listAlerts``, ``incidents.listEntities``, ``incidentComments.list``,
``incidentComments.createOrUpdate``.
"""

from ..core.rooms import Room

room = Room(
    "sentinel",
    latency={
        "incidents.get": 0.2,
        "incidents.list": 0.4,
        "incidents.createOrUpdate": 0.5,
        "incidents.listAlerts": 0.3,
        "incidents.listEntities": 0.3,
        "incidentComments.list": 0.2,
        "incidentComments.createOrUpdate": 0.3,
    },
    modules=("routes", "seed"),  # register on ``room`` (imported by ``room.load()``)
)
