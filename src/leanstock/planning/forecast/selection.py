"""Backtest one group of series, choose its forecast, and fit it.

Per group, every candidate model is backtested on rolling origins and its errors scaled
per series (MASE, RMSSE). The candidate forecasts are then:

- the mean of the best k models (k = 1 … 4), ranked by mean (MASE + RMSSE)/2: combining
  forecasts beats choosing one (Clemen, 1989, IJF 5; M4: Makridakis et al., 2020);
- where the full pool ran, the median of ETS, CES, ARIMA and Dynamic Optimized Theta
  ("SCUM", Petropoulos & Svetunkov, 2020), robust to one member going astray;

and the group takes the one with the best backtest score. Where the full pool holds ETS
(`fixed`), the median of its members is taken without a choice: on the M1 validation
windows (docs/forecasting.md, tuning log) choosing per group by backtest lost to it, and
so did per-series weights of its members by inverse backtest MSE (`FULL_POOL_COMBINE`).
Its members are ETS, DOT, CES and CES on the logarithm (`models.LogCES`), which abstains
(NaN) on a history with a zero and is then left out (`models.ABSTAINING`).
With `selection="series"`,
each series takes its own best single model instead. The chosen forecast is recalibrated
by the Mincer–Zarnowitz slope and its quantiles are conformal (see `engine`); with
`STEP_PROFILE` on, their offsets follow the group's error growth per step (`step_profile`).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from leanstock.planning.forecast.accuracy import naive_scales, quantile_column, series_scores
from leanstock.planning.forecast.models import ABSTAINING, SCUM, short_history_models
from leanstock.planning.forecast.plans import BacktestPlan
from leanstock.planning.forecast.runner import backtest_with_ets_forms, run_statsforecast
from leanstock.planning.forecast.yearly import YearlySeason

MIN_SERIES_TO_CALIBRATE = 30
MAX_COMBINED = 4
FULL_POOL_COMBINE = "median"
"""How the full pool's members combine: "median", or "weighted" (per series, weights
inversely proportional to each member's mean squared backtest error; Bates & Granger, 1969)."""
SCORE = (pl.col("mase") + pl.col("rmsse")) / 2
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


@dataclass
class GroupResult:
    selection: pl.DataFrame  # sid, model, members(list), combine, calibration, note
    scores: pl.DataFrame  # sid, model, periods, mase, rmsse, abs_error, error, actual, [coverage]
    offsets: pl.DataFrame  # sid, per quantile the residual quantile to add, backtest_horizon
    residuals: pl.DataFrame  # sid, mse: mean squared backtest error of the chosen forecast
    points: pl.DataFrame | None = None  # sid, t, forecast (calibrated)
    poisson: bool = False
    weights: pl.DataFrame | None = None  # sid, model, weight: per-series member weights


def _combine(how: str, columns: list[str]) -> pl.Expr:
    if how == "median" and len(columns) > 1:
        return pl.concat_list(columns).list.median()
    return pl.mean_horizontal(columns)


def _choose(cv: pl.DataFrame, ranked: list[str]) -> tuple[list[str], str]:
    """The combination of the ranked models with the best backtest score."""
    options: list[tuple[list[str], str]] = [
        (ranked[:k], "mean") for k in range(1, min(MAX_COMBINED, len(ranked)) + 1)
    ]
    scum = [m for m in SCUM if m in ranked]
    if len(scum) >= 3:  # a median of two is their mean, already an option
        options.append((scum, "median"))
    best, chosen = math.inf, options[0]
    for members, how in options:
        combined = cv.with_columns(forecast=_combine(how, members))
        s = series_scores(combined, ["sid"]).select(SCORE.mean()).item()
        if s is not None and s < best - 1e-9:
            best, chosen = s, (members, how)
    return chosen


def backtest_group(
    part: pl.DataFrame,
    models: list[Any],
    plan: BacktestPlan,
    qs: tuple[float, ...],
    selection: str,
    engine: str,
    client: Any,
    n_jobs: int,
    timings: dict[str, float],
    season: YearlySeason | None = None,
    fixed: bool = False,
    ets_forms: pl.DataFrame | None = None,
    demand_class: str | None = None,
) -> GroupResult:
    """Backtest `models` on `part` (sid, t, qty, stockout) and choose the group's forecast.

    `season`, if given, multiplies back the yearly season divided out of `part`, so errors
    are scored on the scale of the demand itself. `fixed`: the full pool, whose forecast is
    the median of its SCUM members whatever the backtest says (the backtest still gives
    the quantiles and the calibration). `ets_forms` (sid, form): refit AutoETS in these
    forms in the backtest instead of searching again (`runner.backtest_with_ets_forms`).
    `demand_class`: the group's class, which decides how its quantiles are calibrated
    (`step_offsets`).
    """
    tick = time.perf_counter()
    data = part
    if plan.train_window is not None:
        keep = plan.train_window + plan.span
        data = part.filter(pl.Series(tail_mask(part["sid"].to_numpy(), keep)))
    if ets_forms is not None and engine == "local" and any(repr(m) == "AutoETS" for m in models):
        cv = backtest_with_ets_forms(
            data.select("sid", "t", "qty"),
            models,
            ets_forms,
            horizon=plan.horizon,
            n_jobs=n_jobs,
            n_windows=plan.windows,
            step_size=plan.step,
        )
    else:
        cv = run_statsforecast(
            data.select("sid", "t", "qty"),
            models,
            horizon=plan.horizon,
            engine=engine,
            client=client,
            n_jobs=n_jobs,
            n_windows=plan.windows,
            step_size=plan.step,
        )
    timings["backtest_statsforecast"] = (
        timings.get("backtest_statsforecast", 0.0) + time.perf_counter() - tick
    )
    names = [c for c in cv.columns if c not in ("sid", "t", "cutoff", "actual")]
    first_cut = cv.group_by("sid").agg(first_cut=pl.col("cutoff").min())
    scales = naive_scales(data.join(first_cut, on="sid").filter(pl.col("t") <= pl.col("first_cut")))
    uncensored = data.select("sid", "t", "stockout")
    cv = (
        cv.join(uncensored, on=["sid", "t"], how="left")
        .filter(~pl.col("stockout").fill_null(False))
        .drop("stockout")
        .with_columns(
            [
                pl.col(n).fill_nan(None).clip(lower_bound=0.0)
                if n in ABSTAINING
                else pl.col(n).fill_nan(None).fill_null(0.0).clip(lower_bound=0.0)
                for n in names
            ]
        )
    )
    if season is not None:
        factors = season.factors(cv.select("sid", "t").unique())
        cv = cv.join(factors, on=["sid", "t"], how="left").with_columns(
            [pl.col(c) * pl.col("factor").fill_null(1.0) for c in [*names, "actual"]]
        )
        cv = cv.drop("factor")
    cv = cv.join(scales, on="sid", how="left")
    long = cv.unpivot(
        index=["sid", "t", "cutoff", "actual", "scale_mae", "scale_rmse"],
        on=names,
        variable_name="model",
        value_name="forecast",
    ).filter(pl.col("forecast").is_not_null())  # an abstaining member's series
    scores = series_scores(long, ["sid", "model"])
    ranking = (
        scores.filter(SCORE.is_not_null())
        .group_by("model")
        .agg(SCORE.mean().alias("score"))
        .sort("score", "model")
    )
    ranked = ranking["model"].to_list() or names[:1]
    if fixed and len([m for m in SCUM if m in names]) > 2:
        group_members, how = [m for m in SCUM if m in names], FULL_POOL_COMBINE
    else:
        group_members, how = _choose(cv, ranked)
    sids = part.select(pl.col("sid").unique())
    if selection == "series":
        own = (
            scores.filter(SCORE.is_not_null())
            .with_columns(SCORE.alias("score"))
            .sort("sid", "score", "model")
            .group_by("sid", maintain_order=True)
            .first()
            .select("sid", pl.concat_list("model").alias("members"))
        )
        members = sids.join(own, on="sid", how="left").with_columns(
            pl.col("members").fill_null(pl.lit(group_members, dtype=pl.List(pl.String))),
            combine=pl.when(pl.col("members").is_null())
            .then(pl.lit(how))
            .otherwise(pl.lit("mean")),
        )
    else:
        members = sids.with_columns(
            members=pl.lit(group_members, dtype=pl.List(pl.String)), combine=pl.lit(how)
        )
    chosen = members.explode("members").rename({"members": "model"})
    weights = inverse_mse_weights(long) if how == "weighted" else None
    chosen = _with_weights(chosen, weights)
    combined = (
        long.join(chosen, on=["sid", "model"])
        .group_by("sid", "cutoff", "t")
        .agg(
            _combined(pl.col("forecast")),
            pl.col("actual").first(),
            pl.col("scale_mae").first(),
            pl.col("scale_rmse").first(),
        )
    )
    calibration = _calibration(combined)
    combined = combined.with_columns(pl.col("forecast") * calibration)
    pooled = CONFORMAL == "pooled" and demand_class in POOLED_CLASSES
    offsets, combined = step_offsets(combined, part, qs, plan, pooled)
    residuals = combined.group_by("sid").agg(
        mse=((pl.col("actual") - pl.col("forecast")) ** 2).mean()
    )
    step_index = pl.col("t").sub(pl.col("cutoff")).clip(1, plan.horizon).sub(1)
    with_q = combined.join(offsets.drop("backtest_horizon"), on="sid").with_columns(
        [
            (pl.col("forecast") + pl.col(quantile_column(p)).list.get(step_index))
            .clip(lower_bound=0.0)
            .alias(quantile_column(p))
            for p in qs
        ]
    )
    selected = series_scores(with_q, ["sid"], qs).with_columns(model=pl.lit("selected"))
    scores = pl.concat([scores, selected], how="diagonal")
    label = members.with_columns(
        model=pl.when(pl.col("members").list.len() == 1)
        .then(pl.col("members").list.first())
        .otherwise(pl.format("{}({})", pl.col("combine"), pl.col("members").list.join(","))),
        calibration=pl.lit(calibration),
        note=pl.lit(None, dtype=pl.String),
    )
    return GroupResult(
        selection=label, scores=scores, offsets=offsets, residuals=residuals, weights=weights
    )


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


def inverse_mse_weights(long: pl.DataFrame) -> pl.DataFrame:
    """Per series and model (sid, model, weight): 1 / mean squared backtest error.

    A member with no scored error gets its series' mean weight; a perfect member (error
    zero) is floored at 1e-9 of the series' largest error so the weights stay finite.
    """
    mse = long.group_by("sid", "model").agg(
        mse=((pl.col("actual") - pl.col("forecast")) ** 2).mean()
    )
    floor = (pl.col("mse").max().over("sid") * 1e-9).fill_null(1e-12).clip(lower_bound=1e-12)
    return mse.with_columns(weight=1.0 / pl.max_horizontal(pl.col("mse"), floor)).select(
        "sid",
        "model",
        pl.col("weight").fill_null(pl.col("weight").mean().over("sid")).fill_null(1.0),
    )


def _with_weights(chosen: pl.DataFrame, weights: pl.DataFrame | None) -> pl.DataFrame:
    """`chosen` (sid, model, combine, ...) with a weight per row, 1 where none is given."""
    if weights is None:
        return chosen.with_columns(weight=pl.lit(1.0))
    return chosen.join(weights, on=["sid", "model"], how="left").with_columns(
        pl.col("weight").fill_null(1.0)
    )


def combine_members(frame: pl.DataFrame, weights: pl.DataFrame | None) -> pl.DataFrame:
    """Member forecasts (sid, t, model, forecast, combine) combined per sid and t."""
    return (
        _with_weights(frame, weights)
        .group_by("sid", "t")
        .agg(_combined(pl.col("forecast")))
        .sort("sid", "t")
    )


def _combined(value: pl.Expr) -> pl.Expr:
    """Within a group of rows (one series and period): their median, or weighted mean."""
    weight = pl.col("weight")
    return (
        pl.when(pl.col("combine").first() == "median")
        .then(value.median())
        .otherwise((value * weight).sum() / weight.sum())
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


def series_ends(sid: np.ndarray) -> np.ndarray:
    """Index of the last row of the series each row belongs to (rows grouped by sid)."""
    change = np.flatnonzero(sid[1:] != sid[:-1])
    ends = np.append(change, sid.size - 1)
    run = np.zeros(sid.size, dtype=np.int64)
    run[change + 1] = 1
    return ends[np.cumsum(run)]


def tail_mask(sid: np.ndarray, keep: int) -> np.ndarray:
    """True on the last `keep` rows of each series."""
    return series_ends(sid) - np.arange(sid.size) < keep


def _calibration(combined: pl.DataFrame) -> float:
    usable = combined.filter(pl.col("scale_rmse") > 0)
    if usable["sid"].n_unique() < MIN_SERIES_TO_CALIBRATE:
        return 1.0
    w = 1.0 / usable["scale_rmse"].to_numpy() ** 2
    f = usable["forecast"].to_numpy()
    y = usable["actual"].to_numpy()
    denominator = float(np.sum(w * f * f))
    if denominator <= 0:
        return 1.0
    return float(np.clip(np.sum(w * f * y) / denominator, 0.5, 1.5))


def forecast_group(
    part: pl.DataFrame,
    result: GroupResult,
    horizon: int,
    engine: str,
    client: Any,
    n_jobs: int,
    models: list[Any],
    fitted: pl.DataFrame | None = None,
) -> GroupResult:
    """Fit the chosen models on the whole history of `part` and combine them as chosen.

    `fitted` (sid, t, one column per model): forecasts already made, used as they are.
    """
    wanted = set(result.selection.select(pl.col("members").explode()).to_series().to_list())
    fc = fitted
    if fc is None:
        fc = run_statsforecast(
            part.select("sid", "t", "qty"),
            [m for m in models if repr(m) in wanted],
            horizon=horizon,
            engine=engine,
            client=client,
            n_jobs=n_jobs,
        )
    names = [c for c in fc.columns if c not in ("sid", "t")]
    chosen = _with_weights(
        result.selection.select("sid", "members", "combine", "calibration")
        .explode("members")
        .rename({"members": "model"}),
        result.weights,
    )
    value = pl.col("forecast").fill_nan(0.0)
    points = (
        fc.unpivot(index=["sid", "t"], on=names, variable_name="model", value_name="forecast")
        .filter(
            ~pl.col("model").is_in(ABSTAINING) | pl.col("forecast").fill_nan(None).is_not_null()
        )
        .join(chosen, on=["sid", "model"])
        .group_by("sid", "t")
        .agg(_combined(value).clip(lower_bound=0.0) * pl.col("calibration").first())
    )
    result.points = points
    return result


def short_history_group(
    part: pl.DataFrame, horizon: int, engine: str, client: Any, n_jobs: int
) -> GroupResult:
    """New and inactive series: the mean of the short-history models, Poisson quantiles."""
    models = short_history_models()
    names = [repr(m) for m in models]
    sids = part.select(pl.col("sid").unique())
    selection = sids.with_columns(
        members=pl.lit(names, dtype=pl.List(pl.String)),
        combine=pl.lit("mean"),
        model=pl.lit(f"mean({','.join(names)})"),
        calibration=pl.lit(1.0),
        note=pl.lit(None, dtype=pl.String),
    )
    result = GroupResult(
        selection=selection,
        scores=pl.DataFrame(schema={"sid": pl.UInt32, "model": pl.String}),
        offsets=pl.DataFrame(schema={"sid": pl.UInt32}),
        residuals=pl.DataFrame(schema={"sid": pl.UInt32, "mse": pl.Float64}),
        poisson=True,
    )
    return forecast_group(part, result, horizon, engine, client, n_jobs, models=models)
