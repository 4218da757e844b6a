"""Room ``apim``: Azure API Management subscriptions (``Microsoft.ApiManagement/service/{s}/subscriptions/{sid}``).

Contract (the room shape of :mod:`firestop.sandbox.core.rooms`):

* ``models.py`` — service and subscription ARM JSON; subscription keys live in
  ``doc["apim_keys"]`` (``{subscription id (lower case): {"primaryKey", "secondaryKey"}}``,
  every value also in ``doc["issued_keys"]`` for the leak tests), never in the resource body;
* ``routes.py`` — get/list subscriptions, PATCH (``If-Match`` required), ``regeneratePrimaryKey``,
  ``regenerateSecondaryKey`` (204), ``listSecrets`` (REST API 2024-05-01 as
  azure-mgmt-apimanagement 5.0.0 sends it; shapes from the spec examples
  ``ApiManagementGetSubscription.json``, ``ApiManagementUpdateSubscription.json``,
  ``ApiManagementSubscriptionListSecrets.json``);
* ``seed.py`` — the seed file's ``apim_services`` (order 70).
"""

from ..core.rooms import Room

room = Room(
    "apim",
    latency={
        "apimSubscriptions.get": 0.1,
        "apimSubscriptions.list": 0.2,
        "apimSubscriptions.update": 0.5,
        "apimSubscriptions.regeneratePrimaryKey": 0.5,
        "apimSubscriptions.regenerateSecondaryKey": 0.5,
        "apimSubscriptions.listSecrets": 0.2,
    },
    modules=("routes", "seed"),  # register on ``room`` (imported by ``room.load()``)
)
