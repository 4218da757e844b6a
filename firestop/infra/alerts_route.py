"""Where Firestop's alert webhook is served: ``POST /api/alerts`` (``host.json`` routePrefix ``api``) over HTTPS on
App Service's default port. Shared by the audit's webhook controls and ``doctor``'s action-group check (attack 17,
A17-07: a receiver whose URI only *ends* or *starts* like the route — ``/x/api/alerts``, ``/api/alertsX``,
``/api/alerts/x``, ``:8443`` — reaches no function: 404 or no answer, which Azure Monitor does not retry)."""

from __future__ import annotations

from urllib.parse import SplitResult

ALERTS_PATH = "/api/alerts"


def is_alerts_route(path: str) -> bool:
    """``path`` is exactly :data:`ALERTS_PATH` (any case, a trailing slash allowed)."""
    return str(path or "").rstrip("/").lower() == ALERTS_PATH


def default_port(url: SplitResult) -> bool:
    """``url`` (a :func:`urllib.parse.urlsplit` result) names no port or HTTPS's own (App Service answers HTTPS on 443
    only). An unreadable port is not the default."""
    try:
        return url.port in (None, 443)
    except ValueError:
        return False


def reaches_alerts_route(url: SplitResult) -> bool:
    """:func:`is_alerts_route` of the path on :func:`default_port` (the scheme and host are each caller's to judge)."""
    return is_alerts_route(url.path) and default_port(url)
