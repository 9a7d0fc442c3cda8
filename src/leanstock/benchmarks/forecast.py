"""`leanstock bench forecast`: accuracy on real demand, or speed at M5 scale.

`--data carparts`: the 2,674 monthly car-parts series (Hyndman's expsmooth data); the
series with a missing value are dropped, the last 12 months held out, 12 months forecast
from the first 39 and scored by MASE, RMSSE (scaled by the training one-step naive error;
zero-scale series left out), the scaled pinball loss and the coverage of the quantiles.

`--data m1`: the 617 monthly series of the M1 competition; the 18 `test` months of each
are forecast from its `train` part (model choice sees only that) and scored by sMAPE (as in
the M-competitions), MASE (scaled by the training seasonal naive error, as in M4), the
scaled pinball loss and coverage, with the wall time.

`--data m1-validation`, `--data carparts-validation`: the same on the training part alone,
its last 18 (12) months held out: the windows settings are chosen on (docs/forecasting.md).
`--data m1-validation-early`, `--data carparts-validation-early`: a second, earlier window,
the validation window's training part with its own last 18 (12) months held out (M1: the
series with at least MIN_EARLY_HISTORY months left), so a choice rests on two samples.

Otherwise: a generated Walmart-like data set shaped as M5 (30,490 item-store daily series
of 1,941 days; most intermittent; weekly and yearly seasonality, events, launches and
stock-outs), forecast 28 days ahead; timed against statsforecast alone fitting the models
the engine chose, on the same frame. `--quick`: 500 series of 400 days.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from leanstock.benchmarks import BenchOptions
from leanstock.planning.forecast import forecast, quantile_column

CARPARTS_BARS = {"mase": 1.022, "rmsse": 0.692}
M1_BARS = {"smape": 14.30, "wall_seconds": 60.0}
COVERAGE_TOLERANCE = 0.02
COVERED = (0.8, 0.9, 0.95)
DATA_SETS = (
    "carparts",
    "m1",
    "carparts-validation",
    "m1-validation",
    "carparts-validation-early",
    "m1-validation-early",
)
"""`-validation`: the training part only, its last 12 (carparts) or 18 (M1) months held out,
the windows every setting is chosen on; the real holdout is never read. `-validation-early`:
the same again on the validation window's training part (one holdout length earlier)."""
MIN_EARLY_HISTORY = 12
"""M1's early window keeps the series with at least this many months before it (the
shortest history of the first validation window)."""


def run(options: BenchOptions) -> dict[str, object]:
    if options.data not in (None, *DATA_SETS):
        raise SystemExit(
            f"Unknown data set {options.data!r}: the forecast bench knows "
            + ", ".join(DATA_SETS)
            + "."
        )
    back = _windows_back(options.data)
    if options.data is not None and options.data.startswith("carparts"):
        return carparts(options, validation=back)
    if options.data is not None and options.data.startswith("m1"):
        return m1(options, validation=back)
    return m5_shaped(options)


def _windows_back(data: str | None) -> int:
    """0 for a holdout, 1 for `-validation`, 2 for `-validation-early`."""
    if data is None:
        return 0
    if data.endswith("-validation-early"):
        return 2
    return 1 if data.endswith("-validation") else 0


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _progress(stage: str, done: int, total: int) -> None:
    _say(f"  [{done}/{total}] {stage}")


def find_data(name: str, variable: str) -> Path:
    """The variable's path, else ../shared/data/NAME from the cwd or from the repository."""
    override = os.environ.get(variable)
    if override:
        path = Path(override)
        if not path.is_file():
            raise SystemExit(f"{variable}={override} is not a file.")
        return path
    relative = Path("..") / "shared" / "data" / name
    repo = Path(__file__).resolve().parents[3]
    tried = [Path.cwd() / relative, repo / relative, repo.parent / "shared" / "data" / name]
    for path in tried:
        if path.is_file():
            return path
    raise SystemExit(
        f"{name} not found; tried "
        + ", ".join(str(p) for p in tried)
        + f". Set {variable} to its path."
    )


def holdout_scores(
    result: Any, test: pl.DataFrame, train: pl.DataFrame, season: int = 1
) -> tuple[pl.DataFrame, dict[str, float]]:
    """Score a forecast on held-out `test` (unique_id, ds, y) with `train`'s scales.

    Per series: MAE and RMSE over the holdout, scaled by the training history's mean
    absolute (and root mean squared) `season`-step naive error; the scaled pinball loss,
    mean over horizons and quantiles of the pinball loss ρ_p(y − q_p) = max(p(y − q),
    (p − 1)(y − q)), scaled alike (the M5 uncertainty measure, Makridakis et al., 2022);
    the sMAPE of the M-competitions, 200·|y − f|/(|y| + |f|). Pooled: coverage of the 80, 90
    and 95 % quantiles (share of actuals at or below them).
    """
    scales = (
        train.sort("unique_id", "ds")
        .group_by("unique_id")
        .agg(
            scale_mae=pl.col("y").diff(season).abs().mean(),
            scale_rmse=(pl.col("y").diff(season) ** 2).mean().sqrt(),
        )
    )
    qs = list(result.quantiles)
    pinball = [
        pl.max_horizontal(
            p * (pl.col("y") - pl.col(quantile_column(p))),
            (p - 1) * (pl.col("y") - pl.col(quantile_column(p))),
        )
        for p in qs
    ]
    scored = (
        result.forecast.rename({"item": "unique_id"})
        .join(test.select("unique_id", pl.col("ds").cast(pl.Date), "y"), on=["unique_id", "ds"])
        .join(scales, on="unique_id")
        .with_columns(pinball=pl.mean_horizontal(pinball))
    )
    expected = test.height
    if scored.height != expected:
        raise SystemExit(f"Forecast covers {scored.height} held-out periods, expected {expected}.")
    error = pl.col("forecast") - pl.col("y")
    per_series = (
        scored.group_by("unique_id")
        .agg(
            mae=error.abs().mean(),
            rmse=(error**2).mean().sqrt(),
            pinball=pl.col("pinball").mean(),
            scale_mae=pl.col("scale_mae").first(),
            scale_rmse=pl.col("scale_rmse").first(),
        )
        .filter(pl.col("scale_mae") > 0)
        .with_columns(
            mase=pl.col("mae") / pl.col("scale_mae"),
            rmsse=pl.col("rmse") / pl.col("scale_rmse"),
            spl=pl.col("pinball") / pl.col("scale_mae"),
        )
    )
    y, f = scored["y"].to_numpy(), scored["forecast"].to_numpy()
    denominator = np.abs(y) + np.abs(f)
    smape = np.where(
        denominator > 0, 200 * np.abs(y - f) / np.where(denominator > 0, denominator, 1), 0
    )
    figures = {
        "smape": float(smape.mean()),
        "mase": float(per_series["mase"].mean()),
        "rmsse": float(per_series["rmsse"].mean()),
        "scaled_pinball": float(per_series["spl"].mean()),
        "scored_series": float(per_series.height),
    }
    for p in COVERED:
        column = quantile_column(p)
        if column in scored.columns:
            figures[f"coverage_{round(p * 100)}"] = float(
                np.mean(scored["y"].to_numpy() <= scored[column].to_numpy())
            )
    return scored, figures


def _choices(result: Any) -> dict[str, dict[str, int]]:
    """Per demand class and pool, how many series took which forecast."""
    chosen = (
        result.selection.join(result.classes.select("item", "pool"), on="item", how="left")
        .group_by("demand_class", "pool", "model")
        .len()
        .sort("demand_class", "pool", "len", descending=[False, False, True])
    )
    out: dict[str, dict[str, int]] = {}
    for demand_class, pool, model, count in chosen.iter_rows():
        out.setdefault(f"{demand_class}/{pool}", {})[model] = int(count)
    return out


def _backtest_coverage(result: Any) -> dict[str, float | None]:
    """Coverage of the 80, 90 and 95 % quantiles over the selected forecasts' backtest."""
    selected = result.accuracy_overall.filter(pl.col("model") == "selected")
    out: dict[str, float | None] = {}
    for p in COVERED:
        column = f"coverage_{quantile_column(p)}"
        value = selected[column][0] if selected.height and column in selected.columns else None
        out[f"backtest_coverage_{round(p * 100)}"] = None if value is None else round(value, 4)
    return out


def _covered(figures: dict[str, float]) -> bool:
    return all(
        abs(figures[f"coverage_{round(p * 100)}"] - p) <= COVERAGE_TOLERANCE
        for p in (0.9, 0.95)
        if f"coverage_{round(p * 100)}" in figures
    )


def _rounded(figures: dict[str, float]) -> dict[str, object]:
    return {k: (int(v) if k == "scored_series" else round(v, 4)) for k, v in figures.items()}


def split_tail(frame: pl.DataFrame, held: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The last `held` periods of every series (unique_id, ds sorted) apart from the rest."""
    n = pl.len().over("unique_id")
    i = pl.int_range(pl.len()).over("unique_id")
    return frame.filter(i < n - held), frame.filter(i >= n - held)


def validation_split(
    train: pl.DataFrame, test: pl.DataFrame, held: int, back: int, least: int
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The window `back` holdout lengths before the real holdout (0: train, test as given).

    Each step back holds out the last `held` periods of what is left for training; from the
    second step on, series with fewer than `least` periods left are dropped from both.
    """
    for _ in range(back):
        train, test = split_tail(train, held)
    if back > 1:
        kept = train.group_by("unique_id").len().filter(pl.col("len") >= least)
        train = train.join(kept.select("unique_id"), on="unique_id", how="semi")
        test = test.join(kept.select("unique_id"), on="unique_id", how="semi")
    return train, test


def m1(options: BenchOptions, validation: int = 0) -> dict[str, object]:
    """M1 monthly: forecast the 18 held-out months of 617 series from their training part.

    `validation` 1: the training part alone, its own last 18 months held out; 2: that
    window's training part, its last 18 months held out (series with at least
    MIN_EARLY_HISTORY months before them).
    """
    path = find_data("m1_monthly.csv.gz", "LEANSTOCK_M1")
    raw = pl.read_csv(path, try_parse_dates=True, schema_overrides={"unique_id": pl.String})
    raw = raw.with_columns(pl.col("ds").cast(pl.Date))
    train = raw.filter(pl.col("split") == "train").sort("unique_id", "ds")
    test = raw.filter(pl.col("split") == "test").sort("unique_id", "ds")
    train, test = validation_split(train, test, 18, validation, MIN_EARLY_HISTORY)
    history = train.select(pl.col("unique_id").alias("item"), "ds", pl.col("y").alias("qty"))
    _say(f"M1 monthly: {train['unique_id'].n_unique()} series, forecasting 18 months")
    started, cpu = time.perf_counter(), _cpu_seconds()
    result = forecast(
        history,
        horizon=18,
        freq="M",
        engine=options.engine,
        scheduler=options.scheduler,
        thorough=options.thorough,
        progress=_progress,
    )
    seconds = time.perf_counter() - started
    _, figures = holdout_scores(result, test, train, season=12)
    choices = _choices(result)
    _say(json.dumps(choices, indent=1))
    _say(
        f"M1 sMAPE {figures['smape']:.2f} (bar ≤ {M1_BARS['smape']}), MASE {figures['mase']:.3f}, "
        f"{seconds:.1f}s (bar < {M1_BARS['wall_seconds']:.0f}s)"
    )
    return {
        "bench": "forecast",
        "data": options.data,
        "series": int(train["unique_id"].n_unique()),
        **_rounded(figures),
        **_backtest_coverage(result),
        "smape_bar": M1_BARS["smape"],
        "passes": bool(
            figures["smape"] <= M1_BARS["smape"]
            and seconds < M1_BARS["wall_seconds"]
            and _covered(figures)
        ),
        "wall_seconds": round(seconds, 2),
        "cpu_seconds": round(_cpu_seconds() - cpu, 2),
        "load_average": round(os.getloadavg()[0], 2),
        "peak_memory_mb": round(_peak_mb(), 1),
        "classes": dict(
            result.classes.group_by("demand_class").len().sort("demand_class").iter_rows()
        ),
        "choices": choices,
        "engine": options.engine,
        "thorough": options.thorough,
    }


def carparts(options: BenchOptions, validation: int = 0) -> dict[str, object]:
    """Carparts: forecast the last 12 months from the first 39 (`validation` 1: the last 12
    of those 39 from the first 27; 2: the last 12 of those 27 from the first 15)."""
    path = find_data("carparts.csv.gz", "LEANSTOCK_CARPARTS")
    raw = pl.read_csv(path, try_parse_dates=True, schema_overrides={"unique_id": pl.String})
    incomplete = raw.filter(pl.col("y").is_null() | pl.col("y").is_nan())["unique_id"].unique()
    data = (
        raw.filter(~pl.col("unique_id").is_in(incomplete.implode()))
        .sort("unique_id", "ds")
        .with_columns(
            pl.col("ds").cast(pl.Date), pl.int_range(pl.len()).over("unique_id").alias("period")
        )
    )
    train = data.filter(pl.col("period") < 39)
    test = data.filter(pl.col("period") >= 39)
    train, test = validation_split(train, test, 12, validation, 1)
    history = train.select(pl.col("unique_id").alias("item"), "ds", pl.col("y").alias("qty"))
    _say(f"carparts: {data['unique_id'].n_unique()} complete series, forecasting 12 months")
    started, cpu = time.perf_counter(), _cpu_seconds()
    result = forecast(
        history,
        horizon=12,
        freq="M",
        engine=options.engine,
        scheduler=options.scheduler,
        thorough=options.thorough,
        progress=_progress,
    )
    seconds = time.perf_counter() - started
    _, figures = holdout_scores(result, test, train, season=1)
    choices = _choices(result)
    _say(json.dumps(choices, indent=1))
    _say(str(result.selection.group_by("demand_class").agg(pl.col("calibration").first())))
    _say(
        f"carparts MASE {figures['mase']:.3f} (bar ≤ {CARPARTS_BARS['mase']}), RMSSE "
        f"{figures['rmsse']:.3f} (bar ≤ {CARPARTS_BARS['rmsse']}), coverage 90 % "
        f"{figures['coverage_90']:.3f}, 95 % {figures['coverage_95']:.3f}"
    )
    return {
        "bench": "forecast",
        "data": options.data,
        "series": int(data["unique_id"].n_unique()),
        **_rounded(figures),
        **_backtest_coverage(result),
        "mase_bar": CARPARTS_BARS["mase"],
        "rmsse_bar": CARPARTS_BARS["rmsse"],
        "passes": bool(
            figures["mase"] <= CARPARTS_BARS["mase"]
            and figures["rmsse"] <= CARPARTS_BARS["rmsse"]
            and _covered(figures)
        ),
        "wall_seconds": round(seconds, 2),
        "cpu_seconds": round(_cpu_seconds() - cpu, 2),
        "load_average": round(os.getloadavg()[0], 2),
        "peak_memory_mb": round(_peak_mb(), 1),
        "choices": choices,
        "engine": options.engine,
        "thorough": options.thorough,
    }


M5_EVENTS = {
    # name: (month, day, length in days, effect on demand); Christmas: the stores close
    "SuperBowl": (2, 7, 1, 1.6),
    "Easter": (4, 5, 2, 1.3),
    "IndependenceDay": (7, 4, 1, 1.4),
    "LaborDay": (9, 2, 3, 1.2),
    "Thanksgiving": (11, 24, 1, 0.6),
    "Christmas": (12, 25, 1, 0.0),
}


def m5_calendar(first: np.datetime64, days: int) -> pl.DataFrame:
    """Yearly events over the history and the forecast horizon, without their uplifts."""
    start = first.astype("datetime64[Y]").astype(int) + 1970
    end = (first + np.timedelta64(days + 60, "D")).astype("datetime64[Y]").astype(int) + 1970
    rows = []
    for year in range(int(start), int(end) + 1):
        for name, (month, day, length, _) in M5_EVENTS.items():
            begin = np.datetime64(f"{year}-{month:02d}-{day:02d}")
            rows.append((name, begin, begin + np.timedelta64(length - 1, "D")))
    rows.append(("FoodsPromo", np.datetime64("2013-06-01"), np.datetime64("2013-06-14")))
    rows.append(("FoodsPromo", np.datetime64("2015-06-01"), np.datetime64("2015-06-14")))
    cal = pl.DataFrame(
        {
            "name": [r[0] for r in rows],
            "start": np.array([r[1] for r in rows], dtype="datetime64[D]"),
            "end": np.array([r[2] for r in rows], dtype="datetime64[D]"),
        }
    )
    return cal.with_columns(
        pl.col("start").cast(pl.Date),
        pl.col("end").cast(pl.Date),
        categories=pl.when(pl.col("name") == "FoodsPromo")
        .then(pl.lit(["FOODS"]))
        .otherwise(pl.lit(None, dtype=pl.List(pl.String))),
    )


def m5_history(items: int, stores: int, days: int, seed: int = 0) -> pl.DataFrame:
    """Walmart-like daily demand: item, location, category, ds, qty, stockout.

    Negative-binomial counts (size 2) around a per-series level drawn log-normal, so most
    series are intermittent; a weekday profile, a yearly wave, the events of M5_EVENTS,
    a FOODS promotion, launches part-way through (rows start at launch, as an order
    system records them) and stock-outs of three days, their sales cut to zero.
    """
    rng = np.random.default_rng(seed)
    n = items * stores
    t = np.arange(days)
    first = np.datetime64("2011-01-29")
    dates = first + t.astype("timedelta64[D]")
    weekday = 1 + np.array([0.1, 0.5, 0.45, 0.0, -0.1, -0.15, -0.1])[t % 7]
    yearly = 1 + 0.15 * np.sin(2 * np.pi * t / 365.25)
    effect = np.ones(days)
    promo = np.zeros(days, dtype=bool)
    cal = m5_calendar(first, days)
    for name, begin, end in cal.select("name", "start", "end").iter_rows():
        cover = (dates >= np.datetime64(begin)) & (dates <= np.datetime64(end))
        if name == "FoodsPromo":
            promo |= cover
        else:
            effect[cover] *= M5_EVENTS[name][3]
    category_of_item = rng.choice(3, size=items, p=[0.47, 0.19, 0.34])
    level = np.exp(rng.normal(-0.6, 1.3, size=n))
    launch = np.where(rng.random(n) < 0.3, rng.integers(0, days // 2, size=n), 0)
    series_category = np.repeat(category_of_item, stores)
    chunks = []
    for lo in range(0, n, 2048):
        hi = min(n, lo + 2048)
        mean = level[lo:hi, None] * (weekday * yearly * effect)[None, :]
        mean = mean * np.where((series_category[lo:hi, None] == 0) & promo[None, :], 1.8, 1.0)
        qty = rng.negative_binomial(2, 2 / (2 + mean)).astype(np.float32)
        out = rng.random(mean.shape) < 0.002
        out = out | np.roll(out, 1, axis=1) | np.roll(out, 2, axis=1)
        qty[out] = 0
        alive = t[None, :] >= launch[lo:hi, None]
        sid = np.broadcast_to(np.arange(lo, hi, dtype=np.uint32)[:, None], mean.shape)
        day = np.broadcast_to(t.astype(np.int32)[None, :], mean.shape)
        chunks.append(
            pl.DataFrame(
                {"sid": sid[alive], "day": day[alive], "qty": qty[alive], "stockout": out[alive]}
            )
        )
    frame = pl.concat(chunks)
    item_names = pl.Series([f"ITEM_{i:05d}" for i in range(items)])
    store_names = pl.Series([f"STORE_{j}" for j in range(stores)])
    category_names = pl.Series(["FOODS", "HOBBIES", "HOUSEHOLD"])
    item_idx = (frame["sid"] // stores).cast(pl.UInt32)
    return pl.DataFrame(
        {
            "item": item_names.cast(pl.Enum(item_names)).gather(item_idx),
            "location": store_names.cast(pl.Enum(store_names)).gather(frame["sid"] % stores),
            "category": category_names.cast(pl.Enum(category_names)).gather(
                pl.Series(category_of_item, dtype=pl.UInt32).gather(item_idx)
            ),
            "ds": (frame["day"] + int(first.astype("datetime64[D]").astype(int))).cast(pl.Date),
            "qty": frame["qty"],
            "stockout": frame["stockout"],
        }
    )


def m5_shaped(options: BenchOptions) -> dict[str, object]:
    items, stores, days = (50, 10, 400) if options.quick else (3049, 10, 1941)
    horizon = 28
    started = time.perf_counter()
    history = m5_history(items, stores, days)
    calendar = m5_calendar(np.datetime64("2011-01-29"), days)
    generated = time.perf_counter() - started
    _say(
        f"M5-shaped: {items * stores} item-store series, {history.height:,} rows "
        f"generated in {generated:.1f}s; forecasting {horizon} days"
    )
    started, cpu = time.perf_counter(), _cpu_seconds()
    result = forecast(
        history,
        horizon=horizon,
        freq="D",
        events=calendar,
        engine=options.engine,
        scheduler=options.scheduler,
        thorough=options.thorough,
        progress=_progress,
    )
    engine_seconds = time.perf_counter() - started
    engine_cpu = _cpu_seconds() - cpu
    engine_memory = _peak_mb()
    _say("engine stages: " + ", ".join(f"{k} {v:.1f}s" for k, v in result.timings.items()))
    chosen = result.selection.group_by("demand_class", "model").len().sort("len", descending=True)
    _say(str(chosen))
    baseline = _statsforecast_alone(history, result, horizon)
    del history
    overall = result.accuracy_overall.filter(pl.col("model") == "selected")
    figures: dict[str, object] = {
        "bench": "forecast",
        "data": "m5-shaped" + (" quick" if options.quick else ""),
        "series": items * stores,
        "days": days,
        "horizon": horizon,
        "wall_seconds": round(engine_seconds, 2),
        "cpu_seconds": round(engine_cpu, 2),
        "load_average": round(os.getloadavg()[0], 2),
        "statsforecast_alone_seconds": round(baseline, 2),
        "ratio_to_statsforecast": round(engine_seconds / baseline, 3) if baseline else None,
        "peak_memory_mb": round(engine_memory, 1),
        "stage_seconds": {k: round(v, 2) for k, v in result.timings.items()},
        "classes": dict(result.classes.group_by("demand_class").len().iter_rows()),
        "backtest_mase": _round(overall["mase"]),
        "backtest_rmsse": _round(overall["rmsse"]),
        "engine": options.engine,
        "thorough": options.thorough,
        "events": dict(result.events.select("name", pl.col("uplift").round(3)).iter_rows()),
    }
    _say(
        f"engine {engine_seconds:.1f}s vs statsforecast alone {baseline:.1f}s "
        f"(ratio {engine_seconds / baseline:.2f}); peak memory {engine_memory:,.0f} MiB"
    )
    return figures


def _round(column: pl.Series) -> float | None:
    return round(float(column[0]), 4) if column.len() and column[0] is not None else None


def _cpu_seconds() -> float:
    """User + system CPU seconds of this process and its finished children.

    On a shared machine wall time measures the neighbours too; CPU time is what the run
    itself cost (with two cores, wall ≈ CPU / 2 at best).
    """
    import resource

    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return float(own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime)


def _peak_mb() -> float:
    """Peak RSS in MiB of this process or its largest child (ru_maxrss is KiB on Linux)."""
    import resource

    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    scale = 1 / 1024 / 1024 if sys.platform == "darwin" else 1 / 1024
    return float(max(own, children) * scale)


def _statsforecast_alone(history: pl.DataFrame, result: Any, horizon: int) -> float:
    """statsforecast's own time to fit, on the same frame, the models the engine chose.

    Each class group is fitted with the union of the models its series use, as plain
    StatsForecast(...).forecast on (unique_id, ds, y): the fits the engine's final stage
    needs, without classification, backtest, quantiles or events.
    """
    from statsforecast import StatsForecast

    from leanstock.planning.forecast.models import candidates, short_history_models

    keys = ["item", "location"]
    chosen = (
        result.selection.select(*keys, "demand_class", "model")
        .with_columns(
            pl.col("model")
            .str.strip_prefix("mean(")
            .str.strip_prefix("median(")
            .str.strip_suffix(")")
            .str.split(",")
        )
        .join(result.classes.select(*keys, "seasonal", "pool"), on=keys)
    )
    frame = history.select(
        pl.struct(keys).rle_id().alias("unique_id"),
        *keys,
        "ds",
        pl.col("qty").cast(pl.Float64).alias("y"),
    )
    started = time.perf_counter()
    elapsed = 0.0
    for (demand_class, seasonal, pool_name), group in chosen.group_by(
        "demand_class", "seasonal", "pool"
    ):
        wanted = set(group.select(pl.col("model").explode()).to_series().to_list())
        pool = candidates(str(demand_class), "D", 7, bool(seasonal), full=pool_name == "full")
        pool += short_history_models()
        models = [m for m in pool if repr(m) in wanted]
        part = frame.join(group.select(keys), on=keys, how="semi").select("unique_id", "ds", "y")
        tick = time.perf_counter()
        StatsForecast(models=models, freq="1d", n_jobs=-1).forecast(df=part, h=horizon)
        elapsed += time.perf_counter() - tick
    _say(
        f"statsforecast alone: {elapsed:.1f}s fitting ({time.perf_counter() - started:.1f}s in all)"
    )
    return elapsed
