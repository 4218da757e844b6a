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
``pricings.get``, ``pricings.list``, ``pricings.update``, ``pricings.delete``.
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
    },
)

from . import routes, seed  # noqa: E402,F401  (register on ``room``)
