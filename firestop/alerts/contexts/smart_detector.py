"""Application Insights smart detection context (``monitoringService: SmartDetector``).

Source: ``alerts-payload-samples.md`` (test action payload).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from firestop.alerts.contexts.common import _Ctx
from firestop.alerts.contexts.lenient import LenientText, LenientUtc

class SmartDetectorContext(_Ctx):
    """Application Insights smart detection."""

    kind: Literal["smart_detector"] = "smart_detector"
    detection_summary: LenientText = Field(default=None, alias="DetectionSummary")
    formatted_occurrence_time: LenientUtc = Field(default=None, alias="FormattedOccurrenceTime")
    detected_value: LenientText = Field(default=None, alias="DetectedValue")
    normal_value: LenientText = Field(default=None, alias="NormalValue")
    presentation_insight_event_request: LenientText = Field(default=None, alias="PresentationInsightEventRequest")
    smart_detector_id: LenientText = Field(default=None, alias="SmartDetectorId")
    smart_detector_name: LenientText = Field(default=None, alias="SmartDetectorName")
    analysis_timestamp: LenientUtc = Field(default=None, alias="AnalysisTimestamp")

