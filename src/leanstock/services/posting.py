"""What every use case that moves stock shares: the clock, checked items and places, taking
stock (availability and lots), and posting moves.

Sales, purchasing, production and transfer orders post through these exactly as the stock
operations do (`services.stock`), so the ledger's rules (docs/architecture.md, "The ledger's
rules") are applied one way.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from leanstock.domain import catalog, costing, units
from leanstock.domain.catalog import CostingMethod, Item, Location
from leanstock.domain.errors import (
    DomainError,
    InvalidInput,
    LotExpired,
    LotNotTracked,
    OutOfStock,
    WrongUnit,
)
from leanstock.domain.events import Changed
from leanstock.domain.history import (
    BACKDATED_AFTER,
    PastShortfall,
    PeriodClosed,
    first_shortfall,
)
from leanstock.domain.ledger import (
    LotStock,
    MoveKind,
    Place,
    Posting,
    StockLevel,
    available,
    pick_fefo,
    received_lot,
)
from leanstock.domain.quantities import non_negative, tidy
from leanstock.domain.serials import SerialMove
from leanstock.services.ports import Stored, UnitOfWork

CLOCK_SKEW = timedelta(minutes=5)
# The company setting: no move may be dated on or before this day (ISO date).
CLOSED_THROUGH = "closed_through"
# The company setting: above this many later moves of an item, a backdated move's revaluation
# is traced by the worker (a job) instead of in the posting transaction.
REVALUATION_INLINE_MOVES = "revaluation_inline_moves"
INLINE_REVALUATION_DEFAULT = 1000


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
class StockLine:
    """One line of a multi-line receipt, shipment or transfer."""

    sku: str
    quantity: Decimal
    unit: str | None = None
    lot: str | None = None
    expires_on: date | None = None
    # Per `unit` (a receipt's price, an opening balance's cost); None: the item's unit cost.
    unit_cost: Decimal | None = None
    # One per unit of a serial-tracked item (`domain.serials`); none for any other.
    serials: tuple[str, ...] = ()


def checked_time(occurred_at: datetime | None) -> datetime:
    """When a stock change happened: now, or the moment given (UTC when it names no zone),
    never more than CLOCK_SKEW ahead of now: moves record what has happened."""
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


def current_day(today: date | None) -> date:
    """The business day a rule is judged on (expiry, promise dates): the one given, else today
    in UTC."""
    return today or datetime.now(UTC).date()


def known_item(uow: UnitOfWork, sku: str, unit: str | None, lot: str | None) -> Stored[Item]:
    """An existing item, checked against the unit and the lot a request names."""
    item = uow.catalog.item(sku)
    check_item(item, unit, lot)
    return item


def check_item(item: Stored[Item], unit: str | None, lot: str | None) -> None:
    sku = item.value.sku
    if unit is not None and unit != item.value.unit:
        raise WrongUnit(sku, unit, item.value.unit)
    if lot is not None:
        catalog.code(lot, "lot")
        if not item.value.lot_tracked:
            raise LotNotTracked(sku)


def in_stock_unit(uow: UnitOfWork, item: Stored[Item], line: StockLine) -> StockLine:
    """The line in the item's stock unit: its quantity converted (and checked whole for an
    indivisible item), its cost per stock unit (`domain.units`)."""
    unit_cost = None if line.unit_cost is None else non_negative(line.unit_cost, "unit_cost")
    if line.unit is None or line.unit == item.value.unit:
        quantity = units.whole(item.value, line.quantity)
        return replace(line, quantity=quantity, unit=None, unit_cost=unit_cost)
    factors = uow.catalog.unit_factors(item.id)
    return replace(
        line,
        quantity=units.to_stock_unit(item.value, line.quantity, line.unit, factors),
        unit=None,
        unit_cost=None
        if unit_cost is None
        else units.cost_per_stock_unit(item.value, unit_cost, line.unit, factors),
    )


def stock_quantity(
    uow: UnitOfWork, item: Stored[Item], quantity: Decimal, unit: str | None, field: str
) -> Decimal:
    """One quantity given in `unit`, in the item's stock unit (see `in_stock_unit`)."""
    if unit is None or unit == item.value.unit:
        return units.whole(item.value, quantity, field)
    factors = uow.catalog.unit_factors(item.id)
    return units.to_stock_unit(item.value, quantity, unit, factors, field)


def stock_price(uow: UnitOfWork, item: Stored[Item], price: Decimal, unit: str | None) -> Decimal:
    """A price per `unit` as a price per stock unit (`domain.units.cost_per_stock_unit`)."""
    if unit is None or unit == item.value.unit:
        return price
    factors = uow.catalog.unit_factors(item.id)
    return tidy(units.cost_per_stock_unit(item.value, price, unit, factors))


def physical_place(uow: UnitOfWork, code: str, field: str, physical: bool = True) -> Place:
    """A location as the ledger posts to it; a warehouse or store (not a virtual location)
    unless `physical` is False. `field` names the input at fault when it is not."""
    stored = uow.catalog.location(code, field)
    location: Location = stored.value
    if physical and not location.is_physical:
        raise InvalidInput(
            f"{code} is a virtual location ({location.kind}); name a warehouse or store.", field
        )
    return Place(stored.id, location.code, location.may_go_negative)


Resolved = tuple[int, StockLine, Stored[Item], dict[str, Place]]


def resolve_lines(
    uow: UnitOfWork, lines: Sequence[StockLine], places: dict[str, str]
) -> list[Resolved]:
    """Each line's item and the physical locations (by input field) a document names, in one
    query; when something is missing, single look-ups name what, and on which line."""
    many = len(lines) > 1
    found = uow.catalog.items_and_locations([x.sku for x in lines], list(places.values()))
    resolved: list[Resolved] = []
    for index, line in enumerate(lines):
        with line_errors(index, many):
            if found is None:
                item = uow.catalog.item(line.sku)
                line = in_stock_unit(uow, item, replace(line, sku=item.value.sku))
                check_item(item, line.unit, line.lot)
                named = {name: physical_place(uow, code, name) for name, code in places.items()}
                resolved.append((index, line, item, named))
                continue
            items, locations = found
            item = items[line.sku]
            line = in_stock_unit(uow, item, replace(line, sku=item.value.sku))
            check_item(item, line.unit, line.lot)
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


def resolve(
    uow: UnitOfWork, sku: str, unit: str | None, lot: str | None, places: dict[str, str]
) -> tuple[Stored[Item], dict[str, Place]]:
    """One item and the physical locations (by input field) an operation names."""
    (_, _, item, named), *_ = resolve_lines(uow, [StockLine(sku, Decimal(1), unit, lot)], places)
    return item, named


def take(
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


def post(
    uow: UnitOfWork,
    kind: MoveKind,
    item: Stored[Item],
    postings: list[Posting],
    when: datetime,
    reference: str | None = None,
    partner: str | None = None,
    reason: str | None = None,
    note: str | None = None,
    serials: Sequence[SerialMove] = (),
) -> Operation:
    """Post one item's moves (see `post_lines`)."""
    named = [(item.value.sku, p) for p in postings]
    return post_lines(uow, kind, named, when, reference, partner, reason, note, serials)


@contextmanager
def line_errors(index: int, many: bool) -> Iterator[None]:
    """On a multi-line document, say which line an error is about (`lines[2].quantity`)."""
    try:
        yield
    except DomainError as error:
        if many:
            error.field = f"lines[{index}].{error.field}" if error.field else f"lines[{index}]"
            error.detail = f"Line {index + 1}: {error.detail}"
            error.args = (error.detail,)
        raise


def receive_lot(
    uow: UnitOfWork, item: Stored[Item], lot: str | None, expires_on: date | None, on: date
) -> None:
    """Check a lot arriving in stock against what is known of it, or register it
    (`domain.ledger.received_lot`)."""
    known = uow.ledger.lot(item.id, lot) if lot is not None else None
    new = received_lot(item.value, lot, expires_on, on, known)
    if new is not None:
        uow.ledger.add_lot(item.id, new.code, new.expires_on)


def post_lines(
    uow: UnitOfWork,
    kind: MoveKind,
    postings: list[tuple[str, Posting]],
    when: datetime,
    reference: str | None = None,
    partner: str | None = None,
    reason: str | None = None,
    note: str | None = None,
    serials: Sequence[SerialMove] = (),
) -> Operation:
    """Record an operation's moves (SKU, posting); with nothing to move, record nothing.
    `serials`: the serials the moves carry (checked by the caller, `services.serials`).

    A move dated in the past is checked first against history (`check_history`).
    """
    moves = [p for _, p in postings]
    backdated = bool(moves) and check_history(uow, postings, when, kind)
    items = sorted({p.item_id for p in moves})
    # A backdated move re-values its items' later moves. Traced here for a few; for many
    # (more than the company's `revaluation_inline_moves`) by the worker, as a job whose
    # status is visible (services.revaluation), so a late receipt is not held up.
    inline: list[int] = []
    queued: dict[int, int] = {}
    if backdated:
        limit = inline_revaluation_limit(uow)
        for item_id in items:
            later = uow.valuation.later_moves(item_id, when)
            if later > limit:
                queued[item_id] = later
            else:
                inline.append(item_id)
    before = later_cost(uow, inline, when) if inline else {}
    op_id = (
        uow.ledger.post(kind.value, moves, when, reference, partner, reason, note)
        if moves
        else None
    )
    if op_id is not None and serials:
        uow.serials.move(op_id, serials)
    if op_id is not None:
        after = later_cost(uow, inline, when) if inline else {}
        for item_id in inline:
            uow.valuation.add_revaluation(op_id, item_id, when, before[item_id], after[item_id])
        for item_id, later in queued.items():
            uow.valuation.add_revaluation_job(op_id, item_id, when, later)
    lines = [MoveLine(sku, p.source.code, p.target.code, p.quantity, p.lot) for sku, p in postings]
    return Operation(op_id, kind.value, when, reference, lines)


def audit_operation(
    uow: UnitOfWork, verb: str, operation: Operation, subject: str | None = None, **values: Any
) -> None:
    """Audit a stock operation by the principal: each move (SKU, from, to, quantity, lot),
    its reference and `values`; named `operation:<id>` unless `subject` says otherwise."""
    moves = [[m.sku, m.source, m.target, m.quantity, m.lot] for m in operation.moves]
    found = {"moves": moves, "reference": operation.reference, **values}
    uow.record(
        Changed(
            subject=subject or f"operation:{operation.id}",
            verb=verb,
            values={k: v for k, v in found.items() if v is not None},
        )
    )


# The moves that take what is free (on hand − reserved), as `take` checks them today; the
# others (scrap, counts, consumption, releases) are physical and ignore reservations.
RESPECT_RESERVATIONS = frozenset({MoveKind.SHIPMENT, MoveKind.TRANSFER})


def check_history(
    uow: UnitOfWork,
    postings: list[tuple[str, Posting]],
    when: datetime,
    kind: MoveKind | None = None,
) -> bool:
    """Refuse a move dated in a closed period, and an outflow that would leave any balance
    from its date to now below zero (`domain.history`). For a shipment or transfer the balance
    is what was free: on hand minus the reservations open at each moment, each counted from
    the moment it was made. True when the move is flagged backdated (recorded more than
    BACKDATED_AFTER after its date) and allowed.

    There is no grace window: a move dated a minute ago is checked like one dated last week.
    Only a move with nothing later than it skips the past check: its balance from its date to
    now is today's, which `take` has checked. The caller holds the stock row lock of every
    item-location it takes from (`take`, `lock_rows`), so a concurrent move of the same rows
    waits, and commits before this reads the moves or after this transaction ends.
    """
    now = datetime.now(UTC)
    if when.date() < now.date():
        # A period closes only through a day that has ended, so only a move dated before
        # today can be in one.
        closed = uow.valuation.setting(CLOSED_THROUGH)
        if closed is not None and when.date() <= date.fromisoformat(closed):
            raise PeriodClosed(when, date.fromisoformat(closed))
    net: dict[tuple[int, Place, str | None], Decimal] = {}
    skus: dict[int, str] = {}
    for sku, p in postings:
        skus[p.item_id] = sku
        for place, sign in ((p.source, -1), (p.target, 1)):
            if place.may_go_negative:
                continue
            for lot in {None, p.lot}:
                key = (p.item_id, place, lot)
                net[key] = net.get(key, Decimal(0)) + sign * p.quantity
    taking = sorted({k[0] for k, change in net.items() if change < 0})
    if taking and uow.valuation.moved_after(taking, when):
        respect = kind in RESPECT_RESERVATIONS
        for (item_id, place, lot), change in sorted(
            net.items(), key=lambda kv: (kv[0][0], kv[0][1].id, kv[0][2] or "")
        ):
            if change >= 0:
                continue
            before, later = uow.valuation.balance_path(item_id, place.id, lot, when)
            counted = False
            if respect and lot is None:
                held, made = uow.valuation.reservation_path(item_id, place.id, when)
                counted = held > 0 or bool(made)
                before -= held
                later = sorted(later + made, key=lambda event: event[0])
            found = first_shortfall(before + change, later, when)
            if found is not None:
                raise PastShortfall(skus[item_id], place.code, lot, when, found, counted)
    return when < now - BACKDATED_AFTER


def inline_revaluation_limit(uow: UnitOfWork) -> int:
    """How many later moves of an item a backdated move may re-value and still be traced in
    its own transaction (the company setting `revaluation_inline_moves`)."""
    found = uow.valuation.setting(REVALUATION_INLINE_MOVES)
    return INLINE_REVALUATION_DEFAULT if found is None else int(found)


def later_cost(
    uow: UnitOfWork,
    item_ids: Sequence[int],
    when: datetime,
    moves: list[costing.CostedMove] | None = None,
) -> dict[int, Decimal]:
    """What the items' outflows after `when` are valued at (replayed, `domain.costing`) over
    `moves` (else all of the items' moves): a backdated move records it before and after
    itself, the trace of what it re-valued."""
    default = uow.valuation.setting("costing_method") or CostingMethod.FIFO.value
    known = {i.id: i for i in uow.valuation.items() if i.id in item_ids}
    kinds = {k: kind for k, (_, kind) in uow.valuation.location_kinds().items()}
    replayed = costing.replay(
        uow.valuation.moves(item_ids) if moves is None else moves,
        kinds,
        {i: CostingMethod(known[i].costing or default) for i in item_ids},
        {i: known[i].unit_cost for i in item_ids},
    )
    found = dict.fromkeys(item_ids, Decimal(0))
    for e in replayed.events:
        leaves = e.flow not in costing.INFLOWS and e.flow is not costing.Flow.TRANSFERRED_OUT
        if e.occurred_at > when and leaves:
            found[e.item_id] -= e.value
    return found


def lock_rows(
    uow: UnitOfWork, rows: dict[tuple[int, int], Place]
) -> dict[tuple[int, int], StockLevel]:
    """Lock every physical stock row a document changes, up front, in one global order (item,
    then location). Row locks then always come in the same order (stock rows, then balances,
    then the virtual locations' rows, each sorted), so two documents never wait for each
    other in a circle, a deadlock the database would break only after a second."""
    return uow.ledger.lock_stocks([(item_id, place) for (item_id, _), place in rows.items()])
