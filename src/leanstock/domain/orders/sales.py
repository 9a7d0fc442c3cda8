"""Sales orders: a customer's lines, each served from stock or by the supply it pulls.

draft → confirmed → partially shipped → shipped, or cancelled (what is not shipped yet).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from leanstock.domain.errors import InvalidInput, InvalidTransition
from leanstock.domain.events import Aggregate
from leanstock.domain.orders.common import ZERO, number, refused
from leanstock.domain.orders.events import (
    SalesLineCancelled,
    SalesLineChanged,
    SalesLineReturned,
    SalesOrderCancelled,
    SalesOrderConfirmed,
    SalesOrderPlaced,
    SalesOrderShipped,
)
from leanstock.domain.quantities import positive


class SalesStatus(StrEnum):
    DRAFT = "draft"
    CONFIRMED = "confirmed"
    PARTIALLY_SHIPPED = "partially_shipped"
    SHIPPED = "shipped"
    CANCELLED = "cancelled"


class Fulfilment(StrEnum):
    """How the part of a sales line that stock could not serve is supplied."""

    STOCK = "stock"
    PURCHASE = "purchase"
    PRODUCTION = "production"
    DROP_SHIP = "drop_ship"
    TRANSFER = "transfer"
    BACKORDER = "backorder"


@dataclass
class SalesLine:
    line_no: int
    sku: str
    location: str
    quantity: Decimal
    requested_date: date | None = None
    ordered_quantity: Decimal = ZERO
    shipped: Decimal = ZERO
    short_at_order: Decimal = ZERO
    fulfilment: Fulfilment = Fulfilment.STOCK
    cancelled: bool = False
    id: int | None = None
    returned: Decimal = ZERO

    def __post_init__(self) -> None:
        self.quantity = positive(self.quantity, "quantity")
        if self.ordered_quantity == ZERO:
            self.ordered_quantity = self.quantity

    @property
    def open_quantity(self) -> Decimal:
        """What is still to ship: ordered (as changed) − shipped; nothing once cancelled."""
        return ZERO if self.cancelled else self.quantity - self.shipped

    @property
    def done(self) -> bool:
        return self.cancelled or self.shipped >= self.quantity


@dataclass
class SalesOrder(Aggregate):
    customer: str
    lines: list[SalesLine]
    status: SalesStatus = SalesStatus.DRAFT
    ordered_at: datetime | None = None
    id: int | None = None
    # The customer record the order is for (its code); None: a walk-in sale by name only.
    customer_code: str | None = None

    @property
    def number(self) -> str:
        return number("sales", self.id or 0)

    def line(self, line_no: int) -> SalesLine:
        for line in self.lines:
            if line.line_no == line_no:
                return line
        raise InvalidInput(f"{self.number} has no line {line_no}.", "line")

    def place(self, confirm: bool = False) -> None:
        """Record a new order, confirmed at once when `confirm`."""
        if self.status is not SalesStatus.DRAFT:
            raise refused(self.number, self.status, "placed", "It has been placed already.")
        lines = tuple((line.sku, line.quantity) for line in self.lines)
        if confirm:
            self.status = SalesStatus.CONFIRMED
            self.record(
                SalesOrderConfirmed(
                    customer=self.customer, customer_code=self.customer_code, lines=lines
                )
            )
        else:
            self.record(
                SalesOrderPlaced(
                    customer=self.customer, customer_code=self.customer_code, lines=lines
                )
            )

    def confirm(self) -> None:
        if self.status is not SalesStatus.DRAFT:
            raise refused(self.number, self.status, "confirmed", "Only a draft order is confirmed.")
        self.status = SalesStatus.CONFIRMED
        self.record(SalesOrderConfirmed(customer=self.customer, customer_code=self.customer_code))

    def check_shippable(self) -> None:
        if self.status not in (SalesStatus.CONFIRMED, SalesStatus.PARTIALLY_SHIPPED):
            raise refused(self.number, self.status, "shipped", "Confirm it first.")

    def record_shipment(self, line_no: int, quantity: Decimal) -> None:
        self.check_shippable()
        line = self.line(line_no)
        if line.cancelled:
            raise InvalidTransition(f"Line {line_no} of {self.number} is cancelled.")
        if quantity > line.open_quantity:
            raise InvalidTransition(
                f"Line {line_no} of {self.number} has {line.open_quantity} left to ship; "
                f"{quantity} asked."
            )
        line.shipped += quantity
        self._settle()

    def ship(self, quantities: Mapping[int, Decimal], drop_ship: bool = False) -> None:
        """Ship lines (line number → quantity); a drop-shipped line ships when the supplier's
        delivery reaches the customer."""
        if not quantities:
            raise InvalidTransition(f"{self.number} has nothing reserved to ship yet.")
        for line_no, quantity in quantities.items():
            line = self.line(line_no)
            self.record_shipment(
                line_no, min(quantity, line.open_quantity) if drop_ship else quantity
            )
        self.record(
            SalesOrderShipped(
                lines={str(n): q for n, q in quantities.items()},
                status=self.status.value,
                drop_ship=drop_ship,
            )
        )

    def _settle(self) -> None:
        """Shipped once every line is done; partially shipped once anything has gone."""
        live = [line for line in self.lines if not line.cancelled]
        if not live:
            self.status = SalesStatus.CANCELLED
        elif all(line.done for line in live):
            self.status = SalesStatus.SHIPPED
        elif any(line.shipped > 0 for line in live):
            self.status = SalesStatus.PARTIALLY_SHIPPED

    def cancel(self, reason: str | None = None) -> list[SalesLine]:
        """Cancel what is not shipped yet; returns the lines whose open quantity is dropped."""
        if self.status in (SalesStatus.SHIPPED, SalesStatus.CANCELLED):
            raise refused(self.number, self.status, "cancelled")
        dropped = [line for line in self.lines if not line.done]
        for line in dropped:
            if line.shipped > 0:
                line.quantity = line.shipped
            else:
                line.cancelled = True
        self.status = (
            SalesStatus.SHIPPED
            if any(line.shipped > 0 for line in self.lines)
            else SalesStatus.CANCELLED
        )
        self.record(
            SalesOrderCancelled(reason=reason, lines=tuple(line.line_no for line in dropped))
        )
        return dropped

    def change_line(self, line_no: int, quantity: Decimal) -> Decimal:
        """Set a line's quantity; returns the change (negative: reduced). Never below shipped.

        The quantity ordered (the demand the forecasts read) follows a draft's changes, and
        grows with a confirmed order's increases: demand is recorded when it is ordered.
        """
        quantity = positive(quantity)
        if self.status in (SalesStatus.SHIPPED, SalesStatus.CANCELLED):
            raise refused(self.number, self.status, "changed")
        line = self.line(line_no)
        if line.cancelled:
            raise InvalidTransition(f"Line {line_no} of {self.number} is cancelled.")
        if quantity < line.shipped:
            raise InvalidTransition(
                f"Line {line_no} of {self.number} has shipped {line.shipped} already; "
                f"it cannot be reduced to {quantity}."
            )
        before = line.quantity
        delta = quantity - before
        line.quantity = quantity
        if self.status is SalesStatus.DRAFT:
            line.ordered_quantity = quantity
        elif delta > 0:
            line.ordered_quantity += delta
        self._settle()
        self.record(SalesLineChanged(line=line_no, quantity=(before, quantity)))
        return delta

    def record_return(self, line_no: int, quantity: Decimal, to: str) -> None:
        """The customer sent back `quantity` of what a line shipped (to stock, quarantine or
        scrap); never more than shipped and not yet returned. The line's demand nets it out."""
        quantity = positive(quantity)
        line = self.line(line_no)
        returnable = line.shipped - line.returned
        if quantity > returnable:
            raise InvalidInput(
                f"Line {line_no} of {self.number} has {returnable} shipped and not returned; "
                f"{quantity} cannot come back.",
                "quantity",
            )
        line.returned += quantity
        self.record(SalesLineReturned(line=line_no, quantity=quantity, to=to))

    def cancel_line(self, line_no: int) -> Decimal:
        """Cancel a line's unshipped rest; returns the open quantity dropped."""
        if self.status in (SalesStatus.SHIPPED, SalesStatus.CANCELLED):
            raise refused(self.number, self.status, "changed")
        line = self.line(line_no)
        if line.done:
            state = "cancelled" if line.cancelled else "shipped"
            raise InvalidTransition(f"Line {line_no} of {self.number} is {state} already.")
        dropped = line.open_quantity
        if line.shipped > 0:
            line.quantity = line.shipped
        else:
            line.cancelled = True
        self._settle()
        self.record(SalesLineCancelled(line=line_no, dropped=dropped))
        return dropped
