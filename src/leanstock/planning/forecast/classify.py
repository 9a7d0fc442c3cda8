"""Demand classes: which kind of series each item-location is.

Syntetos, Boylan & Croston (2005), "On the categorization of demand patterns", JORS 56:
with ADI the average inter-demand interval (periods per period with demand) and CV² the
squared coefficient of variation of the non-zero demand sizes,

    smooth        ADI < 1.32 and CV² < 0.49
    erratic       ADI < 1.32 and CV² ≥ 0.49
    intermittent  ADI ≥ 1.32 and CV² < 0.49
    lumpy         ADI ≥ 1.32 and CV² ≥ 0.49

The cut-offs are where Croston/SBA starts to beat exponential smoothing in their study.
Two classes of our own: `new` for a history too short to backtest, and `inactive` for a
series that has never sold.
"""

from __future__ import annotations

import polars as pl

ADI_CUTOFF = 1.32
CV2_CUTOFF = 0.49
CLASSES = ("smooth", "erratic", "intermittent", "lumpy", "new", "inactive")
INTERMITTENT_CLASSES = ("intermittent", "lumpy")


def classify(frame: pl.DataFrame, min_length: int) -> pl.DataFrame:
    """One row per sid: n (periods), adi, cv2, and the class.

    `frame` has sid, ds, qty, ordered by ds within sid; `min_length` is the shortest history
    the backtest can use, below which a series is `new`.
    """
    stats = frame.group_by("sid").agg(
        n=pl.len(),
        nonzero=(pl.col("qty") > 0).sum(),
        size_mean=pl.col("qty").filter(pl.col("qty") > 0).mean(),
        size_std=pl.col("qty").filter(pl.col("qty") > 0).std(ddof=0),
    )
    return (
        stats.with_columns(
            adi=pl.when(pl.col("nonzero") > 0).then(pl.col("n") / pl.col("nonzero")),
            cv2=pl.when(pl.col("nonzero") > 0)
            .then((pl.col("size_std") / pl.col("size_mean")) ** 2)
            .otherwise(None),
        )
        .with_columns(
            demand_class=pl.when(pl.col("nonzero") == 0)
            .then(pl.lit("inactive"))
            .when(pl.col("n") < min_length)
            .then(pl.lit("new"))
            .when((pl.col("adi") < ADI_CUTOFF) & (pl.col("cv2") < CV2_CUTOFF))
            .then(pl.lit("smooth"))
            .when(pl.col("adi") < ADI_CUTOFF)
            .then(pl.lit("erratic"))
            .when(pl.col("cv2") < CV2_CUTOFF)
            .then(pl.lit("intermittent"))
            .otherwise(pl.lit("lumpy"))
        )
        .select("sid", pl.col("n").cast(pl.Int64), "adi", "cv2", "demand_class")
        .sort("sid")
    )
