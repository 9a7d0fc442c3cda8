"""`leanstock bench policy`: the planner's policy in the simulator, on real or generated demand.

With `--data carparts` it checks the service bar of issue #5 on Hyndman's car-parts data
(2,509 complete monthly series, lead time 2 months, unit cost 1, the first 24 months as
warm-up, 95% fill-rate target): the planner's achieved fill rate must be within ±2 points of
95%, and it must hold at least 10% less stock than a textbook baseline run through the same
simulator at the same achieved fill rate. The baseline orders up to μ·P + z·σ·√P every
period (P = lead time + review period; μ and σ the plain mean and standard deviation of the
history seen so far; normal demand; one z for all items) with z found by bisection so that it
reaches the planner's fill rate. With one z for all items, "mean demand over the lead time
+ z·σ" as a reorder point and this order-up-to level differ only by the cycle stock μ·R and
a constant factor on z, which the bisection absorbs.

Without `--data` it replays generated weekly demand (10,000 items × 104 weeks; `--quick`
1,000 × 52) and reports the replay's speed in item-periods per second, forecast time apart.

With `--catalog-target` (issue #16) it replays the same demand twice with the planner: once
with 95% as every item's fill-rate target, once with 95% as the catalogue's fill rate
(weighted by demand) and per-item targets allocated by marginal analysis at the least stock
value. The bar on carparts: the catalogue's simulated fill rate within 1 point of 95% and its
average stock value at least 25% below the per-item policy's. Carparts has no costs, so the
bench draws them: each part's unit cost is lognormal with median 50 and log-spread 1.0
(seed 0, in series order, independent of demand), a spread typical of a spare-parts
catalogue where a few parts cost a hundred times others.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import numpy.typing as npt
import polars as pl

from leanstock.benchmarks import BenchOptions, peak_memory_mb
from leanstock.planning.simulate import (
    BaseStockPolicy,
    ExponentialForecaster,
    HistoryForecaster,
    Items,
    PlannerPolicy,
    SimulationResult,
    simulate,
)

FloatArray = npt.NDArray[np.float64]

TARGET = 0.95
LEAD_TIME = 2
WARMUP = 24
FILL_BAND = 0.02
MIN_SAVING = 0.10
CATALOG_FILL_BAND = 0.01
CATALOG_MIN_SAVING = 0.25
COST_MEDIAN = 50.0
COST_SPREAD = 1.0


def find_carparts() -> Path:
    """The car-parts file: $LEANSTOCK_CARPARTS, else ../shared/data/ from cwd or the repo."""
    override = os.environ.get("LEANSTOCK_CARPARTS")
    if override:
        return Path(override)
    relative = Path("..") / "shared" / "data" / "carparts.csv.gz"
    repo = Path(__file__).resolve().parents[3]
    for candidate in (Path.cwd() / relative, repo / relative):
        if candidate.exists():
            return candidate
    return Path.cwd() / relative


def load_carparts(path: Path) -> tuple[list[str], FloatArray]:
    """Complete series only (no missing month), as an items × months matrix."""
    frame = pl.read_csv(path, schema_overrides={"unique_id": pl.Utf8})
    complete = (
        frame.group_by("unique_id")
        .agg(pl.col("y").null_count().alias("missing"))
        .filter(pl.col("missing") == 0)
        .get_column("unique_id")
    )
    wide = (
        frame.filter(pl.col("unique_id").is_in(complete.implode()))
        .sort("ds")
        .pivot(on="ds", index="unique_id", values="y")
        .sort("unique_id")
    )
    return wide.get_column("unique_id").to_list(), wide.drop("unique_id").to_numpy()


def _baseline(demand: FloatArray, items: Items, z: float) -> SimulationResult:
    return simulate(
        demand,
        items,
        BaseStockPolicy(items, z),
        HistoryForecaster(),
        warmup=WARMUP,
        burn_in=WARMUP // 2,
    )


def matched_baseline(
    demand: FloatArray, items: Items, fill_rate: float, tolerance: float = 1e-4
) -> tuple[float, SimulationResult]:
    """Smallest z (to `tolerance`) at which the baseline reaches `fill_rate`, by bisection."""
    lo, hi = -1.0, 2.0
    while _baseline(demand, items, hi).fill_rate < fill_rate and hi < 64:
        lo, hi = hi, hi * 2.0
    while hi - lo > tolerance:
        mid = (lo + hi) / 2.0
        if _baseline(demand, items, mid).fill_rate < fill_rate:
            lo = mid
        else:
            hi = mid
    return hi, _baseline(demand, items, hi)


def _planner(demand: FloatArray, items: Items, gain: float) -> SimulationResult:
    policy = PlannerPolicy(items, np.full(len(demand), TARGET), feedback_gain=gain)
    return simulate(
        demand, items, policy, ExponentialForecaster(), warmup=WARMUP, burn_in=WARMUP // 2
    )


def run_carparts(path: Path) -> dict[str, object]:
    if not path.exists():
        print(
            f"carparts data not found at {path}; set LEANSTOCK_CARPARTS to the "
            "carparts.csv.gz file (columns unique_id, ds, y)",
            file=sys.stderr,
        )
        raise SystemExit(2)
    started = time.perf_counter()
    ids, demand = load_carparts(path)
    items = Items.uniform(len(ids), LEAD_TIME, unit_cost=1.0)
    print(f"carparts: {len(ids)} complete series × {demand.shape[1]} months", file=sys.stderr)

    planner = _planner(demand, items, gain=PlannerPolicy.feedback_gain)
    z, baseline = matched_baseline(demand, items, planner.fill_rate)
    saving = 1.0 - planner.average_on_hand / baseline.average_on_hand
    open_loop = _planner(demand, items, gain=0.0)
    z_open, baseline_open = matched_baseline(demand, items, open_loop.fill_rate)
    saving_open = 1.0 - open_loop.average_on_hand / baseline_open.average_on_hand
    print(
        f"planner  fill {planner.fill_rate:.2%}  stock {planner.average_on_hand:.3f}\n"
        f"baseline fill {baseline.fill_rate:.2%}  stock {baseline.average_on_hand:.3f} "
        f"(z = {z:.4f})\nsaving {saving:.1%}; open loop (no service feedback): fill "
        f"{open_loop.fill_rate:.2%}, saving {saving_open:.1%} at matched fill",
        file=sys.stderr,
    )
    return {
        "benchmark": "policy",
        "data": "carparts",
        "series": len(ids),
        "months": int(demand.shape[1]),
        "warmup_months": WARMUP,
        "lead_time_months": LEAD_TIME,
        "target_fill_rate": TARGET,
        "planner_fill_rate": round(planner.fill_rate, 6),
        "planner_cycle_service_level": round(planner.cycle_service, 6),
        "planner_average_stock": round(planner.average_on_hand, 6),
        "baseline_z": round(z, 5),
        "baseline_fill_rate": round(baseline.fill_rate, 6),
        "baseline_average_stock": round(baseline.average_on_hand, 6),
        "saving": round(saving, 6),
        "fill_within_band": abs(planner.fill_rate - TARGET) <= FILL_BAND,
        "saving_at_least_10pct": saving >= MIN_SAVING,
        "open_loop_fill_rate": round(open_loop.fill_rate, 6),
        "open_loop_average_stock": round(open_loop.average_on_hand, 6),
        "open_loop_baseline_z": round(z_open, 5),
        "open_loop_baseline_average_stock": round(baseline_open.average_on_hand, 6),
        "open_loop_saving": round(saving_open, 6),
        "planner_simulation_seconds": round(planner.simulation_seconds, 4),
        "planner_forecast_seconds": round(planner.forecast_seconds, 4),
        "wall_seconds": round(time.perf_counter() - started, 3),
        "peak_memory_mb": round(peak_memory_mb(), 1),
    }


def generate_demand(items: int, periods: int, seed: int = 0) -> tuple[FloatArray, Items]:
    """Weekly demand for a catalogue: 40% smooth sellers, 60% intermittent slow movers.

    Smooth items: negative binomial around a lognormal weekly mean (median 20) with a
    yearly seasonal swing of ±30%. Slow movers: a sale in a week with probability 5–70%,
    of a negative-binomial size averaging 1–5 units. Lead times 1–4 weeks, unit costs lognormal.
    """
    rng = np.random.default_rng(seed)
    smooth = rng.random(items) < 0.4
    size = np.where(smooth, rng.lognormal(3.0, 1.0, items), 1.0 + rng.lognormal(0.0, 0.8, items))
    occurrence = np.where(smooth, 1.0, rng.uniform(0.05, 0.7, items))
    dispersion = np.where(smooth, rng.uniform(1.1, 2.5, items), rng.uniform(1.05, 2.0, items))
    phase = rng.random(items)[:, None]
    weeks = np.arange(periods)[None, :]
    swing = np.where(smooth, 0.3, 0.0)[:, None]
    mean = size[:, None] * (1.0 + swing * np.sin(2.0 * np.pi * (weeks / 52.0 + phase)))
    r = mean / (dispersion[:, None] - 1.0)
    sold = rng.random((items, periods)) < occurrence[:, None]
    demand = np.where(sold, rng.negative_binomial(r, r / (r + mean)), 0).astype(np.float64)
    data = Items(
        lead_time=rng.integers(1, 5, items).astype(np.int64),
        unit_cost=rng.lognormal(2.0, 1.0, items),
        moq=np.zeros(items),
        pack_size=np.ones(items),
        order_cost=np.zeros(items),
        holding_rate=np.zeros(items),
    )
    return demand, data


def run_generated(quick: bool) -> dict[str, object]:
    items, periods = (1_000, 52) if quick else (10_000, 104)
    demand, data = generate_demand(items, periods)
    policy = PlannerPolicy(data, np.full(items, TARGET))
    result = simulate(demand, data, policy, ExponentialForecaster())
    figures = result.overall()
    print(
        f"{items} items × {periods} weeks: {figures['item_periods_per_second']:,} item-periods/s "
        f"(simulation {result.simulation_seconds:.2f} s, forecast {result.forecast_seconds:.2f} s)",
        file=sys.stderr,
    )
    return {
        "benchmark": "policy",
        "data": "generated",
        "items": items,
        "weeks": periods,
        "target_fill_rate": TARGET,
        **figures,
        "quick": quick,
        "peak_memory_mb": round(peak_memory_mb(), 1),
    }


def part_costs(parts: int, seed: int = 0) -> FloatArray:
    """The bench's unit costs: lognormal, median `COST_MEDIAN`, log-spread `COST_SPREAD`."""
    return np.random.default_rng(seed).lognormal(np.log(COST_MEDIAN), COST_SPREAD, parts)


def catalog_comparison(
    demand: FloatArray, items: Items, warmup: int, burn_in: int
) -> dict[str, object]:
    """Per-item and catalogue 95% fill-rate targets on the same replay, and the saving."""
    n = len(demand)
    started = time.perf_counter()
    per_item = simulate(
        demand,
        items,
        PlannerPolicy(items, np.full(n, TARGET)),
        ExponentialForecaster(),
        warmup=warmup,
        burn_in=burn_in,
    )
    middle = time.perf_counter()
    policy = PlannerPolicy(items, np.full(n, TARGET), catalog_target=TARGET)
    catalog = simulate(
        demand, items, policy, ExponentialForecaster(), warmup=warmup, burn_in=burn_in
    )
    finished = time.perf_counter()
    saving = 1.0 - catalog.average_value / per_item.average_value
    targets = policy.service_level
    # The same per-item policy aimed at the fill the catalogue target reached: the saving
    # that is not just a point of fill given up.
    same = simulate(
        demand,
        items,
        PlannerPolicy(items, np.full(n, catalog.fill_rate)),
        ExponentialForecaster(),
        warmup=warmup,
        burn_in=burn_in,
    )
    same_saving = 1.0 - catalog.average_value / same.average_value
    print(
        f"one 95% target per item: fill {per_item.fill_rate:.2%}, stock value "
        f"{per_item.average_value:,.0f}\none 95% catalogue target: fill {catalog.fill_rate:.2%}, "
        f"stock value {catalog.average_value:,.0f}, saving {saving:.1%} (per-item targets "
        f"from {np.min(targets):.0%} to {np.max(targets):.2%})\nper item aimed at the "
        f"catalogue's fill: fill {same.fill_rate:.2%}, stock value {same.average_value:,.0f}, "
        f"saving {same_saving:.1%}",
        file=sys.stderr,
    )
    return {
        "target_fill_rate": TARGET,
        "fill_rate": round(catalog.fill_rate, 6),
        "stock_value": round(catalog.average_value, 2),
        "saving": round(saving, 6),
        "per_item_fill_rate": round(per_item.fill_rate, 6),
        "per_item_stock_value": round(per_item.average_value, 2),
        "per_item_aimed_at_catalog_fill_fill_rate": round(same.fill_rate, 6),
        "per_item_aimed_at_catalog_fill_stock_value": round(same.average_value, 2),
        "saving_vs_per_item_aimed_at_catalog_fill": round(same_saving, 6),
        "fill_within_1_point": abs(catalog.fill_rate - TARGET) <= CATALOG_FILL_BAND,
        "saving_at_least_25pct": saving >= CATALOG_MIN_SAVING,
        "items_below_80pct_target": int(np.sum(targets < 0.8)),
        "per_item_seconds": round(middle - started, 3),
        "catalog_seconds": round(finished - middle, 3),
    }


def run_carparts_catalog(path: Path) -> dict[str, object]:
    if not path.exists():
        print(
            f"carparts data not found at {path}; set LEANSTOCK_CARPARTS to the "
            "carparts.csv.gz file (columns unique_id, ds, y)",
            file=sys.stderr,
        )
        raise SystemExit(2)
    started = time.perf_counter()
    ids, demand = load_carparts(path)
    n = len(ids)
    items = Items.uniform(n, LEAD_TIME)
    items = replace(items, unit_cost=part_costs(n))
    print(f"carparts: {n} complete series × {demand.shape[1]} months", file=sys.stderr)
    figures = catalog_comparison(demand, items, WARMUP, WARMUP // 2)
    return {
        "benchmark": "policy",
        "data": "carparts",
        "mode": "catalog_target",
        "series": n,
        "months": int(demand.shape[1]),
        "warmup_months": WARMUP,
        "lead_time_months": LEAD_TIME,
        "cost_model": f"lognormal unit cost, median {COST_MEDIAN:g}, log-sd {COST_SPREAD:g}, "
        "seed 0, independent of demand",
        **figures,
        "wall_seconds": round(time.perf_counter() - started, 3),
        "peak_memory_mb": round(peak_memory_mb(), 1),
    }


def run_generated_catalog(quick: bool) -> dict[str, object]:
    items, periods = (1_000, 52) if quick else (10_000, 104)
    demand, data = generate_demand(items, periods)
    figures = catalog_comparison(demand, data, periods // 2, periods // 4)
    return {
        "benchmark": "policy",
        "data": "generated",
        "mode": "catalog_target",
        "items": items,
        "weeks": periods,
        **figures,
        "quick": quick,
        "peak_memory_mb": round(peak_memory_mb(), 1),
    }


def run(options: BenchOptions) -> dict[str, object]:
    if options.catalog_target:
        if options.data is None:
            return run_generated_catalog(options.quick)
        if options.data != "carparts":
            print(f"unknown data set {options.data!r}; known: carparts", file=sys.stderr)
            raise SystemExit(2)
        return run_carparts_catalog(find_carparts())
    if options.data is None:
        return run_generated(options.quick)
    if options.data != "carparts":
        print(f"unknown data set {options.data!r}; known: carparts", file=sys.stderr)
        raise SystemExit(2)
    return run_carparts(find_carparts())
