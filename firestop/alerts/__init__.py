"""Alert intake: Azure Monitor common-alert-schema webhooks → :class:`Alert`.

Public API::

    from firestop.alerts import parse_alert, Alert, AlertPayloadError, Indicators
    alert = parse_alert(body)          # bytes | str | dict → Alert, or AlertPayloadError
    alert = parse_intake_alert(body)   # the webhook's: the same values as a plain IntakeAlert (no pydantic model)

Sources for every Azure fact used here are the MicrosoftDocs/azure-monitor-docs
pages listed in ``shared/corpus/alerts/NOTES.md`` (``alerts-common-schema.md``,
``alerts-payload-samples.md``, ``alerts-non-common-schema-definitions.md``,
``activity-log-alerts-webhook.md``, ``action-groups.md``).
"""

from firestop.alerts.alert import INCIDENT_ID_PREFIX, Alert, IntakeAlert, incident_key_for
from firestop.alerts.body import MAX_PAYLOAD_BYTES
from firestop.alerts.errors import AlertPayloadError
from firestop.alerts.essentials import Essentials
from firestop.alerts.indicators import Indicators
from firestop.alerts.legacy import COMMON_SCHEMA_ID, ENABLE_COMMON_SCHEMA_FIX
from firestop.alerts.parse import parse_alert, parse_intake_alert
from firestop.alerts.render import render_alert_rows

# The typed alertContext models (firestop.alerts.contexts: a dozen pydantic models and a union) are
# imported on first use: intake and the CLI never build a typed context (Alert.typed_context does, for
# playbooks and tests), and building those models was a fifth of the import cost of `alert handle`.
_LAZY = {"AlertContext", "UnknownContext", "context_kind", "parse_context"}


def __getattr__(name: str):
    if name in _LAZY:
        from firestop.alerts import contexts

        return getattr(contexts, name)
    raise AttributeError(f"module 'firestop.alerts' has no attribute {name!r}")


__all__ = [
    "Alert",
    "AlertContext",
    "AlertPayloadError",
    "COMMON_SCHEMA_ID",
    "ENABLE_COMMON_SCHEMA_FIX",
    "INCIDENT_ID_PREFIX",
    "Essentials",
    "Indicators",
    "IntakeAlert",
    "MAX_PAYLOAD_BYTES",
    "UnknownContext",
    "context_kind",
    "incident_key_for",
    "parse_alert",
    "parse_intake_alert",
    "parse_context",
    "render_alert_rows",
]
