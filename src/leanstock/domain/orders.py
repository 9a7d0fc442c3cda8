"""Orders that pull supply: sales, purchase, production and transfer orders, and their pegs.

Just in time means supply is pulled by actual customer orders (DESIGN.md, the JIT loop,
steps 4-5). Each order is a small state machine; a method that changes state refuses, with
`InvalidTransition` and the reason, anything its current state forbids, so nothing is changed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_CEILING, Decimal
from enum import StrEnum

from leanstock.domain.errors import InvalidInput, InvalidTransition
from leanstock.domain.quantities import QUANTUM, positive

ZERO = Decimal(0)

# A purchase line may be received up to this much over what was ordered (or confirmed):
# suppliers round to their own cases; more than this is a mistake to refuse.
OVER_RECEIPT_TOLERANCE = Decimal("0.10")

PREFIXES = {"sales": "SO", "purchase": "PO", "production": "MO", "transfer": "TO"}


def number(kind: str, order_id: int) -> str:
    """The order number people use: SO-000042 for sales order 42."""
    return f"{PREFIXES[kind]}-{order_id:06d}"


def order_id(kind: str, value: str) -> int | None:
    """The id behind an order number, or None when `value` is not one of `kind`."""
    prefix, _, digits = value.upper().partition("-")
    if prefix != PREFIXES[kind] or not digits.isdigit():
        return None
    return int(digits)


def _why(what: str, status: str, verb: str, hint: str = "") -> InvalidTransition:
    return InvalidTransition(
        f"{what} is {status}; it cannot be {verb}.{' ' + hint if hint else ''}"
    )


# Sales


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
class SalesOrder:
    customer: str
    lines: list[SalesLine]
    status: SalesStatus = SalesStatus.DRAFT
    ordered_at: datetime | None = None
    id: int | None = None

    @property
    def number(self) -> str:
        return number("sales", self.id or 0)

    def line(self, line_no: int) -> SalesLine:
        for line in self.lines:
            if line.line_no == line_no:
                return line
        raise InvalidInput(f"{self.number} has no line {line_no}.", "line")

    def confirm(self) -> None:
        if self.status is not SalesStatus.DRAFT:
            raise _why(self.number, self.status, "confirmed", "Only a draft order is confirmed.")

    def check_shippable(self) -> None:
        if self.status not in (SalesStatus.CONFIRMED, SalesStatus.PARTIALLY_SHIPPED):
            raise _why(self.number, self.status, "shipped", "Confirm it first.")

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

    def _settle(self) -> None:
        """Shipped once every line is done; partially shipped once anything has gone."""
        live = [line for line in self.lines if not line.cancelled]
        if not live:
            self.status = SalesStatus.CANCELLED
        elif all(line.done for line in live):
            self.status = SalesStatus.SHIPPED
        elif any(line.shipped > 0 for line in live):
            self.status = SalesStatus.PARTIALLY_SHIPPED

    def cancel(self) -> list[SalesLine]:
        """Cancel what is not shipped yet; returns the lines whose open quantity is dropped."""
        if self.status in (SalesStatus.SHIPPED, SalesStatus.CANCELLED):
            raise _why(self.number, self.status, "cancelled")
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
        return dropped

    def change_line(self, line_no: int, quantity: Decimal) -> Decimal:
        """Set a line's quantity; returns the change (negative: reduced). Never below shipped."""
        quantity = positive(quantity)
        if self.status in (SalesStatus.SHIPPED, SalesStatus.CANCELLED):
            raise _why(self.number, self.status, "changed")
        line = self.line(line_no)
        if line.cancelled:
            raise InvalidTransition(f"Line {line_no} of {self.number} is cancelled.")
        if quantity < line.shipped:
            raise InvalidTransition(
                f"Line {line_no} of {self.number} has shipped {line.shipped} already; "
                f"it cannot be reduced to {quantity}."
            )
        delta = quantity - line.quantity
        line.quantity = quantity
        if self.status is SalesStatus.DRAFT:
            line.ordered_quantity = quantity
        self._settle()
        return delta

    def cancel_line(self, line_no: int) -> Decimal:
        """Cancel a line's unshipped rest; returns the open quantity dropped."""
        if self.status in (SalesStatus.SHIPPED, SalesStatus.CANCELLED):
            raise _why(self.number, self.status, "changed")
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
        return dropped


# Purchasing


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
class PurchaseOrder:
    supplier: str
    lines: list[PurchaseLine] = field(default_factory=list)
    status: PurchaseStatus = PurchaseStatus.DRAFT
    expected_date: date | None = None
    drop_ship_customer: str | None = None
    change_requested: bool = False
    ordered_at: datetime | None = None
    id: int | None = None

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
            raise _why(self.number, self.status, verb, "Only a draft changes freely.")

    def release(self) -> None:
        self.check_draft("released")
        if not any(line.quantity > 0 for line in self.lines):
            raise InvalidTransition(f"{self.number} has no lines; there is nothing to send.")
        self.status = PurchaseStatus.RELEASED

    def acknowledge(self, changes: Mapping[int, tuple[Decimal | None, date | None]]) -> None:
        """The supplier confirms each line's quantity and date, which may differ from ours."""
        if self.status not in (PurchaseStatus.RELEASED, PurchaseStatus.ACKNOWLEDGED):
            raise _why(self.number, self.status, "acknowledged", "Release it first.")
        for line_no, (quantity, when) in changes.items():
            line = self.line(line_no)
            if quantity is not None:
                if quantity < 0:
                    raise InvalidInput("A confirmed quantity must not be negative.", "quantity")
                line.confirmed_quantity = quantity
            if when is not None:
                line.confirmed_date = when
        self.status = PurchaseStatus.ACKNOWLEDGED

    def ship(self, quantities: Mapping[int, Decimal], expected: date | None) -> None:
        """The advance ship notice: what is on its way, and when it should arrive."""
        if self.status not in (PurchaseStatus.RELEASED, PurchaseStatus.ACKNOWLEDGED):
            raise _why(self.number, self.status, "marked shipped", "Release it first.")
        for line in self.lines:
            line.shipped_quantity = quantities.get(line.line_no, line.due)
            if expected is not None:
                line.confirmed_date = expected
        self.status = PurchaseStatus.SHIPPED

    def receive(self, line_no: int, quantity: Decimal, rejected: Decimal) -> None:
        """Record goods arriving (accepted plus rejected) against a line.

        Up to due × (1 + OVER_RECEIPT_TOLERANCE) in all may arrive; less is allowed (the rest
        may still come, or the order is closed short).
        """
        if self.status not in RECEIVABLE:
            hint = "Release it first." if self.status is PurchaseStatus.DRAFT else ""
            raise _why(self.number, self.status, "received against", hint)
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

    def close(self) -> None:
        if self.status not in (PurchaseStatus.PARTIALLY_RECEIVED, PurchaseStatus.RECEIVED):
            raise _why(self.number, self.status, "closed", "Only a received order is closed.")
        self.status = PurchaseStatus.CLOSED

    def cancel(self) -> None:
        if self.status not in (
            PurchaseStatus.DRAFT,
            PurchaseStatus.RELEASED,
            PurchaseStatus.ACKNOWLEDGED,
        ):
            hint = "Close it instead." if self.status in RECEIVABLE else ""
            raise _why(self.number, self.status, "cancelled", hint)
        self.status = PurchaseStatus.CANCELLED


def _tidy(value: Decimal) -> Decimal:
    """Rounded up to six places, without trailing zeros or exponent (2.5, 8 — not 8.000000)."""
    rounded = value.quantize(QUANTUM, rounding=ROUND_CEILING)
    if rounded == rounded.to_integral_value():
        return rounded.quantize(Decimal(1))
    return rounded.normalize()


def order_quantity(need: Decimal, moq: Decimal, pack_size: Decimal) -> Decimal:
    """What to order for `need`: at least the MOQ, then up to whole packs.

    q = ⌈max(need, MOQ) / pack⌉ · pack; nothing when nothing is needed.
    """
    if need <= 0:
        return ZERO
    wanted = max(need, moq)
    packs = (wanted / pack_size).to_integral_value(rounding=ROUND_CEILING)
    return packs * pack_size


# Production


class ProductionStatus(StrEnum):
    DRAFT = "draft"
    RELEASED = "released"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    CLOSED = "closed"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class BomLine:
    """`quantity` of `component` goes into one unit of `parent`; `scrap` of it is lost on the way.

    scrap is the fraction of the component issued that does not end up in good product, so
    the gross requirement per unit is quantity / (1 − scrap) (yield = 1 − scrap).
    """

    parent: str
    component: str
    quantity: Decimal
    scrap: Decimal = ZERO

    def __post_init__(self) -> None:
        object.__setattr__(self, "quantity", positive(self.quantity))
        if not ZERO <= self.scrap < 1:
            raise InvalidInput(
                f"scrap of {self.component} must be at least 0 and below 1, not {self.scrap}.",
                "scrap",
            )
        if self.parent == self.component:
            raise InvalidInput(f"{self.parent} cannot be a component of itself.", "component")

    def gross(self, parent_quantity: Decimal) -> Decimal:
        """Component to issue for `parent_quantity`, rounded up to the sixth decimal place."""
        return _tidy(parent_quantity * self.quantity / (1 - self.scrap))


@dataclass(frozen=True)
class Requirement:
    sku: str
    quantity: Decimal
    level: int
    parent: str


def explode(
    sku: str, quantity: Decimal, boms: Mapping[str, Sequence[BomLine]]
) -> list[Requirement]:
    """Every component, at every level, that `quantity` of `sku` needs (gross of scrap).

    Depth first, in BOM order. Items without a BOM are leaves (bought); a cycle is an error.
    """
    found: list[Requirement] = []

    def walk(parent: str, amount: Decimal, level: int, path: tuple[str, ...]) -> None:
        for line in boms.get(parent, ()):
            if line.component in path:
                raise InvalidInput(
                    f"The bill of materials loops: {' → '.join((*path, line.component))}.",
                    "component",
                )
            need = line.gross(amount)
            found.append(Requirement(line.component, need, level, parent))
            walk(line.component, need, level + 1, (*path, line.component))

    walk(sku, quantity, 1, (sku,))
    return found


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


# Transfers

# Days a transfer between two of the business's own locations takes, door to door.
TRANSFER_DAYS = 1


class TransferStatus(StrEnum):
    DRAFT = "draft"
    IN_TRANSIT = "in_transit"
    RECEIVED = "received"
    CANCELLED = "cancelled"


@dataclass
class TransferOrder:
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

    @property
    def number(self) -> str:
        return number("transfer", self.id or 0)

    def ship(self) -> None:
        if self.status is not TransferStatus.DRAFT:
            raise _why(self.number, self.status, "shipped", "Only a draft transfer ships.")
        self.status = TransferStatus.IN_TRANSIT

    def receive(self, quantity: Decimal) -> None:
        if self.status is not TransferStatus.IN_TRANSIT:
            hint = "Ship it first." if self.status is TransferStatus.DRAFT else ""
            raise _why(self.number, self.status, "received", hint)
        if quantity > self.quantity:
            raise InvalidTransition(
                f"{self.number} carries {self.quantity}; {quantity} cannot arrive."
            )
        self.received = quantity
        self.status = TransferStatus.RECEIVED

    def cancel(self) -> None:
        if self.status is not TransferStatus.DRAFT:
            raise _why(self.number, self.status, "cancelled", "Only a draft transfer is cancelled.")
        self.status = TransferStatus.CANCELLED


# Pegging and promise dates


class SupplyKind(StrEnum):
    PURCHASE = "purchase"
    PRODUCTION = "production"
    TRANSFER = "transfer"


class DemandKind(StrEnum):
    SALES_LINE = "sales_line"
    COMPONENT = "component"


@dataclass(frozen=True)
class Supply:
    """Open supply pegged to a demand: how much is still to come, and when."""

    quantity: Decimal
    expected: date | None


def promise_date(
    today: date,
    open_quantity: Decimal,
    reserved: Decimal,
    supplies: Sequence[Supply],
    lead_time_days: int | None,
    requested: date | None = None,
) -> date | None:
    """When all of a line's open quantity can ship: the latest of the dates its parts are ready.

    Reserved stock is ready today; pegged supply on its expected date; any rest not covered by
    either waits a full replenishment lead time from today (unknown, None, without one). Never
    before the requested date. Nothing open: nothing to promise.
    """
    if open_quantity <= 0:
        return None
    dates: list[date] = []
    covered = reserved
    if reserved > 0:
        dates.append(today)
    for supply in supplies:
        if supply.quantity <= 0:
            continue
        covered += supply.quantity
        if supply.expected is None:
            return None
        dates.append(max(supply.expected, today))
    if covered < open_quantity:
        if lead_time_days is None:
            return None
        dates.append(today + timedelta(days=lead_time_days))
    promised = max(dates) if dates else today
    return max(promised, requested) if requested else promised
