"""Stores fed by a warehouse: store demand and buffers pass up to the warehouse's plan."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from leanstock.planning.policy import plan_policies, suggest_orders
from leanstock.planning.policy.echelon import echelon_positions, installation_levels, pass_up

NETWORK = pl.DataFrame(
    {"location": ["north", "south"], "source": ["WH", "WH"], "transfer_lead_time": [1.0, 3.0]}
)


def _rows() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "item": ["tea", "tea", "tea", "cups"],
            "location": ["WH", "north", "south", "north"],
            "policy": ["periodic", "periodic", "periodic", "periodic"],
            "demand_mean": [2.0, 30.0, 10.0, 5.0],
            "demand_sd": [1.0, 6.0, 4.0, 2.0],
            "lead_time_mean": [7.0, 1.0, 3.0, 1.0],
            "lead_time_sd": [2.0, 0.0, 0.0, 0.0],
        }
    )


def test_store_demand_passes_up_to_the_warehouse() -> None:
    out = pass_up(_rows(), NETWORK)
    wh = out.filter(pl.col("location") == "WH").row(0, named=True)
    assert wh["echelon"]
    assert wh["own_demand_mean"] == 2.0
    assert wh["store_demand_mean"] == 40.0
    assert wh["demand_mean"] == 42.0
    assert wh["demand_sd"] == pytest.approx(np.sqrt(1 + 36 + 16))
    assert wh["stores"] == 2


def test_the_warehouse_buffer_covers_the_stores_refill_lead_time() -> None:
    out = pass_up(_rows(), NETWORK)
    wh = out.filter(pl.col("location") == "WH").row(0, named=True)
    # 7 days from the supplier, then 1 day to north (30 a day) or 3 to south (10 a day).
    assert wh["store_lead_time"] == pytest.approx((30 * 1 + 10 * 3) / 40)
    assert wh["lead_time_mean"] == pytest.approx(7 + 1.5)
    plan = plan_policies(out).filter(pl.col("location") == "WH").row(0, named=True)
    assert plan["lead_time_demand_mean"] == pytest.approx(42 * (8.5 + 1))
    own = plan_policies(_rows()).filter(pl.col("location") == "WH").row(0, named=True)
    assert plan["order_up_to"] > own["order_up_to"] + 40 * 8.5


def test_rows_that_feed_no_store_are_unchanged() -> None:
    rows = _rows()
    out = pass_up(rows, NETWORK)
    assert (
        out.filter(~pl.col("echelon"))
        .select(rows.columns)
        .equals(rows.filter(pl.col("location") != "WH"))
    )
    # Cups sell only at north and have no warehouse row: nothing to pass up to.
    assert out.filter(pl.col("item") == "cups")["echelon"].to_list() == [False]


def test_a_forecast_quantile_stands_in_for_the_spread() -> None:
    rows = (
        _rows()
        .drop("demand_sd")
        .with_columns(
            demand_p90=pl.col("demand_mean") + 1.2815516 * pl.Series([1.0, 6.0, 4.0, 2.0])
        )
    )
    wh = pass_up(rows, NETWORK).filter(pl.col("location") == "WH").row(0, named=True)
    assert wh["demand_sd"] == pytest.approx(np.sqrt(1 + 36 + 16), rel=1e-6)


def test_store_buffers_pass_up_through_the_echelon_position() -> None:
    rows = _rows()
    echelon_rows = pass_up(rows, NETWORK)
    plan = plan_policies(echelon_rows)
    wh_level = plan.filter(pl.col("location") == "WH")["order_up_to"].item()
    stores_level = plan.filter(pl.col("location") != "WH")["order_up_to"].to_list()
    full = pl.DataFrame(
        {
            "item": ["tea", "tea", "tea", "cups"],
            "location": ["WH", "north", "south", "north"],
            "on_hand": [wh_level - 65.0, 60.0, 40.0, stores_level[-1]],
            "open_supply": [0.0, 5.0, 0.0, 0.0],
            "reserved": [0.0, 0.0, 0.0, 0.0],
        }
    )
    position = echelon_positions(full, NETWORK)
    wh = position.filter(pl.col("location") == "WH").row(0, named=True)
    assert wh["own_on_hand"] == wh_level - 65.0
    assert wh["on_hand"] == wh_level - 65.0 + 100.0
    assert wh["open_supply"] == 5.0
    today = dt.date(2026, 1, 5)
    calm = suggest_orders(plan, position, today=today)
    assert "WH" not in calm["location"].to_list()
    # Echelon position: the warehouse's 65 short of its echelon level, the stores' 100 on
    # hand and 5 on the way: 40 above it. The stores sell 80 more: 40 below, ordered now.
    low = position.with_columns(  # as echelon_positions would give after the sales
        on_hand=pl.when(pl.col("location") == "WH")
        .then(pl.col("on_hand") - 80.0)
        .otherwise(pl.col("on_hand"))
    )
    wh_order = suggest_orders(plan, low, today=today).filter(pl.col("location") == "WH")
    assert wh_order["suggested_quantity"].item() == pytest.approx(40.0)


def test_the_warehouse_holds_its_echelon_level_less_what_the_stores_hold() -> None:
    rows = pass_up(_rows(), NETWORK)
    plan = plan_policies(rows)
    out = installation_levels(
        plan.filter(pl.col("location") == "WH"), plan.filter(pl.col("location") != "WH"), NETWORK
    ).row(0, named=True)
    stores = plan.filter((pl.col("location") != "WH") & (pl.col("item") == "tea"))
    assert out["store_order_up_to"] == stores["order_up_to"].sum()
    assert out["installation_order_up_to"] == out["order_up_to"] - out["store_order_up_to"]


def test_a_store_refilled_from_two_warehouses_is_refused() -> None:
    network = pl.concat([NETWORK, NETWORK.with_columns(source=pl.lit("WH2"))])
    with pytest.raises(ValueError, match="one warehouse only"):
        pass_up(_rows(), network)
