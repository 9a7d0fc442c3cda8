"""Request and response bodies of the order endpoints. Unknown fields are rejected."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pydantic import Field

from leanstock.domain.ledger import ScrapReason
from leanstock.domain.orders import RejectTo
from leanstock.entrypoints.api.bounds import Days, LineNo, Quantity
from leanstock.entrypoints.api.schemas import Code, In, Out
from leanstock.services.production import ComponentLot
from leanstock.services.returns import ReturnTo

MAX_LINES = 500

# Sales orders


class SalesLineIn(In):
    sku: str = Code
    quantity: Quantity
    location: str | None = Field(
        default=None, min_length=1, max_length=64, description="Defaults to the order's."
    )
    requested_date: date | None = None
    unit: str | None = Field(
        default=None,
        description="The unit of quantity (a sales unit with a conversion, e.g. a dozen); the "
        "line is kept in the stock unit. Default: the stock unit.",
    )


class SalesOrderIn(In):
    customer: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="The customer's name: free text for a walk-in sale; for a customer record "
        "(customer_code), its name when left out.",
    )
    customer_code: str | None = Field(
        default=None, min_length=1, max_length=64, description="The code of a customer record."
    )
    location: str | None = Field(default=None, min_length=1, max_length=64)
    lines: list[SalesLineIn] = Field(min_length=1, max_length=MAX_LINES)
    confirm: bool = Field(
        default=False, description="Confirm at once: reserve stock and pull supply."
    )
    ordered_at: datetime | None = Field(
        default=None, description="When the customer ordered; now when left out."
    )


class LineQuantityIn(In):
    line: LineNo = Field(ge=1)
    quantity: Quantity


class ShipLineIn(LineQuantityIn):
    serials: list[str] | None = Field(
        default=None,
        max_length=10000,
        description="A serial-tracked item: the serials shipped, one per unit (required).",
    )


class ShipmentLinesIn(In):
    lines: list[ShipLineIn] | None = Field(
        default=None, description="Which lines and how much; leave out for all that is reserved."
    )


class CancelIn(In):
    reason: str | None = Field(default=None, max_length=500)


class LineChangeIn(In):
    quantity: Quantity


class PegOut(Out):
    supply: str
    kind: str
    quantity: Decimal
    received: Decimal
    status: str
    expected: date | None


class SalesLineOut(Out):
    line_no: int
    sku: str
    location: str
    quantity: Decimal
    ordered_quantity: Decimal
    shipped: Decimal
    open_quantity: Decimal
    reserved: Decimal
    short_at_order: Decimal
    fulfilment: str
    cancelled: bool
    requested_date: date | None
    promise_date: date | None = Field(
        description="When all that is open can ship, given stock, pegged supply and lead times."
    )
    misses_request: bool = Field(
        description="The promise is after the requested date (`promise_note` says why)."
    )
    promise_note: str | None = Field(description="Why the requested date cannot be met.")
    pegs: list[PegOut]
    returned: Decimal = Field(description="What the customer sent back of what shipped.")


class CustomerReturnIn(In):
    line: LineNo = Field(ge=1)
    quantity: Quantity
    to: ReturnTo = Field(description="stock (usable again), quarantine, or scrap.")
    lot: str | None = Field(default=None, min_length=1, max_length=64)
    reason: ScrapReason | None = Field(default=None, description="Why, when scrapped.")
    note: str | None = Field(default=None, max_length=1000)
    occurred_at: datetime | None = None
    serials: list[str] | None = Field(
        default=None,
        max_length=10000,
        description="A serial-tracked item: the serials that came back, one per unit.",
    )


class SalesOrderOut(Out):
    number: str
    customer: str
    customer_code: str | None = Field(description="The customer record; null: a walk-in sale.")
    status: str
    ordered_at: datetime
    lines: list[SalesLineOut]


class SalesOrderRowOut(Out):
    number: str
    customer: str
    customer_code: str | None
    status: str
    ordered_at: datetime
    lines: int
    quantity: Decimal | None
    shipped: Decimal | None


class EventOut(Out):
    event: str
    subject: str
    payload: dict[str, object]
    created_at: datetime


class AuditOut(Out):
    actor: str
    action: str
    subject: str
    changes: dict[str, object]
    created_at: datetime


class HistoryOut(Out):
    events: list[EventOut]
    audit: list[AuditOut]


# Purchase orders


class PurchaseLineIn(In):
    sku: str = Code
    quantity: Quantity
    location: str = Code
    price: Quantity | None = None
    expected_date: date | None = None
    unit: str | None = Field(
        default=None,
        description="The unit of quantity and price (a purchase unit with a conversion, e.g. a "
        "sack); the line is kept in the stock unit. Default: the stock unit.",
    )


class PurchaseOrderIn(In):
    supplier: str = Code
    lines: list[PurchaseLineIn] = Field(min_length=1, max_length=MAX_LINES)


class AcknowledgedLineIn(In):
    line: LineNo = Field(ge=1)
    quantity: Quantity | None = Field(default=None, description="Confirmed quantity.")
    delivery_date: date | None = Field(default=None, description="Confirmed delivery date.")


class AcknowledgementIn(In):
    lines: list[AcknowledgedLineIn] = Field(min_length=1, max_length=MAX_LINES)


class ShipNoticeLineIn(In):
    line: LineNo = Field(ge=1)
    quantity: Quantity
    lot: str | None = Field(default=None, min_length=1, max_length=64)
    expires_on: date | None = None


class ShipNoticeIn(In):
    lines: list[ShipNoticeLineIn] | None = Field(
        default=None,
        max_length=MAX_LINES,
        description="Per line (and lot) what ships; leave out for everything still owed.",
    )
    expected_date: date | None = Field(default=None, description="When it should arrive.")
    shipped_on: date | None = None
    carrier: str | None = Field(default=None, min_length=1, max_length=100)
    tracking: str | None = Field(default=None, min_length=1, max_length=100)


class ReceiptLineIn(In):
    line: LineNo = Field(ge=1)
    quantity: Quantity = Field(description="Accepted into stock (or to the customer).")
    rejected: Quantity = Decimal(0)
    rejected_to: RejectTo = RejectTo.QUARANTINE
    lot: str | None = Field(default=None, min_length=1, max_length=64)
    expires_on: date | None = None
    unit: str | None = Field(
        default=None,
        description="The unit of quantity and rejected (a purchase unit, e.g. a sack); the "
        "item's stock unit when not given.",
    )
    serials: list[str] | None = Field(
        default=None,
        max_length=10000,
        description="A serial-tracked item: one serial per accepted unit (required).",
    )
    rejected_serials: list[str] | None = Field(
        default=None,
        max_length=10000,
        description="A serial-tracked item: one serial per unit rejected to the quarantine "
        "(required for it).",
    )


class PurchaseReceiptIn(In):
    lines: list[ReceiptLineIn] = Field(min_length=1, max_length=MAX_LINES)
    received_on: date | None = None


class PurchaseLineOut(Out):
    line_no: int
    sku: str
    location: str
    quantity: Decimal
    price: Decimal
    expected_date: date | None
    confirmed_quantity: Decimal | None
    confirmed_date: date | None
    shipped_quantity: Decimal
    received: Decimal
    rejected: Decimal
    outstanding: Decimal
    pegged_to: list[str]
    first_confirmed_quantity: Decimal | None = Field(
        description="What the supplier first confirmed; later promises do not change it."
    )
    first_confirmed_date: date | None = Field(
        description="The date the supplier first confirmed: what its scorecard judges by."
    )
    acknowledged_at: datetime | None = Field(description="When it first acknowledged the line.")


class ProposalLineOut(Out):
    line: int
    quantity: Decimal | None
    delivery_date: date | None


class ProposalOut(Out):
    id: int
    order: str
    supplier: str
    status: str
    lines: list[ProposalLineOut]
    note: str | None
    proposed_by: str
    proposed_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    reason: str | None


class NoticeLineOut(Out):
    line: int
    quantity: Decimal
    lot: str | None
    expires_on: date | None


class ShipNoticeOut(Out):
    id: int
    order: str
    status: str
    shipped_on: date | None
    expected_date: date | None
    carrier: str | None
    tracking: str | None
    lines: list[NoticeLineOut]
    created_by: str
    created_at: datetime
    received_at: datetime | None


class DeliveryOut(Out):
    line: int
    received_on: date
    quantity: Decimal
    rejected: Decimal
    ship_notice: int | None
    carrier: str | None
    tracking: str | None


class InvoiceLineOut(Out):
    invoice_number: str
    invoiced_on: date
    line: int
    quantity: Decimal
    price: Decimal
    ordered_price: Decimal
    source: str


class PurchaseOrderOut(Out):
    number: str
    supplier: str
    status: str
    drop_ship_customer: str | None
    drop_ship_customer_code: str | None = Field(
        default=None, description="The customer record a drop-ship goes to (null: walk-in)."
    )
    drop_ship_to: str | None = Field(
        default=None, description="Where the supplier delivers a drop-ship: the customer's address."
    )
    change_requested: bool
    ordered_at: datetime
    lines: list[PurchaseLineOut]
    proposals: list[ProposalOut] = Field(
        default_factory=list, description="The supplier's proposals and the buyer's answers."
    )
    ship_notices: list[ShipNoticeOut] = Field(default_factory=list)
    deliveries: list[DeliveryOut] = Field(default_factory=list)
    invoices: list[InvoiceLineOut] = Field(default_factory=list)


class ProposedLineIn(In):
    line: LineNo = Field(ge=1)
    quantity: Quantity | None = Field(default=None, description="The quantity it can deliver.")
    delivery_date: date | None = Field(default=None, description="The date it can deliver.")


class ProposalIn(In):
    lines: list[ProposedLineIn] = Field(min_length=1, max_length=MAX_LINES)
    note: str | None = Field(default=None, max_length=500)


class RejectionIn(In):
    reason: str = Field(min_length=1, max_length=500)


class NoticeRejectIn(In):
    row: LineNo = Field(ge=1, description="The ship notice's row (1 is its first line).")
    quantity: Quantity


class NoticeReceiptIn(In):
    received_on: date | None = None
    rejected: list[NoticeRejectIn] = Field(default_factory=list, max_length=MAX_LINES)


class DropShipDeliveryIn(In):
    lines: list[LineQuantityIn] = Field(min_length=1, max_length=MAX_LINES)
    carrier: str = Field(min_length=1, max_length=100)
    tracking: str = Field(min_length=1, max_length=100)
    delivered_on: date | None = None


class InvoiceLineIn(In):
    line: LineNo = Field(ge=1)
    quantity: Quantity
    price: Quantity


class InvoiceIn(In):
    invoice_number: str = Code
    invoiced_on: date | None = None
    lines: list[InvoiceLineIn] = Field(min_length=1, max_length=MAX_LINES)


class InvoiceOut(Out):
    order: str
    supplier: str
    invoice_number: str
    invoiced_on: date
    lines: list[dict[str, Any]]


class PurchaseOrderRowOut(Out):
    number: str
    supplier: str
    status: str
    drop_ship_customer: str | None
    change_requested: bool
    ordered_at: datetime
    lines: int
    quantity: Decimal | None
    received: Decimal | None
    promised_date: date | None


# Production


class BomLineIn(In):
    sku: str = Code
    quantity: Quantity
    scrap: Quantity = Field(default=Decimal(0), description="Fraction lost, 0 ≤ scrap < 1.")


class BomIn(In):
    sku: str = Code
    lead_time_days: Days = Field(default=0, ge=0)
    lines: list[BomLineIn] = Field(min_length=1, max_length=MAX_LINES)


class BomLineOut(Out):
    component: str
    quantity: Decimal
    scrap: Decimal


class BomOut(Out):
    sku: str
    lead_time_days: int
    lines: list[BomLineOut]


class RequirementOut(Out):
    sku: str
    quantity: Decimal
    level: int
    parent: str


class ProductionOrderIn(In):
    sku: str = Code
    quantity: Quantity
    location: str = Code
    due_date: date | None = None


class ComponentLotIn(In):
    """A component lot named for production instead of first-expired-first-out."""

    sku: str = Code
    lot: str = Code
    quantity: Quantity | None = Field(
        default=None,
        description="How much of the component this lot gives (leave out when it gives all).",
    )

    def named(self) -> ComponentLot:
        return ComponentLot(self.sku, self.lot, self.quantity)


class StartProductionIn(In):
    lots: list[ComponentLotIn] = Field(
        default_factory=list,
        max_length=1000,
        description="Component lots to issue (default: first-expired-first-out).",
    )
    serials: dict[str, list[str]] | None = Field(
        default=None,
        max_length=1000,
        description="Serial-tracked components: SKU → the serials issued, one per unit "
        "(required for them).",
    )


class ProduceIn(In):
    quantity: Quantity
    lots: list[ComponentLotIn] = Field(
        default_factory=list,
        max_length=1000,
        description="Component lots this output consumes from work in progress (default: "
        "first-expired-first-out).",
    )
    conversion_cost: Quantity | None = Field(
        default=None,
        description="Cost this output adds to its components' (labour, energy), in total.",
    )
    lot: str | None = Field(
        default=None,
        max_length=64,
        description="The lot made (a lot-tracked item; default: the order's number and day).",
    )
    expires_on: date | None = Field(
        default=None, description="The lot's expiry (default: today + the shelf life)."
    )
    serials: list[str] | None = Field(
        default=None,
        max_length=10000,
        description="A serial-tracked item: the new serials of the units made, one per unit "
        "(required for it).",
    )


class ComponentOut(Out):
    sku: str
    quantity: Decimal
    consumed: Decimal
    reserved: Decimal


class ProductionOrderOut(Out):
    number: str
    sku: str
    location: str
    quantity: Decimal
    produced: Decimal
    status: str
    due_date: date | None
    change_requested: bool
    components: list[ComponentOut]
    pegged_to: list[str]


class ProductionOrderRowOut(Out):
    number: str
    sku: str
    location: str
    quantity: Decimal
    produced: Decimal
    status: str
    due_date: date | None


# Transfers


class TransferOrderIn(In):
    sku: str = Code
    source: str = Code
    target: str = Code
    quantity: Quantity
    expected_date: date | None = None


class TransferShipIn(In):
    serials: list[str] | None = Field(
        default=None,
        max_length=10000,
        description="A serial-tracked item: the serials sent, one per unit (required).",
    )


class TransferReceiptIn(In):
    quantity: Quantity | None = Field(default=None, description="Leave out when all arrived.")
    serials: list[str] | None = Field(
        default=None,
        max_length=10000,
        description="A serial-tracked item: the serials that arrived (leave out when all "
        "that were sent arrived); the others are written off.",
    )


class TransferOrderOut(Out):
    number: str
    sku: str
    source: str
    target: str
    quantity: Decimal
    received: Decimal
    status: str
    expected_date: date | None
    pegged_to: list[str]


class TransferOrderRowOut(Out):
    number: str
    sku: str
    source: str
    target: str
    quantity: Decimal
    received: Decimal
    status: str
    expected_date: date | None
