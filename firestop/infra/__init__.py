"""Infra: what the deployment needs that depends on the playbooks, generated — never kept by hand.

Contract (one module per concern, like the other rooms):

* :mod:`.scopes` — the protected scopes named on the command line (``--subscription``,
  ``--resource-group``, ``--account``, ``--key-vault``, ``--workspace``), parsed and checked to exist
  through the Azure SDK (on the sandbox by default, on Azure with ``--azure``). Errors name the flag.
* :mod:`.parameters` — the ARM parameters for ``infra/azuredeploy.json`` that follow from the
  playbooks: the custom role's actions and data actions (:mod:`runbooks.permissions`), where it is
  assigned (each protected resource or group, and nowhere else), the action group's name.
* :mod:`.deploy` — ``infra/azuredeploy.json`` with a parameters file deployed into the sandbox tenant through
  ``azure-mgmt-resource`` (``firestop infra deploy``: README step 4 rehearsed); bad input raises ``DeployInputError``
  naming the flag.
* :mod:`.grants` — the reverse: what a principal actually holds (role assignments + role
  definitions read through the SDK), as the role ``firestop.sandbox`` enforces and ``doctor`` compares.
* :mod:`.app_settings` — which application settings the template writes (and from what), which it leaves out and why,
  and which the platform sets: a test keeps it equal to the template and the code; ``doctor`` names a missing one.
* :mod:`.alerts_route` — where the alert webhook is served (``POST /api/alerts`` on HTTPS's port), as ``doctor`` and
  the audit's webhook controls judge an action group's receiver.

The template itself (``infra/azuredeploy.json``) is static; only its parameters are generated.
"""
