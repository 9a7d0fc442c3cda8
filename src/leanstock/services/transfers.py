"""Transfer orders between the business's own locations: draft → in transit → received; cancel.

A draft reserves its quantity at the source; shipping moves it source → in_transit, receiving
in_transit → target (what did not arrive is written off as an adjustment), where it is
reserved first for the demands pegged to the transfer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from leanstock.domain import catalog
from leanstock.domain.catalog import Item
from leanstock.domain.errors import InvalidInput, NotFound, OutOfStock
from leanstock.domain.ledger import MoveKind, Place, Posting, available
from leanstock.domain.orders import (
    TRANSFER_DAYS,
    PegStatus,
    SupplyKind,
    TransferOrder,
    number,
    order_id,
)
from leanstock.domain.quantities import non_negative, positive
from leanstock.domain.serials import (
    SerialMove,
    SerialsNotTracked,
    SerialsRequired,
    by_lot,
    check_departure,
    named,
)
from leanstock.services.backorders import fill_backorders
from leanstock.services.paging import Page, page_bounds
from leanstock.services.ports import Stored, UnitOfWork
from leanstock.services.posting import (
    checked_time,
    current_day,
    known_item,
    physical_place,
    post,
    take,
)
from leanstock.services.pull import reserve_on_receipt, settle_pegs
from leanstock.services.retry import retrying
from leanstock.services.serials import departures

ZERO = Decimal(0)


@dataclass(frozen=True)
class TransferOrderView:
    number: str
    sku: str
    source: str
    target: str
    quantity: Decimal
    received: Decimal
    status: str
    expected_date: date | None
    pegged_to: list[str] = field(default_factory=list)


def transfer_id(value: str) -> int:
    found = order_id("transfer", value)
    if found is None:
        raise NotFound("transfer order", value, "order")
    return found


def get_transfer_order(uow: UnitOfWork, number: str) -> TransferOrderView:
    with uow:
        order, _, _, _ = uow.transfers.get(transfer_id(number))
        if not uow.visibility.sees_any((order.source, order.target)):
            raise NotFound("transfer order", order.number, "order")
        pegs = uow.pegs.of_supply(SupplyKind.TRANSFER, [order.id or 0])
    return TransferOrderView(
        order.number,
        order.sku,
        order.source,
        order.target,
        order.quantity,
        order.received,
        order.status.value,
        order.expected_date,
        [p.reference for p in pegs if p.status is not PegStatus.CANCELLED],
    )


def list_transfer_orders(
    uow: UnitOfWork, status: str | None = None, limit: int = 50, offset: int = 0
) -> Page[dict[str, Any]]:
    limit, offset = page_bounds(limit, offset)
    with uow:
        rows, total = uow.transfers.page(status, limit, offset)
    for row in rows:
        row["number"] = number("transfer", row.pop("id"))
    return Page(rows, total, limit, offset)


@retrying
def create_transfer_order(
    uow: UnitOfWork,
    sku: str,
    source: str,
    target: str,
    quantity: Decimal,
    *,
    expected_date: date | None = None,
    actor: str = "system",
    today: date | None = None,
) -> TransferOrderView:
    """Plan a transfer and reserve its quantity at the source (409 when not available)."""
    with uow.acting(actor):
        order = plan_transfer(uow, sku, source, target, quantity, current_day(today), expected_date)
        uow.commit()
    return get_transfer_order(uow, order.number)


def plan_transfer(
    uow: UnitOfWork,
    sku: str,
    source: str,
    target: str,
    quantity: Decimal,
    day: date,
    expected_date: date | None = None,
) -> TransferOrder:
    """`create_transfer_order` inside the caller's transaction."""
    quantity = positive(quantity)
    item = known_item(uow, sku, None, None)
    sku = item.value.sku  # the SKU of a scanned barcode
    origin = physical_place(uow, source, "source")
    destination = physical_place(uow, target, "target")
    order = TransferOrder.plan(
        sku, source, target, quantity, expected_date or day + timedelta(days=TRANSFER_DAYS)
    )
    level, lots = uow.ledger.lock_stock_and_lots(item.id, origin)
    free = available(lots, level.reserved, day)
    if quantity > free:
        raise OutOfStock(sku, source, quantity, max(free, ZERO))
    uow.transfers.add(order, item.id, origin, destination)
    uow.ledger.reserve(item.id, origin.id, order.number, quantity)
    return order


@retrying
def release_transfer(uow: UnitOfWork, number: str, *, actor: str = "system") -> TransferOrderView:
    """Tell the source to pick and ship it."""
    with uow.acting(actor):
        release_transfer_order(uow, number)
        uow.commit()
    return get_transfer_order(uow, number)


def release_transfer_order(uow: UnitOfWork, number: str) -> None:
    """`release_transfer` inside the caller's transaction."""
    order, *_ = uow.transfers.get(transfer_id(number), lock=True)
    order.release()
    uow.transfers.save(order)


@retrying
def ship_transfer(
    uow: UnitOfWork,
    number: str,
    *,
    actor: str = "system",
    occurred_at: datetime | None = None,
    today: date | None = None,
    serials: Sequence[str] = (),
) -> TransferOrderView:
    """Send the goods: source → in_transit, out of what the order reserved. A serial-tracked
    item names the serials sent, one per unit; they travel in transit with the order."""
    when = checked_time(occurred_at)
    with uow.acting(actor):
        order, item_id, source, _ = uow.transfers.get(transfer_id(number), lock=True)
        order.ship()
        item = known_item(uow, order.sku, None, None)
        reservations = uow.ledger.open_reservations(order.number)
        held = sum((r.open_quantity for r in reservations), ZERO)
        transit = uow.virtual_place(catalog.IN_TRANSIT)
        if item.value.serial_tracked:
            uow.ledger.lock_stock(item_id, source)  # the stock row first, then the serials
        moved, lots = departures(uow, item, order.quantity, serials, source, transit)
        picks: list[tuple[str | None, Decimal]] = []
        day = current_day(today)
        for lot, q in lots.items() if moved else [(None, order.quantity)]:
            picks += take(uow, item, source, q, day, lot, own_reserved=held)
        uow.ledger.consume([(r, r.open_quantity) for r in reservations])
        postings = [Posting(item_id, source, transit, q, lot) for lot, q in picks]
        post(uow, MoveKind.TRANSFER, item, postings, when, order.number, serials=moved)
        uow.transfers.save(order)
        uow.commit()
    return get_transfer_order(uow, number)


@retrying
def receive_transfer(
    uow: UnitOfWork,
    number: str,
    quantity: Decimal | None = None,
    *,
    actor: str = "system",
    occurred_at: datetime | None = None,
    serials: Sequence[str] = (),
) -> TransferOrderView:
    """Receive at the target (all that was shipped unless less arrived; the rest is written off).

    A serial-tracked item: `serials` names those that arrived (all that were shipped when
    none are named and no smaller quantity is given); the others are written off with the rest.
    """
    when = checked_time(occurred_at)
    with uow.acting(actor):
        order, item_id, source, target = uow.transfers.get(transfer_id(number), lock=True)
        item = known_item(uow, order.sku, None, None)
        arrived = order.quantity if quantity is None else non_negative(quantity)
        if arrived <= 0 and quantity is not None:
            raise InvalidInput("Say how much arrived (more than zero).", "quantity")
        if serials and not item.value.serial_tracked:
            raise SerialsNotTracked(item.value.sku)
        if item.value.serial_tracked and serials:
            arrived = Decimal(len(serials)) if quantity is None else arrived
        elif item.value.serial_tracked and arrived != order.quantity:
            raise SerialsRequired(item.value.sku, arrived)
        order.receive(arrived)
        transit = uow.virtual_place(catalog.IN_TRANSIT)
        uow.ledger.lock_stock(item_id, target)
        adjustment = uow.virtual_place(catalog.ADJUSTMENT)
        postings: list[Posting] = []
        moved: list[SerialMove] = []
        if item.value.serial_tracked:
            postings, moved = _serials_arriving(
                uow, order.number, item, arrived, serials, (source, transit, target, adjustment)
            )
        else:
            carried = uow.ledger.moved(order.number, item_id, source.id, transit.id) or [
                (None, order.quantity)
            ]
            for lot, (came, gone) in arrival(carried, arrived).items():
                if came > 0:
                    postings.append(Posting(item_id, transit, target, came, lot))
                if gone > 0:
                    postings.append(Posting(item_id, transit, adjustment, gone, lot))
        lost = order.quantity - arrived
        post(uow, MoveKind.TRANSFER, item, postings, when, order.number, serials=moved)
        reserve_on_receipt(uow, SupplyKind.TRANSFER, order.id or 0, item_id, target, arrived)
        fill_backorders(uow, item_id, target, current_day(None), order.number)
        if lost > 0:
            settle_pegs(uow, SupplyKind.TRANSFER, order.id or 0)
        uow.transfers.save(order)
        uow.commit()
    return get_transfer_order(uow, number)


def _serials_arriving(
    uow: UnitOfWork,
    reference: str,
    item: Stored[Item],
    arrived: Decimal,
    serials: Sequence[str],
    places: tuple[Place, Place, Place, Place],
) -> tuple[list[Posting], list[SerialMove]]:
    """A serial-tracked transfer's arrival: the serials named (all it carries, when none are)
    go from in transit to the target, the rest it carries to the adjustment (lost), each lot
    by its serials. A serial it did not carry is refused, naming it."""
    source, transit, target, adjustment = places
    carried = uow.serials.carried(reference, item.id, source.id, transit.id)
    came = named(item.value, arrived, serials or carried)
    found = uow.serials.where(item.id, carried + [s for s in came if s not in carried])
    for serial in came:
        if serial not in carried:
            check_departure(item.value, serial, found.get(serial), transit.code)
            raise InvalidInput(
                f"Serial {serial} of {item.value.sku} did not travel with {reference}; it "
                f"carries {', '.join(carried)}.",
                "serials",
            )
    gone = [s for s in carried if s not in came]
    for serial in [*came, *gone]:
        check_departure(item.value, serial, found.get(serial), transit.code)
    moves = [SerialMove(item.id, s, found[s].lot, transit, target) for s in came]
    moves += [SerialMove(item.id, s, found[s].lot, transit, adjustment) for s in gone]
    postings = [
        Posting(item.id, transit, target, q, lot)
        for lot, q in by_lot([found[s] for s in came]).items()
    ]
    postings += [
        Posting(item.id, transit, adjustment, q, lot)
        for lot, q in by_lot([found[s] for s in gone]).items()
    ]
    return postings, moves


def arrival(
    carried: list[tuple[str | None, Decimal]], arrived: Decimal
) -> dict[str | None, tuple[Decimal, Decimal]]:
    """Which lots arrived: each lot in transit keeps its code (and so its expiry) at the
    target, in the order they were picked (first expired first); what did not arrive is the
    rest of the last lots. lot → (arrived, lost)."""
    split: dict[str | None, tuple[Decimal, Decimal]] = {}
    left = arrived
    for lot, quantity in carried:
        came = min(quantity, left)
        left -= came
        split[lot] = (came, quantity - came)
    return split


@retrying
def cancel_transfer(uow: UnitOfWork, number: str, *, actor: str = "system") -> TransferOrderView:
    """Cancel a draft transfer: the source reservation goes back; pegged demands backorder."""
    with uow.acting(actor):
        order, item_id, source, _ = uow.transfers.get(transfer_id(number), lock=True)
        ended = [p.reference for p in settle_pegs(uow, SupplyKind.TRANSFER, order.id or 0)]
        order.cancel(ended)
        reservations = uow.ledger.open_reservations(order.number)
        uow.ledger.lock_stock(item_id, source)
        uow.ledger.release([(r, r.open_quantity) for r in reservations])
        uow.transfers.save(order)
        uow.commit()
    return get_transfer_order(uow, number)
