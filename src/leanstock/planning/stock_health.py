"""Dead and slow stock: the money that sits on the shelf, and what to do about it.

Just-in-time keeps money out of stock; what still sits there without selling is the first
place to get it back. Per item (or item-location), from the stock on hand and the demand
history up to `today`:

- demand rate: units per day over the last `rate_days` (90 by default);
- days of supply: on hand / demand rate (∞ without demand);
- **dead**: no demand in the last `dead_days` (365) and nothing received in that time either
  (a new item is not dead, it has not sold yet);
- **slow**: days of supply above `slow_days` (180); the excess is what lies beyond
  `slow_days` of demand, valued at the unit cost. An item never sold and received within
  the last `rate_days` is too new to judge.

Suggested action: dead stock goes back to the supplier where it takes returns
(`returnable`), else is marked down to clear it; slow stock stops being reordered until it is
back under `slow_days` of supply, and where even twice that would not use it up, the excess is
returned or marked down as dead stock is. (The usual practice of excess and obsolete
inventory reviews; Silver, Pyke & Thomas 2017, §2.6 and §9.3 on disposing of excess stock.)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

STOP_REORDERING = "stop reordering"
RETURN = "return to supplier"
MARK_DOWN = "mark down"


@dataclass(frozen=True)
class SlowStockRules:
    """When stock counts as dead or slow, in days."""

    dead_days: int = 365
    slow_days: int = 180
    rate_days: int = 90

    def __post_init__(self) -> None:
        if min(self.dead_days, self.slow_days, self.rate_days) <= 0:
            raise ValueError("dead, slow and rate windows are positive numbers of days")


def slow_stock(
    stock: pl.DataFrame,
    demand: pl.DataFrame,
    today: dt.date,
    keys: Sequence[str] = ("item",),
    rules: SlowStockRules = SlowStockRules(),
) -> pl.DataFrame:
    """Dead and slow stock with the money in it and a suggested action, per key.

    `stock`: the `keys`, `on_hand`, `unit_cost`, optionally `returnable` (the supplier takes
    it back; default false) and `last_received` (date of the latest receipt). `demand`: the
    `keys`, `ds` (date of the demand or start of its period) and `qty`. Returns, for keys with
    stock on hand, `on_hand`, `value`, `last_demand`, `days_since_demand`, `demand_per_day`,
    `days_of_supply`, `status` ("dead", "slow" or "ok"), `excess`, `excess_value` and
    `action` (null when "ok"), most money at stake first.
    """
    keys = list(keys)
    since_rate = today - dt.timedelta(days=rules.rate_days)
    past = demand.filter(pl.col("ds").cast(pl.Date) <= today)
    usage = past.group_by(keys).agg(
        pl.col("ds").cast(pl.Date).max().alias("last_demand"),
        pl.col("qty")
        .cast(pl.Float64)
        .filter(pl.col("ds").cast(pl.Date) > since_rate)
        .sum()
        .alias("_recent"),
    )
    frame = stock.filter(pl.col("on_hand") > 0)
    if "returnable" not in frame.columns:
        frame = frame.with_columns(pl.lit(False).alias("returnable"))
    if "last_received" not in frame.columns:
        frame = frame.with_columns(pl.lit(None, dtype=pl.Date).alias("last_received"))
    day = pl.lit(today, dtype=pl.Date)
    joined = frame.join(usage, on=keys, how="left").with_columns(
        pl.col("on_hand").cast(pl.Float64),
        pl.col("unit_cost").cast(pl.Float64),
        (pl.col("_recent").fill_null(0.0) / rules.rate_days).alias("demand_per_day"),
        (day - pl.col("last_demand")).dt.total_days().alias("days_since_demand"),
    )
    supply = (
        pl.when(pl.col("demand_per_day") > 0)
        .then(pl.col("on_hand") / pl.col("demand_per_day"))
        .otherwise(float("inf"))
    )
    quiet = pl.col("last_demand").is_null() | (pl.col("days_since_demand") > rules.dead_days)
    stale = pl.col("last_received").is_null() | (
        (day - pl.col("last_received").cast(pl.Date)).dt.total_days() > rules.dead_days
    )
    dead = quiet & stale
    new = pl.col("last_demand").is_null() & (
        (day - pl.col("last_received").cast(pl.Date)).dt.total_days() <= rules.rate_days
    ).fill_null(False)
    slow = ~dead & ~new & (pl.col("days_of_supply") > rules.slow_days)
    excess = (
        pl.when(pl.col("status") == "dead")
        .then(pl.col("on_hand"))
        .when(pl.col("status") == "slow")
        .then(pl.col("on_hand") - pl.col("demand_per_day") * rules.slow_days)
        .otherwise(0.0)
    )
    clear = (
        pl.when(pl.col("returnable").fill_null(False))
        .then(pl.lit(RETURN))
        .otherwise(pl.lit(MARK_DOWN))
    )
    action = (
        pl.when(pl.col("status") == "dead")
        .then(clear)
        .when((pl.col("status") == "slow") & (pl.col("days_of_supply") > 2 * rules.slow_days))
        .then(pl.format("{}; {} the excess", pl.lit(STOP_REORDERING), clear))
        .when(pl.col("status") == "slow")
        .then(pl.lit(STOP_REORDERING))
        .otherwise(None)
    )
    return (
        joined.with_columns(supply.alias("days_of_supply"))
        .with_columns(
            pl.when(dead)
            .then(pl.lit("dead"))
            .when(slow)
            .then(pl.lit("slow"))
            .otherwise(pl.lit("ok"))
            .alias("status"),
            (pl.col("on_hand") * pl.col("unit_cost")).alias("value"),
        )
        .with_columns(excess.alias("excess"))
        .with_columns(
            (pl.col("excess") * pl.col("unit_cost")).alias("excess_value"),
            action.alias("action"),
        )
        .select(
            *keys,
            "on_hand",
            "value",
            "last_demand",
            "days_since_demand",
            "demand_per_day",
            "days_of_supply",
            "status",
            "excess",
            "excess_value",
            "action",
        )
        .sort(["excess_value", "value"], descending=True)
    )
