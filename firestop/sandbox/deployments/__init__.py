"""Sandbox room for ARM template deployments (``Microsoft.Resources/deployments``) and resource groups.

Contract: ``PUT …/resourcegroups/{rg}/providers/Microsoft.Resources/deployments/{name}`` evaluates the
template (:mod:`.expressions` — ARM's expression language; :mod:`.engine` — parameters, variables,
copy, conditions, child resources, nested inline deployments, outputs) and either refuses it whole
with ARM's ``InvalidTemplate`` / ``InvalidTemplateDeployment`` error naming the expression and its
line/column in the request body (nothing written), or applies it: role definitions and role
assignments land in the tenant's authorization state (served by the authorization room and so
seen by anything that reads role assignments), every other resource type is recorded as deployed
(``doc["deployed_resources"]``: type, apiVersion, properties). ``POST …/whatIf`` evaluates the same
way and writes nothing. Deployed ``Microsoft.Insights`` resources (action groups, alert rules,
diagnostic settings) are served and evaluated by the ``monitor`` room, which reads the same map. Routes, statuses and shapes: :mod:`.routes`.

Rule of this room: it imports only ``core`` and ``authorization.models``; nothing outside the
sandbox imports it. Operation names: ``templateDeployments.*`` (the Cognitive Services room already
owns ``deployments.*`` for model deployments), ``resourceGroups.get``/``checkExistence``.
"""

from ..core.rooms import Room

room = Room(
    "deployments",
    latency={
        "templateDeployments.createOrUpdate": 2.0,
        "templateDeployments.get": 0.1,
        "templateDeployments.whatIf": 1.0,
        "resourceGroups.get": 0.1,
        "resourceGroups.checkExistence": 0.1,
        "sites.getAuthSettingsV2": 0.1,
        "sites.getAppSettingsKeyVaultReferences": 0.1,
        "blobContainers.getImmutabilityPolicy": 0.1,
        "blobContainers.lockImmutabilityPolicy": 0.2,
        "storageAccounts.getProperties": 0.1,
    },
    modules=("routes", "seed"),  # register on ``room`` (imported by ``room.load()``)
)
