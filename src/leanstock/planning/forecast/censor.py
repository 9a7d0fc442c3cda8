"""Stock-outs censor demand: the period sold what was on the shelf, not what was wanted.

A censored period is replaced by max(observed, trailing mean of the uncensored periods
before it), so it can raise the history but never pull it down. This is the simple
"impute the unconstrained demand" step of Nahmias (1994), "Demand estimation in
lost sales inventory systems", NRL 41; the backtest ignores censored periods entirely.
"""

from __future__ import annotations

import polars as pl


def trailing_clean_mean(frame: pl.DataFrame, clean: pl.Expr, window: int) -> pl.Expr:
    """Mean of qty over the last `window` rows where `clean` holds, per sid (None if none)."""
    del frame
    value = pl.when(clean).then(pl.col("qty")).otherwise(0.0)
    count = clean.cast(pl.Float64)
    total = value.rolling_sum(window, min_samples=1).over("sid")
    n = count.rolling_sum(window, min_samples=1).over("sid")
    overall = pl.when(clean).then(pl.col("qty")).mean().over("sid")
    return pl.when(n > 0).then(total / n).otherwise(overall)


def impute_censored(frame: pl.DataFrame, window: int) -> pl.DataFrame:
    """Raise censored periods (stockout) of frame (sid, t, qty, stockout) to their estimate."""
    if not frame["stockout"].any():
        return frame
    hit = frame.filter(pl.col("stockout").any().over("sid"))
    estimate = trailing_clean_mean(hit, ~pl.col("stockout"), window)
    fixed = hit.with_columns(
        qty=pl.when(pl.col("stockout"))
        .then(pl.max_horizontal(pl.col("qty"), estimate.fill_null(0.0)))
        .otherwise(pl.col("qty"))
    )
    rest = frame.filter(~pl.col("stockout").any().over("sid"))
    return pl.concat([rest, fixed]).sort("sid", "t")
