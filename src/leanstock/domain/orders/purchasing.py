"""Purchase orders: draft → released → acknowledged → shipped → received → closed; cancelled.

A draft changes freely; once released, a change is a request to the supplier.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_CEILING, Decimal
from enum import StrEnum
from typing import Any

from leanstock.domain.errors import InvalidInput, InvalidTransition
from leanstock.domain.events import Aggregate
from leanstock.domain.orders.common import ZERO, number, refused
from leanstock.domain.orders.events import (
    PurchaseChangeRequested,
    PurchaseDraftReduced,
    PurchaseLinesAdded,
    PurchaseOrderAcknowledged,
    PurchaseOrderCancelled,
    PurchaseOrderClosed,
    PurchaseOrderReleased,
    PurchaseOrderShipped,
    ReceiptPosted,
)

# A purchase line may be received up to this much over what was ordered (or confirmed):
# suppliers round to their own cases; more than this is a mistake to refuse.
OVER_RECEIPT_TOLERANCE = Decimal("0.10")


class PurchaseStatus(StrEnum):
    DRAFT = "draft"
    RELEASED = "released"
    ACKNOWLEDGED = "acknowledged"
    SHIPPED = "shipped"
    PARTIALLY_RECEIVED = "partially_received"
    RECEIVED = "received"
    CLOSED = "closed"
    CANCELLED = "cancelled"


RECEIVABLE = (
    PurchaseStatus.RELEASED,
    PurchaseStatus.ACKNOWLEDGED,
    PurchaseStatus.SHIPPED,
    PurchaseStatus.PARTIALLY_RECEIVED,
    PurchaseStatus.RECEIVED,
)


# Released but not yet received in full: a change is a request to the supplier.
CHANGEABLE = (
    PurchaseStatus.RELEASED,
    PurchaseStatus.ACKNOWLEDGED,
    PurchaseStatus.SHIPPED,
    PurchaseStatus.PARTIALLY_RECEIVED,
)


# A ship notice may follow another until everything has arrived.
SHIPPABLE = (
    PurchaseStatus.RELEASED,
    PurchaseStatus.ACKNOWLEDGED,
    PurchaseStatus.SHIPPED,
    PurchaseStatus.PARTIALLY_RECEIVED,
)


# Still to bring stock: the open supply a plan nets against.
OPEN = (PurchaseStatus.DRAFT, *CHANGEABLE)


class RejectTo(StrEnum):
    """Where goods refused at receipt go: never to available stock."""

    QUARANTINE = "quarantine"
    SUPPLIER = "supplier"


@dataclass
class PurchaseLine:
    line_no: int
    sku: str
    location: str
    quantity: Decimal
    price: Decimal = ZERO
    expected_date: date | None = None
    confirmed_quantity: Decimal | None = None
    confirmed_date: date | None = None
    shipped_quantity: Decimal = ZERO
    received: Decimal = ZERO
    rejected: Decimal = ZERO
    id: int | None = None
    first_confirmed_quantity: Decimal | None = None
    """What the supplier first committed to: kept when later promises move (scorecards)."""
    first_confirmed_date: date | None = None
    acknowledged_at: datetime | None = None
    """When the supplier first acknowledged the line."""

    @property
    def committed_date(self) -> date | None:
        """The date the supplier is judged by: the one it first confirmed, else ours."""
        return self.first_confirmed_date or self.expected_date

    @property
    def due(self) -> Decimal:
        """What the supplier owes: the confirmed quantity once acknowledged, else the ordered."""
        return self.quantity if self.confirmed_quantity is None else self.confirmed_quantity

    @property
    def promised_date(self) -> date | None:
        return self.confirmed_date or self.expected_date

    @property
    def outstanding(self) -> Decimal:
        return max(self.due - self.received, ZERO)


@dataclass
class PurchaseOrder(Aggregate):
    supplier: str
    lines: list[PurchaseLine] = field(default_factory=list)
    status: PurchaseStatus = PurchaseStatus.DRAFT
    expected_date: date | None = None
    drop_ship_customer: str | None = None
    change_requested: bool = False
    ordered_at: datetime | None = None
    id: int | None = None
    # A drop-ship for a customer record: its code and where the supplier delivers.
    drop_ship_customer_code: str | None = None
    drop_ship_to: str | None = None

    @property
    def number(self) -> str:
        return number("purchase", self.id or 0)

    def line(self, line_no: int) -> PurchaseLine:
        for line in self.lines:
            if line.line_no == line_no:
                return line
        raise InvalidInput(f"{self.number} has no line {line_no}.", "line")

    def check_draft(self, verb: str = "changed") -> None:
        if self.status is not PurchaseStatus.DRAFT:
            raise refused(self.number, self.status, verb, "Only a draft changes freely.")

    def add_lines(self, lines: Sequence[PurchaseLine]) -> None:
        """Add lines to a draft, numbered after the lines it has."""
        self.check_draft()
        self.lines.extend(lines)
        self.record(PurchaseLinesAdded(lines=tuple((ln.sku, ln.quantity) for ln in lines)))

    def release(self, at: datetime | None = None) -> None:
        """Send the order to the supplier (at `at`, which becomes its order time)."""
        self.check_draft("released")
        if not any(line.quantity > 0 for line in self.lines):
            raise InvalidTransition(f"{self.number} has no lines; there is nothing to send.")
        self.status = PurchaseStatus.RELEASED
        if at is not None:
            self.ordered_at = at
        self.record(PurchaseOrderReleased(supplier=self.supplier, lines=len(self.lines)))

    def reduce_line(self, line_no: int, quantity: Decimal) -> None:
        """A draft line shrinks to `quantity` because demand that pulled it was withdrawn; a
        draft left with nothing to order is cancelled."""
        self.check_draft()
        line = self.line(line_no)
        before, line.quantity = line.quantity, quantity
        if all(ln.quantity == 0 for ln in self.lines):
            self.status = PurchaseStatus.CANCELLED
            self.record(PurchaseOrderCancelled(reason="demand withdrawn"))
        self.record(PurchaseDraftReduced(line=line_no, quantity=(before, quantity)))

    def request_change(self, line_no: int, reduce_by: Decimal) -> None:
        """Demand behind a line sent to the supplier shrank: ask the supplier for less."""
        if self.status not in CHANGEABLE:
            raise refused(self.number, self.status, "changed")
        line = self.line(line_no)
        self.change_requested = True
        self.record(PurchaseChangeRequested(line=line_no, sku=line.sku, reduce_by=reduce_by))

    def acknowledge(
        self, changes: Mapping[int, tuple[Decimal | None, date | None]], at: datetime | None = None
    ) -> None:
        """The supplier confirms each line's quantity and date, which may differ from ours.

        The first confirmation of a line is kept apart (`first_confirmed_*`, `acknowledged_at`
        = `at`): later acknowledgements and ship notices move the promise, not the record the
        supplier is judged by."""
        if self.status not in (PurchaseStatus.RELEASED, PurchaseStatus.ACKNOWLEDGED):
            raise refused(self.number, self.status, "acknowledged", "Release it first.")
        before = {ln.line_no: (ln.due, ln.promised_date) for ln in self.lines}
        for line_no, (quantity, when) in changes.items():
            line = self.line(line_no)
            if quantity is not None:
                if quantity < 0:
                    raise InvalidInput("A confirmed quantity must not be negative.", "quantity")
                line.confirmed_quantity = quantity
            if when is not None:
                line.confirmed_date = when
            if line.acknowledged_at is None and at is not None:
                line.acknowledged_at = at
                line.first_confirmed_quantity = line.due
                line.first_confirmed_date = line.promised_date
        self.status = PurchaseStatus.ACKNOWLEDGED
        self.record(
            PurchaseOrderAcknowledged(
                lines={
                    str(ln.line_no): {
                        "quantity": [before[ln.line_no][0], ln.due],
                        "date": [before[ln.line_no][1], ln.promised_date],
                    }
                    for ln in self.lines
                    if ln.line_no in changes
                }
            )
        )

    def ship(
        self,
        quantities: Mapping[int, Decimal],
        expected: date | None,
        notice: Mapping[str, Any] | None = None,
    ) -> None:
        """An advance ship notice: what is on its way, and when it should arrive.

        Notices add up (a supplier may ship an order in several): the listed lines ship the
        quantities given; a notice that lists none ships what each line still owes (due −
        shipped). In all, a line ships at most due × (1 + OVER_RECEIPT_TOLERANCE). `notice`
        (its id, carrier, tracking, lots) goes into the event, so the audit trail and the
        webhooks carry it.
        """
        if self.status not in SHIPPABLE:
            raise refused(self.number, self.status, "marked shipped", "Release it first.")
        if quantities:
            for line_no, quantity in quantities.items():
                line = self.line(line_no)
                if quantity <= 0:
                    raise InvalidInput(
                        f"Line {line_no} ships {quantity}: a ship notice line ships more "
                        "than zero.",
                        "lines",
                    )
                limit = line.due * (1 + OVER_RECEIPT_TOLERANCE)
                if line.shipped_quantity + quantity > limit:
                    raise InvalidTransition(
                        f"Line {line_no} of {self.number} is due {line.due} and "
                        f"{line.shipped_quantity} has shipped; {quantity} more is over the "
                        f"{OVER_RECEIPT_TOLERANCE:.0%} tolerance."
                    )
                line.shipped_quantity += quantity
                if expected is not None:
                    line.confirmed_date = expected
        else:
            rest = [ln for ln in self.lines if ln.due > ln.shipped_quantity]
            if not rest:
                raise InvalidTransition(f"Every line of {self.number} has shipped in full.")
            for line in rest:
                line.shipped_quantity = line.due
                if expected is not None:
                    line.confirmed_date = expected
        if self.status in (PurchaseStatus.RELEASED, PurchaseStatus.ACKNOWLEDGED):
            self.status = PurchaseStatus.SHIPPED
        self.record(PurchaseOrderShipped(expected_date=expected, notice=dict(notice or {})))

    def receive(self, line_no: int, quantity: Decimal, rejected: Decimal) -> None:
        """Record goods arriving (accepted plus rejected) against a line.

        Up to due × (1 + OVER_RECEIPT_TOLERANCE) in all may arrive; less is allowed (the rest
        may still come, or the order is closed short).
        """
        if self.status not in RECEIVABLE:
            hint = "Release it first." if self.status is PurchaseStatus.DRAFT else ""
            raise refused(self.number, self.status, "received against", hint)
        line = self.line(line_no)
        arrived = quantity + rejected
        if arrived <= 0:
            raise InvalidInput("A receipt needs a quantity greater than zero.", "quantity")
        limit = line.due * (1 + OVER_RECEIPT_TOLERANCE)
        if line.received + line.rejected + arrived > limit:
            raise InvalidTransition(
                f"Line {line_no} of {self.number} is due {line.due} and has received "
                f"{line.received + line.rejected}; {arrived} more is over the "
                f"{OVER_RECEIPT_TOLERANCE:.0%} tolerance."
            )
        line.received += quantity
        line.rejected += rejected
        self.status = (
            PurchaseStatus.RECEIVED
            if all(line.received >= line.due for line in self.lines)
            else PurchaseStatus.PARTIALLY_RECEIVED
        )

    def post_receipt(
        self, lines: Sequence[tuple[int, Decimal, Decimal]], received_on: date
    ) -> None:
        """A delivery: per line (line number, accepted, rejected), received on a day."""
        for line_no, accepted, rejected in lines:
            self.receive(line_no, accepted, rejected)
        self.record(
            ReceiptPosted(
                lines=tuple(
                    {"line": n, "accepted": a, "rejected": r, "on": received_on}
                    for n, a, r in lines
                )
            )
        )

    def close(self, unpegged: Sequence[str] = ()) -> None:
        """Close a received order short: what did not come will not (`unpegged`: the demands
        it no longer serves)."""
        if self.status not in (PurchaseStatus.PARTIALLY_RECEIVED, PurchaseStatus.RECEIVED):
            raise refused(self.number, self.status, "closed", "Only a received order is closed.")
        self.status = PurchaseStatus.CLOSED
        self.record(
            PurchaseOrderClosed(
                short={str(ln.line_no): ln.outstanding for ln in self.lines},
                unpegged=tuple(unpegged),
            )
        )

    def cancel(self, reason: str | None = None, unpegged: Sequence[str] = ()) -> None:
        if self.status not in (
            PurchaseStatus.DRAFT,
            PurchaseStatus.RELEASED,
            PurchaseStatus.ACKNOWLEDGED,
        ):
            hint = "Close it instead." if self.status in RECEIVABLE else ""
            raise refused(self.number, self.status, "cancelled", hint)
        self.status = PurchaseStatus.CANCELLED
        self.record(PurchaseOrderCancelled(reason=reason, unpegged=tuple(unpegged)))


def draft_quantity(pegged: Decimal, drop_ship: bool, moq: Decimal, pack_size: Decimal) -> Decimal:
    """What a draft line orders for the demand still pegged to it: nothing without any; a
    drop-ship exactly that (it goes to one customer); else that rounded to MOQ and packs."""
    if pegged <= 0:
        return ZERO
    return pegged if drop_ship else order_quantity(pegged, moq, pack_size)


def order_quantity(need: Decimal, moq: Decimal, pack_size: Decimal) -> Decimal:
    """What to order for `need`: at least the MOQ, then up to whole packs.

    q = ⌈max(need, MOQ) / pack⌉ · pack; nothing when nothing is needed.
    """
    if need <= 0:
        return ZERO
    wanted = max(need, moq)
    packs = (wanted / pack_size).to_integral_value(rounding=ROUND_CEILING)
    return packs * pack_size
