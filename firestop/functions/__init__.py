"""Azure Functions bindings (Durable Functions blueprints) of Firestop.

``function_app.py`` registers :data:`blueprints`; the local durable host runs
the same functions.
"""

from firestop.functions.activities import bp as activities
from firestop.functions.audit import bp as audit
from firestop.functions.entities import bp as entities
from firestop.functions.http_alerts import bp as http_alerts
from firestop.functions.http_api import bp as http_api
from firestop.functions.http_console import bp as http_console
from firestop.functions.http_events import bp as http_events
from firestop.functions.http_responders import bp as http_responders
from firestop.functions.orchestrators import bp as orchestrators
from firestop.functions.tabletop_timer import bp as tabletop_timer
from firestop.functions.warmup import bp as warmup

blueprints = (orchestrators, entities, activities, http_alerts, http_events, http_api, http_responders, http_console, tabletop_timer, audit, warmup)

__all__ = ["blueprints"]
