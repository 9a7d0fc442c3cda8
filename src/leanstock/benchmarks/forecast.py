"""`leanstock bench forecast`: accuracy on real car-parts demand, or speed at M5 scale.

`--data carparts`: the 2,674 monthly car-parts series (Hyndman's expsmooth data); the
series with a missing value are dropped, the last 12 months held out, 12 months forecast
from the first 39 and scored by MASE, RMSSE (scaled by the training one-step naive error;
zero-scale series left out) and the coverage of the 90 % and 95 % quantiles.

Otherwise: a generated Walmart-like data set shaped as M5 (30,490 item-store daily series
of 1,941 days; most intermittent; weekly and yearly seasonality, events, launches and
stock-outs), forecast 28 days ahead; timed against statsforecast alone fitting the models
the engine chose, on the same frame. `--quick`: 500 series of 400 days.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

import polars as pl

from leanstock.benchmarks import BenchOptions, peak_memory_mb
from leanstock.planning.forecast import forecast, quantile_column

CARPARTS_BARS = {"mase": 1.118, "rmsse": 0.700}


def run(options: BenchOptions) -> dict[str, object]:
    if options.data is not None and options.data != "carparts":
        raise SystemExit(f"Unknown data set {options.data!r}: the forecast bench knows carparts.")
    if options.data == "carparts":
        return carparts(options)
    return m5_shaped(options)


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _progress(stage: str, done: int, total: int) -> None:
    _say(f"  [{done}/{total}] {stage}")


def find_carparts() -> Path:
    """LEANSTOCK_CARPARTS, else ../shared/data from the cwd or from the repository."""
    override = os.environ.get("LEANSTOCK_CARPARTS")
    if override:
        path = Path(override)
        if not path.is_file():
            raise SystemExit(f"LEANSTOCK_CARPARTS={override} is not a file.")
        return path
    relative = Path("..") / "shared" / "data" / "carparts.csv.gz"
    repo = Path(__file__).resolve().parents[3]
    tried = [Path.cwd() / relative, repo / relative, repo.parent / "shared/data/carparts.csv.gz"]
    for path in tried:
        if path.is_file():
            return path
    raise SystemExit(
        "carparts.csv.gz not found; tried "
        + ", ".join(str(p) for p in tried)
        + ". Set LEANSTOCK_CARPARTS to its path."
    )


def carparts(options: BenchOptions) -> dict[str, object]:
    path = find_carparts()
    raw = pl.read_csv(path, try_parse_dates=True, schema_overrides={"unique_id": pl.String})
    incomplete = raw.filter(pl.col("y").is_null() | pl.col("y").is_nan())["unique_id"].unique()
    data = (
        raw.filter(~pl.col("unique_id").is_in(incomplete.implode()))
        .sort("unique_id", "ds")
        .with_columns(pl.int_range(pl.len()).over("unique_id").alias("period"))
    )
    train = data.filter(pl.col("period") < 39)
    test = data.filter(pl.col("period") >= 39)
    history = train.select(
        pl.col("unique_id").alias("item"), pl.col("ds").cast(pl.Date), pl.col("y").alias("qty")
    )
    _say(f"carparts: {data['unique_id'].n_unique()} complete series, forecasting 12 months")
    started = time.perf_counter()
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
    scales = train.group_by("unique_id").agg(
        scale_mae=pl.col("y").diff().abs().mean(),
        scale_rmse=(pl.col("y").diff() ** 2).mean().sqrt(),
    )
    q90, q95 = quantile_column(0.9), quantile_column(0.95)
    scored = (
        result.forecast.rename({"item": "unique_id"})
        .join(test.select("unique_id", pl.col("ds").cast(pl.Date), "y"), on=["unique_id", "ds"])
        .join(scales, on="unique_id")
    )
    if scored.height != 12 * data["unique_id"].n_unique():
        raise SystemExit(
            f"Forecast covers {scored.height} held-out periods, expected 12 per series."
        )
    per_series = (
        scored.group_by("unique_id")
        .agg(
            mae=(pl.col("forecast") - pl.col("y")).abs().mean(),
            rmse=((pl.col("forecast") - pl.col("y")) ** 2).mean().sqrt(),
            scale_mae=pl.col("scale_mae").first(),
            scale_rmse=pl.col("scale_rmse").first(),
        )
        .filter(pl.col("scale_mae") > 0)
    )
    mase = float((per_series["mae"] / per_series["scale_mae"]).mean())  # type: ignore[arg-type]
    rmsse = float((per_series["rmse"] / per_series["scale_rmse"]).mean())  # type: ignore[arg-type]
    cover90 = float((scored["y"] <= scored[q90]).mean())
    cover95 = float((scored["y"] <= scored[q95]).mean())
    chosen = result.selection.group_by("demand_class", "model").len().sort("len", descending=True)
    _say(str(chosen.head(12)))
    _say(str(result.selection.group_by("demand_class").agg(pl.col("calibration").first())))
    figures: dict[str, object] = {
        "bench": "forecast",
        "data": "carparts",
        "series": int(data["unique_id"].n_unique()),
        "scored_series": per_series.height,
        "mase": round(mase, 4),
        "rmsse": round(rmsse, 4),
        "coverage_90": round(cover90, 4),
        "coverage_95": round(cover95, 4),
        "mase_bar": CARPARTS_BARS["mase"],
        "rmsse_bar": CARPARTS_BARS["rmsse"],
        "passes": bool(
            mase <= CARPARTS_BARS["mase"]
            and rmsse <= CARPARTS_BARS["rmsse"]
            and abs(cover90 - 0.9) <= 0.03
            and abs(cover95 - 0.95) <= 0.03
        ),
        "wall_seconds": round(seconds, 2),
        "peak_memory_mb": round(peak_memory_mb(), 1),
        "engine": options.engine,
        "thorough": options.thorough,
    }
    _say(
        f"carparts MASE {mase:.3f} (bar ≤ 1.118), RMSSE {rmsse:.3f} (bar ≤ 0.700), "
        f"coverage 90 % {cover90:.3f}, 95 % {cover95:.3f}"
    )
    return figures


def m5_shaped(options: BenchOptions) -> dict[str, object]:
    raise NotImplementedError


def _unused(*_: Any) -> None:
    del np
