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
`conformal.STEP_PROFILE` on, their offsets follow the group's error growth per step
(`conformal.step_profile`); the offsets themselves are worked out in `conformal`.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from leanstock.planning.forecast import conformal
from leanstock.planning.forecast.accuracy import naive_scales, quantile_column, series_scores
from leanstock.planning.forecast.models import ABSTAINING, SCUM, short_history_models
from leanstock.planning.forecast.plans import BacktestPlan
from leanstock.planning.forecast.runner import backtest_with_ets_forms, run_statsforecast
from leanstock.planning.forecast.yearly import YearlySeason

MAX_COMBINED = 4
FULL_POOL_COMBINE = "median"
"""How the full pool's members combine: "median", or "weighted" (per series, weights
inversely proportional to each member's mean squared backtest error; Bates & Granger, 1969)."""
SCORE = (pl.col("mase") + pl.col("rmsse")) / 2


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
    pooled = conformal.CONFORMAL == "pooled" and demand_class in conformal.POOLED_CLASSES
    offsets, combined = conformal.step_offsets(combined, part, qs, plan, pooled)
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
    if usable["sid"].n_unique() < conformal.MIN_SERIES_TO_CALIBRATE:
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
