"""Stocktakes: open a count document for a location (optionally one category), enter counts
line by line, then post every difference as one adjustment with reason `count`, or cancel.

What a posted line books is `domain.stocktake`'s rule: counted − what the books held when the
line was counted; with `freeze` that is counted − (the snapshot + the net moves since it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from leanstock.domain import catalog
from leanstock.domain.catalog import Item
from leanstock.domain.errors import Conflict, InvalidInput, LotRequired, NotFound
from leanstock.domain.events import Changed
from leanstock.domain.ledger import MoveKind, Place, Posting
from leanstock.domain.quantities import non_negative
from leanstock.domain.serials import refuse
from leanstock.domain.stocktake import (
    CountLine,
    Stocktake,
    StocktakeStatus,
    covers,
    under_count,
)
from leanstock.services.backorders import fill_backorders_at
from leanstock.services.paging import Page, page_bounds
from leanstock.services.ports import Stored, UnitOfWork
from leanstock.services.posting import (
    checked_time,
    current_day,
    line_errors,
    lock_rows,
    physical_place,
    post_lines,
    stock_quantity,
)
from leanstock.services.retry import retrying

PREFIX = "ST"
# The reason an operation posted from a stocktake carries.
COUNT = "count"


@dataclass(frozen=True)
class CountEntry:
    """One counted line: `counted` of `sku` (in `unit`, default the stock unit), of `lot` for a
    lot-tracked item."""

    sku: str
    counted: Decimal
    unit: str | None = None
    lot: str | None = None


@dataclass(frozen=True)
class CountLineView:
    sku: str
    lot: str | None
    counted: Decimal | None
    counted_at: datetime | None
    counted_by: str | None
    # None where the principal may not see them (a blind count, open) or none was taken.
    expected: Decimal | None = None
    book: Decimal | None = None
    moved: Decimal | None = None
    difference: Decimal | None = None


@dataclass(frozen=True)
class StocktakeView:
    number: str
    location: str
    category: str | None
    freeze: bool
    blind: bool
    status: str
    reference: str | None
    started_at: datetime
    started_by: str
    posted_at: datetime | None
    operation_id: int | None
    expected_shown: bool
    lines: list[CountLineView] = field(default_factory=list)


# The largest id a stocktake number may carry (what the API's ids allow).
LAST_ID = 2**53 - 1


def stocktake_id(value: str) -> int:
    """The id behind a stocktake number (ST-000042), or NotFound."""
    prefix, _, digits = value.upper().partition("-")
    if prefix != PREFIX or not digits.isascii() or not digits.isdigit() or int(digits) > LAST_ID:
        raise NotFound("stocktake", value, "stocktake")
    return int(digits)


def view(stocktake: Stocktake, show_expected: bool = True) -> StocktakeView:
    """The stocktake as a principal sees it: an open blind count hides the books (expected,
    book, moved, difference) from whoever may not see them."""
    shown = show_expected or not stocktake.blind or stocktake.status is not StocktakeStatus.OPEN
    return StocktakeView(
        stocktake.number,
        stocktake.location,
        stocktake.category,
        stocktake.freeze,
        stocktake.blind,
        stocktake.status.value,
        stocktake.reference,
        stocktake.started_at,
        stocktake.started_by,
        stocktake.posted_at,
        stocktake.operation_id,
        shown,
        [
            CountLineView(
                x.sku,
                x.lot,
                x.counted,
                x.counted_at,
                x.counted_by,
                expected=x.expected if shown else None,
                book=x.book if shown else None,
                moved=x.moved if shown else None,
                difference=x.difference if shown else None,
            )
            for x in stocktake.lines
        ],
    )


def _audit(uow: UnitOfWork, stocktake: Stocktake, verb: str, **values: object) -> None:
    uow.record(
        Changed(
            subject=f"stocktake:{stocktake.number}",
            verb=verb,
            values={k: v for k, v in values.items() if v is not None},
        )
    )


@retrying
def start_stocktake(
    uow: UnitOfWork,
    location: str,
    *,
    category: str | None = None,
    freeze: bool = False,
    blind: bool = False,
    reference: str | None = None,
    actor: str = "system",
    show_expected: bool = True,
) -> StocktakeView:
    """Open a count at a physical location, of every item or one category.

    With `freeze` the books are snapshot now, per item and lot: the count sheet and each line's
    `expected`. Refused (409) while an open stocktake there covers any of the same items
    (`domain.stocktake.covers`).
    """
    if category is not None:
        category = catalog.text(category, "category", 64)
    with uow.acting(actor):
        place = physical_place(uow, location, "location")
        uow.stocktakes.lock_location(place.id)
        refuse_if_under_count(uow, place, category)
        stocktake = Stocktake(
            location=place.code,
            category=category,
            freeze=freeze,
            blind=blind,
            started_at=checked_time(None),
            started_by=actor,
            reference=reference,
        )
        uow.stocktakes.add(stocktake, place.id)
        if freeze:
            lines = [
                CountLine(sku, lot, expected=quantity, item_id=item_id)
                for item_id, sku, lot, quantity in uow.stocktakes.book(place.id, category)
            ]
            uow.stocktakes.add_lines(stocktake.id or 0, lines)
            stocktake.lines = lines
        _audit(
            uow,
            stocktake,
            "stocktake_start",
            location=place.code,
            category=category,
            freeze=freeze,
            blind=blind,
            reference=reference,
            lines=len(stocktake.lines),
        )
        uow.commit()
    return view(stocktake, show_expected)


@retrying
def enter_counts(
    uow: UnitOfWork,
    number: str,
    entries: Sequence[CountEntry],
    *,
    counted_at: datetime | None = None,
    actor: str = "system",
    show_expected: bool = True,
) -> StocktakeView:
    """Record counted quantities, line by line (a line counted again keeps the last count).

    Each line is taken to be true at `counted_at` (default: now), which is not before the
    count started. The item must be known and of the stocktake's category, a lot-tracked item
    counted lot by lot, the lot known, the quantity zero or more; otherwise nothing is kept.
    """
    if not entries:
        raise InvalidInput("Name at least one counted line.", "lines")
    at = checked_time(counted_at)
    many = len(entries) > 1
    with uow.acting(actor):
        stocktake = uow.stocktakes.get(stocktake_id(number), lock=True)
        stocktake.check_open("counted")
        if at < stocktake.started_at:
            raise InvalidInput(
                f"counted_at {at.isoformat()} is before {stocktake.number} started "
                f"({stocktake.started_at.isoformat()}); a count is taken during the stocktake.",
                "counted_at",
            )
        found = uow.catalog.items_and_locations(
            sorted({e.sku for e in entries}), [stocktake.location]
        )
        items = found[0] if found is not None else {}
        sheet = {(x.sku, x.lot): x for x in stocktake.lines}
        lines: dict[tuple[str, str | None], CountLine] = {}
        for index, entry in enumerate(entries):
            with line_errors(index, many):
                item = items.get(entry.sku) or uow.catalog.item(entry.sku)
                line = _counted_line(uow, stocktake, item, entry, sheet, lines)
                line.counted_at, line.counted_by = at, actor
        uow.stocktakes.put_lines(stocktake.id or 0, list(lines.values()))
        entered = [[x.sku, x.lot, x.counted] for x in lines.values()]
        _audit(uow, stocktake, "stocktake_count", lines=entered, counted_at=at)
        uow.commit()
    return view(stocktake, show_expected)


def _counted_line(
    uow: UnitOfWork,
    stocktake: Stocktake,
    item: Stored[Item],
    entry: CountEntry,
    sheet: dict[tuple[str, str | None], CountLine],
    lines: dict[tuple[str, str | None], CountLine],
) -> CountLine:
    """The stocktake's line for `entry`, counted (`lines`: those counted in this request)."""
    counted = non_negative(entry.counted, "counted")
    refuse(
        item.value,
        "a stocktake",
        "count it by its serials after this stocktake is posted or cancelled (POST "
        "/api/v1/stock/counts with serials, `leanstock count SKU LOCATION N --serial S`).",
    )
    if stocktake.category is not None and item.value.category != stocktake.category:
        raise InvalidInput(
            f"{entry.sku} is in category {item.value.category}; {stocktake.number} counts "
            f"category {stocktake.category} only.",
            "sku",
        )
    lot = entry.lot
    if item.value.lot_tracked and lot is None:
        raise LotRequired(entry.sku)
    if lot is not None:
        catalog.code(lot, "lot")
        if not item.value.lot_tracked:
            raise InvalidInput(f"Item {entry.sku} is not lot-tracked: leave the lot out.", "lot")
        if uow.ledger.lot(item.id, lot) is None:
            raise NotFound("lot", f"{lot} of {entry.sku}", "lot")
    if (entry.sku, lot) in lines:
        where = f" lot {lot}" if lot else ""
        raise InvalidInput(f"{entry.sku}{where} is on two lines; put it on one.", "sku")
    counted = stock_quantity(uow, item, counted, entry.unit, "counted")
    line = sheet.get((entry.sku, lot))
    if line is None:
        # Not on a frozen count's sheet: the books held none of it when the count started.
        expected = Decimal(0) if stocktake.freeze else None
        line = CountLine(entry.sku, lot, expected=expected, item_id=item.id)
        stocktake.lines.append(line)
        sheet[(entry.sku, lot)] = line
    line.counted = counted
    lines[(entry.sku, lot)] = line
    return line


@retrying
def post_stocktake(uow: UnitOfWork, number: str, *, actor: str = "system") -> StocktakeView:
    """Post every counted line's difference as one adjustment operation with reason `count`
    (gains from `adjustment` at the item's unit cost, losses to it at the cost held), and
    close the stocktake. A line that matches the books, or was never counted, posts nothing.

    Refused (409, nothing posted) when a loss would take a location that may not go negative
    below zero: stock that left after it was counted, more than was counted.
    """
    now = checked_time(None)
    with uow.acting(actor):
        stocktake = uow.stocktakes.get(stocktake_id(number), lock=True)
        stocktake.check_open("posted")
        place = physical_place(uow, stocktake.location, "location")
        counted = sorted(
            (x for x in stocktake.lines if x.counted is not None),
            key=lambda x: (x.item_id, x.lot or ""),
        )
        lock_rows(uow, {(x.item_id, place.id): place for x in counted})
        books = uow.stocktakes.books_at(
            place.id, [(x.item_id, x.lot, x.counted_at or stocktake.started_at) for x in counted]
        )
        adjustment = uow.virtual_place(catalog.ADJUSTMENT)
        postings: list[tuple[str, Posting]] = []
        gains: set[tuple[int, Place]] = set()
        costs = _unit_costs(uow, stocktake.location, [x.sku for x in counted])
        for x, (book, held) in zip(counted, books, strict=True):
            difference = x.settle(book)
            if difference > 0:
                gain = Posting(
                    x.item_id, adjustment, place, difference, x.lot, unit_cost=costs[x.sku]
                )
                postings.append((x.sku, gain))
                gains.add((x.item_id, place))
            elif difference < 0:
                _check_loss(x, place, -difference, held)
                postings.append((x.sku, Posting(x.item_id, place, adjustment, -difference, x.lot)))
        operation = post_lines(
            uow,
            MoveKind.ADJUSTMENT,
            postings,
            now,
            stocktake.number,
            reason=COUNT,
            note=f"stocktake {stocktake.number}",
        )
        stocktake.post(now, operation.id)
        uow.stocktakes.save(stocktake)
        _audit(
            uow,
            stocktake,
            "stocktake_post",
            operation=operation.id,
            moves=[[m.sku, m.source, m.target, m.quantity, m.lot] for m in operation.moves],
        )
        if gains:
            arrivals = sorted(gains, key=lambda k: (k[0], k[1].id))
            fill_backorders_at(uow, arrivals, current_day(None), stocktake.number)
        uow.commit()
    return view(stocktake)


def _unit_costs(uow: UnitOfWork, location: str, skus: list[str]) -> dict[str, Decimal]:
    """The items' unit costs (what a count gain is valued at), in one read."""
    if not skus:
        return {}
    found = uow.catalog.items_and_locations(sorted(set(skus)), [location])
    if found is None:
        return {sku: uow.catalog.item(sku).value.unit_cost for sku in set(skus)}
    return {sku: stored.value.unit_cost for sku, stored in found[0].items()}


def _check_loss(line: CountLine, place: Place, loss: Decimal, held: Decimal) -> None:
    """A loss may not take a location that may not go negative below zero: `held` is what it
    holds of the line's item and lot now."""
    if place.may_go_negative:
        return
    if held < loss:
        where = f" lot {line.lot}" if line.lot else ""
        raise Conflict(
            f"{line.sku}{where} was counted {line.counted} at {place.code}, {loss} less than the "
            f"books held then, but only {held} is held now (stock left after the count); count "
            "it again.",
            "lines",
        )


@retrying
def cancel_stocktake(uow: UnitOfWork, number: str, *, actor: str = "system") -> StocktakeView:
    """Close an open stocktake without posting anything."""
    with uow.acting(actor):
        stocktake = uow.stocktakes.get(stocktake_id(number), lock=True)
        stocktake.cancel()
        uow.stocktakes.save(stocktake)
        _audit(uow, stocktake, "stocktake_cancel", location=stocktake.location)
        uow.commit()
    return view(stocktake)


def get_stocktake(uow: UnitOfWork, number: str, *, show_expected: bool = True) -> StocktakeView:
    with uow:
        return view(uow.stocktakes.get(stocktake_id(number)), show_expected)


def list_stocktakes(
    uow: UnitOfWork,
    status: str | None = None,
    location: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> Page[StocktakeView]:
    """Stocktakes newest first, without their lines."""
    limit, offset = page_bounds(limit, offset)
    if status is not None and status not in {s.value for s in StocktakeStatus}:
        choices = ", ".join(s.value for s in StocktakeStatus)
        raise InvalidInput(f"status {status!r} is not one of {choices}.", "status")
    with uow:
        rows, total = uow.stocktakes.page(status, location, limit, offset)
    return Page([view(s, show_expected=False) for s in rows], total, limit, offset)


def refuse_if_under_count(uow: UnitOfWork, place: Place, category: str | None) -> None:
    """A count of `category` (None: every item) at a location where an open stocktake covers
    any of the same items is refused (409), naming it: a second stocktake, or a one-off count
    of an item (`category` its category), which the stocktake counts."""
    clashing = [s for s in uow.stocktakes.open_at(place.id) if covers(s.category, category)]
    if clashing:
        scope = ", ".join(s.scope for s in clashing)
        raise under_count(place.code, [s.number for s in clashing], scope, "location")
