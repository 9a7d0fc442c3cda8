"""Bodies and answers of the valuation, settings and units routes."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from pydantic import Field

from leanstock.domain.catalog import CostingMethod
from leanstock.entrypoints.api.bounds import Count, Quantity
from leanstock.entrypoints.api.schemas import In, Out


class ValueLineOut(Out):
    sku: str
    category: str
    location: str
    method: CostingMethod
    quantity: Decimal
    value: Decimal
    unit_cost: Decimal


class StockValueOut(Out):
    as_of: datetime | None
    lines: list[ValueLineOut]
    total_value: Decimal


class FlowLineOut(Out):
    sku: str
    category: str
    location: str
    method: CostingMethod
    opening_quantity: Decimal
    opening_value: Decimal
    flows: dict[str, Decimal] = Field(
        description="Value in (+) and out (−) by why: received, produced, sold, scrapped, ..."
    )
    cost_of_goods_sold: Decimal
    closing_quantity: Decimal
    closing_value: Decimal


class CostFlowsOut(Out):
    since: datetime | None
    until: datetime | None
    lines: list[FlowLineOut]
    opening_value: Decimal
    inflow: Decimal
    outflow: Decimal
    cost_of_goods_sold: Decimal
    closing_value: Decimal
    totals: dict[str, Decimal]


class CostingMethodIn(In):
    method: CostingMethod


class CostingMethodOut(Out):
    method: CostingMethod


class ClosedPeriodIn(In):
    through: date = Field(description="The last day of the closed period (a past day).")


class ClosedPeriodOut(Out):
    through: date | None


class BackdatedMoveOut(Out):
    operation_id: int
    kind: str
    reference: str | None
    sku: str
    source: str
    target: str
    quantity: Decimal
    lot: str | None
    occurred_at: datetime
    recorded_at: datetime
    later_cost_before: Decimal | None = Field(
        description="What the item's outflows after occurred_at were valued at before this "
        "operation was posted (None: it was not backdated when posted, or its revaluation job "
        "is not done yet)."
    )
    later_cost_after: Decimal | None


class UnitIn(In):
    factor: Quantity = Field(description="How many stock units one of this unit holds.")


class UnitOut(Out):
    sku: str
    unit: str
    factor: Decimal


class RevaluationJobOut(Out):
    id: int
    operation_id: int
    sku: str
    occurred_at: datetime
    later_moves: int = Field(description="The item's moves dated after occurred_at it re-values.")
    status: str = Field(description="queued, running, done or failed.")
    error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    later_cost_before: Decimal | None = Field(
        description="Once done: what the item's later outflows were valued at before it."
    )
    later_cost_after: Decimal | None = Field(description="Once done: and after it.")


class RevaluationSettingIn(In):
    inline_moves: Count = Field(
        description="Above this many later moves of an item, a backdated move's revaluation is "
        "traced by the worker as a job instead of in its own transaction.",
    )


class RevaluationSettingOut(Out):
    inline_moves: int
