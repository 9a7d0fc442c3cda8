"""Forecast accuracy, per series and overall, as frames a service can store with a run.

- MASE  = mean|y − ŷ| / mean|y_t − y_{t−1}| over the training history
  (Hyndman & Koehler, 2006, "Another look at measures of forecast accuracy", IJF 22).
- RMSSE = sqrt(mean (y − ŷ)²) / sqrt(mean (y_t − y_{t−1})²) (the M5 measure;
  Makridakis, Spiliotis & Assimakopoulos, 2022, IJF 38). Series whose training history
  never changes have no scale and are left out of the averages of both.
- WAPE  = Σ|y − ŷ| / Σy, and bias = Σ(ŷ − y) / Σy (positive: over-forecast), pooled.
- coverage at p = share of actuals ≤ the p-quantile; calibrated quantiles have coverage ≈ p.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl


def quantile_column(p: float) -> str:
    """`q90` for 0.9, `q97.5` for 0.975."""
    return "q" + f"{p * 100:.4f}".rstrip("0").rstrip(".")


def naive_scales(history: pl.DataFrame, by: Sequence[str] = ("sid",)) -> pl.DataFrame:
    """Per series: mean absolute and root mean squared one-step naive error of qty."""
    diff = pl.col("qty").diff().over(list(by))
    return history.group_by(list(by)).agg(
        scale_mae=diff.abs().mean(), scale_rmse=(diff**2).mean().sqrt()
    )


def series_scores(
    errors: pl.DataFrame,
    by: Sequence[str],
    quantiles: Sequence[float] = (),
) -> pl.DataFrame:
    """Scores per group of `errors` (actual, forecast, scale_mae, scale_rmse, [q columns])."""
    err = pl.col("forecast") - pl.col("actual")
    aggs = [
        pl.len().alias("periods"),
        (err.abs().mean() / pl.col("scale_mae").first()).alias("mase"),
        ((err**2).mean().sqrt() / pl.col("scale_rmse").first()).alias("rmsse"),
        err.abs().sum().alias("abs_error"),
        err.sum().alias("error"),
        pl.col("actual").sum().alias("actual"),
    ]
    aggs += [
        (pl.col("actual") <= pl.col(quantile_column(p)))
        .mean()
        .alias(f"coverage_{quantile_column(p)}")
        for p in quantiles
    ]
    scores = errors.group_by(list(by)).agg(aggs)
    return scores.with_columns(
        wape=pl.when(pl.col("actual") > 0).then(pl.col("abs_error") / pl.col("actual")),
        bias=pl.when(pl.col("actual") > 0).then(pl.col("error") / pl.col("actual")),
        mase=pl.when(pl.col("mase").is_finite()).then(pl.col("mase")),
        rmsse=pl.when(pl.col("rmsse").is_finite()).then(pl.col("rmsse")),
    ).sort(list(by))


def overall_scores(
    per_series: pl.DataFrame, by: Sequence[str] = (), quantiles: Sequence[float] = ()
) -> pl.DataFrame:
    """Average MASE and RMSSE over series (scale-free), pool WAPE, bias and coverage."""
    cover = [f"coverage_{quantile_column(p)}" for p in quantiles]
    aggs = [
        pl.len().alias("series"),
        pl.col("mase").mean(),
        pl.col("rmsse").mean(),
        (pl.col("abs_error").sum() / pl.col("actual").sum()).alias("wape"),
        (pl.col("error").sum() / pl.col("actual").sum()).alias("bias"),
        *[
            (pl.col(c) * pl.col("periods")).sum()
            / pl.col("periods").filter(pl.col(c).is_not_null()).sum()
            for c in cover
        ],
    ]
    if by:
        return per_series.group_by(list(by)).agg(aggs).sort(list(by))
    return per_series.select(aggs)


def accuracy_report(
    actuals: pl.DataFrame,
    forecast: pl.DataFrame,
    history: pl.DataFrame,
    quantiles: Sequence[float] = (),
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Score a stored forecast once its actuals are known: (per series, overall).

    `actuals` and `history` have item, [location], ds, qty; `forecast` is
    `ForecastResult.forecast` (item, [location], ds, forecast, q columns).
    """
    keys = [k for k in ("item", "location") if k in forecast.columns]
    scales = naive_scales(history.sort([*keys, "ds"]), by=keys)
    qcols = [quantile_column(p) for p in quantiles]
    errors = (
        forecast.select([*keys, "ds", "forecast", *qcols])
        .join(actuals.select([*keys, "ds", pl.col("qty").alias("actual")]), on=[*keys, "ds"])
        .join(scales, on=keys, how="left")
    )
    per_series = series_scores(errors, keys, quantiles)
    return per_series, overall_scores(per_series, quantiles=quantiles)
