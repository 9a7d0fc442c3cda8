"""The demand history the forecasts read: what customers ordered, per item, location and
period, cancelled orders left out and returns netted (`SalesRepo.demand_rows`)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import polars as pl

from leanstock.domain.errors import InvalidInput
from leanstock.planning.periods import PERIODS
from leanstock.services.ports import UnitOfWork

DEMAND_SCHEMA = {
    "item": pl.String,
    "location": pl.String,
    "ds": pl.Date,
    "qty": pl.Float64,
    "stockout": pl.Boolean,
}


def demand_history(uow: UnitOfWork, freq: str = "D", since: date | None = None) -> pl.DataFrame:
    """Demand per item, location and period, as ordered: what the forecasts read.

    Columns item, location, ds (period start: the day, the Monday, the 1st of the month), qty
    (quantity ordered at confirmation, including what stock could not serve) and stockout
    (some line of the period could not be fully reserved when it was confirmed: an
    approximation of "the item-location had nothing available at some point").
    """
    code = freq.strip().upper()
    if code not in PERIODS:
        raise InvalidInput(f"Unknown frequency {freq!r}: use D, W or M.", "freq")
    start = datetime(since.year, since.month, since.day, tzinfo=UTC) if since else None
    with uow:
        rows = uow.sales.demand_rows(start)
    if not rows:
        return pl.DataFrame(schema=DEMAND_SCHEMA)
    frame = pl.DataFrame(
        {
            "item": [r["item"] for r in rows],
            "location": [r["location"] for r in rows],
            "ds": [_day(r["ordered_at"]) for r in rows],
            "qty": [float(r["qty"]) for r in rows],
            "stockout": [bool(r["stockout"]) for r in rows],
        },
        schema=DEMAND_SCHEMA,
    )
    return (
        frame.with_columns(pl.col("ds").dt.truncate(PERIODS[code].interval))
        .group_by("item", "location", "ds")
        .agg(pl.col("qty").sum(), pl.col("stockout").any())
        .sort("item", "location", "ds")
    )


def _day(moment: datetime) -> date:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).date()
