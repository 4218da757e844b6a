"""Azure Monitor managed Prometheus alert context (``monitoringService: Prometheus``).

Source: ``alerts-payload-samples.md``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from firestop.alerts.contexts.common import _Ctx
from firestop.alerts.contexts.lenient import LenientText, StrDict

class PrometheusContext(_Ctx):
    """Azure Monitor managed Prometheus rule group alert."""

    kind: Literal["prometheus"] = "prometheus"
    interval: LenientText = None
    expression: LenientText = None
    expression_value: LenientText = Field(default=None, alias="expressionValue")
    for_: LenientText = Field(default=None, alias="for")
    labels: StrDict = Field(default_factory=dict)
    annotations: StrDict = Field(default_factory=dict)
    rule_group: LenientText = Field(default=None, alias="ruleGroup")

