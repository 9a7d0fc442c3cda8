"""Conformal quantile offsets of a group's chosen forecast, from its backtest residuals.

Per series and step ahead, the offset to add to the point forecast for each quantile: the
series' own residuals (`CONFORMAL = "series"`), or, for groups of a class in
POOLED_CLASSES with at least MIN_SERIES_TO_CALIBRATE series, the group's residuals scaled
per series and pooled per step ahead (`pooled_offsets`: Papadopoulos et al., 2008; Lei et
al., 2018). Every setting here was chosen on validation windows, never on a holdout
(docs/forecasting.md, the tuning log of issue 17); the options left off were tried there.
"""

from __future__ import annotations

import math

import numpy as np
import polars as pl

from leanstock.planning.forecast.accuracy import naive_scales, quantile_column
from leanstock.planning.forecast.plans import BacktestPlan

MIN_SERIES_TO_CALIBRATE = 30
STEP_PROFILE = "off"
"""Quantile offsets per step ahead (`step_profile`): "off" (one pooled offset for every
step), "full" (the step's factor) or "widen" (the step's factor, never below 1)."""
CONFORMAL = "pooled"
"""Whose residuals give a series' quantile offsets (`step_offsets`): "series" (its own),
"pooled" (the group's, scaled and per step ahead: `pooled_offsets`) for groups of a class
in POOLED_CLASSES. Pooled with the "level" scale since issue 17's fifth pass (chosen on two
validation windows, docs/forecasting.md); "series" gives the earlier intervals back."""
POOLED_CLASSES = ("smooth", "erratic")
POOLED_SCALE = "level"
"""The scale of `pooled_offsets`: "naive" (the RMSSE scale), "backtest" (the series' own
backtest RMS error), "blend" (their geometric mean), "recent" (the one-step naive RMS error
of the last SCALE_WINDOW periods before each origin: `local_scales`), "level" (the mean
absolute demand of those periods: errors of business series grow with their level, and
the level of the last two years says more of the next months than the whole history's naive
error does), "mixed" (the geometric mean of "recent" and "level")."""
SCALE_WINDOW = 24
"""Periods up to an origin that give its "recent", "level" or "mixed" scale."""
ORIGIN_WEIGHTS = "equal"
"""How the backtest origins weigh in `pooled_offsets`: "equal", or "recent" (each origin
twice the one before it: conformal under drift with fixed weights, Barber et al., 2023)."""
ADAPT_RATE = 0.0
"""γ of the adaptive conformal update of the quantile level across origins (`_adapted_level`;
Gibbs & Candès, 2021); 0: off."""
POOLED_BINS = "none"
"""Mondrian bins of the pooled offsets (`_bins`): "none", "history" (periods up to the
origin) or "volatility" (recent naive error over level)."""
BIN_COUNT = 3


def step_offsets(
    combined: pl.DataFrame,
    part: pl.DataFrame,
    qs: tuple[float, ...],
    plan: BacktestPlan,
    pooled: bool = False,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Per series, the offset to add to the forecast at each step 1 … H, per quantile.

    Returns (sid, one list of H offsets per quantile column, backtest_horizon) and
    `combined` with a `step_factor` column (the profile, for the "off"/"full"/"widen"
    settings). Each series' own residuals, pooled over the steps (times the group's
    profile, `STEP_PROFILE`); with `pooled`, the group's scaled residuals per step
    (`pooled_offsets`).
    """
    n = plan.windows * plan.horizon
    profile = step_profile(combined, plan.horizon)
    if STEP_PROFILE == "off":
        profile = [1.0] * len(profile)
    elif STEP_PROFILE == "widen":
        profile = [max(1.0, f) for f in profile]
    combined = combined.with_columns(
        step_factor=pl.col("t")
        .sub(pl.col("cutoff"))
        .clip(1, plan.horizon)
        .sub(1)
        .replace_strict(list(range(plan.horizon)), profile, return_dtype=pl.Float64)
    )
    own = combined.group_by("sid").agg(
        [
            ((pl.col("actual") - pl.col("forecast")) / pl.col("step_factor"))
            .quantile(_plotting_position(p, n), "linear")
            .alias(quantile_column(p))
            for p in qs
        ]
    )
    own = own.with_columns(
        [
            pl.concat_list([pl.col(quantile_column(p)) * f for f in profile]).alias(
                quantile_column(p)
            )
            for p in qs
        ]
    )
    offsets = pooled_offsets(combined, part, qs, plan.horizon, own) if pooled else own
    return (
        offsets.with_columns(backtest_horizon=pl.lit(plan.horizon, dtype=pl.Int64)),
        combined,
    )


def pooled_offsets(
    combined: pl.DataFrame,
    part: pl.DataFrame,
    qs: tuple[float, ...],
    horizon: int,
    own: pl.DataFrame,
) -> pl.DataFrame:
    """Conformal offsets per step ahead, pooled over the group's series and origins.

    Each backtest residual is divided by its series' scale σ (`POOLED_SCALE`: by default
    the mean absolute demand of the SCALE_WINDOW periods up to the residual's origin;
    "naive": the one-step naive RMS error of the history before the first origin);
    at step k the p-quantile of these scaled residuals over every series and origin of
    the group (rank (n_k + 1)p, Hyndman & Fan type 6) is q_k, made non-decreasing in k for
    p ≥ 0.5 (an error does not shrink with the horizon), and series i's offset at step k is
    σ_i' q_k, σ_i' the same scale at the end of its history ("naive": over all of it;
    normalised or locally weighted conformal prediction: Papadopoulos et al., 2008; Lei
    et al., 2018, §5.2). One series'
    few, strongly correlated residuals (two or three origins) say little about its tail;
    hundreds of series at one step say much. Series without a scale (a constant history),
    and groups of fewer than MIN_SERIES_TO_CALIBRATE series, keep their own offsets.
    """
    final = naive_scales(part.select("sid", "t", "qty")).select("sid", sigma="scale_rmse")
    if POOLED_SCALE == "backtest":
        spread = combined.group_by("sid").agg(
            sigma_bt=((pl.col("actual") - pl.col("forecast")) ** 2).mean().sqrt()
        )
        combined = combined.join(spread, on="sid", how="left").with_columns(
            scale_rmse=pl.col("sigma_bt")
        )
        final = spread.select("sid", sigma="sigma_bt")
    elif POOLED_SCALE == "blend":
        spread = combined.group_by("sid").agg(
            sigma_bt=((pl.col("actual") - pl.col("forecast")) ** 2).mean().sqrt()
        )
        combined = combined.join(spread, on="sid", how="left").with_columns(
            scale_rmse=(pl.col("sigma_bt") * pl.col("scale_rmse")).sqrt()
        )
        final = final.join(spread, on="sid", how="left").select(
            "sid", sigma=(pl.col("sigma") * pl.col("sigma_bt")).sqrt()
        )
    elif POOLED_SCALE in ("recent", "level", "mixed"):
        history = part.select("sid", "t", "qty")
        origins = combined.select("sid", "cutoff").unique()
        at_origin = local_scales(history, origins, SCALE_WINDOW, POOLED_SCALE)
        combined = combined.join(at_origin, on=["sid", "cutoff"], how="left").with_columns(
            scale_rmse=pl.col("local_scale").fill_null(0.0)
        )
        last = history.group_by("sid").agg(cutoff=pl.col("t").max())
        final = local_scales(history, last, SCALE_WINDOW, POOLED_SCALE).select(
            "sid", sigma="local_scale"
        )
    elif POOLED_SCALE == "fitted":
        combined, final = _fitted_scales(combined, part)
    usable = combined.filter(pl.col("scale_rmse") > 0)
    if usable["sid"].n_unique() < MIN_SERIES_TO_CALIBRATE:
        return own
    usable = usable.with_columns(
        step=pl.col("t").sub(pl.col("cutoff")).clip(1, horizon),
        z=(pl.col("actual") - pl.col("forecast")) / pl.col("scale_rmse"),
        origin=pl.col("cutoff").rank("dense").over("sid").cast(pl.Int64) - 1,
    )
    scaled = final.filter(pl.col("sigma") > 0)
    if scaled.height == 0:
        return own
    bins, final_bins = _bins(usable, scaled, part)
    step = usable["step"].to_numpy()
    z = usable["z"].to_numpy()
    origin = usable["origin"].to_numpy()
    weight = 2**origin if ORIGIN_WEIGHTS == "recent" else np.ones_like(origin)
    levels = {p: _adapted_level(p, step, z, origin, horizon) for p in qs}
    tables = {
        b: {
            quantile_column(p): _step_quantiles(
                step[bins == b], z[bins == b], weight[bins == b], levels[p], p, horizon
            )
            for p in qs
        }
        for b in np.unique(final_bins)
    }
    pooled = pl.concat(
        [
            scaled.filter(pl.Series(final_bins == b)).select(
                "sid",
                *[
                    pl.concat_list([pl.col("sigma") * v for v in table[quantile_column(p)]]).alias(
                        quantile_column(p)
                    )
                    for p in qs
                ],
            )
            for b, table in tables.items()
        ]
    )
    rest = own.join(scaled.select("sid"), on="sid", how="anti")
    return pl.concat([pooled, rest.select(pooled.columns)])


def _fitted_scales(combined: pl.DataFrame, part: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The "fitted" scale: level^b · recent^c · e^a, fitted to the group's own backtest.

    log |y − ŷ| is regressed by least squares on the log level and the log recent naive
    error of the SCALE_WINDOW periods up to each origin (`local_scales`), over the group's
    residuals, so the backtest decides how much of the width follows the level and how much
    the volatility (a fitted scale model: Lei et al., 2018, §5.2). Returns `combined` with
    that scale as `scale_rmse`, and (sid, sigma) at the end of each history.
    """
    history = part.select("sid", "t", "qty")
    origins = combined.select("sid", "cutoff").unique()
    last = history.group_by("sid").agg(cutoff=pl.col("t").max())

    def features(at: pl.DataFrame) -> pl.DataFrame:
        level = local_scales(history, at, SCALE_WINDOW, "level").rename({"local_scale": "lv"})
        recent = local_scales(history, at, SCALE_WINDOW, "recent").rename({"local_scale": "rc"})
        return level.join(recent, on=["sid", "cutoff"]).with_columns(
            x1=pl.col("lv").log(),
            x2=pl.max_horizontal(pl.col("rc"), 1e-3 * pl.col("lv")).log(),
        )

    rows = combined.join(features(origins), on=["sid", "cutoff"], how="left")
    error = (pl.col("actual") - pl.col("forecast")).abs()
    fit = rows.filter((pl.col("lv") > 0) & (error > 0)).select("x1", "x2", y=error.log())
    if fit.height < 10:
        beta = np.array([0.0, 1.0, 0.0])
    else:
        x = np.column_stack([np.ones(fit.height), fit["x1"].to_numpy(), fit["x2"].to_numpy()])
        beta = np.linalg.lstsq(x, fit["y"].to_numpy(), rcond=None)[0]

    def scale() -> pl.Expr:
        return (
            pl.when(pl.col("lv") > 0)
            .then((beta[0] + beta[1] * pl.col("x1") + beta[2] * pl.col("x2")).exp())
            .otherwise(0.0)
        )

    combined = rows.with_columns(scale_rmse=scale().fill_null(0.0)).drop("lv", "rc", "x1", "x2")
    final = features(last).select("sid", sigma=scale().fill_null(0.0))
    return combined, final


def _step_quantiles(
    step: np.ndarray,
    z: np.ndarray,
    weight: np.ndarray,
    level: float,
    p: float,
    horizon: int,
) -> list[float]:
    """Per step 1 … horizon, the `level` quantile of the scaled residuals `z` at that step.

    Each residual counts `weight` times (integer weights: `ORIGIN_WEIGHTS`); rank (n + 1)
    level (Hyndman & Fan type 6); non-decreasing in the step for p ≥ 0.5; a step without
    residuals takes the previous step's value.
    """
    values: list[float] = []
    for k in range(1, horizon + 1):
        at = step == k
        sample = np.repeat(z[at], weight[at])
        if sample.size == 0:
            q = values[-1] if values else 0.0
        else:
            q = float(np.quantile(sample, _plotting_position(level, sample.size)))
        if values and p >= 0.5:
            q = max(q, values[-1])
        values.append(q)
    return values


def _adapted_level(
    p: float, step: np.ndarray, z: np.ndarray, origin: np.ndarray, horizon: int
) -> float:
    """The quantile level after adaptive conformal updates across the backtest origins.

    Gibbs & Candès (2021), in batches: the offsets from origins 0 … j − 1 at level p_j are
    scored on origin j, and p_{j+1} = p_j + ADAPT_RATE (p − coverage_j), so a level that
    covered the next origin too little (the errors drifting up) rises. Returns p when
    ADAPT_RATE is 0 or there is one origin.
    """
    level = p
    if ADAPT_RATE <= 0:
        return level
    for j in range(1, int(origin.max(initial=0)) + 1):
        past, now = origin < j, origin == j
        if not past.any() or not now.any():
            continue
        table = _step_quantiles(
            step[past], z[past], np.ones(int(past.sum()), dtype=np.int64), level, p, horizon
        )
        covered = z[now] <= np.asarray(table)[step[now] - 1]
        level = min(0.999, max(0.001, level + ADAPT_RATE * (p - float(covered.mean()))))
    return level


def _bins(
    usable: pl.DataFrame, scaled: pl.DataFrame, part: pl.DataFrame
) -> tuple[np.ndarray, np.ndarray]:
    """Mondrian bins (`POOLED_BINS`) of each residual's origin and of each series' end.

    "history": the periods up to the origin (the end); "volatility": the one-step naive RMS
    error of the SCALE_WINDOW periods up to it over their mean absolute demand. Edges at
    the group's origins' quantiles (BIN_COUNT bins); one bin when off, or when a bin would
    hold fewer than MIN_SERIES_TO_CALIBRATE series.
    """
    one = np.zeros(usable.height, dtype=np.int64), np.zeros(scaled.height, dtype=np.int64)
    if POOLED_BINS == "none":
        return one
    history = part.select("sid", "t", "qty")
    origins = usable.select("sid", "cutoff").unique()
    last = history.group_by("sid").agg(cutoff=pl.col("t").max())
    at_origin = _feature(history, origins)
    at_end = _feature(history, last)
    edges = np.nanquantile(
        at_origin["feature"].to_numpy(), [i / BIN_COUNT for i in range(1, BIN_COUNT)]
    )
    rows = usable.select("sid", "cutoff").join(at_origin, on=["sid", "cutoff"], how="left")
    bins = np.searchsorted(edges, rows["feature"].fill_null(0.0).to_numpy(), side="right")
    ends = scaled.select("sid").join(at_end.drop("cutoff"), on="sid", how="left")
    final_bins = np.searchsorted(edges, ends["feature"].fill_null(0.0).to_numpy(), side="right")
    per_bin = (
        usable.select("sid")
        .with_columns(bin=pl.Series(bins))
        .group_by("bin")
        .agg(pl.col("sid").n_unique())
    )
    if per_bin.height < BIN_COUNT or per_bin["sid"].min() < MIN_SERIES_TO_CALIBRATE:  # type: ignore[operator]
        return one
    return bins, final_bins


def _feature(history: pl.DataFrame, origins: pl.DataFrame) -> pl.DataFrame:
    """(sid, cutoff, feature) of `POOLED_BINS` at each origin."""
    if POOLED_BINS == "history":
        first = history.group_by("sid").agg(first=pl.col("t").min())
        return origins.join(first, on="sid").select(
            "sid", "cutoff", feature=(pl.col("cutoff") - pl.col("first") + 1).cast(pl.Float64)
        )
    recent = local_scales(history, origins, SCALE_WINDOW, "recent")
    level = local_scales(history, origins, SCALE_WINDOW, "level").rename({"local_scale": "level"})
    return recent.join(level, on=["sid", "cutoff"]).select(
        "sid",
        "cutoff",
        feature=pl.when(pl.col("level") > 0)
        .then(pl.col("local_scale") / pl.col("level"))
        .otherwise(None),
    )


def local_scales(
    history: pl.DataFrame, origins: pl.DataFrame, window: int, kind: str
) -> pl.DataFrame:
    """Per origin (sid, cutoff): the scale of the `window` periods up to and including it.

    `kind` "recent": the root mean square one-step naive error qty_t − qty_{t−1} over those
    periods; "level": their mean absolute demand; "mixed": the geometric mean of both.
    Returns (sid, cutoff, local_scale).
    """
    if kind == "mixed":
        return _mixed(history, origins, window)
    earliest = origins.group_by("sid").agg(first=pl.col("cutoff").min())
    # the periods any window reads, and the one before them (the first naive step's base)
    steps = (
        history.join(earliest, on="sid")
        .filter(pl.col("t") >= pl.col("first") - window)
        .drop("first")
        .sort("sid", "t")
        .with_columns(
            value=(pl.col("qty") - pl.col("qty").shift(1).over("sid")) ** 2
            if kind == "recent"
            else pl.col("qty").abs()
        )
    )
    inside = (
        origins.join(steps, on="sid")
        .filter((pl.col("t") <= pl.col("cutoff")) & (pl.col("t") > pl.col("cutoff") - window))
        .group_by("sid", "cutoff")
        .agg(local_scale=pl.col("value").mean())
    )
    if kind == "recent":
        inside = inside.with_columns(pl.col("local_scale").sqrt())
    return origins.join(inside, on=["sid", "cutoff"], how="left")


def _mixed(history: pl.DataFrame, origins: pl.DataFrame, window: int) -> pl.DataFrame:
    a = local_scales(history, origins, window, "recent")
    b = local_scales(history, origins, window, "level").rename({"local_scale": "b"})
    return a.join(b, on=["sid", "cutoff"]).select(
        "sid", "cutoff", local_scale=(pl.col("local_scale") * pl.col("b")).sqrt()
    )


def step_profile(combined: pl.DataFrame, horizon: int) -> list[float]:
    """How the backtest error grows with the step ahead: one factor per step 1 … horizon.

    The factor at step k is the root mean square of the scaled errors (y − ŷ)/RMSSE-scale at
    step k over that of all steps, pooled over the group's series, made non-decreasing
    (a running maximum: an error does not shrink with the horizon). Offsets are conformal
    quantiles of the residuals divided by their step's factor, multiplied back by the
    factor of the step forecast (Stankeviciute et al., 2021, and Hyndman & Athanasopoulos,
    FPP3 §5.5: the spread of errors widens with the horizon, one pooled quantile is too
    wide near and too narrow far). Groups of fewer than MIN_SERIES_TO_CALIBRATE series,
    or steps without scored errors, keep the factor 1 (or the previous step's).
    """
    usable = combined.filter(pl.col("scale_rmse") > 0)
    if horizon < 2 or usable["sid"].n_unique() < MIN_SERIES_TO_CALIBRATE:
        return [1.0] * max(1, horizon)
    z2 = ((pl.col("actual") - pl.col("forecast")) / pl.col("scale_rmse")) ** 2
    overall = usable.select(z2.mean()).item()
    if overall is None or not overall > 0:
        return [1.0] * horizon
    per_step = dict(
        usable.group_by(step=pl.col("t") - pl.col("cutoff")).agg(ms=z2.mean()).iter_rows()
    )
    factors: list[float] = []
    for k in range(1, horizon + 1):
        ms = per_step.get(k)
        factor = math.sqrt(ms / overall) if ms is not None and ms > 0 else None
        previous = factors[-1] if factors else None
        if factor is None:
            factor = previous if previous is not None else 1.0
        factors.append(max(factor, previous) if previous is not None else factor)
    return factors


def _plotting_position(p: float, n: int) -> float:
    """The level that makes linear interpolation give the Weibull p-quantile.

    Of n exchangeable residuals, the order statistic at rank (n + 1)p is the one a new
    residual falls below with probability p (Hyndman & Fan, 1996, "Sample quantiles in
    statistical packages", type 6); polars interpolates at rank 1 + (n − 1)q.
    """
    if n < 2:
        return p
    return min(1.0, max(0.0, ((n + 1) * p - 1) / (n - 1)))
