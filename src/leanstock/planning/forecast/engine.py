"""The forecasting engine: classify, backtest, choose, forecast, calibrate, reconcile.

1. Each series is classified (smooth, erratic, intermittent, lumpy; `new` when too short
   for any trend model, `inactive` when it never sold; see `plans` for the history rules).
   Daily series of two years or more have their yearly season divided out first
   (`yearly`), events their uplifts (`events`).
2. Series of one class, pool and history band form a group; every candidate model of the
   class is backtested on rolling origins over the group's own history (`BacktestPlan`),
   errors scaled per series (MASE, RMSSE). The full pool (damped ETS, Dynamic Optimized
   Theta, CES, CES on the logarithm, ARIMA with `thorough`) serves the most valuable
   smooth and erratic series whose history holds no zero, within a budget that grows with
   the catalog; the cheap pool serves the rest (`plans.full_pool`).
3. Per group, the forecast is the combination with the best backtest score, the mean of
   the best k models; where the full pool holds ETS, the median of its members without a
   choice (`selection`). The full pool fits first and its backtest refits the ETS form
   each series' final fit chose (`runner.backtest_with_ets_forms`); on Dask the backtest
   searches the forms again, so its full-pool quantiles and calibration differ slightly
   from a local run's (the point forecasts before calibration are the same).
4. The combination is recalibrated per group by the Mincer–Zarnowitz slope through the
   origin, b = Σ ŷy/s² / Σ ŷ²/s² over the backtest (s the series' RMSSE scale), so a
   forecast that has been systematically too high (obsolescent parts) or too low
   stops being so; b is used only for groups of ≥ 30 series and kept in [0.5, 1.5].
5. Where the history has locations or categories, item totals and category totals are
   forecast as series of their own and all levels are reconciled so that item-location
   forecasts add up to them (`reconcile`).
6. Quantiles are conformal from the backtest (split conformal prediction; Vovk et al.,
   2005; Angelopoulos & Bates, 2023): the p-quantile is ŷ + the p-quantile of that
   series' n backtest residuals y − ŷ, taken at rank (n + 1)p with linear interpolation
   (Hyndman & Fan, 1996, type 6), cut at zero. The stricter ⌈(n+1)p⌉/n rank of split
   conformal is not used: with count data full of zeros it over-covers (carparts:
   95.5 % at a nominal 90 %). Beyond the backtest horizon H the offsets grow as √(k/H)
   at step k, as the error of a random walk does (Hyndman & Athanasopoulos, FPP3 §5.5),
   rather than staying at the width of step H. Offsets are held per step 1 … H
   (`conformal.step_offsets`): for smooth and erratic groups of at least 30 series, the
   group's residuals per step, each scaled by its series' recent level
   (`conformal.CONFORMAL = "pooled"`, `POOLED_SCALE = "level"`); otherwise each series' own
   residuals pooled over the steps. New items, too short to backtest, get Poisson
   quantiles around their mean.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import polars as pl
from scipy.stats import poisson

from leanstock.planning.forecast.accuracy import overall_scores, quantile_column
from leanstock.planning.forecast.censor import impute_censored
from leanstock.planning.forecast.classify import classify
from leanstock.planning.forecast.events import apply_uplifts, check_calendar, remove_uplifts
from leanstock.planning.forecast.models import candidates
from leanstock.planning.forecast.plans import (
    MIN_LIKELIHOOD_TRAIN,
    MIN_NEW_LENGTH,
    backtest_plan,
    full_pool,
    length_bands,
    new_length,
    short_plan,
)
from leanstock.planning.forecast.prepare import (
    ForecastInputError,
    check_freq,
    check_horizon,
    prepare,
)
from leanstock.planning.forecast.quantiles import DEFAULT_QUANTILES
from leanstock.planning.forecast.reconcile import Hierarchy, add_aggregates, reconcile, sum_up
from leanstock.planning.forecast.runner import (
    ENGINES,
    dask_client,
    fit_with_ets_forms,
    require_dask,
)
from leanstock.planning.forecast.selection import (
    GroupResult,
    backtest_group,
    forecast_group,
    short_history_group,
)
from leanstock.planning.forecast.yearly import remove_yearly, yearly_factors
from leanstock.planning.periods import PERIODS

Progress = Callable[[str, int, int], None]
FULL_POOL_WINDOWS = 2
"""Backtest origins of the full pool: one fit fewer per series than the cheap pool's three."""


@dataclass(frozen=True)
class ForecastResult:
    """Frames of one forecast run.

    forecast: item, [location], ds, forecast, one column per quantile (q50, q90, ...),
      demand_class, model; reconciled where there is a hierarchy. accuracy: backtest scores
      per item-location and model (periods, mase, rmsse, wape, bias, coverage_q.. for the
      selected forecast, model "selected"). accuracy_overall: the same per model, averaged
      over series. selection: per item-location, demand_class, model (e.g.
      "median(AutoETS,CES,AutoARIMA,DynamicOptimizedTheta)"), calibration (b) and note.
      classes: item, [location], n, adi, cv2, demand_class, seasonal, pool.
      events: name, uplift, source. aggregates: level ("item" or "category"), item,
      category, ds, forecast, quantile columns: the reconciled totals the item-location
      forecasts add up to (empty without a hierarchy).
    """

    forecast: pl.DataFrame
    accuracy: pl.DataFrame
    accuracy_overall: pl.DataFrame
    selection: pl.DataFrame
    classes: pl.DataFrame
    events: pl.DataFrame
    quantiles: tuple[float, ...]
    timings: dict[str, float] = field(default_factory=dict)
    aggregates: pl.DataFrame = field(default_factory=pl.DataFrame)


def check_quantiles(quantiles: Sequence[float]) -> tuple[float, ...]:
    qs = tuple(sorted({float(q) for q in quantiles}))
    if not qs or any(not 0 < q < 1 for q in qs):
        raise ForecastInputError(f"Quantiles must lie strictly between 0 and 1, not {quantiles}.")
    return qs


def forecast(
    history: pl.DataFrame,
    horizon: int,
    freq: str = "D",
    quantiles: Sequence[float] = DEFAULT_QUANTILES,
    events: pl.DataFrame | None = None,
    engine: str = "local",
    scheduler: str | None = None,
    thorough: bool = False,
    progress: Progress | None = None,
    selection: str = "class",
    n_jobs: int = -1,
    reconciled: bool = True,
) -> ForecastResult:
    """Forecast every item-location of `history` `horizon` periods ahead.

    history: item, [location], ds (period start), qty ≥ 0, [stockout] (bool: demand
    censored), [category] (for event calendars and the hierarchy). events: name, start,
    end, [items], [categories], [uplift]. `thorough` gives every smooth and erratic series
    the full pool; `reconciled=False` skips the hierarchy. See the module docstring.
    """
    code = check_freq(freq)
    check_horizon(horizon)
    qs = check_quantiles(quantiles)
    if engine not in ENGINES:
        raise ForecastInputError(f"Unknown engine {engine!r}: use local or dask.")
    if engine == "dask":
        require_dask()
    if selection not in ("class", "series"):
        raise ForecastInputError(f"Unknown selection {selection!r}: use class or series.")
    calendar = check_calendar(events) if events is not None else None
    report = progress or (lambda _stage, _done, _total: None)
    timings: dict[str, float] = {}
    started = time.perf_counter()

    prep = prepare(history, code)
    timings["validate"] = time.perf_counter() - started
    frame = prep.frame
    key_columns, m = prep.key_columns, prep.season_length
    window = 28 if code == "D" else 6
    tick = time.perf_counter()
    frame = impute_censored(frame, window=window)
    timings["censoring"] = time.perf_counter() - tick
    tick = time.perf_counter()
    frame, uplifts = remove_uplifts(frame, prep.keys, calendar, code, window)
    keys = prep.keys
    del prep  # its frame is the unadjusted history: let it go
    timings["events"] = time.perf_counter() - tick
    tick = time.perf_counter()
    hierarchy: Hierarchy | None = None
    if reconciled:
        frame, keys, hierarchy = add_aggregates(frame, keys, key_columns, code)
    timings["hierarchy"] = time.perf_counter() - tick
    tick = time.perf_counter()
    season = yearly_factors(frame) if code == "D" else None
    if season is not None:
        frame = remove_yearly(frame, season)
    timings["yearly"] = time.perf_counter() - tick
    tick = time.perf_counter()
    plan = backtest_plan(code, horizon, thorough)
    classes = _classes(frame, code, plan, new_length(horizon, m), m, thorough)
    timings["classify"] = time.perf_counter() - tick
    tick = time.perf_counter()

    last = _last_periods(frame)
    group_of_row = classes["group"].to_numpy()[frame["sid"].to_numpy()]
    parts = (
        frame.drop("ds")
        .with_columns(group=pl.Series(group_of_row))
        .partition_by("group", as_dict=True, include_key=False)
    )
    del frame, group_of_row
    timings["split"] = time.perf_counter() - tick
    backtested = (
        classes.filter(pl.col("group") >= 0)
        .group_by("group")
        .agg(pl.col("demand_class", "seasonal", "pool", "band").first())
        .sort("group")
    )
    with dask_client(scheduler) if engine == "dask" else nullcontext() as client:
        total = backtested.height * 2 + 1
        report("forecast", 0, total)
        pieces: list[GroupResult] = []
        done = 0
        for row in backtested.iter_rows(named=True):
            part = parts.pop((row["group"],))
            label = f"{row['demand_class']}{' seasonal' if row['seasonal'] else ''}"
            full = row["pool"] == "full"
            models = candidates(row["demand_class"], code, m, row["seasonal"], full, thorough)
            group_plan = short_plan(
                plan, row["band"], MIN_LIKELIHOOD_TRAIN if full else MIN_NEW_LENGTH
            )
            if full:
                group_plan = replace(group_plan, windows=min(group_plan.windows, FULL_POOL_WINDOWS))
            try:
                tick = time.perf_counter()
                fitted, forms = None, None
                if full and engine == "local" and any(repr(x) == "AutoETS" for x in models):
                    # the final fit first: the backtest refits the ETS forms it chose
                    fitted, forms = fit_with_ets_forms(
                        part.select("sid", "t", "qty"), models, horizon=horizon, n_jobs=n_jobs
                    )
                timings["fit"] = timings.get("fit", 0.0) + time.perf_counter() - tick
                tick = time.perf_counter()
                result = backtest_group(
                    part,
                    models,
                    group_plan,
                    qs,
                    selection,
                    engine,
                    client,
                    n_jobs,
                    timings,
                    season=season,
                    fixed=full,
                    ets_forms=forms,
                    demand_class=row["demand_class"],
                )
                timings["backtest"] = timings.get("backtest", 0.0) + time.perf_counter() - tick
                done += 1
                report(f"backtest {label}", done, total)
                tick = time.perf_counter()
                result = forecast_group(
                    part, result, horizon, engine, client, n_jobs, models, fitted=fitted
                )
                timings["fit"] = timings.get("fit", 0.0) + time.perf_counter() - tick
            except Exception as exc:
                done += 1
                result = short_history_group(part, horizon, engine, client, n_jobs)
                result.selection = result.selection.with_columns(
                    note=pl.lit(f"fell back to short-history models: {exc}")
                )
            done += 1
            report(f"forecast {label}", done, total)
            pieces.append(result)

        if (-1,) in parts:
            part = parts.pop((-1,))
            pieces.append(short_history_group(part, horizon, engine, client, n_jobs))
        report("forecast", total, total)

    tick = time.perf_counter()
    points = pl.concat([p.points for p in pieces if p.points is not None])
    if season is not None:
        points = points.join(season.factors(points.select("sid", "t")), on=["sid", "t"]).select(
            "sid", "t", forecast=pl.col("forecast") * pl.col("factor")
        )
    if hierarchy is not None:
        variance = pl.concat([_variance(p) for p in pieces])
        points = reconcile(points, hierarchy, variance)
    timings["reconcile"] = time.perf_counter() - tick
    tick = time.perf_counter()

    def adjust(points: pl.DataFrame) -> pl.DataFrame:
        points = apply_uplifts(points, keys, calendar, uplifts, code, qs)
        return points if hierarchy is None else sum_up(points, hierarchy, qs)

    n_bottom = None if hierarchy is None else hierarchy.n_bottom
    out = _assemble(pieces, points, last, classes, keys, key_columns, code, qs, adjust, n_bottom)
    if hierarchy is not None:
        out = _split_levels(out, hierarchy, key_columns, qs)
    timings["assemble"] = time.perf_counter() - tick
    timings["total"] = time.perf_counter() - started
    return ForecastResult(
        forecast=out["forecast"],
        accuracy=out["accuracy"],
        accuracy_overall=out["accuracy_overall"],
        selection=out["selection"],
        classes=out["classes"],
        events=uplifts,
        quantiles=qs,
        timings=timings,
        aggregates=out.get("aggregates", pl.DataFrame()),
    )


def _classes(
    frame: pl.DataFrame, code: str, plan: Any, new: int, season: int, thorough: bool
) -> pl.DataFrame:
    """Class, history band, seasonality, pool and backtest group (−1: no backtest) per sid."""
    classes = classify(frame, new)
    bands = classes.select(band=length_bands(pl.col("n"), plan, new))["band"].unique().to_list()
    spans = pl.DataFrame(
        {"band": bands, "span": [short_plan(plan, b).span for b in bands]},
        schema={"band": pl.Int64, "span": pl.Int64},
    )
    recent = PERIODS[code].per_year
    value = frame.group_by("sid").agg(value=pl.col("qty").tail(recent).sum())
    classes = (
        classes.with_columns(band=length_bands(pl.col("n"), plan, new))
        .join(spans, on="band", how="left")
        .join(value, on="sid", how="left")
        .with_columns(
            seasonal=pl.when(pl.col("band") >= plan.min_length)
            .then(pl.col("n") - plan.span >= 2 * season)
            .otherwise(pl.col("band") - pl.col("span") >= 2 * season)
        )
    )
    classes = classes.with_columns(
        pool=pl.when(full_pool(classes, thorough)).then(pl.lit("full")).otherwise(pl.lit("cheap"))
    )
    short = pl.col("demand_class").is_in(["new", "inactive"])
    key = pl.when(~short).then(pl.struct("demand_class", "seasonal", "pool", "band"))
    return classes.with_columns(group=(key.rank("dense").cast(pl.Int64) - 1).fill_null(-1)).sort(
        "sid"
    )


def _variance(piece: GroupResult) -> pl.DataFrame:
    """Per sid, the forecast error variance reconciliation weighs by.

    The mean squared backtest error of the chosen forecast; for new series (no backtest)
    the Poisson variance, their mean.
    """
    if piece.poisson or piece.residuals.height == 0:
        assert piece.points is not None
        return piece.points.group_by("sid").agg(variance=pl.col("forecast").mean())
    return piece.residuals.select("sid", variance=pl.col("mse"))


def _last_periods(frame: pl.DataFrame) -> pl.DataFrame:
    sid = frame["sid"].to_numpy()
    ends = np.append(np.flatnonzero(sid[1:] != sid[:-1]), sid.size - 1)
    return frame[ends].select("sid", t_last=pl.col("t"), ds_last=pl.col("ds"))


def _assemble(
    pieces: list[GroupResult],
    points: pl.DataFrame,
    last: pl.DataFrame,
    classes: pl.DataFrame,
    keys: pl.DataFrame,
    key_columns: tuple[str, ...],
    code: str,
    qs: tuple[float, ...],
    adjust: Callable[[pl.DataFrame], pl.DataFrame],
    n_bottom: int | None = None,
) -> dict[str, pl.DataFrame]:
    """Quantiles around the (reconciled) points, dates, events, and the output frames."""
    qcols = [quantile_column(p) for p in qs]
    poisson_sids = pl.concat(
        [p.selection.select("sid") for p in pieces if p.poisson]
        or [pl.DataFrame(schema={"sid": pl.UInt32})]
    )
    offsets = pl.concat(
        [p.offsets for p in pieces if not p.poisson]
        or [
            pl.DataFrame(
                schema={"sid": pl.UInt32, "backtest_horizon": pl.Int64}
                | dict.fromkeys(qcols, pl.List(pl.Float64))
            )
        ],
        how="diagonal",
    )
    by_poisson = points.join(poisson_sids, on="sid", how="semi")
    rest = points.join(poisson_sids, on="sid", how="anti")
    mean = by_poisson["forecast"].to_numpy()
    by_poisson = by_poisson.with_columns(
        [
            pl.Series(c, poisson.ppf(p, np.maximum(mean, 1e-12)).astype(float))
            for c, p in zip(qcols, qs, strict=True)
        ]
    )
    # offsets hold one value per backtest step 1 … H; beyond H, step H's grows as √(k/H)
    step = pl.col("t") - pl.col("t_last")
    bt = pl.col("backtest_horizon")
    growth = pl.when(step > bt).then((step / bt).sqrt()).otherwise(1.0).fill_null(1.0)
    index = (pl.min_horizontal(step, bt) - 1).clip(lower_bound=0)
    rest = (
        rest.join(offsets.select("sid", "backtest_horizon", *qcols), on="sid", how="left")
        .join(last.select("sid", "t_last"), on="sid", how="left")
        .with_columns(
            [
                (
                    pl.col("forecast")
                    + pl.col(c).list.get(index, null_on_oob=True).fill_null(0.0) * growth
                )
                .clip(lower_bound=0.0)
                .alias(c)
                for c in qcols
            ]
        )
    )
    columns = ["sid", "t", "forecast", *qcols]
    points = pl.concat([by_poisson.select(columns), rest.select(columns)])
    if qcols:
        running = [pl.max_horizontal(qcols[: i + 1]).alias(c) for i, c in enumerate(qcols)]
        points = points.with_columns(running)
    unit = PERIODS[code].unit
    points = points.join(last, on="sid").with_columns(
        ds=pl.col("ds_last").dt.offset_by(pl.format("{}" + unit, pl.col("t") - pl.col("t_last")))
    )
    points = adjust(points)
    selection = pl.concat([p.selection for p in pieces], how="diagonal").join(
        classes.select("sid", "demand_class"), on="sid"
    )
    extra = [] if n_bottom is None else ["__total"]

    def flag(frame: pl.DataFrame) -> pl.DataFrame:
        return frame if n_bottom is None else frame.with_columns(__total=pl.col("sid") >= n_bottom)

    forecast_frame = (
        flag(points.join(selection.select("sid", "demand_class", "model"), on="sid"))
        .join(keys, on="sid")
        .sort("sid", "t")
        .select(*key_columns, "ds", "forecast", *qcols, "demand_class", "model", *extra)
    )
    scored = [p.scores for p in pieces if p.scores.height]
    scores = pl.concat(scored, how="diagonal") if scored else pl.DataFrame()
    if scores.height == 0:
        scores = pl.DataFrame(
            schema={
                "sid": pl.UInt32,
                "model": pl.String,
                "periods": pl.UInt32,
                "mase": pl.Float64,
                "rmsse": pl.Float64,
                "abs_error": pl.Float64,
                "error": pl.Float64,
                "actual": pl.Float64,
                "wape": pl.Float64,
                "bias": pl.Float64,
            }
        )
    cover = [f"coverage_{c}" for c in qcols]
    for c in cover:
        if c not in scores.columns:
            scores = scores.with_columns(pl.lit(None, dtype=pl.Float64).alias(c))
    bottom = scores if n_bottom is None else scores.filter(pl.col("sid") < n_bottom)
    overall = overall_scores(bottom, by=["model"], quantiles=qs)
    accuracy = (
        flag(scores)
        .join(keys, on="sid")
        .sort("sid", "model")
        .select(*key_columns, "model", "periods", "mase", "rmsse", "wape", "bias", *cover, *extra)
    )
    selection_frame = (
        flag(selection)
        .join(keys, on="sid")
        .sort("sid")
        .select(*key_columns, "demand_class", "model", "calibration", "note", *extra)
    )
    class_frame = (
        flag(classes)
        .join(keys, on="sid")
        .sort("sid")
        .select(*key_columns, "n", "adi", "cv2", "demand_class", "seasonal", "pool", *extra)
    )
    return {
        "points": points,
        "forecast": forecast_frame,
        "accuracy": accuracy,
        "accuracy_overall": overall,
        "selection": selection_frame,
        "classes": class_frame,
    }


def _split_levels(
    out: dict[str, pl.DataFrame],
    hierarchy: Hierarchy,
    key_columns: tuple[str, ...],
    qs: tuple[float, ...],
) -> dict[str, pl.DataFrame]:
    """Keep item-locations in the main frames; the reconciled totals go to `aggregates`."""
    qcols = [quantile_column(p) for p in qs]
    split = dict(out)
    total = pl.col("__total")
    del key_columns
    for name in ("forecast", "accuracy", "selection", "classes"):
        split[name] = out[name].filter(~total).drop("__total")
    split["aggregates"] = (
        out["points"]
        .join(hierarchy.nodes.select("sid", "level", "item", "category"), on="sid")
        .sort("level", "item", "category", "t", nulls_last=True)
        .select("level", "item", "category", "ds", "forecast", *qcols)
    )
    return split
