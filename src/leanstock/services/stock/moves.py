"""Stock operations: receive, ship, transfer, count and scrap.

Each is one transaction that locks the stock rows it takes from, checks the ledger's rules
(docs/architecture.md, "The ledger's rules") and posts balanced moves.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal

from leanstock.domain import catalog, units
from leanstock.domain.errors import InvalidInput, LotRequired
from leanstock.domain.ledger import (
    LotStock,
    MoveKind,
    Place,
    Posting,
    ScrapReason,
    ShipmentReason,
    StockLevel,
)
from leanstock.domain.quantities import non_negative, positive
from leanstock.services.backorders import fill_backorders, fill_backorders_at
from leanstock.services.ports import UnitOfWork
from leanstock.services.posting import (
    Operation,
    Resolved,
    StockLine,
    audit_operation,
    checked_time,
    current_day,
    known_item,
    line_errors,
    lock_rows,
    physical_place,
    post,
    post_lines,
    receive_lot,
    resolve_lines,
    stock_quantity,
    take,
)
from leanstock.services.retry import retrying


def checked_lines(lines: Sequence[StockLine]) -> list[StockLine]:
    if not lines:
        raise InvalidInput("Name at least one line.", "lines")
    seen: set[tuple[str, str | None]] = set()
    checked = []
    for index, line in enumerate(lines):
        with line_errors(index, len(lines) > 1):
            if (line.sku, line.lot) in seen:
                raise InvalidInput(
                    f"{line.sku}{f' lot {line.lot}' if line.lot else ''} is on two lines; "
                    "put it on one.",
                    "sku",
                )
            seen.add((line.sku, line.lot))
            checked.append(replace(line, quantity=positive(line.quantity)))
    return checked


@retrying
def receive_lines(
    uow: UnitOfWork,
    location: str,
    lines: Sequence[StockLine],
    *,
    supplier: str | None = None,
    reference: str | None = None,
    occurred_at: datetime | None = None,
) -> Operation:
    """Receive a delivery from a supplier into a location: supplier → location, per line, each
    at its `unit_cost` (the item's unit cost when not given)."""
    checked = checked_lines(lines)
    when = checked_time(occurred_at)
    with uow:
        if supplier is not None:
            uow.catalog.supplier(supplier)
        source = uow.virtual_place(catalog.SUPPLIER)
        resolved = resolve_lines(uow, checked, {"location": location})
        lock_rows(
            uow,
            {(item.id, places["location"].id): places["location"] for *_, item, places in resolved},
        )
        postings = receipt_postings(uow, resolved, source, when)
        operation = post_lines(uow, MoveKind.RECEIPT, postings, when, reference, supplier)
        audit_operation(uow, "receive", operation, supplier=supplier)
        arrivals = sorted({(p.item_id, p.target) for _, p in postings}, key=_by_ids)
        fill_backorders_at(uow, arrivals, current_day(None), reference or "receipt")
        uow.commit()
    return operation


def receipt_postings(
    uow: UnitOfWork, resolved: Sequence[Resolved], source: Place, when: datetime
) -> list[tuple[str, Posting]]:
    """A receipt's moves, each line's lot checked (and registered when new) and its cost per
    stock unit (the item's unit cost when not given)."""
    many = len(resolved) > 1
    postings: list[tuple[str, Posting]] = []
    for index, line, item, places in resolved:
        with line_errors(index, many):
            receive_lot(uow, item, line.lot, line.expires_on, when.date())
            cost = item.value.unit_cost if line.unit_cost is None else line.unit_cost
            posting = Posting(
                item.id, source, places["location"], line.quantity, line.lot, unit_cost=cost
            )
            postings.append((line.sku, posting))
    return postings


def receive(
    uow: UnitOfWork,
    sku: str,
    location: str,
    quantity: Decimal,
    *,
    unit: str | None = None,
    lot: str | None = None,
    expires_on: date | None = None,
    supplier: str | None = None,
    reference: str | None = None,
    occurred_at: datetime | None = None,
    unit_cost: Decimal | None = None,
) -> Operation:
    """Receive one item from a supplier into a location: supplier → location, at `unit_cost`
    per `unit` (the item's unit cost when not given)."""
    line = StockLine(sku, quantity, unit, lot, expires_on, unit_cost)
    return receive_lines(
        uow, location, [line], supplier=supplier, reference=reference, occurred_at=occurred_at
    )


def _take_lines(
    uow: UnitOfWork,
    lines: list[StockLine],
    origin: str,
    field: str,
    destination: Place | str,
    day: date,
) -> list[tuple[str, Posting]]:
    """Pick every line from `origin` and move it to `destination`.

    All the document's stock rows are locked first in one global order (`lock_rows`), then
    the lots of its sources read at once; each line then takes from what the lines before it
    left.
    """
    names = {field: origin} | ({"target": destination} if isinstance(destination, str) else {})
    resolved = resolve_lines(uow, lines, names)
    levels = lock_rows(
        uow,
        {
            (item.id, place.id): place
            for _, _, item, places in resolved
            for place in places.values()
        },
    )
    held = uow.ledger.lots_of([(item.id, places[field].id) for _, _, item, places in resolved])
    return pick_lines(uow, resolved, field, destination, levels, held, day)


def pick_lines(
    uow: UnitOfWork,
    resolved: Sequence[Resolved],
    field: str,
    destination: Place | str,
    levels: dict[tuple[int, int], StockLevel],
    held: dict[tuple[int, int], list[LotStock]],
    day: date,
) -> list[tuple[str, Posting]]:
    """Pick every resolved line from its `field` location, given the locked rows' levels and
    lots (`take`: availability, expiry, FEFO); each line takes from what the lines before it
    left, and `held` is left as the lines left it. A batch plans its documents with it too
    (`services.stock.planned`), so the rules are written once."""
    many = len(resolved) > 1
    postings: list[tuple[str, Posting]] = []
    for index, line, item, places in sorted(resolved, key=lambda r: r[2].id):
        with line_errors(index, many):
            source = places[field]
            target = places["target"] if isinstance(destination, str) else destination
            key = (item.id, source.id)
            picks = take(
                uow, item, source, line.quantity, day, line.lot, locked=(levels[key], held[key])
            )
            for lot, q in picks:
                postings.append((line.sku, Posting(item.id, source, target, q, lot)))
            held[key] = _less(held[key], picks)
    return postings


def _by_ids(key: tuple[int, Place]) -> tuple[int, int]:
    return key[0], key[1].id


def _less(lots: list[LotStock], picks: list[tuple[str | None, Decimal]]) -> list[LotStock]:
    """The lots after `picks` were taken from them."""
    taken: dict[str | None, Decimal] = {}
    for lot, quantity in picks:
        taken[lot] = taken.get(lot, Decimal(0)) + quantity
    left = [replace(s, quantity=s.quantity - taken.pop(s.lot, Decimal(0))) for s in lots]
    return left + [LotStock(lot, -quantity) for lot, quantity in taken.items()]


@retrying
def ship_lines(
    uow: UnitOfWork,
    location: str,
    lines: Sequence[StockLine],
    *,
    customer: str | None = None,
    reference: str | None = None,
    occurred_at: datetime | None = None,
    today: date | None = None,
    reason: ShipmentReason | None = None,
) -> Operation:
    """Ship to a customer from unreserved, unexpired stock, first-expired-first-out.

    With reason `sale` (a counter sale) the shipment is demand the forecasts read."""
    checked = checked_lines(lines)
    when = checked_time(occurred_at)
    with uow:
        customer_place = uow.virtual_place(catalog.CUSTOMER)
        postings = _take_lines(
            uow, checked, location, "location", customer_place, current_day(today)
        )
        operation = post_lines(
            uow,
            MoveKind.SHIPMENT,
            postings,
            when,
            reference,
            customer,
            reason.value if reason is not None else None,
        )
        audit_operation(uow, "ship", operation, customer=customer)
        uow.commit()
    return operation


def ship(
    uow: UnitOfWork,
    sku: str,
    location: str,
    quantity: Decimal,
    *,
    unit: str | None = None,
    lot: str | None = None,
    customer: str | None = None,
    reference: str | None = None,
    occurred_at: datetime | None = None,
    today: date | None = None,
    reason: ShipmentReason | None = None,
) -> Operation:
    """Ship one item to a customer from unreserved, unexpired stock."""
    return ship_lines(
        uow,
        location,
        [StockLine(sku, quantity, unit, lot)],
        customer=customer,
        reference=reference,
        occurred_at=occurred_at,
        today=today,
        reason=reason,
    )


@retrying
def transfer_lines(
    uow: UnitOfWork,
    source: str,
    target: str,
    lines: Sequence[StockLine],
    *,
    reference: str | None = None,
    occurred_at: datetime | None = None,
    today: date | None = None,
) -> Operation:
    """Move stock between two physical locations, lots first-expired-first-out."""
    checked = checked_lines(lines)
    when = checked_time(occurred_at)
    if source == target:
        raise InvalidInput(f"Source and target are both {source}; a transfer needs two.", "target")
    with uow:
        postings = _take_lines(uow, checked, source, "source", target, current_day(today))
        operation = post_lines(uow, MoveKind.TRANSFER, postings, when, reference)
        audit_operation(uow, "transfer", operation)
        uow.commit()
    return operation


def transfer(
    uow: UnitOfWork,
    sku: str,
    source: str,
    target: str,
    quantity: Decimal,
    *,
    unit: str | None = None,
    lot: str | None = None,
    reference: str | None = None,
    occurred_at: datetime | None = None,
    today: date | None = None,
) -> Operation:
    """Move one item between two physical locations."""
    return transfer_lines(
        uow,
        source,
        target,
        [StockLine(sku, quantity, unit, lot)],
        reference=reference,
        occurred_at=occurred_at,
        today=today,
    )


@retrying
def count(
    uow: UnitOfWork,
    sku: str,
    location: str,
    counted: Decimal,
    *,
    unit: str | None = None,
    lot: str | None = None,
    expires_on: date | None = None,
    reference: str | None = None,
    occurred_at: datetime | None = None,
    unit_cost: Decimal | None = None,
) -> Operation:
    """Stocktake: book the difference between the counted and the recorded quantity.

    More counted than recorded: adjustment → location, valued at `unit_cost` per `unit` (an
    opening balance's cost; the item's unit cost when not given); less: location →
    adjustment, at the cost the stock is held at. A count that matches posts nothing.
    Lot-tracked items are counted lot by lot.
    """
    counted = non_negative(counted, "counted")
    cost = None if unit_cost is None else non_negative(unit_cost, "unit_cost")
    when = checked_time(occurred_at)
    with uow:
        item = known_item(uow, sku, None, lot)
        counted = stock_quantity(uow, item, counted, unit, "counted")
        if cost is not None and unit is not None and unit != item.value.unit:
            factors = uow.catalog.unit_factors(item.id)
            cost = units.cost_per_stock_unit(item.value, cost, unit, factors)
        if item.value.lot_tracked and lot is None:
            raise LotRequired(sku)
        place = physical_place(uow, location, "location")
        uow.ledger.lock_stock(item.id, place)
        if lot is not None and uow.ledger.lot(item.id, lot) is None:
            uow.ledger.add_lot(item.id, lot, expires_on)
        held = sum(
            (s.quantity for s in uow.ledger.lot_stock(item.id, place.id) if s.lot == lot),
            Decimal(0),
        )
        if uow.valuation.moved_after([item.id], when):
            # A count taken on Friday is compared with Friday's books, not today's (and one
            # taken a minute ago with the books of a minute ago).
            held = uow.valuation.balance_path(item.id, place.id, lot, when)[0]
        difference = counted - held
        adjustment = uow.virtual_place(catalog.ADJUSTMENT)
        postings: list[Posting] = []
        if difference > 0:
            gain_cost = item.value.unit_cost if cost is None else cost
            postings.append(
                Posting(item.id, adjustment, place, difference, lot, unit_cost=gain_cost)
            )
        elif difference < 0:
            postings.append(Posting(item.id, place, adjustment, -difference, lot))
        operation = post(
            uow, MoveKind.ADJUSTMENT, item, postings, when, reference, note=f"counted {counted}"
        )
        audit_operation(
            uow,
            "count",
            operation,
            f"operation:{operation.id}" if operation.id else f"stock:{sku}@{location}",
            lot=lot,
            on_hand=[held, counted],
        )
        if difference > 0:
            fill_backorders(uow, item.id, place, current_day(None), reference or "count")
        uow.commit()
    return operation


@retrying
def scrap(
    uow: UnitOfWork,
    sku: str,
    location: str,
    quantity: Decimal,
    reason: ScrapReason,
    *,
    unit: str | None = None,
    lot: str | None = None,
    note: str | None = None,
    reference: str | None = None,
    occurred_at: datetime | None = None,
    today: date | None = None,
) -> Operation:
    """Write stock off to `scrap` with a reason, so spoilage and damage show in the KPIs.

    A named lot may be scrapped even when expired (that is what expiry scrapping is).
    """
    quantity = positive(quantity)
    when = checked_time(occurred_at)
    with uow:
        item = known_item(uow, sku, None, lot)
        quantity = stock_quantity(uow, item, quantity, unit, "quantity")
        place = physical_place(uow, location, "location")
        picks = take(
            uow,
            item,
            place,
            quantity,
            current_day(today),
            lot,
            respect_reservations=False,
            allow_expired=True,
        )
        scrap_place = uow.virtual_place(catalog.SCRAP)
        postings = [Posting(item.id, place, scrap_place, q, lt) for lt, q in picks]
        operation = post(
            uow, MoveKind.SCRAP, item, postings, when, reference, reason=reason.value, note=note
        )
        audit_operation(uow, "scrap", operation, reason=reason.value, note=note)
        uow.commit()
    return operation
