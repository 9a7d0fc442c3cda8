"""Fill backorders: stock arriving at an item-location is reserved for the sales lines waiting
for it, in the fair order `domain.orders.backorders.fill_order` states.

Every use case that brings stock into a physical location calls `fill_backorders` after it has
posted the arrival (and reserved it for the demands pegged to the supply first), inside its own
unit of work and under the item-location's row lock: purchase and stock receipts, transfers in,
production output, count gains, customer returns to stock and quarantine releases.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal

from leanstock.domain.ledger import Place, available
from leanstock.domain.orders import DemandKind, number
from leanstock.domain.orders.backorders import Backorder, allocate, fill_order, waiting
from leanstock.domain.orders.events import BackorderFilled
from leanstock.services.ports import UnitOfWork
from leanstock.services.pull import lead_time

ZERO = Decimal(0)


def backorders(uow: UnitOfWork, item_id: int, place: Place) -> list[Backorder]:
    """The sales lines at an item-location with a part nothing covers yet (any order)."""
    lines = uow.sales.open_lines(item_id, place.id)
    if not lines:
        return []
    refs = {ln.line_id: f"{number('sales', ln.order_id)}/{ln.line_no}" for ln in lines}
    reserved = uow.ledger.reserved_for(list(refs.values()))
    pegged: dict[int, Decimal] = {}
    for peg in uow.pegs.of_demand(DemandKind.SALES_LINE, list(refs)):
        pegged[peg.demand_id] = pegged.get(peg.demand_id, ZERO) + peg.open
    return [
        Backorder(
            ln.line_id,
            ln.order_id,
            ln.line_no,
            refs[ln.line_id],
            waiting(
                ln.open_quantity,
                reserved.get(refs[ln.line_id], ZERO),
                pegged.get(ln.line_id, ZERO),
            ),
            ln.ordered_at,
            ln.requested_date,
            ln.priority,
        )
        for ln in lines
    ]


def fill_backorders_at(
    uow: UnitOfWork, arrivals: Sequence[tuple[int, Place]], today: date, source: str
) -> Decimal:
    """`fill_backorders` at each item-location stock arrived at, in the order given, asking
    once (one query) which of them have sales lines waiting at all."""
    waiting = uow.sales.backordered([(item_id, place.id) for item_id, place in arrivals])
    return sum(
        (
            fill_backorders(uow, item_id, place, today, source)
            for item_id, place in arrivals
            if (item_id, place.id) in waiting
        ),
        ZERO,
    )


def fill_backorders(
    uow: UnitOfWork, item_id: int, place: Place, today: date, source: str
) -> Decimal:
    """Reserve free stock at an item-location for its backordered lines; returns how much.

    free = available = usable on hand − reserved, read under the stock row lock. `source` says
    what brought the stock (a receipt's reference), for the event each filled line records.
    `place` is a warehouse or store: sales lines ship from nowhere else.
    """
    level, lots = uow.ledger.lock_stock_and_lots(item_id, place)
    free = available(lots, level.reserved, today)
    if free <= 0:
        return ZERO
    waiting_lines = backorders(uow, item_id, place)
    if not any(b.waiting > 0 for b in waiting_lines):
        return ZERO
    lead = lead_time(uow, item_id)
    earliest = today + timedelta(days=lead) if lead is not None else None
    filled = ZERO
    for backorder, quantity in allocate(fill_order(waiting_lines, earliest), free):
        uow.ledger.reserve(item_id, place.id, backorder.reference, quantity)
        uow.record(
            BackorderFilled(
                subject=number("sales", backorder.order_id),
                line=backorder.line_no,
                quantity=quantity,
                still_waiting=backorder.waiting - quantity,
                source=source,
            )
        )
        filled += quantity
    return filled
