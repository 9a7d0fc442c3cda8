"""Transfer orders between the business's own locations: draft → released → in transit →
received; cancelled (or reduced) until shipped. Released means the source's staff were told
to pick it (a plan release does that); a draft ships too."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from leanstock.domain.errors import InvalidInput, InvalidTransition
from leanstock.domain.events import Aggregate
from leanstock.domain.orders.common import ZERO, number, refused
from leanstock.domain.orders.events import (
    TransferDraftReduced,
    TransferOrderCancelled,
    TransferOrderCreated,
    TransferOrderReceived,
    TransferOrderReleased,
    TransferOrderShipped,
)
from leanstock.domain.quantities import positive

# Days a transfer between two of the business's own locations takes, door to door.
TRANSFER_DAYS = 1


class TransferStatus(StrEnum):
    DRAFT = "draft"
    RELEASED = "released"
    IN_TRANSIT = "in_transit"
    RECEIVED = "received"
    CANCELLED = "cancelled"


# Still to bring stock: the open supply a plan nets against.
OPEN = (TransferStatus.DRAFT, TransferStatus.RELEASED, TransferStatus.IN_TRANSIT)

# Not yet shipped: still changes freely.
UNSHIPPED = (TransferStatus.DRAFT, TransferStatus.RELEASED)


@dataclass
class TransferOrder(Aggregate):
    sku: str
    source: str
    target: str
    quantity: Decimal
    status: TransferStatus = TransferStatus.DRAFT
    expected_date: date | None = None
    received: Decimal = ZERO
    id: int | None = None

    def __post_init__(self) -> None:
        self.quantity = positive(self.quantity)
        if self.source == self.target:
            raise InvalidInput(
                f"Source and target are both {self.source}; a transfer needs two.", "target"
            )

    @classmethod
    def plan(
        cls, sku: str, source: str, target: str, quantity: Decimal, expected_date: date
    ) -> TransferOrder:
        """A new draft transfer, expected at the target on `expected_date`."""
        order = cls(sku, source, target, quantity, expected_date=expected_date)
        order.record(
            TransferOrderCreated(sku=sku, source=source, target=target, quantity=order.quantity)
        )
        return order

    @property
    def number(self) -> str:
        return number("transfer", self.id or 0)

    def release(self) -> None:
        """Tell the source to pick it; the quantity stays reserved there."""
        if self.status is not TransferStatus.DRAFT:
            raise refused(self.number, self.status, "released", "Only a draft is released.")
        self.status = TransferStatus.RELEASED
        self.record(TransferOrderReleased())

    def ship(self) -> None:
        if self.status not in UNSHIPPED:
            raise refused(
                self.number, self.status, "shipped", "Only a draft or released transfer ships."
            )
        self.status = TransferStatus.IN_TRANSIT
        self.record(TransferOrderShipped(quantity=self.quantity))

    def receive(self, quantity: Decimal) -> None:
        if self.status is not TransferStatus.IN_TRANSIT:
            hint = "Ship it first." if self.status in UNSHIPPED else ""
            raise refused(self.number, self.status, "received", hint)
        if quantity > self.quantity:
            raise InvalidTransition(
                f"{self.number} carries {self.quantity}; {quantity} cannot arrive."
            )
        self.received = quantity
        self.status = TransferStatus.RECEIVED
        self.record(TransferOrderReceived(received=quantity, lost=self.quantity - quantity))

    def cancel(self, unpegged: Sequence[str] = ()) -> None:
        if self.status not in UNSHIPPED:
            raise refused(
                self.number,
                self.status,
                "cancelled",
                "Only a transfer not yet shipped is cancelled.",
            )
        self.status = TransferStatus.CANCELLED
        self.record(TransferOrderCancelled(unpegged=tuple(unpegged)))

    def reduce(self, quantity: Decimal) -> None:
        """A draft carries `quantity` less, because demand that pulled it was withdrawn;
        nothing left to carry cancels it (keeping the quantity it was planned with)."""
        if self.status not in UNSHIPPED:
            raise refused(self.number, self.status, "reduced", "Only an unshipped one changes.")
        before = self.quantity
        if before - quantity <= 0:
            self.status = TransferStatus.CANCELLED
            self.record(TransferOrderCancelled(reason="demand withdrawn"))
        else:
            self.quantity = before - quantity
        self.record(TransferDraftReduced(quantity=(before, self.quantity)))
