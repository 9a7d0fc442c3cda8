"""Production orders: draft → released → in progress (components issued) → completed → closed;
cancelled before it starts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_CEILING, Decimal
from enum import StrEnum

from leanstock.domain.errors import InvalidTransition
from leanstock.domain.events import Aggregate
from leanstock.domain.orders.common import ZERO, number, refused
from leanstock.domain.orders.events import (
    ProductionChangeRequested,
    ProductionDraftReduced,
    ProductionOrderCancelled,
    ProductionOrderClosed,
    ProductionOrderCreated,
    ProductionOrderReleased,
    ProductionOrderStarted,
    ProductionReported,
)
from leanstock.domain.quantities import QUANTUM


class ProductionStatus(StrEnum):
    DRAFT = "draft"
    RELEASED = "released"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    CLOSED = "closed"
    CANCELLED = "cancelled"


# Still to bring stock: the open supply a plan nets against.
OPEN = (ProductionStatus.DRAFT, ProductionStatus.RELEASED, ProductionStatus.IN_PROGRESS)


@dataclass
class Component:
    sku: str
    quantity: Decimal
    consumed: Decimal = ZERO
    id: int | None = None


@dataclass
class ProductionOrder(Aggregate):
    sku: str
    location: str
    quantity: Decimal
    components: list[Component] = field(default_factory=list)
    status: ProductionStatus = ProductionStatus.DRAFT
    produced: Decimal = ZERO
    due_date: date | None = None
    change_requested: bool = False
    id: int | None = None

    @classmethod
    def plan(cls, sku: str, location: str, quantity: Decimal) -> ProductionOrder:
        """A new draft order to make `quantity` of `sku` at `location`."""
        order = cls(sku, location, quantity)
        order.record(ProductionOrderCreated(sku=sku, quantity=quantity))
        return order

    @property
    def number(self) -> str:
        return number("production", self.id or 0)

    def release(self) -> None:
        if self.status is not ProductionStatus.DRAFT:
            raise refused(self.number, self.status, "released", "Only a draft is released.")
        self.status = ProductionStatus.RELEASED
        self.record(ProductionOrderReleased())

    def start(self) -> None:
        if self.status is not ProductionStatus.RELEASED:
            hint = "Release it first." if self.status is ProductionStatus.DRAFT else ""
            raise refused(self.number, self.status, "started", hint)
        self.status = ProductionStatus.IN_PROGRESS
        self.record(ProductionOrderStarted())

    def produce(self, quantity: Decimal) -> None:
        if self.status is not ProductionStatus.IN_PROGRESS:
            hint = "Start it first." if self.status is ProductionStatus.RELEASED else ""
            raise refused(self.number, self.status, "reported as produced", hint)
        if self.produced + quantity > self.quantity:
            raise InvalidTransition(
                f"{self.number} is for {self.quantity} and has produced {self.produced}; "
                f"{quantity} more is too many."
            )
        self.produced += quantity
        if self.produced >= self.quantity:
            self.status = ProductionStatus.COMPLETED
        self.record(ProductionReported(quantity=quantity, produced=self.produced))

    def used(self, component: Component, produced: Decimal | None = None) -> Decimal:
        """What `produced` (by default all produced so far) used up of a component: its
        issued quantity pro rata, rounded up; all of it once the order is made in full."""
        made = self.produced if produced is None else produced
        if made >= self.quantity:
            return component.consumed
        share = component.consumed * made / self.quantity
        return share.quantize(QUANTUM, rounding=ROUND_CEILING)

    def close(self, unpegged: Sequence[str] = ()) -> None:
        """Close a started order (`unpegged`: the demands it will no longer serve)."""
        if self.status not in (ProductionStatus.IN_PROGRESS, ProductionStatus.COMPLETED):
            raise refused(self.number, self.status, "closed", "Only a started order is closed.")
        self.status = ProductionStatus.CLOSED
        self.record(ProductionOrderClosed(produced=self.produced, unpegged=tuple(unpegged)))

    def reduce(self, quantity: Decimal) -> list[tuple[Component, Decimal]]:
        """A draft needs to make `quantity` less, because demand that pulled it was withdrawn;
        nothing left to make cancels it. Each component's need shrinks in proportion (rounded
        up); returns each component with how much less of it is needed."""
        if self.status is not ProductionStatus.DRAFT:
            raise refused(self.number, self.status, "reduced", "Only a draft changes freely.")
        before = self.quantity
        after = max(before - quantity, ZERO)
        less: list[tuple[Component, Decimal]] = []
        for component in self.components:
            need = (component.quantity * after / before).quantize(QUANTUM, rounding=ROUND_CEILING)
            less.append((component, component.quantity - need))
            component.quantity = need
        self.quantity = after
        if after == 0:
            self.status = ProductionStatus.CANCELLED
            self.record(ProductionOrderCancelled(reason="demand withdrawn"))
        self.record(ProductionDraftReduced(quantity=(before, after)))
        return less

    def request_change(self, reduce_by: Decimal) -> None:
        """Demand behind a released order shrank: flag it for the shop floor."""
        if self.status not in (ProductionStatus.RELEASED, ProductionStatus.IN_PROGRESS):
            raise refused(self.number, self.status, "changed")
        self.change_requested = True
        self.record(ProductionChangeRequested(reduce_by=reduce_by))

    def cancel(self, reason: str | None = None, unpegged: Sequence[str] = ()) -> None:
        if self.status not in (ProductionStatus.DRAFT, ProductionStatus.RELEASED):
            hint = (
                "Its components are consumed; close it instead."
                if self.status is ProductionStatus.IN_PROGRESS
                else ""
            )
            raise refused(self.number, self.status, "cancelled", hint)
        self.status = ProductionStatus.CANCELLED
        self.record(ProductionOrderCancelled(reason=reason, unpegged=tuple(unpegged)))
