"""Backorders: sales lines waiting for stock that is not there, filled fairly as stock arrives.

A confirmed line's open quantity is covered by what is reserved for it and by supply pegged to
it; the rest is backordered. When stock arrives at the line's item-location (a receipt, a
transfer in, production output, a count gain, a return, a quarantine release) the free part is
given to the waiting lines in a stated order (`fill_order`: the customer's priority, the
promise date, the order time) and reserved for them, so the order ships it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from leanstock.domain.customers import WALK_IN_PRIORITY

ZERO = Decimal(0)


@dataclass(frozen=True)
class Backorder:
    """A sales line's part that nothing covers yet: `waiting` = open − reserved − pegged."""

    line_id: int
    order_id: int
    line_no: int
    reference: str
    waiting: Decimal
    ordered_at: datetime
    requested_date: date | None = None
    # The customer's priority, 1 (first) to 9 (`domain.customers`); a walk-in's is 5.
    priority: int = WALK_IN_PRIORITY


def waiting(open_quantity: Decimal, reserved: Decimal, pegged: Decimal) -> Decimal:
    """What of a line's open quantity neither stock nor pegged supply covers (never below 0)."""
    return max(open_quantity - reserved - pegged, ZERO)


def fill_order(backorders: Sequence[Backorder], earliest: date | None) -> list[Backorder]:
    """The order arriving stock goes to waiting lines: the customer's priority first (1 before
    9; a walk-in is 5), then the promise date, then order time.

    A backordered line is promised at max(requested date, earliest) where `earliest` is the day
    replenishment could bring it (today + lead time; None when unknown), so lines asked for
    sooner than that are equal on date and served first come, first served; the order number
    and line number break what is left of a tie, so the order is deterministic.
    """

    def promised(b: Backorder) -> date:
        dates = [d for d in (b.requested_date, earliest) if d is not None]
        return max(dates) if dates else date.min

    return sorted(
        (b for b in backorders if b.waiting > 0),
        key=lambda b: (b.priority, promised(b), _naive(b.ordered_at), b.order_id, b.line_no),
    )


def allocate(backorders: Sequence[Backorder], free: Decimal) -> list[tuple[Backorder, Decimal]]:
    """Give `free` stock to backorders in the order given, each up to what it waits for."""
    takes: list[tuple[Backorder, Decimal]] = []
    left = free
    for b in backorders:
        if left <= 0:
            break
        take = min(b.waiting, left)
        if take > 0:
            takes.append((b, take))
            left -= take
    return takes


def _naive(moment: datetime) -> datetime:
    """Compare instants whether or not the database handed back their zone (UTC)."""
    return moment if moment.tzinfo is None else moment.astimezone(UTC).replace(tzinfo=None)
