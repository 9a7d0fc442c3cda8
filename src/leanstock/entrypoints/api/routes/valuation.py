"""Stock value, cost flows (cost of goods sold), the costing method and items' units."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Query

from leanstock.domain.access import Actor, Role
from leanstock.domain.errors import InvalidInput
from leanstock.entrypoints.api.bounds import Id, Moment
from leanstock.entrypoints.api.deps import UowDep, permit
from leanstock.entrypoints.api.paging import Limit, Offset
from leanstock.entrypoints.api.schemas import PageOut
from leanstock.entrypoints.api.valuation_schemas import (
    BackdatedMoveOut,
    ClosedPeriodIn,
    ClosedPeriodOut,
    CostFlowsOut,
    CostingMethodIn,
    CostingMethodOut,
    RevaluationJobOut,
    RevaluationSettingIn,
    RevaluationSettingOut,
    StockValueOut,
    UnitIn,
    UnitOut,
)
from leanstock.services import revaluation, valuation

router = APIRouter()


def _own_location(actor: Actor, location: str | None) -> None:
    """Values are summed across locations: a user limited to some must name one of them (a
    location not granted answers as one that does not exist)."""
    if location is None:
        if actor.locations is not None:
            mine = ", ".join(sorted(actor.locations))
            raise InvalidInput(f"Name one of your locations ({mine}) in `location`.", "location")
        return
    actor.require_location(location)


StockReader = Annotated[Actor, permit("stock:read")]


@router.get("/stock/value", tags=["valuation"])
def stock_value(
    uow: UowDep,
    actor: StockReader,
    as_of: Annotated[Moment | None, Query(description="A past moment; now when not given.")] = None,
    sku: str | None = None,
    location: str | None = None,
    category: str | None = None,
) -> StockValueOut:
    """Quantity and value per item and location (money tied up in stock), now or at `as_of`."""
    _own_location(actor, location)
    found = valuation.stock_value(uow, as_of=as_of, sku=sku, location=location, category=category)
    return StockValueOut.model_validate(found)


@router.get("/stock/cost-flows", tags=["valuation"])
def cost_flows(
    uow: UowDep,
    actor: StockReader,
    since: Moment | None = None,
    until: Moment | None = None,
    sku: str | None = None,
    location: str | None = None,
    category: str | None = None,
) -> CostFlowsOut:
    """Value over a period per item and location: opening, what came in and went out by why
    (cost of goods sold = sold), closing."""
    _own_location(actor, location)
    found = valuation.cost_flows(
        uow, since=since, until=until, sku=sku, location=location, category=category
    )
    return CostFlowsOut.model_validate(found)


@router.get("/settings/costing", tags=["valuation"], dependencies=[permit("catalog:read")])
def get_costing(uow: UowDep) -> CostingMethodOut:
    """The company's default costing method (an item may name its own)."""
    return CostingMethodOut(method=valuation.get_costing_method(uow))


@router.put("/settings/costing", tags=["valuation"])
def put_costing(
    body: CostingMethodIn, uow: UowDep, actor: Annotated[Actor, permit("settings:write")]
) -> CostingMethodOut:
    """Set the company's default costing method: fifo or moving_average (only before items
    valued by it have moves)."""
    method = valuation.set_costing_method(uow, body.method, actor=actor.name)
    return CostingMethodOut(method=method)


@router.get("/moves", tags=["valuation"])
def list_moves(
    uow: UowDep,
    actor: StockReader,
    backdated: Annotated[
        bool, Query(description="Must be true: moves recorded well after they happened.")
    ],
    sku: str | None = None,
    location: str | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> PageOut[BackdatedMoveOut]:
    """Backdated moves (recorded more than five minutes after the moment they say they
    happened), newest first, each with what it re-valued. An item's whole history is
    GET /items/{sku}/moves."""
    if not backdated:
        raise InvalidInput(
            "Only backdated=true is listed here; an item's history is GET /items/{sku}/moves.",
            "backdated",
        )
    _own_location(actor, location)
    page = valuation.backdated_moves(uow, sku, location, limit, offset)
    return PageOut[BackdatedMoveOut].model_validate(page)


@router.get("/revaluation-jobs", tags=["valuation"], dependencies=[permit("stock:read")])
def list_revaluation_jobs(
    uow: UowDep,
    status: Annotated[str | None, Query(description="queued, running, done or failed.")] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> PageOut[RevaluationJobOut]:
    """Large revaluations of backdated moves, run by the worker, newest first, with their
    status and, once done, what they re-valued (docs/costing.md, "Backdated moves")."""
    page = revaluation.list_jobs(uow, status, limit, offset)
    return PageOut[RevaluationJobOut].model_validate(page)


@router.get("/revaluation-jobs/{job_id}", tags=["valuation"], dependencies=[permit("stock:read")])
def get_revaluation_job(job_id: Id, uow: UowDep) -> RevaluationJobOut:
    """One revaluation job: its status and, once done, what it re-valued."""
    return RevaluationJobOut.model_validate(revaluation.get_job(uow, job_id))


@router.get("/settings/revaluation", tags=["valuation"], dependencies=[permit("stock:read")])
def get_revaluation_setting(uow: UowDep) -> RevaluationSettingOut:
    """Above how many later moves of an item a revaluation becomes a job for the worker."""
    return RevaluationSettingOut(inline_moves=revaluation.inline_limit(uow))


@router.put("/settings/revaluation", tags=["valuation"])
def put_revaluation_setting(
    body: RevaluationSettingIn, uow: UowDep, actor: Annotated[Actor, permit("settings:write")]
) -> RevaluationSettingOut:
    """Set above how many later moves of an item a revaluation becomes a job."""
    moves = revaluation.set_inline_limit(uow, body.inline_moves, actor=actor.name)
    return RevaluationSettingOut(inline_moves=moves)


@router.get("/settings/closed-period", tags=["valuation"], dependencies=[permit("stock:read")])
def get_closed_period(uow: UowDep) -> ClosedPeriodOut:
    """The last day of the closed period: no move may be dated on or before it."""
    return ClosedPeriodOut(through=valuation.closed_through(uow))


@router.put("/settings/closed-period", tags=["valuation"])
def put_closed_period(
    body: ClosedPeriodIn, uow: UowDep, actor: Annotated[Actor, permit("period:close")]
) -> ClosedPeriodOut:
    """Close the books through a past day (owners and managers); moving the date back
    reopens days, which only an owner may."""
    through = valuation.close_period(
        uow, body.through, may_reopen=actor.role is Role.OWNER, actor=actor.name
    )
    return ClosedPeriodOut(through=through)


@router.get("/items/{sku}/units", tags=["catalog"], dependencies=[permit("catalog:read")])
def list_units(sku: str, uow: UowDep) -> list[UnitOut]:
    """The item's units besides its stock unit, each with its factor."""
    return [UnitOut.model_validate(u) for u in valuation.units(uow, sku)]


@router.put("/items/{sku}/units/{unit}", tags=["catalog"])
def put_unit(
    sku: str,
    unit: str,
    body: UnitIn,
    uow: UowDep,
    actor: Annotated[Actor, permit("catalog:write")],
) -> UnitOut:
    """Define a unit the item is bought, sold or counted in: 1 `unit` = `factor` stock units."""
    conversion = valuation.put_unit(uow, sku, unit, Decimal(body.factor), actor=actor.name)
    return UnitOut.model_validate(conversion)
