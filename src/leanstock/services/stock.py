"""Stock operations: receive, ship, transfer, count, scrap, and reservations.

Each is one transaction that locks the stock rows it takes from, checks the rules of the
ledger (DESIGN.md, "The stock ledger") and posts balanced moves.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from leanstock.adapters.db.catalog import Stored
from leanstock.adapters.db.ledger import Place, Posting, StockLevel
from leanstock.adapters.db.uow import UnitOfWork
from leanstock.domain import catalog
from leanstock.domain.catalog import Item, Location
from leanstock.domain.errors import (
    DomainError,
    InvalidInput,
    LotExpired,
    LotNotTracked,
    LotRequired,
    OutOfStock,
    WrongUnit,
)
from leanstock.domain.ledger import (
    LotStock,
    MoveKind,
    Reservation,
    ScrapReason,
    available,
    pick_fefo,
    received_lot,
)
from leanstock.domain.quantities import non_negative, positive
from leanstock.services.retry import retrying

CLOCK_SKEW = timedelta(minutes=5)


@dataclass(frozen=True)
class MoveLine:
    sku: str
    source: str
    target: str
    quantity: Decimal
    lot: str | None


@dataclass(frozen=True)
class Operation:
    """What a stock operation posted: zero or more balanced moves under one id."""

    id: int | None
    kind: str
    occurred_at: datetime
    reference: str | None = None
    moves: list[MoveLine] = field(default_factory=list)


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


def _when(occurred_at: datetime | None) -> datetime:
    now = datetime.now(UTC)
    if occurred_at is None:
        return now
    if occurred_at.tzinfo is None:
        occurred_at = occurred_at.replace(tzinfo=UTC)
    if occurred_at > now + CLOCK_SKEW:
        raise InvalidInput(
            f"occurred_at {occurred_at.isoformat()} is in the future; stock moves record what "
            "has happened.",
            "occurred_at",
        )
    return occurred_at


def _today(today: date | None) -> date:
    return today or datetime.now(UTC).date()


def _item(uow: UnitOfWork, sku: str, unit: str | None, lot: str | None) -> Stored[Item]:
    item = uow.catalog.item(sku)
    _check_item(item, unit, lot)
    return item


def _check_item(item: Stored[Item], unit: str | None, lot: str | None) -> None:
    sku = item.value.sku
    if unit is not None and unit != item.value.unit:
        raise WrongUnit(sku, unit, item.value.unit)
    if lot is not None:
        catalog.code(lot, "lot")
        if not item.value.lot_tracked:
            raise LotNotTracked(sku)


def _place(uow: UnitOfWork, code: str, field: str, physical: bool = True) -> Place:
    stored = uow.catalog.location(code, field)
    location: Location = stored.value
    if physical and not location.is_physical:
        raise InvalidInput(
            f"{code} is a virtual location ({location.kind}); name a warehouse or store.", field
        )
    return Place(stored.id, location.code, location.may_go_negative)


Resolved = tuple[int, "StockLine", Stored[Item], dict[str, Place]]


def _resolve_lines(
    uow: UnitOfWork, lines: Sequence[StockLine], places: dict[str, str]
) -> list[Resolved]:
    """Each line's item and the physical locations (by input field) a document names, in one
    query; when something is missing, single look-ups name what, and on which line."""
    many = len(lines) > 1
    found = uow.catalog.items_and_locations([x.sku for x in lines], list(places.values()))
    resolved: list[Resolved] = []
    for index, line in enumerate(lines):
        with _line_errors(index, many):
            if found is None:
                item = _item(uow, line.sku, line.unit, line.lot)
                named = {name: _place(uow, code, name) for name, code in places.items()}
                resolved.append((index, line, item, named))
                continue
            items, locations = found
            item = items[line.sku]
            _check_item(item, line.unit, line.lot)
            named = {}
            for name, code in places.items():
                location = locations[code].value
                if not location.is_physical:
                    raise InvalidInput(
                        f"{code} is a virtual location ({location.kind}); name a warehouse or "
                        "store.",
                        name,
                    )
                named[name] = Place(locations[code].id, code, location.may_go_negative)
            resolved.append((index, line, item, named))
    return resolved


def _resolve(
    uow: UnitOfWork, sku: str, unit: str | None, lot: str | None, places: dict[str, str]
) -> tuple[Stored[Item], dict[str, Place]]:
    """One item and the physical locations (by input field) an operation names."""
    (_, _, item, named), *_ = _resolve_lines(uow, [StockLine(sku, Decimal(1), unit, lot)], places)
    return item, named


def _virtual(uow: UnitOfWork, code: str) -> Place:
    return uow.virtual_place(code)


def _take(
    uow: UnitOfWork,
    item: Stored[Item],
    place: Place,
    quantity: Decimal,
    today: date,
    lot: str | None = None,
    respect_reservations: bool = True,
    own_reserved: Decimal = Decimal(0),
    allow_expired: bool = False,
    locked: tuple[StockLevel, list[LotStock]] | None = None,
) -> list[tuple[str | None, Decimal]]:
    """Lock the item-location, check what may be taken, and pick lots first-expired-first-out.

    available = usable on hand − reserved (+ what the caller itself has reserved); usable on
    hand leaves out expired lots. Physical events (scrap, counts) ignore reservations: damaged
    stock is gone whoever it was promised to. `locked` is the row and lots a caller already
    locked and read.
    """
    level, lots = locked or uow.ledger.lock_stock_and_lots(item.id, place)
    named = [s for s in lots if lot is not None and s.lot == lot]
    if named and named[0].expired(today) and not allow_expired:
        raise LotExpired(item.value.sku, named[0].lot or "", named[0].expires_on)
    if respect_reservations and not place.may_go_negative:
        free = available(lots, level.reserved, today) + own_reserved
        if quantity > free:
            raise OutOfStock(item.value.sku, place.code, quantity, max(free, Decimal(0)))
    return pick_fefo(
        item.value.sku,
        place.code,
        lots,
        quantity,
        today,
        lot=lot,
        allow_negative=place.may_go_negative,
        allow_expired=allow_expired,
    )


def _post(
    uow: UnitOfWork,
    kind: MoveKind,
    item: Stored[Item],
    postings: list[Posting],
    when: datetime,
    reference: str | None = None,
    partner: str | None = None,
    reason: str | None = None,
    note: str | None = None,
) -> Operation:
    """Post one item's moves (see `_post_lines`)."""
    named = [(item.value.sku, p) for p in postings]
    return _post_lines(uow, kind, named, when, reference, partner, reason, note)


@dataclass(frozen=True)
class StockLine:
    """One line of a multi-line receipt, shipment or transfer."""

    sku: str
    quantity: Decimal
    unit: str | None = None
    lot: str | None = None
    expires_on: date | None = None


@contextmanager
def _line_errors(index: int, many: bool) -> Iterator[None]:
    """On a multi-line document, say which line an error is about (`lines[2].quantity`)."""
    try:
        yield
    except DomainError as error:
        if many:
            error.field = f"lines[{index}].{error.field}" if error.field else f"lines[{index}]"
            error.detail = f"Line {index + 1}: {error.detail}"
            error.args = (error.detail,)
        raise


def _checked_lines(lines: Sequence[StockLine]) -> list[StockLine]:
    if not lines:
        raise InvalidInput("Name at least one line.", "lines")
    seen: set[tuple[str, str | None]] = set()
    checked = []
    for index, line in enumerate(lines):
        with _line_errors(index, len(lines) > 1):
            if (line.sku, line.lot) in seen:
                raise InvalidInput(
                    f"{line.sku}{f' lot {line.lot}' if line.lot else ''} is on two lines; "
                    "put it on one.",
                    "sku",
                )
            seen.add((line.sku, line.lot))
            checked.append(replace(line, quantity=positive(line.quantity)))
    return checked


def receive_lot(
    uow: UnitOfWork, item: Stored[Item], lot: str | None, expires_on: date | None, on: date
) -> None:
    """Check a lot arriving in stock against what is known of it, or register it
    (`domain.ledger.received_lot`)."""
    known = uow.ledger.lot(item.id, lot) if lot is not None else None
    new = received_lot(item.value, lot, expires_on, on, known)
    if new is not None:
        uow.ledger.add_lot(item.id, new.code, new.expires_on)


def _post_lines(
    uow: UnitOfWork,
    kind: MoveKind,
    postings: list[tuple[str, Posting]],
    when: datetime,
    reference: str | None = None,
    partner: str | None = None,
    reason: str | None = None,
    note: str | None = None,
) -> Operation:
    """Record an operation's moves (SKU, posting); with nothing to move, record nothing."""
    moves = [p for _, p in postings]
    op_id = (
        uow.ledger.post(kind.value, moves, when, reference, partner, reason, note)
        if moves
        else None
    )
    lines = [MoveLine(sku, p.source.code, p.target.code, p.quantity, p.lot) for sku, p in postings]
    return Operation(op_id, kind.value, when, reference, lines)


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
    """Receive a delivery from a supplier into a location: supplier → location, per line."""
    checked = _checked_lines(lines)
    when = _when(occurred_at)
    many = len(checked) > 1
    with uow:
        if supplier is not None:
            uow.catalog.supplier(supplier)
        source = _virtual(uow, catalog.SUPPLIER)
        resolved = _resolve_lines(uow, checked, {"location": location})
        _lock_rows(
            uow,
            {(item.id, places["location"].id): places["location"] for *_, item, places in resolved},
        )
        postings: list[tuple[str, Posting]] = []
        for index, line, item, places in resolved:
            with _line_errors(index, many):
                receive_lot(uow, item, line.lot, line.expires_on, when.date())
                posting = Posting(item.id, source, places["location"], line.quantity, line.lot)
                postings.append((line.sku, posting))
        operation = _post_lines(uow, MoveKind.RECEIPT, postings, when, reference, supplier)
        uow.commit()
    return operation


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
) -> Operation:
    """Receive one item from a supplier into a location: supplier → location."""
    line = StockLine(sku, quantity, unit, lot, expires_on)
    return receive_lines(
        uow, location, [line], supplier=supplier, reference=reference, occurred_at=occurred_at
    )


def _lock_rows(
    uow: UnitOfWork, rows: dict[tuple[int, int], Place]
) -> dict[tuple[int, int], StockLevel]:
    """Lock every physical stock row a document changes, up front, in one global order (item,
    then location). Row locks then always come in the same order (stock rows, then balances,
    then the virtual locations' rows, each sorted), so two documents never wait for each
    other in a circle, a deadlock the database would break only after a second."""
    return uow.ledger.lock_stocks([(item_id, place) for (item_id, _), place in rows.items()])


def _take_lines(
    uow: UnitOfWork,
    lines: list[StockLine],
    origin: str,
    field: str,
    destination: Place | str,
    day: date,
) -> list[tuple[str, Posting]]:
    """Pick every line from `origin` and move it to `destination`.

    All the document's stock rows are locked first in one global order (`_lock_rows`), then
    the lots of its sources read at once; each line then takes from what the lines before it
    left.
    """
    many = len(lines) > 1
    names = {field: origin} | ({"target": destination} if isinstance(destination, str) else {})
    resolved = _resolve_lines(uow, lines, names)
    levels = _lock_rows(
        uow,
        {
            (item.id, place.id): place
            for _, _, item, places in resolved
            for place in places.values()
        },
    )
    held = uow.ledger.lots_of([(item.id, places[field].id) for _, _, item, places in resolved])
    postings: list[tuple[str, Posting]] = []
    for index, line, item, places in sorted(resolved, key=lambda r: r[2].id):
        with _line_errors(index, many):
            source = places[field]
            target = places["target"] if isinstance(destination, str) else destination
            key = (item.id, source.id)
            picks = _take(
                uow, item, source, line.quantity, day, line.lot, locked=(levels[key], held[key])
            )
            for lot, q in picks:
                postings.append((line.sku, Posting(item.id, source, target, q, lot)))
            held[key] = _less(held[key], picks)
    return postings


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
) -> Operation:
    """Ship to a customer from unreserved, unexpired stock, first-expired-first-out."""
    checked = _checked_lines(lines)
    when = _when(occurred_at)
    with uow:
        customer_place = _virtual(uow, catalog.CUSTOMER)
        postings = _take_lines(uow, checked, location, "location", customer_place, _today(today))
        operation = _post_lines(uow, MoveKind.SHIPMENT, postings, when, reference, customer)
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
    checked = _checked_lines(lines)
    when = _when(occurred_at)
    if source == target:
        raise InvalidInput(f"Source and target are both {source}; a transfer needs two.", "target")
    with uow:
        postings = _take_lines(uow, checked, source, "source", target, _today(today))
        operation = _post_lines(uow, MoveKind.TRANSFER, postings, when, reference)
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
) -> Operation:
    """Stocktake: book the difference between the counted and the recorded quantity.

    More counted than recorded: adjustment → location; less: location → adjustment. A count
    that matches posts nothing. Lot-tracked items are counted lot by lot.
    """
    counted = non_negative(counted, "counted")
    when = _when(occurred_at)
    with uow:
        item = _item(uow, sku, unit, lot)
        if item.value.lot_tracked and lot is None:
            raise LotRequired(sku)
        place = _place(uow, location, "location")
        uow.ledger.lock_stock(item.id, place)
        if lot is not None and uow.ledger.lot(item.id, lot) is None:
            uow.ledger.add_lot(item.id, lot, expires_on)
        held = sum(
            (s.quantity for s in uow.ledger.lot_stock(item.id, place.id) if s.lot == lot),
            Decimal(0),
        )
        difference = counted - held
        adjustment = _virtual(uow, catalog.ADJUSTMENT)
        postings: list[Posting] = []
        if difference > 0:
            postings.append(Posting(item.id, adjustment, place, difference, lot))
        elif difference < 0:
            postings.append(Posting(item.id, place, adjustment, -difference, lot))
        operation = _post(
            uow, MoveKind.ADJUSTMENT, item, postings, when, reference, note=f"counted {counted}"
        )
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
    when = _when(occurred_at)
    with uow:
        item = _item(uow, sku, unit, lot)
        place = _place(uow, location, "location")
        picks = _take(
            uow,
            item,
            place,
            quantity,
            _today(today),
            lot,
            respect_reservations=False,
            allow_expired=True,
        )
        scrap_place = _virtual(uow, catalog.SCRAP)
        postings = [Posting(item.id, place, scrap_place, q, lt) for lt, q in picks]
        operation = _post(
            uow, MoveKind.SCRAP, item, postings, when, reference, reason=reason.value, note=note
        )
        uow.commit()
    return operation


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
        item, places = _resolve(uow, sku, unit, None, {"location": location})
        place = places["location"]
        level, lots = uow.ledger.lock_stock_and_lots(item.id, place)
        free = available(lots, level.reserved, _today(today))
        if quantity > free:
            raise OutOfStock(sku, location, quantity, max(free, Decimal(0)))
        row = uow.ledger.reserve(item.id, place.id, reference.strip(), quantity)
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
        place = _place(uow, location, "location")
        uow.ledger.lock_stock(row.item_id, place)
        (after,) = uow.ledger.release([(row, amount)])
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
) -> Operation:
    """Ship what a reservation holds (all, or `quantity`) to the customer."""
    when = _when(occurred_at)
    with uow:
        row = uow.ledger.reservation(reservation_id, lock=True)
        amount = row.portion(quantity)
        sku, location = uow.ledger.names(row.item_id, row.location_id)
        item = _item(uow, sku, None, lot)
        place = _place(uow, location, "location")
        picks = _take(uow, item, place, amount, _today(today), lot, own_reserved=amount)
        customer_place = _virtual(uow, catalog.CUSTOMER)
        postings = [Posting(item.id, place, customer_place, q, lt) for lt, q in picks]
        uow.ledger.consume([(row, amount)])
        operation = _post(uow, MoveKind.SHIPMENT, item, postings, when, row.reference)
        uow.commit()
    return operation


@dataclass(frozen=True)
class ReservationPage:
    items: list[ReservationView]
    total: int
    limit: int
    offset: int


def list_reservations(
    uow: UnitOfWork,
    reference: str | None = None,
    sku: str | None = None,
    location: str | None = None,
    status: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> ReservationPage:
    with uow:
        item_id = uow.catalog.item(sku).id if sku is not None else None
        location_id = uow.catalog.location(location).id if location is not None else None
        rows, total = uow.ledger.reservations(
            reference, item_id, location_id, status, limit, offset
        )
        found = [_view(r, *uow.ledger.names(r.item_id, r.location_id)) for r in rows]
    return ReservationPage(found, total, limit, offset)


def get_reservation(uow: UnitOfWork, reservation_id: int) -> ReservationView:
    with uow:
        row = uow.ledger.reservation(reservation_id)
        return _view(row, *uow.ledger.names(row.item_id, row.location_id))
