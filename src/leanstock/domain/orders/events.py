"""The events orders record as they change (see `domain.events`).

Each names its outbox event and audit action; its fields are its payload unless it says
otherwise. Quantities and dates stay exact; the writer renders them as strings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, ClassVar

from leanstock.domain.events import DomainEvent

Lines = tuple[tuple[str, Decimal], ...]


def _lines(lines: Lines) -> list[list[Any]]:
    return [[sku, quantity] for sku, quantity in lines]


# Sales orders


@dataclass(frozen=True, kw_only=True)
class SalesOrderPlaced(DomainEvent):
    name: ClassVar[str | None] = "sales_order.placed"
    action: ClassVar[str | None] = "place"
    customer: str
    customer_code: str | None = None
    lines: Lines

    def payload(self) -> dict[str, Any]:
        return {"customer": self.customer, "customer_code": self.customer_code}

    def changes(self) -> dict[str, Any]:
        code = {"customer_code": self.customer_code} if self.customer_code else {}
        return {"customer": self.customer, **code, "lines": _lines(self.lines)}


@dataclass(frozen=True, kw_only=True)
class SalesOrderConfirmed(DomainEvent):
    """Confirmed: a draft later on, or at once as it was placed (`lines` then says what)."""

    name: ClassVar[str | None] = "sales_order.confirmed"
    customer: str
    customer_code: str | None = None
    lines: Lines | None = None

    @property
    def audit_action(self) -> str:
        return "confirm" if self.lines is None else "place_and_confirm"

    def payload(self) -> dict[str, Any]:
        return {"customer": self.customer, "customer_code": self.customer_code}

    def changes(self) -> dict[str, Any]:
        if self.lines is None:
            return {}
        code = {"customer_code": self.customer_code} if self.customer_code else {}
        return {"customer": self.customer, **code, "lines": _lines(self.lines)}


@dataclass(frozen=True, kw_only=True)
class SalesOrderShipped(DomainEvent):
    """Lines shipped (line number → quantity); a drop-shipped delivery is the supplier's doing
    and is not audited as ours."""

    name: ClassVar[str | None] = "sales_order.shipped"
    lines: dict[str, Decimal]
    status: str
    drop_ship: bool = False

    @property
    def audit_action(self) -> str | None:
        return None if self.drop_ship else "ship"

    def payload(self) -> dict[str, Any]:
        found: dict[str, Any] = {"lines": self.lines, "status": self.status}
        return {**found, "drop_ship": True} if self.drop_ship else found


@dataclass(frozen=True, kw_only=True)
class SalesOrderCancelled(DomainEvent):
    name: ClassVar[str | None] = "sales_order.cancelled"
    action: ClassVar[str | None] = "cancel"
    reason: str | None
    lines: tuple[int, ...]


@dataclass(frozen=True, kw_only=True)
class SalesLineChanged(DomainEvent):
    name: ClassVar[str | None] = "sales_line.changed"
    action: ClassVar[str | None] = "change_line"
    line: int
    quantity: tuple[Decimal, Decimal]


@dataclass(frozen=True, kw_only=True)
class SalesLineCancelled(DomainEvent):
    name: ClassVar[str | None] = "sales_line.cancelled"
    action: ClassVar[str | None] = "cancel_line"
    line: int
    dropped: Decimal


@dataclass(frozen=True, kw_only=True)
class SalesLineReturned(DomainEvent):
    """A customer sent back some of a shipped line (to stock, quarantine or scrap)."""

    name: ClassVar[str | None] = "sales_line.returned"
    action: ClassVar[str | None] = "return"
    line: int
    quantity: Decimal
    to: str


# Purchase orders


@dataclass(frozen=True, kw_only=True)
class PurchaseLinesAdded(DomainEvent):
    action: ClassVar[str | None] = "add_lines"
    lines: Lines

    def payload(self) -> dict[str, Any]:
        return {"lines": _lines(self.lines)}


@dataclass(frozen=True, kw_only=True)
class PurchaseOrderReleased(DomainEvent):
    name: ClassVar[str | None] = "purchase_order.released"
    action: ClassVar[str | None] = "release"
    supplier: str
    lines: int


@dataclass(frozen=True, kw_only=True)
class PurchaseOrderAcknowledged(DomainEvent):
    """Per line acknowledged: its quantity and promised date, before and after."""

    name: ClassVar[str | None] = "purchase_order.acknowledged"
    action: ClassVar[str | None] = "acknowledge"
    lines: dict[str, dict[str, list[Any]]]

    def payload(self) -> dict[str, Any]:
        return dict(self.lines)


@dataclass(frozen=True, kw_only=True)
class RequestedDateMissed(DomainEvent):
    """A sales line (`line`, SO-…/n) is promised after the date the customer asked for; the
    subject is the sales order."""

    name: ClassVar[str | None] = "sales_order.requested_date_missed"
    line: str
    requested: date
    promised: date | None
    reason: str


@dataclass(frozen=True, kw_only=True)
class PromiseDateChanged(DomainEvent):
    """The supply pegged to a sales line (`line`, SO-…/n) now arrives on another date; the
    subject is the sales order."""

    name: ClassVar[str | None] = "promise_date.changed"
    line: str
    supply: str
    expected: tuple[date | None, date | None]


@dataclass(frozen=True, kw_only=True)
class PurchaseOrderShipped(DomainEvent):
    name: ClassVar[str | None] = "purchase_order.shipped"
    action: ClassVar[str | None] = "ship_notice"
    expected_date: date | None
    notice: dict[str, Any] = field(default_factory=dict)
    """The notice's id, carrier, tracking and lines with their lots (empty: none recorded)."""


@dataclass(frozen=True, kw_only=True)
class ReceiptPosted(DomainEvent):
    """A delivery against the order: per line, what was accepted and rejected, and when."""

    name: ClassVar[str | None] = "receipt.posted"
    action: ClassVar[str | None] = "receive"
    lines: tuple[dict[str, Any], ...]


@dataclass(frozen=True, kw_only=True)
class PurchaseOrderClosed(DomainEvent):
    name: ClassVar[str | None] = "purchase_order.closed"
    action: ClassVar[str | None] = "close"
    short: dict[str, Decimal]
    unpegged: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class PurchaseOrderCancelled(DomainEvent):
    """Cancelled by someone (audited, with the demands it no longer serves), or because the
    demand that pulled it was withdrawn (its draft shrank to nothing: see the reduction)."""

    name: ClassVar[str | None] = "purchase_order.cancelled"
    reason: str | None
    unpegged: tuple[str, ...] | None = None

    @property
    def audit_action(self) -> str | None:
        return None if self.unpegged is None else "cancel"

    def payload(self) -> dict[str, Any]:
        found: dict[str, Any] = {"reason": self.reason}
        return found if self.unpegged is None else {**found, "unpegged": self.unpegged}


@dataclass(frozen=True, kw_only=True)
class PurchaseDraftReduced(DomainEvent):
    action: ClassVar[str | None] = "reduce_draft"
    line: int
    quantity: tuple[Decimal, Decimal]


@dataclass(frozen=True, kw_only=True)
class PurchaseChangeRequested(DomainEvent):
    name: ClassVar[str | None] = "purchase_order.change_requested"
    action: ClassVar[str | None] = "request_change"
    line: int
    sku: str
    reduce_by: Decimal


# Bills of materials and production orders


@dataclass(frozen=True, kw_only=True)
class BomReplaced(DomainEvent):
    """A made item's bill of materials was set; the subject is its SKU."""

    name: ClassVar[str | None] = "bom.replaced"
    action: ClassVar[str | None] = "put_bom"
    lines: tuple[tuple[str, Decimal, Decimal], ...]

    def payload(self) -> dict[str, Any]:
        return {"lines": [list(line) for line in self.lines]}


@dataclass(frozen=True, kw_only=True)
class ProductionOrderCreated(DomainEvent):
    name: ClassVar[str | None] = "production_order.created"
    action: ClassVar[str | None] = "create"
    sku: str
    quantity: Decimal


@dataclass(frozen=True, kw_only=True)
class ProductionOrderReleased(DomainEvent):
    name: ClassVar[str | None] = "production_order.released"
    action: ClassVar[str | None] = "release"


@dataclass(frozen=True, kw_only=True)
class ProductionOrderStarted(DomainEvent):
    name: ClassVar[str | None] = "production_order.started"
    action: ClassVar[str | None] = "start"


@dataclass(frozen=True, kw_only=True)
class ProductionReported(DomainEvent):
    name: ClassVar[str | None] = "production_order.produced"
    action: ClassVar[str | None] = "produce"
    quantity: Decimal
    produced: Decimal


@dataclass(frozen=True, kw_only=True)
class ProductionOrderClosed(DomainEvent):
    name: ClassVar[str | None] = "production_order.closed"
    action: ClassVar[str | None] = "close"
    produced: Decimal
    unpegged: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class ProductionOrderCancelled(DomainEvent):
    """Cancelled by someone (audited), or because the demand that pulled it was withdrawn."""

    name: ClassVar[str | None] = "production_order.cancelled"
    reason: str | None
    unpegged: tuple[str, ...] | None = None

    @property
    def audit_action(self) -> str | None:
        return None if self.unpegged is None else "cancel"

    def payload(self) -> dict[str, Any]:
        found: dict[str, Any] = {"reason": self.reason}
        return found if self.unpegged is None else {**found, "unpegged": self.unpegged}


@dataclass(frozen=True, kw_only=True)
class ProductionDraftReduced(DomainEvent):
    action: ClassVar[str | None] = "reduce_draft"
    quantity: tuple[Decimal, Decimal]


@dataclass(frozen=True, kw_only=True)
class ProductionChangeRequested(DomainEvent):
    name: ClassVar[str | None] = "production_order.change_requested"
    action: ClassVar[str | None] = "request_change"
    reduce_by: Decimal


# Transfer orders


@dataclass(frozen=True, kw_only=True)
class TransferOrderCreated(DomainEvent):
    name: ClassVar[str | None] = "transfer_order.created"
    action: ClassVar[str | None] = "create"
    sku: str
    source: str
    target: str
    quantity: Decimal


@dataclass(frozen=True, kw_only=True)
class TransferOrderReleased(DomainEvent):
    name: ClassVar[str | None] = "transfer_order.released"
    action: ClassVar[str | None] = "release"


@dataclass(frozen=True, kw_only=True)
class TransferOrderShipped(DomainEvent):
    name: ClassVar[str | None] = "transfer_order.shipped"
    action: ClassVar[str | None] = "ship"
    quantity: Decimal

    def changes(self) -> dict[str, Any]:
        return {}


@dataclass(frozen=True, kw_only=True)
class TransferOrderReceived(DomainEvent):
    name: ClassVar[str | None] = "transfer_order.received"
    action: ClassVar[str | None] = "receive"
    received: Decimal
    lost: Decimal


@dataclass(frozen=True, kw_only=True)
class TransferOrderCancelled(DomainEvent):
    """Cancelled by someone (audited, without detail), or because the demand that pulled it
    was withdrawn."""

    name: ClassVar[str | None] = "transfer_order.cancelled"
    reason: str | None = None
    unpegged: tuple[str, ...] | None = None

    @property
    def audit_action(self) -> str | None:
        return None if self.unpegged is None else "cancel"

    def payload(self) -> dict[str, Any]:
        if self.unpegged is None:
            return {"reason": self.reason}
        return {"unpegged": self.unpegged}

    def changes(self) -> dict[str, Any]:
        return {}


@dataclass(frozen=True, kw_only=True)
class TransferDraftReduced(DomainEvent):
    action: ClassVar[str | None] = "reduce_draft"
    quantity: tuple[Decimal, Decimal]


# Quarantine


@dataclass(frozen=True, kw_only=True)
class GoodsReturnedToSupplier(DomainEvent):
    """Quarantined goods went back to the supplier (subject: the purchase order)."""

    name: ClassVar[str | None] = "purchase_order.goods_returned"
    action: ClassVar[str | None] = "return_goods"
    sku: str
    quantity: Decimal
    lot: str | None
    note: str | None


# Backorders


@dataclass(frozen=True, kw_only=True)
class BackorderFilled(DomainEvent):
    """Arriving stock was reserved for a backordered sales line (subject: the order); it ships
    now. `still_waiting` is what of the line is still backordered."""

    name: ClassVar[str | None] = "sales_line.backorder_filled"
    line: int
    quantity: Decimal
    still_waiting: Decimal
    source: str
