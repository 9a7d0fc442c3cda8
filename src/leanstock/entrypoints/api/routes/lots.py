"""Lot traceability: where a lot came from and where it went (a recall list)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from fastapi import APIRouter

from leanstock.entrypoints.api.deps import UowDep, permit
from leanstock.entrypoints.api.paging import Limit, Offset
from leanstock.entrypoints.api.schemas import Out, PageOut
from leanstock.services import serials, traceability

router = APIRouter()


class LotRefOut(Out):
    sku: str
    lot: str


class BatchLineOut(Out):
    sku: str
    lot: str | None
    quantity: Decimal


class BatchOut(Out):
    reference: str
    made: list[BatchLineOut]
    used: list[BatchLineOut]


class ReceiptOut(Out):
    sku: str
    lot: str
    supplier: str | None
    reference: str | None
    quantity: Decimal
    occurred_at: datetime


class DeliveryOut(Out):
    sku: str
    lot: str
    customer: str | None
    reference: str | None
    location: str
    quantity: Decimal
    occurred_at: datetime
    serials: list[str]


class TraceMoveOut(Out):
    kind: str
    source: str
    target: str
    quantity: Decimal
    occurred_at: datetime
    reference: str | None
    partner: str | None


class LotTraceOut(Out):
    sku: str
    lot: str
    expires_on: date | None
    on_hand: dict[str, Decimal]
    moves: list[TraceMoveOut]
    made_in: list[BatchOut]
    used_in: list[BatchOut]
    supplier_lots: list[ReceiptOut]
    upstream: list[LotRefOut]
    downstream: list[LotRefOut]
    customers: list[DeliveryOut]


def _batch(b: traceability.Batch) -> dict[str, Any]:
    def lines(rows: list[tuple[str, str | None, Decimal]]) -> list[dict[str, Any]]:
        return [{"sku": s, "lot": lt, "quantity": q} for s, lt, q in rows]

    return {"reference": b.reference, "made": lines(b.made), "used": lines(b.used)}


@router.get("/lots/{sku}/{lot}/trace", tags=["stock"], dependencies=[permit("stock:read")])
def lot_trace(sku: str, lot: str, uow: UowDep) -> LotTraceOut:
    """Trace a lot both ways: its moves and where it is now; the batches it was made in (and
    the component and supplier lots upstream); the batches it went into (and the lots made
    from it downstream); and every customer who received it or anything made from it."""
    found = traceability.trace(uow, sku, lot)
    return LotTraceOut.model_validate(
        {
            **found.__dict__,
            "made_in": [_batch(b) for b in found.made_in],
            "used_in": [_batch(b) for b in found.used_in],
            "supplier_lots": [r.__dict__ for r in found.supplier_lots],
            "upstream": [r.__dict__ for r in found.upstream],
            "downstream": [r.__dict__ for r in found.downstream],
            "customers": [d.__dict__ for d in found.customers],
        }
    )


class SerialOut(Out):
    serial: str
    lot: str | None
    location: str


class SerialStepOut(Out):
    kind: str
    source: str
    target: str
    occurred_at: datetime
    reference: str | None
    partner: str | None


class SerialTraceOut(Out):
    sku: str
    serial: str
    lot: str | None
    location: str
    supplier: str | None
    customer: str | None
    moves: list[SerialStepOut]


@router.get("/items/{sku}/serials", tags=["stock"], dependencies=[permit("stock:read")])
def list_serials(
    sku: str, uow: UowDep, location: str | None = None, limit: Limit = 50, offset: Offset = 0
) -> PageOut[SerialOut]:
    """The serials of a serial-tracked item and where each is now (at one location, when
    named), by serial."""
    return PageOut[SerialOut].model_validate(
        serials.list_serials(uow, sku, location, limit, offset)
    )


@router.get("/items/{sku}/serials/{serial}", tags=["stock"], dependencies=[permit("stock:read")])
def serial_trace(sku: str, serial: str, uow: UowDep) -> SerialTraceOut:
    """Trace one serial: where it is now, its lot, the supplier it came from, the customer who
    has it (a recall by serial) and every move it made."""
    return SerialTraceOut.model_validate(serials.trace(uow, sku, serial))
