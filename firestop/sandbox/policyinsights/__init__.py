"""Room ``policyinsights``: Azure Policy compliance (``Microsoft.PolicyInsights/policyStates``), read-only.

Contract (see :mod:`firestop.sandbox.core.rooms`): ``models.py`` (``doc["policy_states"]``
layout and the ``PolicyState`` JSON builder), ``routes.py`` (``policyStates.queryResults``
at subscription and resource-group scope, ``$filter`` / ``$top``), ``seed.py`` (the seed
file's ``policy_states``, order 60, after the resources they name).

The states are what Azure Policy's last evaluation found; nothing here evaluates
policies (the sandbox keeps them as seeded; a twin file can carry its tenant's own).
"""

from ..core.rooms import Room

room = Room("policyinsights", latency={"policyStates.queryResults": 0.4},
            modules=("routes", "seed"))  # register on ``room`` (imported by ``room.load()``)
