"""Stock operations: receive, ship, transfer, count and scrap.

Each is one transaction that locks the stock rows it takes from, checks the ledger's rules
(docs/architecture.md, "The ledger's rules") and posts balanced moves.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal

from leanstock.domain import catalog, units
from leanstock.domain.catalog import Item
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
from leanstock.domain.serials import SerialElsewhere, SerialMove, by_lot, named
from leanstock.services.backorders import fill_backorders, fill_backorders_at
from leanstock.services.ports import Stored, UnitOfWork
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
from leanstock.services.serials import arrivals, departures
from leanstock.services.stock.direct import (
    can_post_in_one_step,
    count_in_one_step,
    receipt_in_one_step,
    scrap_in_one_step,
    take_in_one_step,
)
from leanstock.services.stock.stocktakes import refuse_if_under_count


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
        direct = can_post_in_one_step(uow, checked, occurred_at)
        source = uow.virtual_place(catalog.SUPPLIER)
        operation = (
            receipt_in_one_step(uow, checked, location, source, when, reference, supplier)
            if direct
            else None
        )
        if operation is not None:
            audit_operation(uow, "receive", operation, supplier=supplier)
            uow.commit()
            return operation
        if supplier is not None:
            uow.catalog.supplier(supplier)
        resolved = resolve_lines(uow, checked, {"location": location})
        lock_rows(
            uow,
            {(item.id, places["location"].id): places["location"] for *_, item, places in resolved},
        )
        postings, serials = receipt_postings(uow, resolved, source, when)
        operation = post_lines(
            uow, MoveKind.RECEIPT, postings, when, reference, supplier, serials=serials
        )
        audit_operation(uow, "receive", operation, supplier=supplier)
        arrived = sorted({(p.item_id, p.target) for _, p in postings}, key=_by_ids)
        fill_backorders_at(uow, arrived, current_day(None), reference or "receipt")
        uow.commit()
    return operation


def receipt_postings(
    uow: UnitOfWork,
    resolved: Sequence[Resolved],
    source: Place,
    when: datetime,
    lot_arrives: Callable[
        [UnitOfWork, Stored[Item], str | None, date | None, date], None
    ] = receive_lot,
) -> tuple[list[tuple[str, Posting]], list[SerialMove]]:
    """A receipt's moves and serials, each line's lot checked (and registered when new:
    `lot_arrives`, which the one step replaces to hand the lots over) and its cost per stock
    unit (the item's unit cost when not given)."""
    many = len(resolved) > 1
    postings: list[tuple[str, Posting]] = []
    serials: list[SerialMove] = []
    for index, line, item, places in resolved:
        with line_errors(index, many):
            lot_arrives(uow, item, line.lot, line.expires_on, when.date())
            cost = item.value.unit_cost if line.unit_cost is None else line.unit_cost
            target = places["location"]
            serials += arrivals(uow, item, line.quantity, line.serials, line.lot, source, target)
            posting = Posting(item.id, source, target, line.quantity, line.lot, unit_cost=cost)
            postings.append((line.sku, posting))
    return postings, serials


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
    serials: Sequence[str] = (),
) -> Operation:
    """Receive one item from a supplier into a location: supplier → location, at `unit_cost`
    per `unit` (the item's unit cost when not given)."""
    line = StockLine(sku, quantity, unit, lot, expires_on, unit_cost, tuple(serials))
    return receive_lines(
        uow, location, [line], supplier=supplier, reference=reference, occurred_at=occurred_at
    )


def _take_lines(
    uow: UnitOfWork,
    kind: MoveKind,
    lines: list[StockLine],
    origin: str,
    field: str,
    destination: Place | str,
    when: datetime,
    day: date,
    occurred_at: datetime | None,
    reference: str | None,
    partner: str | None = None,
    reason: str | None = None,
) -> Operation:
    """Pick every line from `origin` and post it to `destination`, with its serials.

    All the document's stock rows are locked first in one global order (`lock_rows`), then
    the lots of its sources read at once; each line then takes from what the lines before it
    left. A serial-tracked line takes the lots its named serials are in. On PostgreSQL a
    plain document is posted in one step (`direct.take_in_one_step`) unless it declines.
    """
    names = {field: origin} | ({"target": destination} if isinstance(destination, str) else {})
    resolved = resolve_lines(uow, lines, names)
    if can_post_in_one_step(uow, lines, occurred_at):
        args = (kind, resolved, field, destination, when, day, reference, partner, reason)
        operation = take_in_one_step(uow, *args)
        if operation is not None:
            return operation
    levels = lock_rows(
        uow,
        {
            (item.id, place.id): place
            for _, _, item, places in resolved
            for place in places.values()
        },
    )
    held = uow.ledger.lots_of([(item.id, places[field].id) for _, _, item, places in resolved])
    postings, serials = pick_lines(uow, resolved, field, destination, levels, held, day)
    return post_lines(uow, kind, postings, when, reference, partner, reason, serials=serials)


def pick_lines(
    uow: UnitOfWork,
    resolved: Sequence[Resolved],
    field: str,
    destination: Place | str,
    levels: dict[tuple[int, int], StockLevel],
    held: dict[tuple[int, int], list[LotStock]],
    day: date,
) -> tuple[list[tuple[str, Posting]], list[SerialMove]]:
    """Pick every resolved line from its `field` location, given the locked rows' levels and
    lots (`take`: availability, expiry, FEFO); each line takes from what the lines before it
    left, and `held` is left as the lines left it. A batch plans its documents with it too
    (`services.stock.planned`), so the rules are written once."""
    many = len(resolved) > 1
    postings: list[tuple[str, Posting]] = []
    serials: list[SerialMove] = []
    for index, line, item, places in sorted(resolved, key=lambda r: r[2].id):
        with line_errors(index, many):
            source = places[field]
            target = places["target"] if isinstance(destination, str) else destination
            key = (item.id, source.id)
            moved, lots = departures(
                uow, item, line.quantity, line.serials, source, target, line.lot
            )
            serials += moved
            for lot, quantity in lots.items() if moved else [(line.lot, line.quantity)]:
                picks = take(uow, item, source, quantity, day, lot, locked=(levels[key], held[key]))
                for picked, q in picks:
                    postings.append((line.sku, Posting(item.id, source, target, q, picked)))
                held[key] = _less(held[key], picks)
    return postings, serials


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
        operation = _take_lines(
            uow,
            MoveKind.SHIPMENT,
            checked,
            location,
            "location",
            customer_place,
            when,
            current_day(today),
            occurred_at,
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
    serials: Sequence[str] = (),
) -> Operation:
    """Ship one item to a customer from unreserved, unexpired stock (a serial-tracked item:
    the serials named)."""
    return ship_lines(
        uow,
        location,
        [StockLine(sku, quantity, unit, lot, serials=tuple(serials))],
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
        operation = _take_lines(
            uow,
            MoveKind.TRANSFER,
            checked,
            source,
            "source",
            target,
            when,
            current_day(today),
            occurred_at,
            reference,
        )
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
    serials: Sequence[str] = (),
) -> Operation:
    """Move one item between two physical locations (a serial-tracked item: the serials
    named)."""
    return transfer_lines(
        uow,
        source,
        target,
        [StockLine(sku, quantity, unit, lot, serials=tuple(serials))],
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
    serials: Sequence[str] = (),
) -> Operation:
    """Stocktake: book the difference between the counted and the recorded quantity.

    A serial-tracked item is counted by its serials (`serials`: those found, one per unit
    counted): the serials booked here (in `lot`) and not found go to the adjustment; those
    found and booked elsewhere come here (from another location, or from the adjustment a
    missing one went to; a new serial from the adjustment too). A serial found that is booked
    outside the business (shipped, scrapped, in transit) is refused, naming it.

    More counted than recorded: adjustment → location, valued at `unit_cost` per `unit` (an
    opening balance's cost; the item's unit cost when not given); less: location →
    adjustment, at the cost the stock is held at. A count that matches posts nothing.
    Lot-tracked items are counted lot by lot. Refused (409) where an open stocktake covers the
    item (`stocktakes.refuse_if_under_count`): that count is entered there.
    """
    counted = non_negative(counted, "counted")
    cost = None if unit_cost is None else non_negative(unit_cost, "unit_cost")
    when = checked_time(occurred_at)
    with uow:
        item = known_item(uow, sku, None, lot)
        counted = stock_quantity(uow, item, counted, unit, "counted")
        if serials and not item.value.serial_tracked:
            named(item.value, counted, serials)  # refused: leave serials out
        if item.value.serial_tracked and (counted > 0 or serials):
            named(item.value, counted, serials)
        if cost is not None and unit is not None and unit != item.value.unit:
            factors = uow.catalog.unit_factors(item.id)
            cost = units.cost_per_stock_unit(item.value, cost, unit, factors)
        if item.value.lot_tracked and lot is None:
            raise LotRequired(sku)
        place = physical_place(uow, location, "location")
        refuse_if_under_count(uow, place, item.value.category)
        gain = item.value.unit_cost if cost is None else cost  # a gain's cost a unit

        def audited(operation: Operation, held: Decimal) -> Operation:
            target = f"operation:{operation.id}" if operation.id else f"stock:{sku}@{location}"
            audit_operation(uow, "count", operation, target, lot=lot, on_hand=[held, counted])
            return operation

        if can_post_in_one_step(uow, [], occurred_at) and not (
            serials or item.value.serial_tracked
        ):
            args = (item, place, lot, expires_on, counted, gain, when, reference)
            done = count_in_one_step(uow, *args)
            if done is not None:
                operation = audited(*done)
                uow.commit()
                return operation
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
        moved: list[SerialMove] = []
        if item.value.serial_tracked:
            if when < checked_time(None) and uow.valuation.moved_after([item.id], when):
                raise InvalidInput(
                    f"{sku} is serial-tracked and has moved since then: count its serials as "
                    "of now.",
                    "occurred_at",
                )
            postings, moved = _counted_serials(uow, item, place, lot, serials, gain)
        elif difference > 0:
            postings.append(Posting(item.id, adjustment, place, difference, lot, unit_cost=gain))
        elif difference < 0:
            postings.append(Posting(item.id, place, adjustment, -difference, lot))
        operation = post(
            uow,
            MoveKind.ADJUSTMENT,
            item,
            postings,
            when,
            reference,
            note=f"counted {counted}",
            serials=moved,
        )
        audited(operation, held)
        if any(p.target == place for p in postings):
            fill_backorders(uow, item.id, place, current_day(None), reference or "count")
        uow.commit()
    return operation


def _counted_serials(
    uow: UnitOfWork,
    item: Stored[Item],
    place: Place,
    lot: str | None,
    serials: Sequence[str],
    gain_cost: Decimal,
) -> tuple[list[Posting], list[SerialMove]]:
    """What a count of a serial-tracked item at `place` books: the serials booked there and
    not found leave for the adjustment; those found come there (see `count`)."""
    adjustment = uow.virtual_place(catalog.ADJUSTMENT)
    booked = {s.serial: s for s in uow.serials.at(item.id, place.id, lot)}
    found = uow.serials.where(item.id, list(serials))
    postings: list[Posting] = []
    moves: list[SerialMove] = []
    missing = [booked[s] for s in sorted(booked) if s not in set(serials)]
    for lost, q in by_lot(missing).items():
        postings.append(Posting(item.id, place, adjustment, q, lost))
    moves += [SerialMove(item.id, s.serial, s.lot, place, adjustment) for s in missing]
    others: dict[str, Place] = {}
    for serial in serials:
        if serial in booked:
            continue
        at = found.get(serial)
        if at is not None and at.lot != lot:
            raise InvalidInput(
                f"Serial {serial} of {item.value.sku} is in lot {at.lot}, not {lot}; count it "
                "with its lot.",
                "serials",
            )
        if at is None or at.location == catalog.ADJUSTMENT:
            source = adjustment
        elif at.location in catalog.VIRTUAL_LOCATIONS:
            raise SerialElsewhere(item.value.sku, serial, at.location, place.code)
        else:
            if at.location not in others:
                others[at.location] = physical_place(uow, at.location, "serials")
            source = others[at.location]
            uow.ledger.lock_stock(item.id, source)
            postings.append(Posting(item.id, source, adjustment, Decimal(1), lot))
        postings.append(Posting(item.id, adjustment, place, Decimal(1), lot, unit_cost=gain_cost))
        moves.append(SerialMove(item.id, serial, lot, source, place))
    return postings, moves


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
    serials: Sequence[str] = (),
) -> Operation:
    """Write stock off to `scrap` with a reason, so spoilage and damage show in the KPIs.

    A named lot may be scrapped even when expired (that is what expiry scrapping is). A
    serial-tracked item scraps the serials named.
    """
    quantity = positive(quantity)
    when = checked_time(occurred_at)
    with uow:
        item = known_item(uow, sku, None, lot)
        quantity = stock_quantity(uow, item, quantity, unit, "quantity")
        place = physical_place(uow, location, "location")
        scrap_place = uow.virtual_place(catalog.SCRAP)
        if can_post_in_one_step(uow, [], occurred_at) and not (
            serials or item.value.serial_tracked
        ):
            args = (item, place, scrap_place, quantity, lot, when, current_day(today))
            done = scrap_in_one_step(uow, *args, reference, reason.value, note)
            if done is not None:
                audit_operation(uow, "scrap", done, reason=reason.value, note=note)
                uow.commit()
                return done
        if item.value.serial_tracked:
            uow.ledger.lock_stock(item.id, place)  # the stock row first, then the serials
        moved, lots = departures(uow, item, quantity, serials, place, scrap_place, lot)
        postings: list[Posting] = []
        for picked_lot, q in lots.items() if moved else [(lot, quantity)]:
            picks = take(
                uow,
                item,
                place,
                q,
                current_day(today),
                picked_lot,
                respect_reservations=False,
                allow_expired=True,
            )
            postings += [Posting(item.id, place, scrap_place, p, lt) for lt, p in picks]
        operation = post(
            uow,
            MoveKind.SCRAP,
            item,
            postings,
            when,
            reference,
            reason=reason.value,
            note=note,
            serials=moved,
        )
        audit_operation(uow, "scrap", operation, reason=reason.value, note=note)
        uow.commit()
    return operation
