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
        sid = rows["sid"].to_numpy().astype(np.int64)
        t = rows["t"].to_numpy().astype(np.float64)
        size = int(max(sid.max(initial=0), int(self.sids.max() or 0))) + 1  # type: ignore[arg-type]
        factor = np.ones(sid.size)
        seasonal = np.zeros(size, dtype=bool)
        seasonal[self.sids.to_numpy()] = True
        inside = seasonal[sid]
        if not inside.any():
            return factor
        s, tt = sid[inside], t[inside]
        total = np.zeros(s.size)
        for k in range(1, HARMONICS + 1):
            angle = 2 * np.pi * k * tt / YEAR_DAYS
            for name, wave in ((f"sin{k}", np.sin), (f"cos{k}", np.cos)):
                coef = np.zeros(size)
                coef[self.sids.to_numpy()] = self.coefficients[name].to_numpy()
                total += coef[s] * wave(angle)
        factor[inside] = np.clip(1.0 + total, *_FACTOR_RANGE)
        return factor


def yearly_factors(frame: pl.DataFrame) -> YearlySeason | None:
    """The yearly shape of each daily series (sid, t, qty) of two years or more."""
    lengths = frame.group_by("sid").agg(n=pl.len())
    long = lengths.filter(pl.col("n") >= MIN_DAYS)["sid"]
    if long.len() == 0:
        return None
    weeks = (
        frame.filter(pl.col("sid").is_in(long.implode()))
        .group_by("sid", week=pl.col("t") // 7)
        .agg(qty=pl.col("qty").sum(), days=pl.len(), t=pl.col("t").mean())
        .filter(pl.col("days") == 7)
        .sort("sid", "week")
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
        pl.col("sid"), *[(pl.col(c) * pl.col("shrink")).alias(c) for c in names]
    ).sort("sid")
    return YearlySeason(coefficients)


def remove_yearly(frame: pl.DataFrame, season: YearlySeason) -> pl.DataFrame:
    """Divide each seasonal series' demand by its yearly factor."""
    factor = season._factor(frame.select("sid", "t"))
    return frame.with_columns(qty=frame["qty"] / pl.Series(factor))
