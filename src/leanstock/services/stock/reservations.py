"""Reservations: stock promised to a reference (a sales line, a transfer), given back or used.

The ledger changes a reservation and the item-location's `reserved` counter together; here a
reservation is made only while available = usable on hand − reserved covers it, checked under
the item-location's row lock, so concurrent clients can never promise more than is there.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from leanstock.domain import catalog
from leanstock.domain.errors import InvalidInput, NotFound, OutOfStock
from leanstock.domain.events import Changed, diff
from leanstock.domain.ledger import MoveKind, Posting, Reservation, available
from leanstock.domain.quantities import positive
from leanstock.services.paging import Page, page_bounds
from leanstock.services.ports import UnitOfWork
from leanstock.services.posting import (
    Operation,
    checked_time,
    current_day,
    known_item,
    physical_place,
    post,
    resolve,
    take,
)
from leanstock.services.retry import retrying
from leanstock.services.serials import departures


@dataclass(frozen=True)
class ReservationView:
    id: int
    sku: str
    location: str
    reference: str
    quantity: Decimal
    open_quantity: Decimal
    status: str
    created_at: datetime
    updated_at: datetime


def _view(row: Reservation, sku: str, location: str) -> ReservationView:
    return ReservationView(
        row.id,
        sku,
        location,
        row.reference,
        row.quantity,
        row.open_quantity,
        row.status.value,
        row.created_at,
        row.updated_at,
    )


def _audit(
    uow: UnitOfWork,
    verb: str,
    before: Reservation | None,
    after: Reservation,
    sku: str,
    location: str,
    **values: Any,
) -> None:
    """Audit a reservation's change: its open quantity and status before and after."""

    def state(row: Reservation | None) -> dict[str, Any]:
        if row is None:
            return {}
        return {"open_quantity": row.open_quantity, "status": row.status.value}

    facts = {"sku": sku, "location": location, "reference": after.reference}
    changes = diff(state(before), state(after))
    uow.record(
        Changed(
            subject=f"reservation:{after.id}",
            verb=verb,
            values={**facts, **changes, **values},
        )
    )


@retrying
def reserve(
    uow: UnitOfWork,
    sku: str,
    location: str,
    quantity: Decimal,
    reference: str,
    *,
    unit: str | None = None,
    today: date | None = None,
) -> ReservationView:
    """Promise available stock to `reference` (later: a sales order line).

    Succeeds only while quantity ≤ available = usable on hand − reserved, checked under the
    item-location's row lock, so concurrent reservations can never promise more than is there.
    """
    quantity = positive(quantity)
    if not reference.strip():
        raise InvalidInput("A reservation needs a reference (what it is for).", "reference")
    with uow:
        item, places = resolve(uow, sku, unit, None, {"location": location})
        sku = item.value.sku  # the SKU of a scanned barcode
        place = places["location"]
        level, lots = uow.ledger.lock_stock_and_lots(item.id, place)
        free = available(lots, level.reserved, current_day(today))
        if quantity > free:
            raise OutOfStock(sku, location, quantity, max(free, Decimal(0)))
        row = uow.ledger.reserve(item.id, place.id, reference.strip(), quantity)
        _audit(uow, "reserve", None, row, sku, location)
        uow.commit()
    return _view(row, sku, location)


@retrying
def release(
    uow: UnitOfWork, reservation_id: int, quantity: Decimal | None = None
) -> ReservationView:
    """Give back all (or `quantity`) of a reservation to available stock."""
    with uow:
        row = uow.ledger.reservation(reservation_id, lock=True)
        amount = row.portion(quantity)
        sku, location = uow.ledger.names(row.item_id, row.location_id)
        place = physical_place(uow, location, "location")
        uow.ledger.lock_stock(row.item_id, place)
        (after,) = uow.ledger.release([(row, amount)])
        _audit(uow, "release", row, after, sku, location)
        uow.commit()
    return _view(after, sku, location)


@retrying
def consume(
    uow: UnitOfWork,
    reservation_id: int,
    quantity: Decimal | None = None,
    *,
    lot: str | None = None,
    occurred_at: datetime | None = None,
    today: date | None = None,
    serials: Sequence[str] = (),
) -> Operation:
    """Ship what a reservation holds (all, or `quantity`) to the customer; a serial-tracked
    item names the serials shipped, one per unit."""
    when = checked_time(occurred_at)
    with uow:
        row = uow.ledger.reservation(reservation_id, lock=True)
        amount = row.portion(quantity)
        sku, location = uow.ledger.names(row.item_id, row.location_id)
        item = known_item(uow, sku, None, lot)
        place = physical_place(uow, location, "location")
        customer_place = uow.virtual_place(catalog.CUSTOMER)
        if item.value.serial_tracked:
            uow.ledger.lock_stock(item.id, place)  # the stock row, then the serials
        moved, lots = departures(uow, item, amount, serials, place, customer_place, lot)
        picks: list[tuple[str | None, Decimal]] = []
        for picked, q in lots.items() if moved else [(lot, amount)]:
            picks += take(uow, item, place, q, current_day(today), picked, own_reserved=amount)
        postings = [Posting(item.id, place, customer_place, q, lt) for lt, q in picks]
        (after,) = uow.ledger.consume([(row, amount)])
        operation = post(uow, MoveKind.SHIPMENT, item, postings, when, row.reference, serials=moved)
        _audit(uow, "consume", row, after, sku, location, operation=operation.id)
        uow.commit()
    return operation


def list_reservations(
    uow: UnitOfWork,
    reference: str | None = None,
    sku: str | None = None,
    location: str | None = None,
    status: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> Page[ReservationView]:
    limit, offset = page_bounds(limit, offset)
    uow.visibility.require_location(location)
    with uow:
        item_id = uow.catalog.item(sku).id if sku is not None else None
        location_id = uow.catalog.location(location).id if location is not None else None
        rows, total = uow.ledger.reservations(
            reference, item_id, location_id, status, limit, offset
        )
        found = [_view(r, *uow.ledger.names(r.item_id, r.location_id)) for r in rows]
    return Page(found, total, limit, offset)


def get_reservation(uow: UnitOfWork, reservation_id: int) -> ReservationView:
    with uow:
        row = uow.ledger.reservation(reservation_id)
        found = _view(row, *uow.ledger.names(row.item_id, row.location_id))
    if not uow.visibility.sees_location(found.location):
        raise NotFound("reservation", reservation_id, "reservation")
    return found
