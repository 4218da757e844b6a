"""Cost Management budget alert context (``monitoringService: CostAlerts``).

Source: ``alerts-payload-samples.md`` (test action payloads). Essentials are
mostly null for budgets (severity, signalType, alertRule, alertTargetIDs);
amounts are display strings such as ``"$11,111.00"``.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Literal

from pydantic import Field

from firestop.alerts.contexts.common import _Ctx
from firestop.alerts.contexts.lenient import LenientText, _Model, _nested

_MONEY_RE = re.compile(r"-?[0-9][0-9,]*(?:\.[0-9]+)?")


def money(text: str | None) -> Decimal | None:
    """``"$11,111.00"`` → ``Decimal("11111.00")``; None when there is no number."""
    if not text:
        return None
    match = _MONEY_RE.search(text)
    if not match:
        return None
    try:
        return Decimal(match.group(0).replace(",", ""))
    except InvalidOperation:  # pragma: no cover - the regex admits only valid numbers
        return None


class BudgetData(_Model):
    scope: LenientText = Field(default=None, alias="Scope")
    threshold_type: LenientText = Field(default=None, alias="ThresholdType")
    """``Actual`` or ``Forecasted``."""
    budget_type: LenientText = Field(default=None, alias="BudgetType")
    budget_threshold: LenientText = Field(default=None, alias="BudgetThreshold")
    notification_threshold_amount: LenientText = Field(default=None, alias="NotificationThresholdAmount")
    budget_name: LenientText = Field(default=None, alias="BudgetName")
    budget_id: LenientText = Field(default=None, alias="BudgetId")
    budget_start_date: LenientText = Field(default=None, alias="BudgetStartDate")
    budget_creator: LenientText = Field(default=None, alias="BudgetCreator")
    unit: LenientText = Field(default=None, alias="Unit")
    spent_amount: LenientText = Field(default=None, alias="SpentAmount")
    forecasted_total_for_period: LenientText = Field(default=None, alias="ForecastedTotalForPeriod")

    @property
    def spent(self) -> Decimal | None:
        """:attr:`spent_amount` as a number (``"$11,111.00"`` → 11111.00)."""
        return money(self.spent_amount)

    @property
    def threshold(self) -> Decimal | None:
        """:attr:`notification_threshold_amount` as a number."""
        return money(self.notification_threshold_amount)

    @property
    def forecast(self) -> Decimal | None:
        """:attr:`forecasted_total_for_period` as a number."""
        return money(self.forecasted_total_for_period)


class BudgetContext(_Ctx):
    """Cost Management budget alert (``CostAlerts``; essentials mostly null)."""

    kind: Literal["budget"] = "budget"
    alert_category: LenientText = Field(default=None, alias="AlertCategory")
    alert_data: _nested(BudgetData) = Field(default=None, alias="AlertData")

