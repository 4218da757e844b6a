"""Firestop Function App (Azure Functions Python v2 programming model).

Registers the Durable Functions blueprints of :mod:`firestop.functions`:
``POST /api/alerts`` (Azure Monitor webhook, auth level FUNCTION), the
``incident_orchestrator`` and its activities. The local durable host
(``firestop.runtime``) loads this same module.
"""

import os

import azure.durable_functions as df
import azure.functions as func

from firestop.functions import blueprints
from firestop.settings import check_startup

check_startup()  # on Azure: refuse to start with wrong or missing settings, naming each and its fix

if os.environ.get("WEBSITE_SITE_NAME") or os.environ.get("WEBSITE_INSTANCE_ID"):
    # On App Service only (the local tools that load this module — alert handle, serve — never pay for the import):
    # warn of a setting the template always writes that is missing (it has a default)
    from firestop.infra.app_settings import log_missing_on_azure

    log_missing_on_azure(os.environ)

if os.environ.get("WEBSITE_INSTANCE_ID") or os.environ.get("WEBSITE_SITE_NAME") or os.environ.get("FUNCTIONS_WORKER_RUNTIME"):
    # On the Functions host: keep the secrets out of log lines, and configure OpenTelemetry (Azure Monitor) once when
    # APPLICATIONINSIGHTS_CONNECTION_STRING is set (firestop.telemetry). The local tools that import this module
    # (firestop serve, alert handle) decide for themselves.
    from firestop.telemetry.start import start_telemetry

    start_telemetry()

app = df.DFApp(http_auth_level=func.AuthLevel.FUNCTION)
for blueprint in blueprints:
    app.register_functions(blueprint)
