"""The double-entry stock ledger: immutable moves between locations, picked first-expired-first-out.

Every change of stock moves a quantity of one item (and lot) from one location to another;
virtual locations (supplier, customer, scrap, adjustment, ...) stand on the other side, so for
each item the balances over all locations sum to zero. A move is never edited; a correction is
a new move.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Protocol, TypeVar

from leanstock.domain.catalog import Item
from leanstock.domain.errors import (
    Conflict,
    InvalidInput,
    InvalidTransition,
    LotExpired,
    LotRequired,
    OutOfStock,
)
from leanstock.domain.quantities import positive


class MoveKind(StrEnum):
    RECEIPT = "receipt"
    SHIPMENT = "shipment"
    TRANSFER = "transfer"
    ADJUSTMENT = "adjustment"
    SCRAP = "scrap"
    CONSUMPTION = "consumption"
    PRODUCTION = "production"
    RELEASE = "release"
    SUPPLIER_RETURN = "supplier_return"
    CUSTOMER_RETURN = "customer_return"


class ScrapReason(StrEnum):
    SPOILAGE = "spoilage"
    DAMAGE = "damage"
    EXPIRY = "expiry"
    QUALITY = "quality"
    OTHER = "other"


class ShipmentReason(StrEnum):
    """Why stock left for a customer outside a sales order. A `sale` (a shop's counter sale)
    is demand: the forecasts read it with the sales orders (`services.orders.demand_history`)."""

    SALE = "sale"
    SAMPLE = "sample"
    OTHER = "other"


@dataclass(frozen=True)
class Place:
    """A location as the ledger posts to it: its id, its code, and whether it may hold less
    than zero (virtual locations and those configured to)."""

    id: int
    code: str
    may_go_negative: bool


@dataclass(frozen=True)
class Posting:
    """One move with the database ids it touches.

    `unit_cost` is the cost per stock unit of stock arriving from outside (a receipt, a count
    gain); `conversion_cost` what a production output adds to its components' cost. Other
    moves carry the cost of where they came from (`domain.costing`).
    """

    item_id: int
    source: Place
    target: Place
    quantity: Decimal
    lot: str | None = None
    unit_cost: Decimal | None = None
    conversion_cost: Decimal | None = None


@dataclass(frozen=True)
class OneStepDocument:
    """A receipt, shipment, transfer or scrap dated now, for the database to lock, check and
    post in one step (`LedgerRepo.post_document`).

    `lines` are postings before picking: a shipment's, transfer's or scrap's line names its
    lot only when the request did (its lots are picked first-expired-first-out by the step),
    in the order they are picked (by item). `rows` are the physical item-locations it changes.
    `lots` are the lots a receipt names, as (item id, code, the expiry the request gave, the
    expiry the lot is registered with if it is new: `received_lot`'s). `respect_reservations`
    and `allow_expired` are `posting.take`'s flags (a scrap: off and on). A count gives
    `counted` (in the stock unit) and one line, its gain (adjustment → location, at the gain's
    cost), which the step turns round for a loss; its lot, if new, is in `lots` (with no date
    given: a count does not check a known lot's date).
    """

    kind: MoveKind
    lines: Sequence[Posting]
    rows: Sequence[tuple[int, Place]]
    occurred_at: datetime
    today: date
    reference: str | None = None
    partner: str | None = None
    reason: str | None = None
    note: str | None = None
    lots: Sequence[tuple[int, str, date | None, date | None]] = ()
    respect_reservations: bool = True
    allow_expired: bool = False
    counted: Decimal | None = None


@dataclass(frozen=True)
class StockLevel:
    on_hand: Decimal
    reserved: Decimal


@dataclass(frozen=True)
class OperationRecord:
    """One operation to record with `post_history`: what `post` takes, as a value."""

    kind: str
    postings: Sequence[Posting]
    occurred_at: datetime
    reference: str | None = None
    partner: str | None = None
    reason: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class LotStock:
    """What one lot (or the untracked remainder, `lot=None`) holds at a location."""

    lot: str | None
    quantity: Decimal
    expires_on: date | None = None

    def expired(self, today: date) -> bool:
        """A lot is usable through its expiry date and expired the day after."""
        return self.expires_on is not None and self.expires_on < today


def usable(stock: Sequence[LotStock], today: date) -> Decimal:
    """On hand that may be promised or picked: positive balances of unexpired lots."""
    return sum((s.quantity for s in stock if s.quantity > 0 and not s.expired(today)), Decimal(0))


@dataclass(frozen=True)
class KnownLot:
    """A lot the ledger has seen before, with the expiry it was registered with."""

    code: str
    expires_on: date | None


@dataclass(frozen=True)
class NewLot:
    """A lot to register on its first receipt."""

    code: str
    expires_on: date | None


def received_lot(
    item: Item,
    lot: str | None,
    expires_on: date | None,
    received_on: date,
    known: KnownLot | None,
) -> NewLot | None:
    """Check a lot arriving in stock (a receipt, a purchase delivery) against what is known.

    A lot-tracked item arrives with its lot named; an expiry date belongs to a lot. A known lot
    keeps the expiry it was registered with (another date is refused); a new one is registered
    with the date given or, for a perishable item, received_on + shelf life. Returns the lot to
    register, or None when there is none to register.
    """
    if item.lot_tracked and lot is None:
        raise LotRequired(item.sku)
    if expires_on is not None and lot is None:
        raise InvalidInput("expires_on belongs to a lot: name the lot too.", "expires_on")
    if lot is None:
        return None
    if known is not None:
        if expires_on is not None and expires_on != known.expires_on:
            raise InvalidInput(
                f"Lot {lot} of {item.sku} expires on {known.expires_on}, not {expires_on}.",
                "expires_on",
            )
        return None
    if expires_on is None and item.shelf_life_days is not None:
        expires_on = received_on + timedelta(days=item.shelf_life_days)
    return NewLot(lot, expires_on)


def batch_expiry(item: Item, made_on: date, components: Sequence[date]) -> date | None:
    """When a produced batch expires: made_on + the product's shelf life, but never after the
    earliest-expiring component lot that went into it (a cake is no fresher than its cream)."""
    dates = list(components)
    if item.shelf_life_days is not None:
        dates.append(made_on + timedelta(days=item.shelf_life_days))
    return min(dates) if dates else None


def available(stock: Sequence[LotStock], reserved: Decimal, today: date) -> Decimal:
    """What may still be promised or picked at an item-location: usable on hand − reserved.

    available = on hand − expired − reserved (docs/architecture.md, "The ledger's rules"):
    usable on hand leaves out expired lots (and balances below zero, which a location allowed
    to go negative may hold). It may come out below zero when stock expired under a
    reservation; callers cap what they take at zero.
    """
    return usable(stock, today) - reserved


def pick_fefo(
    item: str,
    location: str,
    stock: Sequence[LotStock],
    quantity: Decimal,
    today: date,
    lot: str | None = None,
    allow_negative: bool = False,
    allow_expired: bool = False,
) -> list[tuple[str | None, Decimal]]:
    """Which lots to take `quantity` from: the named one, else first-expired-first-out.

    Lots without an expiry date go after dated ones; ties break on the lot code, so the pick is
    deterministic. Expired lots are never picked (a named one only with `allow_expired`, which
    scrapping spoiled stock needs). A location allowed to go negative takes any
    remainder from the untracked balance (or the last lot picked).
    """
    if lot is not None:
        match = [s for s in stock if s.lot == lot]
        held = match[0].quantity if match else Decimal(0)
        if match and match[0].expired(today) and not allow_expired:
            raise LotExpired(item, lot, match[0].expires_on)
        if held < quantity and not allow_negative:
            raise OutOfStock(item, location, quantity, max(held, Decimal(0)), lot)
        return [(lot, quantity)]
    candidates = sorted(
        (s for s in stock if s.quantity > 0 and not s.expired(today)),
        key=lambda s: (s.expires_on is None, s.expires_on or date.max, s.lot or ""),
    )
    picks: list[tuple[str | None, Decimal]] = []
    remaining = quantity
    for s in candidates:
        if remaining <= 0:
            break
        take = min(s.quantity, remaining)
        picks.append((s.lot, take))
        remaining -= take
    if remaining > 0:
        if not allow_negative:
            raise OutOfStock(item, location, quantity, quantity - remaining)
        if picks:
            last_lot, last_qty = picks.pop()
            picks.append((last_lot, last_qty + remaining))
        else:
            picks.append((None, remaining))
    return picks


# Reservations


class ReservationStatus(StrEnum):
    OPEN = "open"
    RELEASED = "released"
    CONSUMED = "consumed"


@dataclass(frozen=True)
class Reservation:
    """Stock promised to `reference` at one item-location; `open_quantity` of it is still held.

    The item-location's `reserved` counter is the sum of its open reservations: the ledger
    changes both together (`reserve`, `release`, `consume`), never one alone.
    """

    id: int
    item_id: int
    location_id: int
    reference: str
    quantity: Decimal
    open_quantity: Decimal
    status: ReservationStatus
    created_at: datetime
    updated_at: datetime

    def portion(self, quantity: Decimal | None = None) -> Decimal:
        """What a release or consumption takes: `quantity`, or all that is held when None.

        Refused once the reservation is closed, or for more than it holds.
        """
        if self.status is not ReservationStatus.OPEN:
            raise InvalidTransition(f"Reservation {self.id} is already {self.status}.")
        amount = self.open_quantity if quantity is None else positive(quantity)
        if amount > self.open_quantity:
            raise Conflict(
                f"Reservation {self.id} holds only {self.open_quantity}; {amount} asked.",
                "quantity",
            )
        return amount

    def less(self, quantity: Decimal, closing: ReservationStatus) -> Reservation:
        """The reservation after `quantity` of it is given back or used: still open while
        anything is held, else `closing` (released or consumed)."""
        left = self.open_quantity - quantity
        return replace(
            self, open_quantity=left, status=ReservationStatus.OPEN if left > 0 else closing
        )


class Held(Protocol):
    @property
    def open_quantity(self) -> Decimal: ...


H = TypeVar("H", bound=Held)


def draw(held: Iterable[H], quantity: Decimal) -> list[tuple[H, Decimal]]:
    """Take `quantity` from reservations (or anything holding an open quantity) in the order
    given: all of the first, then the next, until it is covered; returns what each gives."""
    takes: list[tuple[H, Decimal]] = []
    remaining = quantity
    for h in held:
        if remaining <= 0:
            break
        take = min(h.open_quantity, remaining)
        if take > 0:
            takes.append((h, take))
            remaining -= take
    return takes
