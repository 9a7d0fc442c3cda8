"""ABC by value and XYZ by demand variability: which items matter, and how predictable.

ABC (Pareto): items sorted by value, largest first; an item is A while the value of the items
ranked before it is under the A threshold of the total (80% by default), B under the B
threshold (95%), C after — the few items that make most of the money get the attention
(Silver, Pyke & Thomas 2017, §2.3). XYZ: the coefficient of variation of demand per period,
CV = σ/μ, over the item's history from its first sale, periods without a sale counting as
zero; X up to 0.5 (steady), Y up to 1.0 (varying), Z above (erratic or intermittent)
(Scholz-Reiter et al. 2012, "Dynamic ABC-XYZ analysis", *Procedia CIRP* 3). Together they
say where a small buffer is safe (AX) and where just-in-time needs care (CZ, AZ).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl


@dataclass(frozen=True)
class AbcThresholds:
    """Cumulative shares of value that close classes A and B (the rest is C)."""

    a: float = 0.80
    b: float = 0.95

    def __post_init__(self) -> None:
        if not 0.0 < self.a < self.b <= 1.0:
            raise ValueError(f"ABC thresholds need 0 < A < B ≤ 1, got A {self.a}, B {self.b}")


@dataclass(frozen=True)
class XyzThresholds:
    """Coefficients of variation that close classes X and Y (the rest is Z)."""

    x: float = 0.5
    y: float = 1.0
    min_periods: int = 6
    """Fewer periods since the first sale give no class (null): too little to judge."""

    def __post_init__(self) -> None:
        if not 0.0 < self.x < self.y:
            raise ValueError(f"XYZ thresholds need 0 < X < Y, got X {self.x}, Y {self.y}")
        if self.min_periods < 2:
            raise ValueError("XYZ needs at least 2 periods to measure a spread")


def abc_classes(
    frame: pl.DataFrame,
    value: str = "value",
    keys: Sequence[str] = ("item",),
    thresholds: AbcThresholds = AbcThresholds(),
) -> pl.DataFrame:
    """ABC class per row of `frame` by its `value` column (e.g. yearly usage value).

    Returns the `keys`, `value`, `share` (of the total), `cumulative_share` (this row and those
    ranked before it) and `abc_class`, largest value first. Rows with no or negative value are
    C. Ties keep the input order.
    """
    ranked = (
        frame.select(*keys, pl.col(value).cast(pl.Float64).fill_null(0.0).clip(0.0).alias(value))
        .with_row_index("_order")
        .sort([value, "_order"], descending=[True, False])
    )
    total = float(ranked.get_column(value).sum()) or 1.0
    share = pl.col(value) / total
    before = pl.col(value).cum_sum() / total - share
    return ranked.select(
        *keys,
        value,
        share.alias("share"),
        (pl.col(value).cum_sum() / total).alias("cumulative_share"),
        pl.when((pl.col(value) > 0) & (before < thresholds.a - 1e-12))
        .then(pl.lit("A"))
        .when((pl.col(value) > 0) & (before < thresholds.b - 1e-12))
        .then(pl.lit("B"))
        .otherwise(pl.lit("C"))
        .alias("abc_class"),
    )


def xyz_classes(
    demand: pl.DataFrame,
    keys: Sequence[str] = ("item",),
    period: str = "ds",
    quantity: str = "qty",
    thresholds: XyzThresholds = XyzThresholds(),
) -> pl.DataFrame:
    """XYZ class per key from a demand history (one row per key and period with a sale).

    The periods are those present anywhere in `demand` (so every key is measured on the same
    calendar); each key is measured from its first sale to the last period, a period without
    a row counting as zero demand. Returns the `keys`, `periods`, `mean`, `sd` (sample),
    `cv` and `xyz_class` (null with fewer than `min_periods` periods).
    """
    calendar = demand.select(pl.col(period).unique().sort()).with_row_index("_p")
    last = calendar.height - 1
    per_key = (
        demand.group_by(*keys, period)
        .agg(pl.col(quantity).cast(pl.Float64).sum().alias("_q"))
        .join(calendar, on=period)
    )
    stats = per_key.group_by(*keys).agg(
        pl.col("_p").min().alias("_first"),
        pl.col("_q").sum().alias("_sum"),
        (pl.col("_q") ** 2).sum().alias("_sum2"),
    )
    n = (pl.lit(last) - pl.col("_first") + 1).cast(pl.Float64)
    mean = pl.col("_sum") / n
    var = ((pl.col("_sum2") - n * mean**2) / (n - 1)).clip(0.0)
    cv = pl.when(pl.col("mean") > 0).then(pl.col("sd") / pl.col("mean")).otherwise(None)
    return (
        stats.with_columns(
            n.cast(pl.Int64).alias("periods"),
            mean.alias("mean"),
            pl.when(n > 1).then(var.sqrt()).otherwise(None).alias("sd"),
        )
        .with_columns(cv.alias("cv"))
        .with_columns(
            pl.when(pl.col("periods") < thresholds.min_periods)
            .then(None)
            .when(pl.col("cv") <= thresholds.x)
            .then(pl.lit("X"))
            .when(pl.col("cv") <= thresholds.y)
            .then(pl.lit("Y"))
            .otherwise(pl.lit("Z"))
            .alias("xyz_class")
        )
        .select(*keys, "periods", "mean", "sd", "cv", "xyz_class")
        .sort(list(keys))
    )
