"""Quarantined goods (release, return to the supplier, scrap) and the expiry sweep."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter

from leanstock.domain.access import Actor
from leanstock.entrypoints.api.deps import UowDep, permit
from leanstock.entrypoints.api.schemas import (
    ExpiryIn,
    ExpiryOut,
    OperationOut,
    QuarantineReleaseIn,
    QuarantineScrapIn,
    SupplierReturnIn,
)
from leanstock.services.stock import expiry, quarantine

router = APIRouter()
StockWriter = Annotated[Actor, permit("stock:write")]


@router.post("/stock/quarantine/releases", status_code=201, tags=["stock"])
def release(body: QuarantineReleaseIn, uow: UowDep, actor: StockWriter) -> OperationOut:
    """Release quarantined goods to a warehouse or store (quarantine → location), where they
    become usable and fill waiting backorders first."""
    actor.require_location(body.quarantine, "quarantine")
    actor.require_location(body.location)
    operation = quarantine.release(
        uow,
        body.sku,
        body.quantity,
        body.location,
        quarantine=body.quarantine,
        lot=body.lot,
        note=body.note,
        actor=actor.name,
        occurred_at=body.occurred_at,
        serials=tuple(body.serials or ()),
    )
    return OperationOut.model_validate(operation)


@router.post("/stock/quarantine/returns", status_code=201, tags=["stock"])
def return_to_supplier(body: SupplierReturnIn, uow: UowDep, actor: StockWriter) -> OperationOut:
    """Send quarantined goods back to the supplier (quarantine → supplier); naming the
    purchase order records `purchase_order.goods_returned` on it."""
    actor.require_location(body.quarantine, "quarantine")
    operation = quarantine.return_to_supplier(
        uow,
        body.sku,
        body.quantity,
        purchase_order=body.purchase_order,
        supplier=body.supplier,
        quarantine=body.quarantine,
        lot=body.lot,
        note=body.note,
        actor=actor.name,
        occurred_at=body.occurred_at,
        serials=tuple(body.serials or ()),
    )
    return OperationOut.model_validate(operation)


@router.post("/stock/quarantine/scraps", status_code=201, tags=["stock"])
def scrap(body: QuarantineScrapIn, uow: UowDep, actor: StockWriter) -> OperationOut:
    """Scrap quarantined goods with a reason (quarantine → scrap)."""
    actor.require_location(body.quarantine, "quarantine")
    operation = quarantine.scrap(
        uow,
        body.sku,
        body.quantity,
        body.reason,
        quarantine=body.quarantine,
        lot=body.lot,
        note=body.note,
        occurred_at=body.occurred_at,
        serials=tuple(body.serials or ()),
    )
    return OperationOut.model_validate(operation)


@router.post("/stock/expiry", tags=["stock"])
def expire(body: ExpiryIn, uow: UowDep, actor: StockWriter) -> ExpiryOut:
    """The expiry sweep: every lot past its expiry date still held goes to scrap with reason
    `expiry` (at the caller's own locations when they are limited to some)."""
    sweep = expiry.expire(
        uow,
        today=body.today,
        actor=actor.name,
        locations=actor.locations,
    )
    return ExpiryOut(day=sweep.day, operation=OperationOut.model_validate(sweep.operation))
