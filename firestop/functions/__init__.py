"""Azure Functions bindings (Durable Functions blueprints) of Firestop.

``function_app.py`` registers :data:`blueprints`; the local durable host runs
the same functions.
"""

from firestop.functions.activities import bp as activities
from firestop.functions.http_alerts import bp as http_alerts
from firestop.functions.http_api import bp as http_api
from firestop.functions.orchestrators import bp as orchestrators

blueprints = (orchestrators, activities, http_alerts, http_api)

__all__ = ["blueprints"]
