"""KPIs: stock value, money tied up, carrying cost, turnover, service, scrap, suppliers'
lateness and forecast accuracy, for a window and month by month (`services/kpis.py`)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import Field

from leanstock.domain.access import Actor
from leanstock.entrypoints.api.deps import UowDep, permit
from leanstock.entrypoints.api.paging import Limit, Offset
from leanstock.entrypoints.api.schemas import In, Out
from leanstock.services import kpis

router = APIRouter(tags=["insight"])
Reader = Annotated[Actor, permit("plan:read")]


class FiguresOut(Out):
    group: str = Field(description="The item's SKU, the category, the location or `company`.")
    period: str = Field(description="`window` (every month asked for) or a month, YYYY-MM.")
    days: int
    stock_value: Decimal = Field(description="At the end of the period (now), own locations.")
    money_tied_up: Decimal = Field(description="Average value held, in transit included.")
    carrying_cost: Decimal
    cost_of_goods_sold: Decimal
    turnover: Decimal | None = Field(description="A year's rate: COGS / money tied up.")
    days_of_supply: Decimal | None
    demand: Decimal
    filled: Decimal
    fill_rate: Decimal | None
    lines: int
    lines_in_full: int
    cycle_service: Decimal | None
    stockout_days: int
    scrap_cost: Decimal
    scrap_by_reason: dict[str, Decimal]
    deliveries: int
    late_deliveries: int
    late_share: Decimal | None
    forecasts: int
    forecast_total: Decimal
    actual_total: Decimal
    forecast_error: Decimal
    wape: Decimal | None
    bias: Decimal | None


class KpisOut(Out):
    group_by: str
    location: str | None = Field(description="The one location read, if any.")
    months: int
    since: date
    until: date
    holding_rate: Decimal
    snapshot_at: str
    window: list[FiguresOut]
    history: list[FiguresOut]
    total: int
    limit: int
    offset: int


class HoldingRateIn(In):
    rate: str = Field(
        min_length=1,
        max_length=20,
        description="A yearly share (0.25 or 25%); for an item, `company` drops its own.",
    )
    sku: str | None = Field(default=None, min_length=1, max_length=64)


class HoldingRateOut(Out):
    rate: Decimal | None
    sku: str | None


@router.get("/kpis")
def get_kpis(
    uow: UowDep,
    actor: Reader,
    group_by: Annotated[
        Literal["company", "category", "location", "item"], Query(description="One row per.")
    ] = "company",
    months: Annotated[
        int, Query(ge=1, le=kpis.MAX_MONTHS, description="Months back, the current one included.")
    ] = 12,
    sku: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    category: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    location: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> KpisOut:
    """The KPIs of the last `months` months, for the whole window and month by month, per
    group (largest money tied up first; `limit` and `offset` page the groups). A user limited
    to some locations reads one of them (the first, unless `location` names another).
    Definitions: docs/insight.md."""
    if location is not None:
        actor.require_location(location)
    elif actor.locations is not None:
        location = sorted(actor.locations)[0]
    report = kpis.kpis(
        uow,
        group_by=group_by,
        months=months,
        sku=sku,
        category=category,
        location=location,
        limit=limit,
        offset=offset,
    )
    return KpisOut.model_validate(
        {**report.__dict__, "location": location, "limit": limit, "offset": offset}
    )


@router.put("/settings/holding-rate", tags=["insight"])
def put_holding_rate(
    body: HoldingRateIn, uow: UowDep, actor: Annotated[Actor, permit("settings:write")]
) -> HoldingRateOut:
    """Set the company's yearly holding rate (default 25%), or an item's own (`sku`)."""
    rate = kpis.set_holding_rate(uow, body.rate, body.sku, actor=actor.name)
    return HoldingRateOut(rate=rate, sku=body.sku)
