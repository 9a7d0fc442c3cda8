"""The supplier portal's API and the buyer's answers: proposals, receipts against ship
notices, drop-ship deliveries with carrier and tracking, supplier invoices, and the company's
supplier standard.

A supplier user reaches only its own supplier's orders: another's answers exactly as a
missing one (404), through the unit of work that sees only its rows.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import Field

from leanstock.domain.access import Actor
from leanstock.domain.orders.proposals import ProposedLine
from leanstock.entrypoints.api import access
from leanstock.entrypoints.api.bounds import Id
from leanstock.entrypoints.api.deps import UowDep, permit
from leanstock.entrypoints.api.order_schemas import (
    DropShipDeliveryIn,
    InvoiceIn,
    InvoiceOut,
    NoticeReceiptIn,
    ProposalIn,
    ProposalOut,
    PurchaseOrderOut,
    RejectionIn,
)
from leanstock.entrypoints.api.paging import Limit, Offset
from leanstock.entrypoints.api.schemas import In, Out, PageOut
from leanstock.services import invoices, supplier_portal, supplier_standard

router = APIRouter(tags=["supplier portal"])


@router.post("/purchase-orders/{number}/proposals", status_code=201)
def propose(
    number: str,
    body: ProposalIn,
    uow: UowDep,
    actor: Annotated[Actor, permit("purchase:acknowledge")],
) -> ProposalOut:
    """The supplier proposes other quantities or delivery dates for a released order; the
    buyer accepts or rejects. One proposal waits for an answer at a time."""
    lines = [ProposedLine(ln.line, ln.quantity, ln.delivery_date) for ln in body.lines]
    return ProposalOut.model_validate(
        supplier_portal.propose(uow, number, lines, body.note, actor=actor.name)
    )


@router.get("/purchase-proposals")
def list_proposals(
    uow: UowDep,
    actor: Annotated[Actor, permit("purchase:read")],
    status: Annotated[
        str | None, Query(description="pending, accepted, rejected, withdrawn")
    ] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> PageOut[ProposalOut]:
    """Proposals across orders, newest first: the buyer's inbox (a supplier: its own)."""
    found = supplier_portal.list_proposals(uow, status, limit, offset)
    return PageOut[ProposalOut].model_validate(found)


@router.post("/purchase-orders/{number}/proposals/{proposal_id}/accept")
def accept_proposal(
    number: str, proposal_id: Id, uow: UowDep, actor: Annotated[Actor, permit("purchase:write")]
) -> ProposalOut:
    """Accept: the proposal becomes the supplier's acknowledgement (timed when it proposed);
    the sales lines pegged to the order follow."""
    return ProposalOut.model_validate(
        supplier_portal.accept(uow, number, proposal_id, actor=actor.name)
    )


@router.post("/purchase-orders/{number}/proposals/{proposal_id}/reject")
def reject_proposal(
    number: str,
    proposal_id: Id,
    body: RejectionIn,
    uow: UowDep,
    actor: Annotated[Actor, permit("purchase:write")],
) -> ProposalOut:
    """Reject, saying why: the order stays as it was."""
    return ProposalOut.model_validate(
        supplier_portal.reject(uow, number, proposal_id, body.reason, actor=actor.name)
    )


@router.post("/purchase-orders/{number}/ship-notices/{notice_id}/receipt", status_code=201)
def receive_ship_notice(
    number: str,
    notice_id: Id,
    uow: UowDep,
    actor: Annotated[Actor, permit("purchase:receive")],
    body: NoticeReceiptIn | None = None,
) -> PurchaseOrderOut:
    """Receive what a ship notice announced, with its lots and expiry dates, less what is
    rejected for quality (per notice row, to quarantine)."""
    body = body or NoticeReceiptIn()
    view = access.purchase_order(uow, actor, number)
    access.check_receipt(uow, actor, number, [ln.line_no for ln in view.lines])
    rejected = [(r.row, r.quantity) for r in body.rejected]
    return access.purchase_out(
        uow,
        actor,
        supplier_portal.receive_ship_notice(
            uow, number, notice_id, rejected, received_on=body.received_on, actor=actor.name
        ),
    )


@router.post("/purchase-orders/{number}/drop-ship-deliveries", status_code=201)
def confirm_drop_ship(
    number: str,
    body: DropShipDeliveryIn,
    uow: UowDep,
    actor: Annotated[Actor, permit("purchase:deliver")],
) -> PurchaseOrderOut:
    """The supplier took a drop-ship order's goods to our customer: the delivery, with the
    carrier and tracking number; the customer's order lines ship with it."""
    lines = [supplier_portal.DropShipDelivery(ln.line, ln.quantity) for ln in body.lines]
    view = supplier_portal.confirm_drop_ship(
        uow,
        number,
        lines,
        carrier=body.carrier,
        tracking=body.tracking,
        delivered_on=body.delivered_on,
        actor=actor.name,
    )
    return access.purchase_out(uow, actor, view)


@router.post("/purchase-orders/{number}/invoices", status_code=201)
def record_invoice(
    number: str, body: InvoiceIn, uow: UowDep, actor: Annotated[Actor, permit("purchase:write")]
) -> InvoiceOut:
    """Record a supplier's invoice per purchase line (price and quantity): the scorecard's
    price variance, and a flag per line where the price or the quantity differs."""
    lines = [invoices.InvoiceLine(ln.line, ln.quantity, ln.price) for ln in body.lines]
    found = invoices.record_invoice(
        uow,
        number,
        body.invoice_number,
        lines,
        invoiced_on=body.invoiced_on,
        actor=actor.name,
    )
    return InvoiceOut.model_validate(found)


Share = Annotated[float, Field(ge=0, le=1)]


class StandardIn(In):
    otif: Share | None = None
    on_time: Share | None = None
    defect_rate: Share | None = None
    lead_time_sd_days: Annotated[float, Field(ge=0, le=365)] | None = Field(
        default=None, description="Days; null stops judging the spread."
    )
    ack_hours: Annotated[float, Field(gt=0, le=8760)] | None = None
    price_variance: Share | None = None


class StandardOut(Out):
    otif: float
    on_time: float
    defect_rate: float
    lead_time_sd_days: float | None
    ack_hours: float
    price_variance: float


@router.get("/settings/supplier-standard", dependencies=[permit("supplier:read")])
def get_supplier_standard(uow: UowDep) -> StandardOut:
    """The company's standard for its suppliers: below it (OTIF, on time, defect rate,
    lead-time spread, from five deliveries) a supplier is flagged and passed over for its
    backup by the planner and the order pull; slow acknowledgements and invoices over the
    order are warned of."""
    return StandardOut.model_validate(supplier_standard.get_standard(uow), from_attributes=True)


@router.put("/settings/supplier-standard")
def put_supplier_standard(
    body: StandardIn, uow: UowDep, actor: Annotated[Actor, permit("settings:write")]
) -> StandardOut:
    """Change thresholds of the standard (those left out stay as they are)."""
    changes: dict[str, Any] = body.model_dump(exclude_unset=True)
    found = supplier_standard.set_standard(uow, changes, actor=actor.name)
    return StandardOut.model_validate(found, from_attributes=True)
