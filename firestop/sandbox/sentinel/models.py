"""Sentinel state and JSON (REST 2024-03-01; shapes of the spec examples ``GetIncidentById.json``,
``GetAllIncidentAlerts.json``, copies in ``tests/alerts/samples/sentinel/``)."""

from __future__ import annotations

SI = "/providers/Microsoft.SecurityInsights"
INCIDENT_TYPE = "Microsoft.SecurityInsights/incidents"
COMMENT_TYPE = "Microsoft.SecurityInsights/incidents/comments"
ENTITY_TYPE = "Microsoft.SecurityInsights/Entities"
SEVERITIES = ("High", "Medium", "Low", "Informational")
STATUSES = ("New", "Active", "Closed")
CLASSIFICATIONS = ("Undetermined", "TruePositive", "BenignPositive", "FalsePositive")
#: classification → the classificationReason values the API accepts with it (REST 2024-03-01 enums).
REASONS = {
    "TruePositive": ("SuspiciousActivity",),
    "BenignPositive": ("SuspiciousButExpected",),
    "FalsePositive": ("IncorrectAlertLogic", "InaccurateData"),
    "Undetermined": (),
}
#: Longest comment message the sandbox accepts (Sentinel documents 30,000 characters per comment).
MAX_COMMENT_CHARS = 30_000


def sentinel(state) -> dict:
    section = state.doc.setdefault("sentinel", {})
    for key in ("incidents", "alerts", "entities", "comments"):
        section.setdefault(key, {})
    return section
