"""Request and response bodies of the stocktake routes."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import Field

from leanstock.entrypoints.api.bounds import Moment, Quantity
from leanstock.entrypoints.api.schemas import Code, In, Out
from leanstock.services.stock.stocktakes import CountEntry


class StocktakeIn(In):
    location: str = Code
    category: str | None = Field(
        default=None, min_length=1, max_length=64, description="Count only this category."
    )
    freeze: bool = Field(
        default=False,
        description="Snapshot the books now: the count sheet and each line's expected quantity.",
    )
    blind: bool = Field(
        default=False,
        description="Counters do not see the books' quantities while the count is open.",
    )
    reference: str | None = Field(default=None, max_length=200)


class CountLineIn(In):
    sku: str = Code
    counted: Quantity = Field(description="What was counted, zero or more.")
    unit: str | None = Field(default=None, min_length=1, max_length=16)
    lot: str | None = Field(default=None, min_length=1, max_length=64)

    def entry(self) -> CountEntry:
        return CountEntry(self.sku, self.counted, self.unit, self.lot)


class CountLinesIn(In):
    lines: list[CountLineIn] = Field(min_length=1, max_length=10_000)
    counted_at: Moment | None = Field(
        default=None,
        description="When these lines were counted (default: now); not before the start.",
    )


class CountLineOut(Out):
    sku: str
    lot: str | None
    counted: Decimal | None
    counted_at: datetime | None
    counted_by: str | None
    expected: Decimal | None = Field(description="The books at the start (a frozen count).")
    book: Decimal | None = Field(description="The books when the line was counted (posted).")
    moved: Decimal | None = Field(description="Net moves from the start to the count (frozen).")
    difference: Decimal | None = Field(description="counted − book, as posted.")


class StocktakeOut(Out):
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
    expected_shown: bool = Field(
        description="False: a blind count, open, read by a counter; the books are left out."
    )
    lines: list[CountLineOut]
