"""The forecasting engine: classify, backtest, choose, forecast, calibrate.

1. Each series is classified (smooth, erratic, intermittent, lumpy, new, inactive).
2. Series of one class (and with enough history for seasonal models, or not) form a
   group; every candidate model of the class is backtested on a rolling origin over the
   group's own history (`BacktestPlan`), errors scaled per series (MASE, RMSSE).
3. Per group, the models are ranked by mean (MASE + RMSSE)/2 and the point forecast is the
   mean of the best k, k chosen by the same backtest: combining forecasts beats choosing
   one (Clemen, 1989, IJF 5; M4: Makridakis et al., 2020). With `selection="series"`,
   each series takes its own best single model instead.
4. The combination is recalibrated per group by the Mincer–Zarnowitz slope through the
   origin, b = Σ ŷy/s² / Σ ŷ²/s² over the backtest (s the series' RMSSE scale), so a
   forecast that has been systematically too high (obsolescent parts) or too low
   stops being so; b is used only for groups of ≥ 30 series and kept in [0.5, 1.5].
5. Quantiles are conformal from the backtest (split conformal prediction; Vovk et al.,
   2005; Angelopoulos & Bates, 2023): the p-quantile is ŷ + the p-quantile of that
   series' n backtest residuals y − ŷ, taken at rank (n + 1)p with linear interpolation
   (Hyndman & Fan, 1996, type 6), cut at zero. The stricter ⌈(n+1)p⌉/n rank of split
   conformal is not used: with count data full of zeros it over-covers (carparts:
   95.5 % at a nominal 90 %). New items, too short to backtest, get Poisson quantiles
   around their mean.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl
from scipy.stats import poisson

from leanstock.planning.forecast.accuracy import (
    naive_scales,
    overall_scores,
    quantile_column,
    series_scores,
)
from leanstock.planning.forecast.censor import impute_censored
from leanstock.planning.forecast.classify import classify
from leanstock.planning.forecast.events import apply_uplifts, check_calendar, remove_uplifts
from leanstock.planning.forecast.models import candidates, short_history_models
from leanstock.planning.forecast.prepare import (
    ForecastInputError,
    check_freq,
    check_horizon,
    prepare,
)
from leanstock.planning.forecast.runner import ENGINES, dask_client, run_statsforecast

DEFAULT_QUANTILES: tuple[float, ...] = (0.5, 0.8, 0.9, 0.95, 0.99)
Progress = Callable[[str, int, int], None]
MIN_SERIES_TO_CALIBRATE = 30
MAX_COMBINED = 4
_PERIOD_UNIT = {"D": "d", "W": "w", "M": "mo"}


@dataclass(frozen=True)
class BacktestPlan:
    """Rolling-origin windows: `windows` origins `step` apart, each forecasting `horizon`.

    `min_train` is the shortest training history; `train_window` (if set) caps the
    history each backtest fit sees, which keeps daily backtests cheap.
    """

    horizon: int
    windows: int
    step: int
    min_train: int
    train_window: int | None

    @property
    def span(self) -> int:
        return self.horizon + (self.windows - 1) * self.step

    @property
    def min_length(self) -> int:
        return self.min_train + self.span


def backtest_plan(freq: str, horizon: int, thorough: bool) -> BacktestPlan:
    """Backtest windows per frequency, sized to the forecast horizon (capped).

    Monthly: three origins six months apart, 12 months ahead (36 residuals per series);
    weekly: three origins, 13 weeks ahead. Daily: one origin, the last 28 days, each fit
    seeing only the 26 weeks before it: on 30,490 × 1,941 days this keeps the backtest
    near the cost of the final fit; `thorough` uses two origins and the full history.
    Horizons beyond the backtest horizon reuse its residuals for their quantiles.
    """
    if freq == "M":
        h = min(horizon, 12)
        return BacktestPlan(h, 3, max(1, h // 2), 12, None)
    if freq == "W":
        h = min(horizon, 13)
        return BacktestPlan(h, 3, max(1, h // 2), 13, None)
    h = min(horizon, 28)
    if thorough:
        return BacktestPlan(h, 2, h, 56, None)
    return BacktestPlan(h, 1, h, 56, 182)


@dataclass(frozen=True)
class ForecastResult:
    """Frames of one forecast run.

    forecast: item, [location], ds, forecast, one column per quantile (q50, q90, ...),
      demand_class, model. accuracy: backtest scores per item-location and model
      (periods, mase, rmsse, wape, bias, coverage_q.. for the selected forecast, model
      "selected"). accuracy_overall: the same per model, averaged over series.
      selection: per item-location, demand_class, model (e.g. "mean(ADIDA,TSB)"),
      calibration (b) and note. classes: item, [location], n, adi, cv2, demand_class.
      events: name, uplift, source.
    """

    forecast: pl.DataFrame
    accuracy: pl.DataFrame
    accuracy_overall: pl.DataFrame
    selection: pl.DataFrame
    classes: pl.DataFrame
    events: pl.DataFrame
    quantiles: tuple[float, ...]
    timings: dict[str, float] = field(default_factory=dict)


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
) -> ForecastResult:
    """Forecast every item-location of `history` `horizon` periods ahead.

    history: item, [location], ds (period start), qty ≥ 0, [stockout] (bool: demand
    censored), [category] (for event calendars). events: name, start, end, [items],
    [categories], [uplift]. See the module docstring for the method.
    """
    code = check_freq(freq)
    check_horizon(horizon)
    qs = check_quantiles(quantiles)
    if engine not in ENGINES:
        raise ForecastInputError(f"Unknown engine {engine!r}: use local or dask.")
    if selection not in ("class", "series"):
        raise ForecastInputError(f"Unknown selection {selection!r}: use class or series.")
    calendar = check_calendar(events) if events is not None else None
    report = progress or (lambda _stage, _done, _total: None)
    timings: dict[str, float] = {}
    started = time.perf_counter()

    prep = prepare(history, code)
    timings["validate"] = time.perf_counter() - started
    frame = prep.frame
    window = 28 if code == "D" else 6
    tick = time.perf_counter()
    frame = impute_censored(frame, window=window)
    timings["censoring"] = time.perf_counter() - tick
    tick = time.perf_counter()
    frame, uplifts = remove_uplifts(frame, prep.keys, calendar, code, window)
    timings["events"] = time.perf_counter() - tick
    tick = time.perf_counter()
    plan = backtest_plan(code, horizon, thorough)
    classes = classify(frame, plan.min_length).with_columns(
        seasonal=(pl.col("n") - plan.span) >= 2 * prep.season_length
    )
    timings["classify"] = time.perf_counter() - tick
    tick = time.perf_counter()

    last = _last_periods(frame)
    groups = (
        classes.with_columns(
            short=pl.col("demand_class").is_in(["new", "inactive"]),
            group=pl.struct("demand_class", "seasonal").rank("dense").cast(pl.Int64) - 1,
        )
        .with_columns(group=pl.when(pl.col("short")).then(-1).otherwise(pl.col("group")))
        .sort("sid")
    )
    group_of_row = groups["group"].to_numpy()[frame["sid"].to_numpy()]
    parts = (
        frame.drop("ds")
        .with_columns(group=pl.Series(group_of_row))
        .partition_by("group", as_dict=True, include_key=False)
    )
    del frame, group_of_row
    timings["split"] = time.perf_counter() - tick
    backtested = (
        groups.filter(~pl.col("short"))
        .group_by("group")
        .agg(pl.col("demand_class").first(), pl.col("seasonal").first())
        .sort("group")
    )
    with dask_client(scheduler) if engine == "dask" else nullcontext() as client:
        total = backtested.height * 2 + 1
        report("forecast", 0, total)
        pieces: list[_GroupResult] = []
        done = 0
        for row in backtested.iter_rows(named=True):
            part = parts.pop((row["group"],))
            label = f"{row['demand_class']}{' seasonal' if row['seasonal'] else ''}"
            models = candidates(
                row["demand_class"], code, prep.season_length, row["seasonal"], thorough
            )
            try:
                tick = time.perf_counter()
                result = _backtest_group(
                    part, models, plan, qs, selection, engine, client, n_jobs, timings
                )
                timings["backtest"] = timings.get("backtest", 0.0) + time.perf_counter() - tick
                done += 1
                report(f"backtest {label}", done, total)
                tick = time.perf_counter()
                result = _forecast_group(
                    part, result, horizon, qs, engine, client, n_jobs, models=models
                )
                timings["fit"] = timings.get("fit", 0.0) + time.perf_counter() - tick
            except Exception as exc:
                done += 1
                result = _short_history_group(part, horizon, qs, engine, client, n_jobs)
                result.selection = result.selection.with_columns(
                    note=pl.lit(f"fell back to short-history models: {exc}")
                )
            done += 1
            report(f"forecast {label}", done, total)
            pieces.append(result)

        if (-1,) in parts:
            part = parts.pop((-1,))
            pieces.append(_short_history_group(part, horizon, qs, engine, client, n_jobs))
        report("forecast", total, total)

    tick = time.perf_counter()

    def adjust(points: pl.DataFrame) -> pl.DataFrame:
        return apply_uplifts(points, prep.keys, calendar, uplifts, code, qs)

    out = _assemble(pieces, last, classes, prep.keys, prep.key_columns, code, qs, adjust)
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
    )


@dataclass
class _GroupResult:
    selection: pl.DataFrame  # sid, model, members(list), calibration, note
    scores: pl.DataFrame  # sid, model, periods, mase, rmsse, abs_error, error, actual, [coverage]
    offsets: pl.DataFrame  # sid, one column per quantile: residual quantile to add
    points: pl.DataFrame | None = None  # sid, t, forecast (calibrated)
    poisson: bool = False


def _backtest_group(
    part: pl.DataFrame,
    models: list[Any],
    plan: BacktestPlan,
    qs: tuple[float, ...],
    selection: str,
    engine: str,
    client: Any,
    n_jobs: int,
    timings: dict[str, float],
) -> _GroupResult:
    tick = time.perf_counter()
    data = part
    if plan.train_window is not None:
        keep = plan.train_window + plan.span
        data = part.filter(pl.Series(_tail_mask(part["sid"].to_numpy(), keep)))
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
            [pl.col(n).fill_nan(None).fill_null(0.0).clip(lower_bound=0.0) for n in names]
        )
        .join(scales, on="sid", how="left")
    )
    long = cv.unpivot(
        index=["sid", "t", "cutoff", "actual", "scale_mae", "scale_rmse"],
        on=names,
        variable_name="model",
        value_name="forecast",
    )
    scores = series_scores(long, ["sid", "model"])
    score = (pl.col("mase") + pl.col("rmsse")) / 2
    ranking = (
        scores.filter(score.is_not_null())
        .group_by("model")
        .agg(score.mean().alias("score"))
        .sort("score", "model")
    )
    ranked = ranking["model"].to_list() or names[:1]
    best_k, best = 1, math.inf
    for k in range(1, min(MAX_COMBINED, len(ranked)) + 1):
        combined = cv.with_columns(forecast=pl.mean_horizontal(ranked[:k]))
        s = series_scores(combined, ["sid"]).select(score.mean()).item()
        if s is not None and s < best - 1e-9:
            best_k, best = k, s
    group_members = ranked[:best_k]
    sids = part.select(pl.col("sid").unique())
    if selection == "series":
        own = (
            scores.filter(score.is_not_null())
            .with_columns(score.alias("score"))
            .sort("sid", "score", "model")
            .group_by("sid", maintain_order=True)
            .first()
            .select(
                "sid",
                pl.col("model")
                .map_elements(lambda m: [m], return_dtype=pl.List(pl.String))
                .alias("members"),
            )
        )
        members = sids.join(own, on="sid", how="left").with_columns(
            pl.col("members").fill_null(pl.lit(group_members, dtype=pl.List(pl.String)))
        )
    else:
        members = sids.with_columns(members=pl.lit(group_members, dtype=pl.List(pl.String)))
    chosen = members.explode("members").rename({"members": "model"})
    combined = (
        long.join(chosen, on=["sid", "model"])
        .group_by("sid", "cutoff", "t")
        .agg(
            pl.col("forecast").mean(),
            pl.col("actual").first(),
            pl.col("scale_mae").first(),
            pl.col("scale_rmse").first(),
        )
    )
    calibration = _calibration(combined)
    combined = combined.with_columns(pl.col("forecast") * calibration)
    n = plan.windows * plan.horizon
    offsets = combined.group_by("sid").agg(
        [
            (pl.col("actual") - pl.col("forecast"))
            .quantile(_plotting_position(p, n), "linear")
            .alias(quantile_column(p))
            for p in qs
        ]
    )
    with_q = combined.join(offsets, on="sid").with_columns(
        [
            (pl.col("forecast") + pl.col(quantile_column(p)))
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
        .otherwise(pl.format("mean({})", pl.col("members").list.join(","))),
        calibration=pl.lit(calibration),
        note=pl.lit(None, dtype=pl.String),
    )
    return _GroupResult(selection=label, scores=scores, offsets=offsets)


def _plotting_position(p: float, n: int) -> float:
    """The level that makes linear interpolation give the Weibull p-quantile.

    Of n exchangeable residuals, the order statistic at rank (n + 1)p is the one a new
    residual falls below with probability p (Hyndman & Fan, 1996, "Sample quantiles in
    statistical packages", type 6); polars interpolates at rank 1 + (n − 1)q.
    """
    if n < 2:
        return p
    return min(1.0, max(0.0, ((n + 1) * p - 1) / (n - 1)))


def _series_ends(sid: np.ndarray) -> np.ndarray:
    """Index of the last row of the series each row belongs to (rows grouped by sid)."""
    change = np.flatnonzero(sid[1:] != sid[:-1])
    ends = np.append(change, sid.size - 1)
    run = np.zeros(sid.size, dtype=np.int64)
    run[change + 1] = 1
    return ends[np.cumsum(run)]


def _tail_mask(sid: np.ndarray, keep: int) -> np.ndarray:
    """True on the last `keep` rows of each series."""
    return _series_ends(sid) - np.arange(sid.size) < keep


def _last_periods(frame: pl.DataFrame) -> pl.DataFrame:
    sid = frame["sid"].to_numpy()
    ends = np.append(np.flatnonzero(sid[1:] != sid[:-1]), sid.size - 1)
    return frame[ends].select("sid", t_last=pl.col("t"), ds_last=pl.col("ds"))


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


def _forecast_group(
    part: pl.DataFrame,
    result: _GroupResult,
    horizon: int,
    qs: tuple[float, ...],
    engine: str,
    client: Any,
    n_jobs: int,
    models: list[Any],
) -> _GroupResult:
    wanted = set(result.selection.select(pl.col("members").explode()).to_series().to_list())
    fc = run_statsforecast(
        part.select("sid", "t", "qty"),
        [m for m in models if repr(m) in wanted],
        horizon=horizon,
        engine=engine,
        client=client,
        n_jobs=n_jobs,
    )
    names = [c for c in fc.columns if c not in ("sid", "t")]
    chosen = result.selection.select("sid", "members", "calibration").explode("members")
    points = (
        fc.unpivot(index=["sid", "t"], on=names, variable_name="members", value_name="forecast")
        .join(chosen, on=["sid", "members"])
        .group_by("sid", "t")
        .agg(
            pl.col("forecast").fill_nan(0.0).mean().clip(lower_bound=0.0)
            * pl.col("calibration").first()
        )
    )
    result.points = points
    return result


def _short_history_group(
    part: pl.DataFrame,
    horizon: int,
    qs: tuple[float, ...],
    engine: str,
    client: Any,
    n_jobs: int,
) -> _GroupResult:
    models = short_history_models()
    names = [repr(m) for m in models]
    sids = part.select(pl.col("sid").unique())
    selection = sids.with_columns(
        members=pl.lit(names, dtype=pl.List(pl.String)),
        model=pl.lit(f"mean({','.join(names)})"),
        calibration=pl.lit(1.0),
        note=pl.lit(None, dtype=pl.String),
    )
    result = _GroupResult(
        selection=selection,
        scores=pl.DataFrame(schema={"sid": pl.UInt32, "model": pl.String}),
        offsets=pl.DataFrame(schema={"sid": pl.UInt32}),
        poisson=True,
    )
    return _forecast_group(part, result, horizon, qs, engine, client, n_jobs, models=models)


def _assemble(
    pieces: list[_GroupResult],
    last: pl.DataFrame,
    classes: pl.DataFrame,
    keys: pl.DataFrame,
    key_columns: tuple[str, ...],
    code: str,
    qs: tuple[float, ...],
    adjust: Callable[[pl.DataFrame], pl.DataFrame],
) -> dict[str, pl.DataFrame]:
    qcols = [quantile_column(p) for p in qs]
    blocks: list[pl.DataFrame] = []
    for piece in pieces:
        assert piece.points is not None
        points = piece.points
        if piece.poisson:
            mean = points["forecast"].to_numpy()
            q = {
                c: poisson.ppf(p, np.maximum(mean, 1e-12)).astype(float)
                for c, p in zip(qcols, qs, strict=True)
            }
            points = points.with_columns([pl.Series(c, v) for c, v in q.items()])
        else:
            points = points.join(piece.offsets, on="sid", how="left").with_columns(
                [
                    (pl.col("forecast") + pl.col(c).fill_null(0.0)).clip(lower_bound=0.0).alias(c)
                    for c in qcols
                ]
            )
        blocks.append(points.select("sid", "t", "forecast", *qcols))
    points = pl.concat(blocks)
    if qcols:
        running = [pl.max_horizontal(qcols[: i + 1]).alias(c) for i, c in enumerate(qcols)]
        points = points.with_columns(running)
    unit = _PERIOD_UNIT[code]
    points = points.join(last, on="sid").with_columns(
        ds=pl.col("ds_last").dt.offset_by(pl.format("{}" + unit, pl.col("t") - pl.col("t_last")))
    )
    points = adjust(points)
    selection = pl.concat([p.selection for p in pieces], how="diagonal").join(
        classes.select("sid", "demand_class"), on="sid"
    )
    forecast_frame = (
        points.join(selection.select("sid", "demand_class", "model"), on="sid")
        .join(keys, on="sid")
        .sort("sid", "t")
        .select(*key_columns, "ds", "forecast", *qcols, "demand_class", "model")
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
    overall = overall_scores(scores, by=["model"], quantiles=qs)
    accuracy = (
        scores.join(keys, on="sid")
        .sort("sid", "model")
        .select(*key_columns, "model", "periods", "mase", "rmsse", "wape", "bias", *cover)
    )
    selection_frame = (
        selection.join(keys, on="sid")
        .sort("sid")
        .select(*key_columns, "demand_class", "model", "calibration", "note")
    )
    class_frame = (
        classes.join(keys, on="sid")
        .sort("sid")
        .select(*key_columns, "n", "adi", "cv2", "demand_class", "seasonal")
    )
    return {
        "forecast": forecast_frame,
        "accuracy": accuracy,
        "accuracy_overall": overall,
        "selection": selection_frame,
        "classes": class_frame,
    }
