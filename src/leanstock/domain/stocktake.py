"""Stocktakes: a count document for one location (optionally one category of items), counted
line by line and posted as one adjustment.

The rule for what a posted line books (docs/architecture.md, "Stocktakes"): a count is taken
to be true at the moment it was entered, `counted_at`. The line's difference is

    difference = counted − book(counted_at)

where book(t) is what the ledger held of the item (and lot) at the location at t. With
`freeze`, the books were also snapshot when the count started (`expected`), and

    book(counted_at) = expected + moved,    moved = the net of the moves from start to counting

so the difference is counted − (snapshot + net moves since the snapshot). Moves after a line
was counted are not in its count and stay as booked: after posting, on hand = counted + the
net of the moves since counting. A line never counted posts nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from leanstock.domain.errors import Conflict
from leanstock.domain.orders.common import refused


class StocktakeStatus(StrEnum):
    OPEN = "open"
    POSTED = "posted"
    CANCELLED = "cancelled"


@dataclass
class CountLine:
    """One item (and lot) of a stocktake: what the books held when it started (`expected`,
    frozen counts only), what was counted and when, and once posted what the books held then
    (`book`) and the difference booked."""

    sku: str
    lot: str | None
    expected: Decimal | None = None
    counted: Decimal | None = None
    counted_at: datetime | None = None
    counted_by: str | None = None
    book: Decimal | None = None
    difference: Decimal | None = None
    item_id: int = 0
    id: int | None = None

    @property
    def moved(self) -> Decimal | None:
        """The net of the moves between the snapshot and the count (frozen counts only)."""
        if self.expected is None or self.book is None:
            return None
        return self.book - self.expected

    def settle(self, book: Decimal) -> Decimal:
        """Record what the books held at counting; the difference to book."""
        if self.counted is None:
            raise ValueError("an uncounted line has nothing to post")
        self.book = book
        self.difference = self.counted - book
        return self.difference


@dataclass
class Stocktake:
    location: str
    category: str | None
    freeze: bool
    blind: bool
    started_at: datetime
    started_by: str
    status: StocktakeStatus = StocktakeStatus.OPEN
    reference: str | None = None
    posted_at: datetime | None = None
    operation_id: int | None = None
    lines: list[CountLine] = field(default_factory=list)
    id: int | None = None

    @property
    def number(self) -> str:
        return f"ST-{self.id or 0:06d}"

    @property
    def scope(self) -> str:
        return f"category {self.category}" if self.category else "every item"

    def check_open(self, verb: str) -> None:
        if self.status is not StocktakeStatus.OPEN:
            raise refused(f"Stocktake {self.number}", self.status.value, verb)

    def post(self, at: datetime, operation_id: int | None) -> None:
        self.check_open("posted")
        if not any(x.counted is not None for x in self.lines):
            raise Conflict(
                f"Stocktake {self.number} has no counted line; count at least one, or cancel it."
            )
        self.status = StocktakeStatus.POSTED
        self.posted_at = at
        self.operation_id = operation_id

    def cancel(self) -> None:
        self.check_open("cancelled")
        self.status = StocktakeStatus.CANCELLED


def covers(category: str | None, other: str | None) -> bool:
    """Whether two counts at one location would count some item twice: a count of every item
    (no category) covers every other; two category counts only when the category is the
    same."""
    return category is None or other is None or category == other


def under_count(location: str, numbers: list[str], scope: str, field: str) -> Conflict:
    """The refusal of a count at a location already under an open stocktake."""
    return Conflict(
        f"{location} is under open stocktake {', '.join(numbers)} ({scope}); enter the count "
        "there, or post or cancel it first.",
        field,
    )
