"""The yearly season of daily demand, as Fourier terms, divided out before the models run.

Daily models see a weekly season (m = 7); a year of 365.25 days is too long a season for
them. For a daily series with at least two years of history, the yearly shape is estimated
as a multiplicative factor from K = 3 pairs of Fourier terms (Harvey & Shephard, 1993;
Hyndman & Athanasopoulos, FPP3 §12.1, "dynamic harmonic regression"):

    s(t) = 1 + λ Σ_k [β_k sin(2πkt/365.25) + γ_k cos(2πkt/365.25)]

fitted to the weekly totals (which hold no weekly season) relative to their centred 52-week
moving average (the trend, as in classical decomposition), by projection on the terms.
Noisy, intermittent series would get a noisy shape, so the coefficients are shrunk towards
no season by the positive-part James–Stein factor λ = max(0, 1 − Σ se² / Σ (β² + γ²))
(Efron & Morris, 1973), se² = σ²/Σ sin² the variance of each projection: a series whose
yearly wave is lost in its noise keeps none.

The models forecast the demand divided by s(t); forecasts and backtest errors are
multiplied back by s(t), so the backtest scores the seasonal forecast. The shape is
estimated once on the whole history, so the backtest sees a season estimated with its
own window in it: a slight optimism, small next to a year of history.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

YEAR_DAYS = 365.25
MIN_DAYS = 730
HARMONICS = 3
_FACTOR_RANGE = (0.1, 10.0)


@dataclass(frozen=True)
class YearlySeason:
    """Shrunk Fourier coefficients per seasonal sid: sin_k and cos_k, k = 1 … HARMONICS."""

    coefficients: pl.DataFrame

    @property
    def sids(self) -> pl.Series:
        return self.coefficients["sid"]

    def factors(self, rows: pl.DataFrame) -> pl.DataFrame:
        """sid, t, factor for the rows (sid, t) of seasonal series; 1.0 for the others."""
        return rows.select("sid", "t").with_columns(factor=pl.Series(self._factor(rows)))

    def _factor(self, rows: pl.DataFrame) -> np.ndarray:
        """s(t) per row: a (seasonal series × periods) table from one matrix product, gathered."""
        sid = rows["sid"].to_numpy()
        factor = np.ones(sid.size)
        if sid.size == 0:
            return factor
        seasonal = self.sids.to_numpy().astype(np.int64)
        index = np.full(max(int(sid.max()), int(seasonal.max())) + 1, -1, dtype=np.int64)
        index[seasonal] = np.arange(seasonal.size)
        row_series = index[sid]
        del sid
        inside = row_series >= 0
        if not inside.any():
            return factor
        t = rows["t"].to_numpy()
        t0 = int(t[inside].min())
        days = np.arange(t0, int(t[inside].max()) + 1, dtype=np.float64)
        waves = []
        for k in range(1, HARMONICS + 1):
            angle = 2 * np.pi * k * days / YEAR_DAYS
            waves += [np.sin(angle), np.cos(angle)]
        names = [f"{w}{k}" for k in range(1, HARMONICS + 1) for w in ("sin", "cos")]
        table = self.coefficients.select(names).to_numpy() @ np.vstack(waves)
        np.clip(1.0 + table, *_FACTOR_RANGE, out=table)
        flat = row_series[inside] * days.size + (t[inside] - t0)
        factor[inside] = table.ravel()[flat]
        return factor


def yearly_factors(frame: pl.DataFrame) -> YearlySeason | None:
    """The yearly shape of each daily series (sid, t, qty) of two years or more."""
    sid = frame["sid"].to_numpy()
    if sid.size == 0:
        return None
    keep = np.bincount(sid)[sid] >= MIN_DAYS
    if not keep.any():
        return None
    sid = sid[keep]
    t = frame["t"].to_numpy()[keep].astype(np.int32)
    qty = frame["qty"].to_numpy()[keep]
    del keep
    week = t // 7
    # rows are ordered by sid then t: a week of a series is one run of rows
    starts = np.flatnonzero(np.r_[True, (sid[1:] != sid[:-1]) | (week[1:] != week[:-1])])
    counts = np.diff(np.r_[starts, sid.size])
    weeks = (
        pl.DataFrame(
            {
                "sid": sid[starts],
                "qty": np.add.reduceat(qty, starts),
                "days": counts,
                "t": np.add.reduceat(t.astype(np.float64), starts) / counts,
            }
        )
        .filter(pl.col("days") == 7)
        .with_columns(level=pl.col("qty").rolling_mean(52, center=True, min_samples=52).over("sid"))
        .filter(pl.col("level") > 0)
        .with_columns(ratio=pl.col("qty") / pl.col("level") - 1.0)
    )
    if weeks.height == 0:
        return None
    angle = 2 * np.pi * pl.col("t") / YEAR_DAYS
    terms = {}
    for k in range(1, HARMONICS + 1):
        terms[f"sin{k}"] = (angle * k).sin()
        terms[f"cos{k}"] = (angle * k).cos()
    weeks = weeks.with_columns(**terms)
    names = list(terms)
    fit = weeks.group_by("sid").agg(
        weeks=pl.len(),
        **{f"{c}_xy": (pl.col(c) * pl.col("ratio")).sum() for c in names},
        **{f"{c}_xx": (pl.col(c) ** 2).sum() for c in names},
    )
    fit = fit.filter(pl.col("weeks") >= 26).with_columns(
        **{c: pl.col(f"{c}_xy") / pl.col(f"{c}_xx") for c in names}
    )
    if fit.height == 0:
        return None
    fitted = sum((pl.col(c) * pl.col(c + "_fit") for c in names), pl.lit(0.0))
    residual = (
        weeks.join(fit.select("sid", *[pl.col(c).alias(c + "_fit") for c in names]), on="sid")
        .with_columns(fitted=fitted)
        .group_by("sid")
        .agg(sigma2=((pl.col("ratio") - pl.col("fitted")) ** 2).mean())
    )
    fit = fit.join(residual, on="sid")
    noise = sum((pl.col("sigma2") / pl.col(f"{c}_xx") for c in names), pl.lit(0.0))
    signal = sum((pl.col(c) ** 2 for c in names), pl.lit(0.0))
    shrunk = fit.with_columns(
        shrink=pl.when(signal > 0).then((1.0 - noise / signal).clip(lower_bound=0.0)).otherwise(0.0)
    ).filter(pl.col("shrink") > 0)
    if shrunk.height == 0:
        return None
    coefficients = shrunk.select(
        pl.col("sid").cast(pl.UInt32), *[(pl.col(c) * pl.col("shrink")).alias(c) for c in names]
    ).sort("sid")
    return YearlySeason(coefficients)


def remove_yearly(frame: pl.DataFrame, season: YearlySeason) -> pl.DataFrame:
    """Divide each seasonal series' demand by its yearly factor."""
    factor = season._factor(frame.select("sid", "t"))
    return frame.with_columns(qty=frame["qty"] / pl.Series(factor))
