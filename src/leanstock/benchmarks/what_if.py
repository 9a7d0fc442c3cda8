"""`leanstock bench what-if`: a disruption drill on a generated 10,000-item catalogue.

The catalogue is `bench policy`'s generated weekly demand (10,000 items × 104 weeks;
`--quick` 1,000 × 52) with 20 suppliers (item i buys from supplier i mod 20, lead times
1–4 weeks), 10 categories, and a backup supplier for 70% of the items (1–3 weeks slower,
5–20% dearer). The drill combines three scenarios from the first measured week: the first
supplier stops (its items go to their backups, or get nothing), the second slips two weeks
without warning, and demand in the first category rises 20%. The bar of issue #16 is
10 seconds for the drill (baseline and scenario replays, comparison included; generating the
data is not timed); `cpu_seconds` (this process's CPU time, local engine) tells a slow
machine from a busy one. `--engine dask` runs it on Dask (`--scheduler`, else a local
cluster).
"""

from __future__ import annotations

import sys
import time

import numpy as np

from leanstock.benchmarks import BenchOptions, peak_memory_mb
from leanstock.benchmarks.policy import generate_demand
from leanstock.planning.whatif import (
    DemandChange,
    DrillCatalog,
    LeadTimeSlip,
    SupplierStop,
    run_drill,
)

BAR_SECONDS = 10.0
SUPPLIERS = 20
CATEGORIES = 10


def generate_catalog(items: int, periods: int, seed: int = 0) -> tuple[np.ndarray, DrillCatalog]:
    """Demand and drill data for `items` items (see the module docstring)."""
    demand, data = generate_demand(items, periods, seed)
    rng = np.random.default_rng(seed + 1)
    backed = rng.random(items) < 0.7
    catalog = DrillCatalog(
        item_ids=[f"SKU-{i:05d}" for i in range(items)],
        items=data,
        supplier=np.array([f"S{i % SUPPLIERS:02d}" for i in range(items)]),
        category=np.array([f"C{i % CATEGORIES}" for i in rng.permutation(items)]),
        service_level=np.full(items, 0.95),
        backup_lead_time=np.where(backed, data.lead_time + rng.integers(1, 4, items), -1),
        backup_unit_cost=np.where(backed, data.unit_cost * rng.uniform(1.05, 1.2, items), np.nan),
    )
    return demand, catalog


DRILL = (
    SupplierStop("S00"),
    LeadTimeSlip("S01", 2),
    DemandChange("C0", 0.2),
)


def run(options: BenchOptions) -> dict[str, object]:
    items, periods = (1_000, 52) if options.quick else (10_000, 104)
    demand, catalog = generate_catalog(items, periods)
    started, cpu = time.perf_counter(), time.process_time()
    result = run_drill(demand, catalog, DRILL, engine=options.engine, scheduler=options.scheduler)
    seconds = time.perf_counter() - started
    cpu_seconds = time.process_time() - cpu
    overall = result.overall
    base, scen = overall["baseline"], overall["scenario"]
    print(
        f"{items} items × {periods} weeks, drill in {seconds:.2f} s: fill "
        f"{base['fill_rate']:.2%} → {scen['fill_rate']:.2%}, stock value "
        f"{base['average_stock_value']:,.0f} → {scen['average_stock_value']:,.0f}, "
        f"{overall['items_without_supply']} items without supply, backup spend "
        f"+{overall['backup_extra_spend']:,.0f}",
        file=sys.stderr,
    )
    return {
        "benchmark": "what-if",
        "items": items,
        "weeks": periods,
        "engine": options.engine,
        "drill": [type(s).__name__ for s in DRILL],
        "seconds": round(seconds, 3),
        "cpu_seconds": round(cpu_seconds, 3),
        "within_bar": seconds <= BAR_SECONDS,
        "bar_seconds": BAR_SECONDS,
        **overall,
        "quick": options.quick,
        "peak_memory_mb": round(peak_memory_mb(), 1),
    }
