"""Production orders: draft → released → in progress (components issued) → completed → closed;
cancelled before it starts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum

from leanstock.domain.errors import InvalidTransition
from leanstock.domain.orders.common import ZERO, number
from leanstock.domain.orders.common import refused as _why


class ProductionStatus(StrEnum):
    DRAFT = "draft"
    RELEASED = "released"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    CLOSED = "closed"
    CANCELLED = "cancelled"


@dataclass
class Component:
    sku: str
    quantity: Decimal
    consumed: Decimal = ZERO
    id: int | None = None


@dataclass
class ProductionOrder:
    sku: str
    location: str
    quantity: Decimal
    components: list[Component] = field(default_factory=list)
    status: ProductionStatus = ProductionStatus.DRAFT
    produced: Decimal = ZERO
    due_date: date | None = None
    change_requested: bool = False
    id: int | None = None

    @property
    def number(self) -> str:
        return number("production", self.id or 0)

    def release(self) -> None:
        if self.status is not ProductionStatus.DRAFT:
            raise _why(self.number, self.status, "released", "Only a draft is released.")
        self.status = ProductionStatus.RELEASED

    def start(self) -> None:
        if self.status is not ProductionStatus.RELEASED:
            hint = "Release it first." if self.status is ProductionStatus.DRAFT else ""
            raise _why(self.number, self.status, "started", hint)
        self.status = ProductionStatus.IN_PROGRESS

    def produce(self, quantity: Decimal) -> None:
        if self.status is not ProductionStatus.IN_PROGRESS:
            hint = "Start it first." if self.status is ProductionStatus.RELEASED else ""
            raise _why(self.number, self.status, "reported as produced", hint)
        if self.produced + quantity > self.quantity:
            raise InvalidTransition(
                f"{self.number} is for {self.quantity} and has produced {self.produced}; "
                f"{quantity} more is too many."
            )
        self.produced += quantity
        if self.produced >= self.quantity:
            self.status = ProductionStatus.COMPLETED

    def close(self) -> None:
        if self.status not in (ProductionStatus.IN_PROGRESS, ProductionStatus.COMPLETED):
            raise _why(self.number, self.status, "closed", "Only a started order is closed.")
        self.status = ProductionStatus.CLOSED

    def cancel(self) -> None:
        if self.status not in (ProductionStatus.DRAFT, ProductionStatus.RELEASED):
            hint = (
                "Its components are consumed; close it instead."
                if self.status is ProductionStatus.IN_PROGRESS
                else ""
            )
            raise _why(self.number, self.status, "cancelled", hint)
        self.status = ProductionStatus.CANCELLED
