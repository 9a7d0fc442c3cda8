"""ABC by value, XYZ by variability, dead and slow stock: frames in, frames out."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

import numpy as np
import polars as pl
import pytest

from leanstock.planning.segments import AbcThresholds, XyzThresholds, abc_classes, xyz_classes
from leanstock.planning.stock_health import SlowStockRules, slow_stock


def test_abc_by_value_follows_the_cumulative_share_before_each_item() -> None:
    frame = pl.DataFrame(
        {"item": ["a", "b", "c", "d", "e"], "value": [10.0, 500.0, 300.0, 150.0, 40.0]}
    )
    # Shares 0.5, 0.3, 0.15, 0.04, 0.01: before-shares 0, 0.5, 0.8, 0.95, 0.99.
    out = abc_classes(frame)
    assert out["item"].to_list() == ["b", "c", "d", "e", "a"]
    assert out["abc_class"].to_list() == ["A", "A", "B", "C", "C"]
    assert out["cumulative_share"].to_list() == pytest.approx([0.5, 0.8, 0.95, 0.99, 1.0])


def test_abc_thresholds_are_configurable_and_checked() -> None:
    frame = pl.DataFrame({"item": ["a", "b", "c"], "value": [60.0, 30.0, 10.0]})
    tight = abc_classes(frame, thresholds=AbcThresholds(a=0.5, b=0.7))
    assert tight["abc_class"].to_list() == ["A", "B", "C"]
    with pytest.raises(ValueError, match="0 < A < B"):
        AbcThresholds(a=0.9, b=0.8)


def test_abc_puts_items_without_value_in_c() -> None:
    frame = pl.DataFrame(
        {"item": ["a", "b"], "value": [0.0, None]}, schema_overrides={"value": pl.Float64}
    )
    assert abc_classes(frame)["abc_class"].to_list() == ["C", "C"]


def _history(series: Mapping[str, Sequence[float]]) -> pl.DataFrame:
    start = dt.date(2025, 1, 6)
    rows = [
        (item, start + dt.timedelta(weeks=week), qty)
        for item, values in series.items()
        for week, qty in enumerate(values)
        if qty > 0
    ]
    return pl.DataFrame(rows, schema=["item", "ds", "qty"], orient="row")


def test_xyz_by_coefficient_of_variation_with_missing_periods_as_zero() -> None:
    steady = [10, 11, 9, 10, 10, 11, 9, 10]
    varying = [2, 18, 5, 15, 1, 19, 10, 10]  # CV 0.69
    lumpy = [0, 0, 30, 0, 0, 0, 50, 0]
    out = xyz_classes(_history({"steady": steady, "varying": varying, "lumpy": lumpy}))
    classes = dict(zip(out["item"], out["xyz_class"], strict=True))
    assert classes == {"steady": "X", "varying": "Y", "lumpy": "Z"}
    lumpy_row = out.filter(pl.col("item") == "lumpy").row(0, named=True)
    # Measured from the first sale (week 2): six weeks, two sales.
    assert lumpy_row["periods"] == 6
    assert lumpy_row["mean"] == pytest.approx(80 / 6)
    assert lumpy_row["cv"] == pytest.approx(np.std([30, 0, 0, 0, 50, 0], ddof=1) / (80 / 6))


def test_xyz_leaves_items_with_too_little_history_unclassed() -> None:
    out = xyz_classes(_history({"old": [5] * 8, "new": [0] * 5 + [4, 5, 6]}))
    classes = dict(zip(out["item"], out["xyz_class"], strict=True))
    assert classes == {"old": "X", "new": None}
    assert xyz_classes(
        _history({"old": [5] * 8, "new": [0] * 5 + [4, 5, 6]}),
        thresholds=XyzThresholds(min_periods=3),
    )["xyz_class"].to_list() == ["X", "X"]


TODAY = dt.date(2026, 3, 1)


def _days_ago(days: int) -> dt.date:
    return TODAY - dt.timedelta(days=days)


def test_dead_and_slow_stock_with_the_money_in_it_and_what_to_do() -> None:
    stock = pl.DataFrame(
        {
            "item": ["dead", "dead-returnable", "new", "slow", "very-slow", "fine", "none"],
            "on_hand": [40.0, 10.0, 50.0, 100.0, 600.0, 30.0, 0.0],
            "unit_cost": [5.0, 80.0, 2.0, 3.0, 1.0, 4.0, 9.0],
            "returnable": [False, True, False, False, False, False, False],
            "last_received": [_days_ago(700), _days_ago(500), _days_ago(20)] + [None] * 4,
        }
    )
    demand = pl.DataFrame(
        {
            "item": ["dead", "slow", "slow", "very-slow", "fine", "fine"],
            "ds": [
                _days_ago(400),
                _days_ago(30),
                _days_ago(60),
                _days_ago(10),
                _days_ago(5),
                _days_ago(40),
            ],
            "qty": [3.0, 20.0, 25.0, 90.0, 30.0, 15.0],
        }
    )
    out = slow_stock(
        stock, demand, TODAY, rules=SlowStockRules(dead_days=365, slow_days=180, rate_days=90)
    )
    rows = {r["item"]: r for r in out.iter_rows(named=True)}
    assert "none" not in rows  # nothing on hand, nothing to act on
    assert rows["dead"]["status"] == "dead"
    assert rows["dead"]["value"] == 200.0
    assert rows["dead"]["excess_value"] == 200.0
    assert rows["dead"]["action"] == "mark down"
    assert rows["dead"]["days_since_demand"] == 400
    assert rows["dead-returnable"]["action"] == "return to supplier"
    assert rows["new"]["status"] == "ok"  # received 20 days ago: not sold yet is not dead
    # 45 sold in 90 days = 0.5 a day: 100 on hand is 200 days, 10 beyond 180 days' worth.
    assert rows["slow"]["demand_per_day"] == pytest.approx(0.5)
    assert rows["slow"]["days_of_supply"] == pytest.approx(200.0)
    assert rows["slow"]["status"] == "slow"
    assert rows["slow"]["excess"] == pytest.approx(10.0)
    assert rows["slow"]["excess_value"] == pytest.approx(30.0)
    assert rows["slow"]["action"] == "stop reordering"
    # 600 at 1 a day is 600 days, more than twice 180: clear the excess of 420 too.
    assert rows["very-slow"]["action"] == "stop reordering; mark down the excess"
    assert rows["very-slow"]["excess"] == pytest.approx(420.0)
    assert rows["fine"]["status"] == "ok"
    assert rows["fine"]["action"] is None
    assert out["excess_value"].to_list() == sorted(out["excess_value"].to_list(), reverse=True)


def test_slow_stock_ignores_demand_after_today_and_works_per_location() -> None:
    stock = pl.DataFrame(
        {
            "item": ["a", "a"],
            "location": ["WH", "SHOP"],
            "on_hand": [10.0, 10.0],
            "unit_cost": [1.0, 1.0],
        }
    )
    demand = pl.DataFrame(
        {
            "item": ["a", "a"],
            "location": ["WH", "SHOP"],
            "ds": [_days_ago(10), TODAY + dt.timedelta(days=3)],
            "qty": [9.0, 9.0],
        }
    )
    out = slow_stock(stock, demand, TODAY, keys=("item", "location"))
    status = {r["location"]: r["status"] for r in out.iter_rows(named=True)}
    assert status == {"WH": "ok", "SHOP": "dead"}
