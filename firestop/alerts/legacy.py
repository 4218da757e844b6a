"""Recognise non-common ("legacy") alert schemas and reject them with the fix.

Shapes (MicrosoftDocs/azure-monitor-docs ``alerts-non-common-schema-definitions.md``
and ``activity-log-alerts-webhook.md``; see ``shared/corpus/alerts/NOTES.md``):

* metric alerts: ``schemaId: "AzureMonitorMetricAlert"`` with ``data.status`` /
  ``data.context`` / ``data.properties``;
* activity log alerts: ``schemaId: "Microsoft.Insights/activityLogs"`` with
  ``data.context.activityLog`` (status always "Activated");
* log alerts V1: **no** ``schemaId``; a flat object with ``AlertRuleName``,
  ``SearchResult``, ``AlertThresholdValue`` …;
* budget alerts: ``schemaId: "AIP Budget Notification"``;
* legacy activity-log webhook: ``data.context.activityLog`` (with or without a
  ``schemaId``);
* classic metric alerts: no ``schemaId``, top-level ``status`` + ``context``.

The common schema is chosen per action (``useCommonAlertSchema`` on each
receiver, ``action-groups.md``), so one action group can deliver the common
schema to one webhook and a legacy schema to another: the fix is always to
enable the common alert schema on *that* webhook action.
"""

from __future__ import annotations

from typing import Any

from firestop.alerts.errors import AlertPayloadError

__all__ = ["COMMON_SCHEMA_ID", "ENABLE_COMMON_SCHEMA_FIX", "legacy_schema_error"]

COMMON_SCHEMA_ID = "azureMonitorCommonAlertSchema"
_COMMON_LOWER = COMMON_SCHEMA_ID.lower()

ENABLE_COMMON_SCHEMA_FIX = (
    "Enable the common alert schema on this webhook action: set "
    "useCommonAlertSchema: true on the action group's webhook receiver "
    '(portal: "Enable the common alert schema" = Yes).'
)

_LOG_V1_MARKERS = (
    "AlertRuleName",
    "SearchResult",
    "AlertThresholdValue",
    "AlertThresholdOperator",
    "SearchIntervalInSeconds",
)


def _has_activity_log(body: dict[str, Any]) -> bool:
    data = body.get("data")
    if not isinstance(data, dict):
        return False
    context = data.get("context")
    return isinstance(context, dict) and "activityLog" in context


def legacy_schema_error(body: dict[str, Any]) -> AlertPayloadError | None:
    """Return the 400 error for a recognised non-common payload, else None.

    ``body`` is the decoded top-level JSON object. A body whose ``schemaId`` is
    the common schema id (any case) is never classed as legacy.
    """
    schema_id = body.get("schemaId")
    if schema_id == COMMON_SCHEMA_ID or (isinstance(schema_id, str) and schema_id.strip().lower() == _COMMON_LOWER):
        return None

    def err(field: str, reason: str) -> AlertPayloadError:
        return AlertPayloadError(field, reason, ENABLE_COMMON_SCHEMA_FIX, http_status=400)

    if schema_id == "AzureMonitorMetricAlert":
        return err(
            "schemaId",
            "payload uses the non-common metric alert schema "
            "(schemaId 'AzureMonitorMetricAlert', data.status/data.context), "
            "not the common alert schema",
        )
    if schema_id == "Microsoft.Insights/activityLogs":
        return err(
            "schemaId",
            "payload uses the non-common activity log alert schema "
            "(schemaId 'Microsoft.Insights/activityLogs', legacy activity-log "
            "webhook data.context.activityLog), not the common alert schema",
        )
    if schema_id == "AIP Budget Notification":
        return err(
            "schemaId",
            "payload uses the non-common budget alert schema "
            "(schemaId 'AIP Budget Notification'), not the common alert schema",
        )
    if _has_activity_log(body):
        return err(
            "data.context.activityLog",
            "payload is a legacy activity-log webhook (data.context.activityLog), "
            "not the common alert schema",
        )
    if schema_id is None:
        if any(marker in body for marker in _LOG_V1_MARKERS):
            return err(
                "$",
                "payload uses the non-common log alert V1 schema without schemaId "
                "(AlertRuleName/SearchResult/AlertThresholdValue at top level), "
                "not the common alert schema",
            )
        if "status" in body and isinstance(body.get("context"), dict) and "data" not in body:
            return err(
                "$",
                "payload uses the classic metric alert webhook schema without schemaId "
                "(top-level status/context), not the common alert schema",
            )
    return None
