"""Coherent forecasts: item-locations add up to items and categories, and lose nothing."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leanstock.planning.forecast import forecast
from leanstock.planning.forecast.reconcile import Hierarchy, reconcile


def _matrix_wls(parent: np.ndarray, n_bottom: int, base: np.ndarray, var: np.ndarray) -> np.ndarray:
    """ỹ = S (S'W⁻¹S)⁻¹ S'W⁻¹ ŷ with the summing matrix S built from `parent`."""
    n = parent.size
    s = np.zeros((n, n_bottom))
    for b in range(n_bottom):
        node = b
        while node >= 0:
            s[node, b] = 1.0
            node = parent[node]
    w_inv = np.diag(1.0 / var)
    bottom = np.linalg.solve(s.T @ w_inv @ s, s.T @ w_inv @ base)
    return s @ bottom


@st.composite
def trees(draw: st.DrawFn) -> tuple[np.ndarray, int]:
    """Categories over items over item-locations; some items at one location only."""
    categories = draw(st.integers(1, 3))
    parent: list[int] = []
    items: list[tuple[int, int]] = []  # (category, locations)
    for c in range(categories):
        for _ in range(draw(st.integers(2, 4))):
            items.append((c, draw(st.integers(1, 3))))
    n_bottom = sum(k for _, k in items)
    multi = [i for i, (_, k) in enumerate(items) if k > 1]
    item_sid = {i: n_bottom + j for j, i in enumerate(multi)}
    category_sid = {c: n_bottom + len(multi) + c for c in range(categories)}
    for i, (c, k) in enumerate(items):
        parent += [item_sid.get(i, category_sid[c])] * k
    parent += [category_sid[items[i][0]] for i in multi]
    parent += [-1] * categories
    return np.array(parent), n_bottom


@settings(max_examples=40, deadline=None)
@given(trees(), st.integers(0, 2**32 - 1))
def test_tree_reconciliation_equals_the_wls_matrix_formula(
    tree: tuple[np.ndarray, int], seed: int
) -> None:
    parent, n_bottom = tree
    rng = np.random.default_rng(seed)
    n, steps = parent.size, 3
    base = rng.uniform(50, 150, size=(n, steps))
    var = rng.uniform(0.5, 20, size=n)
    points = pl.DataFrame(
        {
            "sid": np.repeat(np.arange(n), steps).astype(np.uint32),
            "t": np.tile(np.arange(100, 100 + steps), n),
            "forecast": base.ravel(),
        }
    )
    variance = pl.DataFrame({"sid": np.arange(n).astype(np.uint32), "variance": var})
    hierarchy = Hierarchy(n_bottom, parent, pl.DataFrame())

    got = reconcile(points, hierarchy, variance).sort("sid", "t")["forecast"].to_numpy()

    expected = np.column_stack([_matrix_wls(parent, n_bottom, base[:, h], var) for h in range(3)])
    # demand is never negative: the engine cuts below zero (and re-sums totals later)
    np.testing.assert_allclose(got.reshape(n, steps), np.maximum(expected, 0.0), atol=1e-9)


MONTHS = pl.date_range(dt.date(2018, 1, 1), dt.date(2023, 12, 1), "1mo", eager=True)


def shop_history(seed: int) -> pl.DataFrame:
    """Two categories of five items at three stores; a shared trend and season per item.

    Each item-location is its item's signal times a store share plus Poisson noise, so the
    totals are much smoother than the parts: the case where reconciliation helps.
    """
    rng = np.random.default_rng(seed)
    t = np.arange(MONTHS.len())
    rows = []
    for c, category in enumerate(("BREAD", "DRINKS")):
        for i in range(5):
            item = f"{category}-{i}"
            level = rng.uniform(20, 60)
            trend = rng.uniform(-0.2, 0.6)
            amplitude = rng.uniform(0.1, 0.4) * (1 if c == 0 else -1)
            signal = (level + trend * t) * (1 + amplitude * np.sin(2 * np.pi * t / 12))
            for store, share in (("north", 0.5), ("south", 0.3), ("east", 0.2)):
                qty = rng.poisson(np.maximum(signal * share, 0.1)).astype(float)
                rows.append(
                    pl.DataFrame(
                        {
                            "item": item,
                            "location": store,
                            "category": category,
                            "ds": MONTHS,
                            "qty": qty,
                        }
                    )
                )
    return pl.concat(rows)


@pytest.mark.slow
def test_item_location_forecasts_add_up_to_items_and_categories() -> None:
    history = shop_history(1)

    result = forecast(history, horizon=6, freq="M")

    bottom = result.forecast
    totals = result.aggregates
    assert set(totals["level"]) == {"item", "category"}
    by_item = bottom.group_by("item", "ds").agg(pl.col("forecast").sum().alias("parts"))
    items = totals.filter(pl.col("level") == "item").join(by_item, on=["item", "ds"])
    assert items.height == 10 * 6
    np.testing.assert_allclose(items["forecast"], items["parts"], rtol=1e-9, atol=1e-9)
    by_category = (
        bottom.join(history.select("item", "category").unique(), on="item")
        .group_by("category", "ds")
        .agg(pl.col("forecast").sum().alias("parts"))
    )
    categories = totals.filter(pl.col("level") == "category").join(
        by_category, on=["category", "ds"]
    )
    assert categories.height == 2 * 6
    np.testing.assert_allclose(categories["forecast"], categories["parts"], rtol=1e-9)
    q = totals.select("q50", "q80", "q90", "q95", "q99").to_numpy()
    assert (np.diff(q, axis=1) >= 0).all()
    assert bottom.height == 30 * 6
    expected = {f"{c}-{i}" for c in ("BREAD", "DRINKS") for i in range(5)}
    assert set(result.selection["item"]) == expected


@pytest.mark.slow
def test_the_reconciled_forecast_is_no_worse_than_the_base_forecast() -> None:
    """On generated hierarchies, reconciling does not lose accuracy at any level."""
    errors = {True: np.zeros(3), False: np.zeros(3)}
    for seed in (2, 3, 4):
        full = shop_history(seed)
        cut = dt.date(2023, 1, 1)
        history, holdout = full.filter(pl.col("ds") < cut), full.filter(pl.col("ds") >= cut)
        for reconciled in (True, False):
            fc = forecast(history, horizon=12, freq="M", reconciled=reconciled).forecast
            joined = fc.join(holdout, on=["item", "location", "ds"])
            assert joined.height == 30 * 12
            item = joined.group_by("item", "ds").agg(pl.col("forecast", "qty").sum())
            category = joined.group_by("category", "ds").agg(pl.col("forecast", "qty").sum())
            for level, frame in enumerate((joined, item, category)):
                errors[reconciled][level] += (frame["forecast"] - frame["qty"]).abs().sum()
    assert (errors[True] <= errors[False] * 1.01).all(), errors
