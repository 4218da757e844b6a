"""Room ``authorization``: Microsoft.Authorization role assignments, and role enforcement.

Contract (see :mod:`firestop.sandbox.core.rooms`): ``models.py``
(``doc["role_assignments"]``, assignment JSON), ``routes.py``
(``roleAssignments.list/get/create/delete`` at subscription, resource-group and
resource scope), ``seed.py`` (``role_assignments``, order 50); ``rbac.py``
(``tenant.enforce_role``: the action each operation needs, 403 outside the role); ``permissions.list`` (the
caller's own role permissions at a resource group or resource, built-ins from ``builtin.py``).
"""

from ..core.rooms import Room

room = Room(
    "authorization",
    latency={
        "roleAssignments.list": 0.1,
        "roleAssignments.get": 0.1,
        "roleAssignments.create": 0.1,
        "roleAssignments.delete": 0.1,
        "roleDefinitions.get": 0.1,
        "roleDefinitions.list": 0.1,
        "permissions.list": 0.1,
    },
    modules=("routes", "seed"),  # register on ``room`` (imported by ``room.load()``)
)
