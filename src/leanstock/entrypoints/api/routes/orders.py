"""Sales, purchase, production and transfer orders, and bills of materials.

Who made a change is the authenticated principal (the audit trail records it). A supplier
user sees only its own supplier's purchase orders; a warehouse user limited to some locations
acts only there (`entrypoints/api/access.py`).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Query, Response

from leanstock.domain.access import Actor
from leanstock.domain.orders.ship_notices import NoticeLine
from leanstock.entrypoints.api import access
from leanstock.entrypoints.api.bounds import LineNo, Quantity
from leanstock.entrypoints.api.deps import UowDep, permit
from leanstock.entrypoints.api.order_schemas import (
    AcknowledgementIn,
    BomIn,
    BomOut,
    CancelIn,
    CustomerReturnIn,
    HistoryOut,
    LineChangeIn,
    ProduceIn,
    ProductionOrderIn,
    ProductionOrderOut,
    ProductionOrderRowOut,
    PurchaseOrderIn,
    PurchaseOrderOut,
    PurchaseOrderRowOut,
    PurchaseReceiptIn,
    RequirementOut,
    SalesOrderIn,
    SalesOrderOut,
    SalesOrderRowOut,
    ShipmentLinesIn,
    ShipNoticeIn,
    StartProductionIn,
    TransferOrderIn,
    TransferOrderOut,
    TransferOrderRowOut,
    TransferReceiptIn,
    TransferShipIn,
)
from leanstock.entrypoints.api.paging import Limit, Offset
from leanstock.entrypoints.api.schemas import PageOut
from leanstock.services import orders, production, purchasing, returns, supplier_portal, transfers

router = APIRouter()


# Sales orders


@router.post("/sales-orders", status_code=201, tags=["sales orders"], response_model=SalesOrderOut)
def place_order(
    body: SalesOrderIn, uow: UowDep, actor: Annotated[Actor, permit("sales:write")]
) -> Response:
    """Record a customer order; with `confirm`, reserve stock and pull supply for the rest.

    The busiest endpoint: its body is serialised once, straight from the validated model.
    """
    view = orders.place_order(
        uow,
        body.customer,
        [
            orders.NewLine(ln.sku, ln.quantity, ln.location, ln.requested_date, ln.unit)
            for ln in body.lines
        ],
        location=body.location,
        confirm=body.confirm,
        ordered_at=body.ordered_at,
        actor=actor.name,
        customer_code=body.customer_code,
    )
    return Response(
        SalesOrderOut.model_validate(view).model_dump_json(),
        status_code=201,
        media_type="application/json",
    )


@router.get("/sales-orders", tags=["sales orders"], dependencies=[permit("sales:read")])
def list_sales_orders(
    uow: UowDep,
    status: str | None = None,
    customer: Annotated[str | None, Query(description="The customer's name as ordered.")] = None,
    customer_code: Annotated[str | None, Query(description="A customer record's code.")] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> PageOut[SalesOrderRowOut]:
    return PageOut[SalesOrderRowOut].model_validate(
        orders.list_orders(uow, status, customer, limit, offset, customer_code)
    )


@router.get("/sales-orders/{number}", tags=["sales orders"], dependencies=[permit("sales:read")])
def get_sales_order(number: str, uow: UowDep) -> SalesOrderOut:
    """The order with each line's reservation, pegged supply and promise date."""
    return SalesOrderOut.model_validate(orders.get_order(uow, number))


@router.get(
    "/sales-orders/{number}/history", tags=["sales orders"], dependencies=[permit("sales:read")]
)
def sales_order_history(number: str, uow: UowDep) -> HistoryOut:
    """The order's domain events and audit trail (who changed what), oldest first."""
    events, audit = orders.order_events(uow, number)
    return HistoryOut.model_validate({"events": events, "audit": audit})


@router.post("/sales-orders/{number}/confirm", tags=["sales orders"])
def confirm_sales_order(
    number: str, uow: UowDep, actor: Annotated[Actor, permit("sales:write")]
) -> SalesOrderOut:
    return SalesOrderOut.model_validate(orders.confirm_order(uow, number, actor=actor.name))


@router.post("/sales-orders/{number}/shipments", status_code=201, tags=["sales orders"])
def ship_sales_order(
    number: str,
    uow: UowDep,
    actor: Annotated[Actor, permit("sales:ship")],
    body: ShipmentLinesIn | None = None,
) -> SalesOrderOut:
    """Ship reserved stock: the lines named, or everything reserved for the order."""
    named = body.lines if body is not None and body.lines else None
    lines = {ln.line: ln.quantity for ln in named} if named else None
    serials = {ln.line: ln.serials for ln in named if ln.serials} if named else None
    access.check_sales_shipment(uow, actor, number, lines)
    shipped = orders.ship_order(uow, number, lines, actor=actor.name, serials=serials)
    return SalesOrderOut.model_validate(shipped)


@router.post("/sales-orders/{number}/returns", status_code=201, tags=["sales orders"])
def return_sales_goods(
    number: str,
    body: CustomerReturnIn,
    uow: UowDep,
    actor: Annotated[Actor, permit("sales:ship")],
) -> SalesOrderOut:
    """Receive goods a customer sent back against a shipped line: to stock (usable again),
    quarantine, or scrap with a reason. The line and the demand history net it out."""
    access.check_sales_shipment(uow, actor, number, [body.line])
    return SalesOrderOut.model_validate(
        returns.return_goods(
            uow,
            number,
            body.line,
            body.quantity,
            body.to,
            lot=body.lot,
            reason=body.reason,
            note=body.note,
            actor=actor.name,
            occurred_at=body.occurred_at,
            serials=body.serials or (),
        )
    )


@router.post("/sales-orders/{number}/cancel", tags=["sales orders"])
def cancel_sales_order(
    number: str,
    uow: UowDep,
    actor: Annotated[Actor, permit("sales:write")],
    body: CancelIn | None = None,
) -> SalesOrderOut:
    """Cancel what is not shipped; pulled drafts shrink, released supply gets a change request."""
    reason = body.reason if body is not None else None
    return SalesOrderOut.model_validate(
        orders.cancel_order(uow, number, reason=reason, actor=actor.name)
    )


@router.post("/sales-orders/{number}/lines/{line}/change", tags=["sales orders"])
def change_sales_line(
    number: str,
    line: LineNo,
    body: LineChangeIn,
    uow: UowDep,
    actor: Annotated[Actor, permit("sales:write")],
) -> SalesOrderOut:
    """Change a line's quantity; a reduction propagates to the supply it pulled."""
    return SalesOrderOut.model_validate(
        orders.change_line(uow, number, line, body.quantity, actor=actor.name)
    )


@router.post("/sales-orders/{number}/lines/{line}/cancel", tags=["sales orders"])
def cancel_sales_line(
    number: str, line: LineNo, uow: UowDep, actor: Annotated[Actor, permit("sales:write")]
) -> SalesOrderOut:
    return SalesOrderOut.model_validate(orders.cancel_line(uow, number, line, actor=actor.name))


# Purchase orders


@router.post("/purchase-orders", status_code=201, tags=["purchase orders"])
def add_purchase_lines(
    body: PurchaseOrderIn, uow: UowDep, actor: Annotated[Actor, permit("purchase:write")]
) -> PurchaseOrderOut:
    """Add lines to the supplier's open draft order (one draft per supplier)."""
    lines = [
        purchasing.NewPurchaseLine(
            ln.sku, ln.quantity, ln.location, ln.price, ln.expected_date, ln.unit
        )
        for ln in body.lines
    ]
    return access.purchase_out(
        uow, actor, purchasing.add_to_draft(uow, body.supplier, lines, actor=actor.name)
    )


@router.get("/purchase-orders", tags=["purchase orders"])
def list_purchase_orders(
    uow: UowDep,
    actor: Annotated[Actor, permit("purchase:read")],
    status: str | None = None,
    supplier: str | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> PageOut[PurchaseOrderRowOut]:
    """Purchase orders, filtered (a supplier user: only its own supplier's)."""
    rows = purchasing.list_purchase_orders(uow, status, supplier, limit, offset)
    return PageOut[PurchaseOrderRowOut].model_validate(rows)


@router.get("/purchase-orders/{number}", tags=["purchase orders"])
def get_purchase_order(
    number: str, uow: UowDep, actor: Annotated[Actor, permit("purchase:read")]
) -> PurchaseOrderOut:
    return access.purchase_out(uow, actor, access.purchase_order(uow, actor, number))


@router.post("/purchase-orders/{number}/release", tags=["purchase orders"])
def release_purchase_order(
    number: str, uow: UowDep, actor: Annotated[Actor, permit("purchase:release")]
) -> PurchaseOrderOut:
    """Send the order to the supplier."""
    return access.purchase_out(uow, actor, purchasing.release(uow, number, actor=actor.name))


@router.post("/purchase-orders/{number}/acknowledgement", tags=["purchase orders"])
def acknowledge_purchase_order(
    number: str,
    body: AcknowledgementIn,
    uow: UowDep,
    actor: Annotated[Actor, permit("purchase:acknowledge")],
) -> PurchaseOrderOut:
    """The supplier's confirmed quantities and dates; pegged sales lines' promises follow. A
    proposal of the supplier's still waiting for the buyer is withdrawn: this replaces it."""
    lines = {ln.line: (ln.quantity, ln.delivery_date) for ln in body.lines}
    view = supplier_portal.acknowledge(uow, number, lines, actor=actor.name)
    return access.purchase_out(uow, actor, view)


@router.post("/purchase-orders/{number}/ship-notice", tags=["purchase orders"])
def ship_notice(
    number: str,
    uow: UowDep,
    actor: Annotated[Actor, permit("purchase:ship_notice")],
    body: ShipNoticeIn | None = None,
) -> PurchaseOrderOut:
    """The supplier's advance ship notice: per line (and lot, with its expiry) what ships,
    the carrier and tracking, when it shipped and should arrive; without lines, everything
    still owed. Our warehouse then receives against it."""
    body = body or ShipNoticeIn()
    lines = [NoticeLine(ln.line, ln.quantity, ln.lot, ln.expires_on) for ln in body.lines or []]
    view = supplier_portal.post_ship_notice(
        uow,
        number,
        lines,
        expected_date=body.expected_date,
        shipped_on=body.shipped_on,
        carrier=body.carrier,
        tracking=body.tracking,
        actor=actor.name,
    )
    return access.purchase_out(uow, actor, view)


@router.post("/purchase-orders/{number}/receipts", status_code=201, tags=["purchase orders"])
def receive_purchase_order(
    number: str,
    body: PurchaseReceiptIn,
    uow: UowDep,
    actor: Annotated[Actor, permit("purchase:receive", "purchase:deliver")],
) -> PurchaseOrderOut:
    """Post a delivery: rejects to quarantine or back; accepted goods to pegged orders first.
    A supplier posts only the deliveries of its own drop-ship orders."""
    lines = [
        purchasing.ReceiptLine(
            ln.line,
            ln.quantity,
            ln.rejected,
            ln.rejected_to,
            ln.lot,
            ln.expires_on,
            ln.unit,
            tuple(ln.serials or ()),
            tuple(ln.rejected_serials or ()),
        )
        for ln in body.lines
    ]
    access.check_receipt(uow, actor, number, [ln.line_no for ln in lines])
    return access.purchase_out(
        uow,
        actor,
        purchasing.receive(uow, number, lines, received_on=body.received_on, actor=actor.name),
    )


@router.post("/purchase-orders/{number}/close", tags=["purchase orders"])
def close_purchase_order(
    number: str, uow: UowDep, actor: Annotated[Actor, permit("purchase:write")]
) -> PurchaseOrderOut:
    return access.purchase_out(uow, actor, purchasing.close(uow, number, actor=actor.name))


@router.post("/purchase-orders/{number}/cancel", tags=["purchase orders"])
def cancel_purchase_order(
    number: str,
    uow: UowDep,
    actor: Annotated[Actor, permit("purchase:write")],
    body: CancelIn | None = None,
) -> PurchaseOrderOut:
    reason = body.reason if body is not None else None
    return access.purchase_out(
        uow, actor, purchasing.cancel(uow, number, reason=reason, actor=actor.name)
    )


# Bills of materials and production orders


@router.post("/boms", status_code=201, tags=["production"])
def put_bom(body: BomIn, uow: UowDep, actor: Annotated[Actor, permit("catalog:write")]) -> BomOut:
    """Set (or replace) the bill of materials of a made item."""
    lines = [(ln.sku, ln.quantity, ln.scrap) for ln in body.lines]
    return BomOut.model_validate(
        production.put_bom(uow, body.sku, lines, body.lead_time_days, actor=actor.name)
    )


@router.get("/boms/{sku}", tags=["production"], dependencies=[permit("catalog:read")])
def get_bom(sku: str, uow: UowDep) -> BomOut:
    return BomOut.model_validate(production.get_bom(uow, sku))


@router.get("/boms/{sku}/explosion", tags=["production"], dependencies=[permit("catalog:read")])
def explode_bom(
    sku: str, uow: UowDep, quantity: Annotated[Quantity, Query(gt=0)] = Decimal(1)
) -> list[RequirementOut]:
    """Every component at every level `quantity` of the item needs, gross of scrap."""
    return [RequirementOut.model_validate(r) for r in production.explosion(uow, sku, quantity)]


@router.post("/production-orders", status_code=201, tags=["production"])
def create_production_order(
    body: ProductionOrderIn, uow: UowDep, actor: Annotated[Actor, permit("production:write")]
) -> ProductionOrderOut:
    """A draft production order; components are reserved or pulled at once."""
    view = production.create_production_order(
        uow, body.sku, body.quantity, body.location, due_date=body.due_date, actor=actor.name
    )
    return ProductionOrderOut.model_validate(view)


@router.get("/production-orders", tags=["production"], dependencies=[permit("production:read")])
def list_production_orders(
    uow: UowDep, status: str | None = None, limit: Limit = 50, offset: Offset = 0
) -> PageOut[ProductionOrderRowOut]:
    rows = production.list_production_orders(uow, status, limit, offset)
    return PageOut[ProductionOrderRowOut].model_validate(rows)


@router.get(
    "/production-orders/{number}", tags=["production"], dependencies=[permit("production:read")]
)
def get_production_order(number: str, uow: UowDep) -> ProductionOrderOut:
    return ProductionOrderOut.model_validate(production.get_production_order(uow, number))


@router.post("/production-orders/{number}/release", tags=["production"])
def release_production_order(
    number: str, uow: UowDep, actor: Annotated[Actor, permit("production:release")]
) -> ProductionOrderOut:
    return ProductionOrderOut.model_validate(
        production.release_production(uow, number, actor=actor.name)
    )


@router.post("/production-orders/{number}/start", tags=["production"])
def start_production_order(
    number: str,
    uow: UowDep,
    actor: Annotated[Actor, permit("production:execute")],
    body: StartProductionIn | None = None,
) -> ProductionOrderOut:
    """Issue the components to work in progress (409 while any is short), lots
    first-expired-first-out or the ones named in `lots`."""
    access.check_production(uow, actor, number)
    lots = [n.named() for n in body.lots] if body is not None else []
    serials = (body.serials or {}) if body is not None else {}
    return ProductionOrderOut.model_validate(
        production.start_production_order(uow, number, lots=lots, actor=actor.name, serials=serials)
    )


@router.post("/production-orders/{number}/produce", tags=["production"])
def produce(
    number: str, body: ProduceIn, uow: UowDep, actor: Annotated[Actor, permit("production:execute")]
) -> ProductionOrderOut:
    """Report finished goods (partially allowed)."""
    access.check_production(uow, actor, number)
    return ProductionOrderOut.model_validate(
        production.produce(
            uow,
            number,
            body.quantity,
            lot=body.lot,
            expires_on=body.expires_on,
            lots=[n.named() for n in body.lots],
            actor=actor.name,
            conversion_cost=body.conversion_cost,
            serials=tuple(body.serials or ()),
        )
    )


@router.post("/production-orders/{number}/close", tags=["production"])
def close_production_order(
    number: str, uow: UowDep, actor: Annotated[Actor, permit("production:execute")]
) -> ProductionOrderOut:
    access.check_production(uow, actor, number)
    return ProductionOrderOut.model_validate(
        production.close_production(uow, number, actor=actor.name)
    )


@router.post("/production-orders/{number}/cancel", tags=["production"])
def cancel_production_order(
    number: str,
    uow: UowDep,
    actor: Annotated[Actor, permit("production:write")],
    body: CancelIn | None = None,
) -> ProductionOrderOut:
    reason = body.reason if body is not None else None
    return ProductionOrderOut.model_validate(
        production.cancel_production(uow, number, reason=reason, actor=actor.name)
    )


# Transfer orders


@router.post("/transfer-orders", status_code=201, tags=["transfer orders"])
def create_transfer_order(
    body: TransferOrderIn, uow: UowDep, actor: Annotated[Actor, permit("transfer:write")]
) -> TransferOrderOut:
    """Plan a transfer; its quantity is reserved at the source."""
    view = transfers.create_transfer_order(
        uow,
        body.sku,
        body.source,
        body.target,
        body.quantity,
        expected_date=body.expected_date,
        actor=actor.name,
    )
    return TransferOrderOut.model_validate(view)


@router.get("/transfer-orders", tags=["transfer orders"], dependencies=[permit("transfer:read")])
def list_transfer_orders(
    uow: UowDep, status: str | None = None, limit: Limit = 50, offset: Offset = 0
) -> PageOut[TransferOrderRowOut]:
    rows = transfers.list_transfer_orders(uow, status, limit, offset)
    return PageOut[TransferOrderRowOut].model_validate(rows)


@router.get(
    "/transfer-orders/{number}", tags=["transfer orders"], dependencies=[permit("transfer:read")]
)
def get_transfer_order(number: str, uow: UowDep) -> TransferOrderOut:
    return TransferOrderOut.model_validate(transfers.get_transfer_order(uow, number))


@router.post("/transfer-orders/{number}/ship", tags=["transfer orders"])
def ship_transfer_order(
    number: str,
    uow: UowDep,
    actor: Annotated[Actor, permit("transfer:execute")],
    body: TransferShipIn | None = None,
) -> TransferOrderOut:
    """Send the goods on their way (source → in transit), naming a serial-tracked item's
    serials."""
    serials = tuple(body.serials or ()) if body is not None else ()
    access.check_transfer(uow, actor, number, "source")
    return TransferOrderOut.model_validate(
        transfers.ship_transfer(uow, number, actor=actor.name, serials=serials)
    )


@router.post("/transfer-orders/{number}/receive", tags=["transfer orders"])
def receive_transfer_order(
    number: str,
    uow: UowDep,
    actor: Annotated[Actor, permit("transfer:execute")],
    body: TransferReceiptIn | None = None,
) -> TransferOrderOut:
    quantity = body.quantity if body is not None else None
    serials = tuple(body.serials or ()) if body is not None else ()
    access.check_transfer(uow, actor, number, "target")
    return TransferOrderOut.model_validate(
        transfers.receive_transfer(uow, number, quantity, actor=actor.name, serials=serials)
    )


@router.post("/transfer-orders/{number}/cancel", tags=["transfer orders"])
def cancel_transfer_order(
    number: str, uow: UowDep, actor: Annotated[Actor, permit("transfer:write")]
) -> TransferOrderOut:
    return TransferOrderOut.model_validate(transfers.cancel_transfer(uow, number, actor=actor.name))
