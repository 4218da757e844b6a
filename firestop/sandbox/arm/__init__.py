"""Room ``arm``: Azure Resource Manager resources other rooms do not own.

Contract (every room has the same shape; see :mod:`firestop.sandbox.core.rooms`):

* ``models.py`` — ARM JSON builders and resource types: Cognitive Services
  accounts (+ deployments), network security groups (+ security rules);
  :func:`~firestop.sandbox.arm.models.account_by_name` for other rooms' seeds;
* routes — ``cognitive.py`` (``Microsoft.CognitiveServices/accounts``: get, list,
  update (merge-patch LRO), listKeys, regenerateKey, deployments, private
  endpoint connections), ``aoai.py`` (deployment PUT/DELETE LROs, RAI policies, RAI blocklists and
  items, private endpoint connection approve/reject), ``network.py`` (``Microsoft.Network`` NSG + security
  rules, PUT/DELETE LROs), ``operations.py`` (LRO status polls of both);
* ``seed.py`` — ``accounts`` (order 10), ``network_security_groups`` (order 40);
* ``armjson.py`` — generic ARM JSON helpers (body validation, merge-patch, If-Match).

State: ``doc["resources"]``, ``doc["account_keys"]``, ``doc["issued_keys"]``,
``doc["operations"]`` (LROs, :mod:`firestop.sandbox.core.lro`).
"""

from ..core.rooms import Room

room = Room(
    "arm",
    latency={
        "accounts.get": 0.2,
        "accounts.list": 0.3,
        "accounts.update": 0.5,  # the initial PATCH answer (200 or 202)
        "accounts.update.lro": 20.0,  # PATCH accepted -> changes visible / status Succeeded
        "accounts.listKeys": 0.3,
        "accounts.regenerateKey": 1.5,
        "deployments.list": 0.2,
        "deployments.get": 0.1,
        "operations.get": 0.1,  # one LRO status poll
        "nsg.get": 0.2,
        "securityRules.list": 0.1,
        "securityRules.get": 0.2,
        "securityRules.createOrUpdate": 0.5,
        "securityRules.createOrUpdate.lro": 10.0,
        "securityRules.delete": 0.5,
        "securityRules.delete.lro": 10.0,
        "privateEndpointConnections.get": 0.2,
        "privateEndpointConnections.list": 0.2,
        "privateEndpointConnections.createOrUpdate": 0.5,
        "privateEndpointConnections.createOrUpdate.lro": 5.0,
        "deployments.createOrUpdate": 0.5,
        "deployments.createOrUpdate.lro": 5.0,  # PUT accepted -> new sku/policy live
        "deployments.delete": 0.5,
        "deployments.delete.lro": 5.0,
        "raiPolicies.list": 0.2,
        "raiPolicies.get": 0.1,
        "raiPolicies.createOrUpdate": 1.0,
        "raiPolicies.delete": 1.0,
        "raiBlocklists.list": 0.2,
        "raiBlocklists.get": 0.1,
        "raiBlocklists.createOrUpdate": 0.5,
        "raiBlocklists.delete": 0.5,
        "raiBlocklistItems.list": 0.2,
        "raiBlocklistItems.get": 0.1,
        "raiBlocklistItems.createOrUpdate": 0.5,
        "raiBlocklistItems.delete": 0.5,
    },
    modules=("aoai", "cognitive", "network", "operations", "seed"),  # register on ``room`` (imported by ``room.load()``)
)
