"""Route modules, one per simulated API surface. ``all_routes()`` is the ordered table."""

from __future__ import annotations

from ..router import Route


def all_routes() -> list[Route]:
    from . import activitylog, arm_cognitive, arm_network, arm_operations, authorization, keyvault, loganalytics

    return [
        *arm_operations.ROUTES,
        *arm_cognitive.ROUTES,
        *arm_network.ROUTES,
        *authorization.ROUTES,
        *activitylog.ROUTES,
        *keyvault.ROUTES,
        *loganalytics.ROUTES,
    ]
