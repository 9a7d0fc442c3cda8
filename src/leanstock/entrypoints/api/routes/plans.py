"""Plan runs: suggested orders with their reasons, reviewed, approved and released."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import Field

from leanstock.domain.access import Actor
from leanstock.entrypoints.api.bounds import Id, Quantity
from leanstock.entrypoints.api.deps import UowDep, permit
from leanstock.entrypoints.api.paging import Limit, Offset
from leanstock.entrypoints.api.schemas import In, Out, PageOut
from leanstock.services import planning

router = APIRouter(tags=["plans"])


class PlanRunIn(In):
    forecast_run_id: Id | None = Field(default=None, description="Default: the newest run.")
    service_level: float | None = Field(
        default=None, ge=0.5, lt=1, description="One target for all; default by ABC class."
    )
    fill_rate: bool = Field(default=True, description="Target fill rate (else cycle service).")
    catalog_fill_rate: float | None = Field(
        default=None,
        ge=0.5,
        lt=1,
        description="One fill-rate target for the whole catalogue, allocated per item at the "
        "least stock value (instead of service_level).",
    )
    otif_standard: float | None = Field(
        default=None,
        ge=0,
        le=1,
        description="Suppliers below it give way (default: the company's supplier standard).",
    )
    order_cost: float = Field(
        default=0.0, ge=0, description="Cost of one order line; > 0 turns on EOQ lot sizes."
    )
    holding_rate: float = Field(
        default=0.25, ge=0, le=5, description="Holding cost per year, a share of unit cost."
    )


class PlanLineIn(In):
    quantity: Quantity = Field(description="The quantity to order; 0 drops the line.")


class PlanLineOut(Out):
    id: int
    sku: str
    location: str
    kind: str
    supplier: str | None
    source: str | None
    suggested_quantity: Decimal
    quantity: Decimal
    unit_cost: Decimal
    value: Decimal
    order_by: date
    need_by: date
    status: str
    explanation: str
    figures: dict[str, Any]
    released_order: str | None
    release_error: str | None = Field(description="Why the line's order was refused.")


class PlanRunOut(Out):
    id: int
    created_at: datetime
    status: str
    forecast_run_id: int | None
    parameters: dict[str, Any]
    summary: dict[str, Any]
    approved_at: datetime | None
    released_at: datetime | None
    lines: list[PlanLineOut]


@router.post("/plan-runs", status_code=201, dependencies=[permit("plan:run")])
def run_plan(body: PlanRunIn, uow: UowDep) -> PlanRunOut:
    """Plan every forecast item-location: buffers, net requirements, JIT order dates."""
    plan = planning.run_plan(
        uow,
        forecast_run_id=body.forecast_run_id,
        service_level=body.service_level,
        fill_rate=body.fill_rate,
        catalog_fill_rate=body.catalog_fill_rate,
        otif_standard=body.otif_standard,
        order_cost=body.order_cost,
        holding_rate=body.holding_rate,
    )
    return PlanRunOut.model_validate(plan)


@router.get("/plan-runs", dependencies=[permit("plan:read")])
def list_plan_runs(
    uow: UowDep,
    limit: Limit = 20,
    offset: Offset = 0,
) -> PageOut[PlanRunOut]:
    """Plan runs, newest first (without their lines)."""
    return PageOut[PlanRunOut].model_validate(planning.list_plans(uow, limit, offset))


@router.get("/plan-runs/{run_id}", dependencies=[permit("plan:read")])
def get_plan_run(run_id: Id, uow: UowDep) -> PlanRunOut:
    return PlanRunOut.model_validate(planning.get_plan(uow, run_id))


@router.patch("/plan-runs/{run_id}/lines/{line_id}", dependencies=[permit("plan:edit")])
def edit_plan_line(run_id: Id, line_id: Id, body: PlanLineIn, uow: UowDep) -> PlanRunOut:
    """Change a suggested quantity while the plan is a draft (or a failed line's, to fix it)."""
    return PlanRunOut.model_validate(planning.edit_plan_line(uow, run_id, line_id, body.quantity))


@router.post("/plan-runs/{run_id}/lines/{line_id}/drop", dependencies=[permit("plan:edit")])
def drop_plan_line(run_id: Id, line_id: Id, uow: UowDep) -> PlanRunOut:
    return PlanRunOut.model_validate(planning.drop_plan_line(uow, run_id, line_id))


@router.post("/plan-runs/{run_id}/approve", dependencies=[permit("plan:approve")])
def approve_plan(run_id: Id, uow: UowDep) -> PlanRunOut:
    return PlanRunOut.model_validate(planning.approve_plan(uow, run_id))


@router.post("/plan-runs/{run_id}/release")
def release_plan(
    run_id: Id,
    uow: UowDep,
    actor: Annotated[Actor, permit("plan:release")],
    retry_failed: Annotated[
        bool,
        Query(description="Release a partially released plan's failed (since fixed) lines."),
    ] = False,
) -> PlanRunOut:
    """Create and send the orders of an approved plan, each exactly once. A line whose order
    is refused fails with its `release_error`; the plan is then `partially_released`."""
    return PlanRunOut.model_validate(
        planning.release_plan(uow, run_id, actor=actor.name, retry_failed=retry_failed)
    )
