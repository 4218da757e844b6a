"""The origin (``scheme://host[:port]``) of the links the app hands out — never the client's ``Host`` header on Azure.

:func:`public_origin` answers, first that applies:

1. ``FIRESTOP_PUBLIC_URL`` (an ``https://host[:port]`` origin): the address callers use, e.g. a custom domain
   or a gateway in front of the app;
2. on App Service, ``https://`` + ``WEBSITE_HOSTNAME`` — "Read-only. Primary hostname for the app. Custom
   hostnames aren't accounted for here." (Environment variables and app settings in Azure App Service,
   https://learn.microsoft.com/azure/app-service/reference-app-settings#app-environment);
3. otherwise (``firestop serve``) the origin of the request URL, which the local server builds from its own
   address or a ``Host`` naming loopback/its bind address only (:meth:`firestop.runtime.serve.FunctionsServer.origin_of`).

A ``Host: evil.example`` sent to the app therefore never becomes a ``statusUri``/``Location`` a sender follows.
"""

from __future__ import annotations

import re
from typing import Mapping
from urllib.parse import urlsplit

from firestop.environ import ENVIRON
from firestop.settings import https_origin_problem, port_problem

PUBLIC_URL_ENV = "FIRESTOP_PUBLIC_URL"
HOSTNAME_ENV = "WEBSITE_HOSTNAME"
_HOST = re.compile(r"[A-Za-z0-9.-]{1,253}(?::\d{1,5})?")


def public_origin(request_url: str, env: Mapping[str, str] | None = None) -> str:
    """``scheme://host[:port]`` for links (module docstring); ``request_url``: the URL the request came in on."""
    env = ENVIRON if env is None else env
    configured = (env.get(PUBLIC_URL_ENV) or "").strip()
    if configured and https_origin_problem(configured) is None:
        return configured.rstrip("/")
    hostname = (env.get(HOSTNAME_ENV) or "").strip()
    port = hostname.rpartition(":")[2] if ":" in hostname else None
    if hostname and _HOST.fullmatch(hostname) and (port is None or port_problem(port) is None):
        return f"https://{hostname}"
    parts = urlsplit(request_url)
    return f"{parts.scheme}://{parts.netloc}"
