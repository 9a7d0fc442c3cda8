"""Insight: item classes (ABC, XYZ, demand class, dead and slow stock) and JIT readiness."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import Field

from leanstock.config import get_settings
from leanstock.domain.access import Actor
from leanstock.entrypoints.api.deps import UowDep, permit
from leanstock.entrypoints.api.paging import Limit, Offset
from leanstock.entrypoints.api.schemas import In, Out, PageOut
from leanstock.services import drills, insight

router = APIRouter(tags=["insight"])
Reader = Annotated[Actor, permit("plan:read")]
Planner = Annotated[Actor, permit("plan:run")]
Category = Field(default=None, min_length=1, max_length=64, description="Default: every item.")
Supplier = Field(min_length=1, max_length=64, description="The supplier's code.")
CENT = Decimal("0.01")


class ItemClassOut(Out):
    sku: str
    name: str
    category: str
    unit_cost: Decimal
    usage_qty: Decimal
    usage_value: Decimal
    abc_class: Literal["A", "B", "C"]
    cv: float | None
    xyz_class: Literal["X", "Y", "Z"] | None
    demand_class: str
    selling_days: int
    stockout_days: int
    on_hand: Decimal
    stock_value: Decimal
    days_of_supply: float | None
    stock_status: Literal["dead", "slow", "ok"] | None
    excess_value: Decimal
    action: str | None


class FindingOut(Out):
    question: str
    figure: str
    verdict: Literal["ready", "watch", "not ready"]
    action: str
    details: list[dict[str, Any]]


class ReadinessOut(Out):
    as_of: date
    verdict: Literal["ready", "watch", "not ready"]
    findings: list[FindingOut]


def _today() -> date:
    return datetime.now(UTC).date()


def _decimal(value: float | None) -> Decimal:
    if value is None or not math.isfinite(value):
        return Decimal(0)
    return Decimal(repr(value)).quantize(CENT)


def _finite(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else round(value, 4)


@router.get("/classification")
def classification(
    uow: UowDep,
    actor: Reader,
    abc: Annotated[Literal["A", "B", "C"] | None, Query(description="Only this ABC class.")] = None,
    xyz: Annotated[Literal["X", "Y", "Z"] | None, Query(description="Only this XYZ class.")] = None,
    status: Annotated[
        Literal["dead", "slow", "ok"] | None, Query(description="Only this stock status.")
    ] = None,
    category: Annotated[str | None, Query(max_length=64, description="Only this category.")] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> PageOut[ItemClassOut]:
    """Every active item with its ABC class (last year's usage value), XYZ class (weekly
    demand variability), demand class, stock-out days and dead or slow stock with the money
    in it and a suggested action; largest usage value first."""
    frame = insight.classify_items(uow, _today())
    rows = [
        r
        for r in frame.iter_rows(named=True)
        if (abc is None or r["abc_class"] == abc)
        and (xyz is None or r["xyz_class"] == xyz)
        and (status is None or r["stock_status"] == status)
        and (category is None or r["category"] == category)
    ]
    page = [
        ItemClassOut(
            **{
                **r,
                "unit_cost": _decimal(r["unit_cost"]),
                "usage_qty": Decimal(repr(r["usage_qty"])),
                "usage_value": _decimal(r["usage_value"]),
                "cv": _finite(r["cv"]),
                "on_hand": Decimal(repr(r["on_hand"])),
                "stock_value": _decimal(r["stock_value"]),
                "days_of_supply": _finite(r["days_of_supply"]),
                "excess_value": _decimal(r["excess_value"]),
            }
        )
        for r in rows[offset : offset + limit]
    ]
    return PageOut[ItemClassOut](items=page, total=len(rows), limit=limit, offset=offset)


@router.get("/readiness")
def readiness(uow: UowDep, actor: Reader) -> ReadinessOut:
    """The JIT readiness test from the business's own records: how predictable demand is,
    how reliable and near the suppliers are, how much is tied up, what a stock-out would
    cost, and which items are ready for just in time; each with figure, verdict and action."""
    report = insight.readiness(uow, _today())
    return ReadinessOut.model_validate(report, from_attributes=True)


class SlipIn(In):
    kind: Literal["lead_time_slip"]
    supplier: str = Supplier
    days: int = Field(ge=0, le=365, description="How many days later each delivery comes.")
    known: bool = Field(default=False, description="The planner plans with the new lead time.")

    def scenario(self) -> drills.WhatIf:
        return drills.Slip(self.supplier, self.days, self.known)


class OtifIn(In):
    kind: Literal["otif_drop"]
    supplier: str = Supplier
    on_time: float = Field(ge=0, le=1, description="Share of deliveries on time, e.g. 0.7.")
    late_by_days: int | None = Field(
        default=None,
        ge=1,
        le=365,
        description="How late the others are; default half the lead time.",
    )

    def scenario(self) -> drills.WhatIf:
        return drills.Otif(self.supplier, self.on_time, self.late_by_days)


class StopIn(In):
    kind: Literal["supplier_stop"]
    supplier: str = Supplier

    def scenario(self) -> drills.WhatIf:
        return drills.Stop(self.supplier)


class DemandIn(In):
    kind: Literal["demand_change"]
    change: float = Field(gt=-1, le=10, description="0.2 = 20% more, -0.1 = 10% less.")
    category: str | None = Category

    def scenario(self) -> drills.WhatIf:
        return drills.Demand(self.change, self.category)


class EventIn(In):
    kind: Literal["event"]
    after_weeks: int = Field(ge=0, le=104, description="Weeks into the replay it starts.")
    weeks: int = Field(ge=1, le=52, description="How long it lasts.")
    lift: float = Field(ge=0, le=100, description="Demand multiplier while it lasts: 1.5 = +50%.")
    category: str | None = Category
    known: bool = Field(default=True, description="On the calendar, so the forecast sees it.")

    def scenario(self) -> drills.WhatIf:
        return drills.Event(self.after_weeks, self.weeks, self.lift, self.category, self.known)


class ServiceIn(In):
    kind: Literal["service_target"]
    service_level: float = Field(gt=0, lt=1, description="Fill-rate target, e.g. 0.98.")
    category: str | None = Category

    def scenario(self) -> drills.WhatIf:
        return drills.Service(self.service_level, self.category)


ScenarioIn = Annotated[
    SlipIn | OtifIn | StopIn | DemandIn | EventIn | ServiceIn, Field(discriminator="kind")
]


class WhatIfIn(In):
    scenarios: list[ScenarioIn] = Field(min_length=1, max_length=20)
    top: int = Field(default=20, ge=1, le=500, description="Items to list, worst hit first.")
    engine: Literal["local", "dask"] = Field(
        default="local",
        description="local, or dask: items in chunks over the Dask cluster the server is "
        "configured with (LEANSTOCK_DASK_SCHEDULER; unset: a local one in the process).",
    )


class WhatIfOut(Out):
    weeks: int
    first_week: date
    measured_from: date
    scenarios: list[str]
    overall: dict[str, Any]
    by_item: list[dict[str, Any]]
    seconds: float


@router.post("/what-if")
def what_if(body: WhatIfIn, uow: UowDep, actor: Planner) -> WhatIfOut:
    """A what-if or disruption drill: the sales history replayed under the planner's policy
    as it was and under the scenarios (combined), compared per item and overall: fill rate,
    average stock value, orders, stock-out weeks, items left without supply and what the
    backup suppliers cost more. Nothing is stored or changed. The Dask engine runs on the
    server's configured cluster: a request never names a scheduler (it would make the server
    connect wherever it was told)."""
    report = drills.what_if(
        uow,
        [s.scenario() for s in body.scenarios],
        _today(),
        top=body.top,
        engine=body.engine,
        scheduler=get_settings().dask_scheduler if body.engine == "dask" else None,
    )
    return WhatIfOut.model_validate(report, from_attributes=True)
