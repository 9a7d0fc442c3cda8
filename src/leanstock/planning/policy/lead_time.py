"""Lead time as suppliers actually deliver it, measured from their receipts."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

MIN_RECEIPTS = 5
"""Fewer receipts than this give too noisy a mean; the promised lead time is used instead."""


def lead_time_from_receipts(
    receipts: pl.DataFrame,
    keys: Sequence[str] = ("item", "location"),
    min_receipts: int = MIN_RECEIPTS,
    period_days: float = 1.0,
) -> pl.DataFrame:
    """Lead-time mean and spread per key from receipts (actual vs promised dates).

    `receipts` has the `keys` columns and `ordered_on`, `promised_on`, `received_on` (dates).
    Actual lead time = received − ordered, promised = promised − ordered, in periods of
    `period_days` days. Returns one row per key with `receipts` (count),
    `promised_lead_time`, `lead_time_mean`, `lead_time_sd` and `lead_time_source`:

    - at least `min_receipts` receipts ("receipts"): mean and sample standard deviation of
      the actual lead times, the spread that enters σ_P² = …+ μ_d²·σ_L²
      (Silver, Pyke & Thomas 2017, §7.9);
    - fewer ("promised"): the mean promised lead time, and as spread the standard deviation
      of the lateness (actual − promised) when there are at least two receipts, else 0:
      a supplier's promise is a better mean than two or three deliveries, while how far they
      stray from it is still information.
    """
    day = pl.duration(days=1)
    frame = receipts.with_columns(
        ((pl.col("received_on") - pl.col("ordered_on")) / day / period_days).alias("_actual"),
        ((pl.col("promised_on") - pl.col("ordered_on")) / day / period_days).alias("_promised"),
    ).with_columns((pl.col("_actual") - pl.col("_promised")).alias("_late"))
    stats = frame.group_by(list(keys), maintain_order=True).agg(
        pl.len().alias("receipts"),
        pl.col("_promised").mean().alias("promised_lead_time"),
        pl.col("_actual").mean().alias("_actual_mean"),
        pl.col("_actual").std().alias("_actual_sd"),
        pl.col("_late").std().alias("_late_sd"),
    )
    enough = pl.col("receipts") >= min_receipts
    return stats.select(
        *keys,
        pl.col("receipts").cast(pl.Int64),
        "promised_lead_time",
        pl.when(enough)
        .then(pl.col("_actual_mean"))
        .otherwise(pl.col("promised_lead_time"))
        .alias("lead_time_mean"),
        pl.when(enough)
        .then(pl.col("_actual_sd"))
        .otherwise(pl.col("_late_sd"))
        .fill_null(0.0)
        .alias("lead_time_sd"),
        pl.when(enough)
        .then(pl.lit("receipts"))
        .otherwise(pl.lit("promised"))
        .alias("lead_time_source"),
    )
