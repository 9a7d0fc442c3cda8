"""`leanstock bench plan`: policy maths and order suggestions for a large catalogue.

Generates 50,000 item-locations (`--quick`: 5,000) with forecasts, lead-time statistics,
costs, packs and stock positions, then times `plan_policies` and `suggest_orders` (forecasts
given, as in the plan service). The bar of issue #5 is 10 seconds for 50,000.
"""

from __future__ import annotations

import datetime as dt
import sys
import time

import numpy as np
import polars as pl

from leanstock.benchmarks import BenchOptions, peak_memory_mb
from leanstock.planning.policy import plan_policies, suggest_orders

BAR_SECONDS = 10.0


def generate_catalogue(rows: int, seed: int = 0) -> tuple[pl.DataFrame, pl.DataFrame]:
    """A plan input frame and a stock-position frame for `rows` item-locations.

    Daily demand: 40% smooth items (mean 5–200/day), 60% slow movers (mean 0.02–2/day);
    forecast error spread 0.3–2× the mean; lead times 2–40 days with a spread measured from
    0–30 receipts; policies mixed as a small business would set them.
    """
    rng = np.random.default_rng(seed)
    locations = 2
    items = rows // locations
    smooth = rng.random(rows) < 0.4
    mean = np.where(smooth, rng.lognormal(3.0, 1.0, rows), rng.lognormal(-2.0, 1.2, rows))
    policy = rng.choice(
        ["periodic", "reorder_point", "min_max", "kanban", "make_to_order", "buy_to_order"],
        rows,
        p=[0.4, 0.25, 0.15, 0.1, 0.05, 0.05],
    )
    receipts = rng.integers(0, 30, rows)
    lead = rng.integers(2, 40, rows).astype(np.float64)
    perishable = rng.random(rows) < 0.1
    plan_input = pl.DataFrame(
        {
            "item": np.repeat(np.arange(items), locations).astype(str),
            "location": np.tile(np.array(["north", "south"]), items),
            "policy": policy,
            "demand_mean": mean,
            "demand_sd": mean * rng.uniform(0.3, 2.0, rows),
            "lead_time_mean": lead,
            "lead_time_sd": np.where(receipts > 1, lead * rng.uniform(0.0, 0.3, rows), 0.0),
            "lead_time_receipts": receipts,
            "abc_class": rng.choice(["A", "B", "C"], rows, p=[0.2, 0.3, 0.5]),
            "unit_cost": rng.lognormal(2.0, 1.0, rows),
            "order_cost": rng.choice([0.0, 25.0], rows),
            "holding_rate": 0.25 / 365.0,
            "moq": rng.choice([0.0, 10.0, 50.0], rows),
            "pack_size": rng.choice([1.0, 6.0, 12.0, 24.0], rows),
            "shelf_life": np.where(perishable, rng.uniform(5.0, 60.0, rows), np.inf),
            "customer_wait": np.where(rng.random(rows) < 0.5, rng.uniform(5.0, 30.0, rows), np.nan),
        }
    )
    # Stock positions around each item's own levels, as a running business would have them:
    # from a preliminary plan (not timed), between 90% of the reorder point and the order-up-to
    # level plus a little, open supply on a third of the items.
    levels = plan_policies(plan_input)
    reorder = levels.get_column("reorder_point").to_numpy()
    up_to = levels.get_column("order_up_to").to_numpy()
    open_order = rng.random(rows) < 0.3
    position = pl.DataFrame(
        {
            "item": plan_input["item"],
            "location": plan_input["location"],
            "on_hand": np.floor(rng.uniform(0.9 * reorder, 1.1 * up_to + 1.0)),
            "open_supply": np.where(
                open_order, levels.get_column("order_quantity").to_numpy(), 0.0
            ),
            "reserved": np.floor(mean * rng.uniform(0.0, 3.0, rows)),
        }
    )
    return plan_input, position


def run(options: BenchOptions) -> dict[str, object]:
    rows = 5_000 if options.quick else 50_000
    plan_input, position = generate_catalogue(rows)
    started = time.perf_counter()
    plan = plan_policies(plan_input)
    planned = time.perf_counter()
    suggestions = suggest_orders(plan, position, today=dt.date(2026, 1, 5))
    finished = time.perf_counter()
    seconds = finished - started
    print(
        f"{rows} item-locations: plan {planned - started:.2f} s, suggestions "
        f"{finished - planned:.2f} s, {suggestions.height} orders suggested",
        file=sys.stderr,
    )
    return {
        "benchmark": "plan",
        "item_locations": rows,
        "plan_seconds": round(planned - started, 4),
        "suggest_seconds": round(finished - planned, 4),
        "seconds": round(seconds, 4),
        "item_locations_per_second": round(rows / seconds),
        "orders_suggested": suggestions.height,
        "late_orders": int(suggestions["late"].sum()),
        "within_bar": seconds <= BAR_SECONDS,
        "bar_seconds": BAR_SECONDS,
        "quick": options.quick,
        "peak_memory_mb": round(peak_memory_mb(), 1),
    }
