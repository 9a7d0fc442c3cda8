"""One fill-rate target for the catalogue at the least stock value (marginal analysis)."""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl
import pytest
from numpy.typing import ArrayLike

from leanstock.planning.policy.catalog import (
    allocate_fill_rates,
    catalog_targets,
    service_curves,
)
from leanstock.planning.policy.distributions import is_count_demand, protection_moments
from leanstock.planning.policy.plan import plan_policies


def _catalog(
    mean: ArrayLike, sd: ArrayLike, lead: ArrayLike, cost: ArrayLike, review: float = 1.0
) -> dict[str, Any]:
    mean = np.asarray(mean, dtype=float)
    sd = np.asarray(sd, dtype=float)
    lead = np.asarray(lead, dtype=float)
    mean_p, sd_p = protection_moments(mean, sd, lead, 0.0, review)
    mean_l, sd_l = protection_moments(mean, sd, lead, 0.0, 0.0)
    return {
        "demand_mean": mean,
        "mean_p": mean_p,
        "sd_p": sd_p,
        "mean_l": mean_l,
        "sd_l": sd_l,
        "cycle": mean * review,
        "review": review,
        "unit_cost": np.asarray(cost, dtype=float),
        "count": is_count_demand(mean_p, True),
    }


def test_marginal_analysis_is_optimal_for_the_fill_it_reaches() -> None:
    # Everett (1963): levels maximising filled demand − value/θ are the cheapest of all
    # combinations that fill as much. Checked against every combination of three items.
    data = _catalog([2.0, 6.0, 30.0], [1.8, 3.0, 9.0], [2, 1, 3], [40.0, 5.0, 1.0])
    allocation = allocate_fill_rates(**data, target=0.95)
    _levels, fill, value = service_curves(**data)
    filled = data["demand_mean"][:, None] * fill
    total_filled = filled[0][:, None, None] + filled[1][None, :, None] + filled[2][None, None, :]
    total_value = value[0][:, None, None] + value[1][None, :, None] + value[2][None, None, :]
    reached = float((data["demand_mean"] * allocation.fill).sum())
    cheapest = total_value[total_filled >= reached - 1e-9].min()
    assert allocation.catalog_fill >= 0.95
    assert allocation.total_value == pytest.approx(cheapest, rel=1e-9)
    assert allocation.total_value < allocation.uniform_total_value


def test_an_expensive_slow_part_is_left_to_the_cheap_fast_ones() -> None:
    # 95 units a period of a cheap part and 5 of a very dear one: a 90% catalogue fill is
    # cheapest served by the cheap part alone, at 90/95 of its demand.
    data = _catalog([95.0, 5.0], [20.0, 2.0], [2, 2], [1.0, 10_000.0])
    allocation = allocate_fill_rates(**data, target=0.90)
    assert allocation.level[1] == 0
    assert allocation.fill[1] == 0
    levels, fill, _value = service_curves(**data)
    enough = fill[0] >= 0.90 / 0.95
    assert allocation.level[0] == levels[0][enough].min()
    assert allocation.catalog_fill >= 0.90
    assert allocation.saving > 0.5


def test_identical_items_share_one_target() -> None:
    data = _catalog([10.0] * 4, [4.0] * 4, [3] * 4, [7.0] * 4)
    allocation = allocate_fill_rates(**data, target=0.95)
    assert np.ptp(allocation.service) == 0
    assert allocation.saving == pytest.approx(0.0, abs=1e-9)


def test_a_higher_catalogue_target_costs_more_and_tracks_the_target() -> None:
    rng = np.random.default_rng(3)
    n = 400
    mean = np.where(rng.random(n) < 0.4, rng.lognormal(3.0, 1.0, n), rng.lognormal(-1.0, 1.0, n))
    data = _catalog(
        mean, mean * rng.uniform(0.5, 2.0, n), rng.integers(1, 6, n), rng.lognormal(2.0, 1.0, n)
    )
    values = []
    for target in (0.85, 0.9, 0.95, 0.98):
        allocation = allocate_fill_rates(**data, target=target)
        assert allocation.catalog_fill == pytest.approx(target, abs=0.002)
        weighted = float((mean * allocation.service).sum() / mean.sum())
        assert weighted == pytest.approx(allocation.catalog_fill)
        assert allocation.total_value <= allocation.uniform_total_value
        values.append(allocation.total_value)
    assert values == sorted(values)


def test_items_without_demand_keep_the_target_and_hold_nothing() -> None:
    data = _catalog([0.0, 5.0], [0.0, 2.0], [1, 1], [3.0, 3.0])
    allocation = allocate_fill_rates(**data, target=0.9)
    assert allocation.service[0] == 0.9
    assert allocation.value[0] == 0.0


def test_a_target_outside_zero_and_one_is_refused() -> None:
    data = _catalog([5.0], [2.0], [1], [3.0])
    with pytest.raises(ValueError, match="between 0 and 1"):
        allocate_fill_rates(**data, target=1.0)


def _planned(costs: list[float], target: float) -> pl.DataFrame:
    """Two (or more) min-max items, the same smooth demand (20 ± 8 a period), lead time 2, as
    the planner plans them with `target` as every item's fill rate."""
    n = len(costs)
    frame = pl.DataFrame(
        {
            "item": [f"I{i}" for i in range(n)],
            "location": "WH",
            "policy": "min_max",
            "demand_mean": [20.0] * n,
            "demand_sd": [8.0] * n,
            "lead_time_mean": [2.0] * n,
            "unit_cost": costs,
            "service_level": [target] * n,
            "integral_units": [False] * n,
        }
    )
    return plan_policies(frame, period_days=7)


def test_the_plan_mode_gives_identical_items_the_catalogue_target() -> None:
    # Two identical items: by symmetry the optimum is the target for each, and nothing saved.
    planned = _planned([5.0, 5.0], 0.95)
    result = catalog_targets(planned, 0.95)
    assert result.allocation is not None
    first, second = result.service
    assert first == second  # the same target, at the grid's first level reaching 95%
    assert 0.95 <= first < 0.96
    assert result.allocation.saving == pytest.approx(0.0, abs=1e-9)


def test_the_plan_mode_buys_fill_where_it_is_cheap_and_reaches_the_optimum() -> None:
    planned = _planned([1.0, 100.0], 0.95)
    result = catalog_targets(planned, 0.95)
    a = result.allocation
    assert a is not None
    cheap, dear = result.service
    assert cheap > 0.95 > dear
    assert a.catalog_fill >= 0.95 - 1e-9
    assert a.total_value < a.uniform_total_value
    # The known optimum: no pair of levels on the same curves reaches the fill the allocation
    # reaches for less money (brute force over every pair).
    mu = planned["demand_mean"].to_numpy()
    lt = planned["lead_time_mean"].to_numpy()
    review = planned["protection_interval"].to_numpy() - lt
    mean_l, sd_l = protection_moments(mu, np.full(2, 8.0), lt, 0.0, 0.0)
    cycle = np.maximum(planned["order_quantity"].to_numpy(), mu * review)
    _, fill, value = service_curves(
        mu,
        planned["lead_time_demand_mean"].to_numpy(),
        planned["lead_time_demand_sd"].to_numpy(),
        mean_l,
        sd_l,
        cycle,
        review,
        [1.0, 100.0],
        False,
    )
    pairs_fill = (fill[0][:, None] + fill[1][None, :]) / 2
    pairs_value = value[0][:, None] + value[1][None, :]
    best = pairs_value[pairs_fill >= a.catalog_fill - 1e-12].min()
    assert a.total_value == pytest.approx(best, rel=1e-9)


def test_rows_the_planner_does_not_buffer_keep_the_target() -> None:
    planned = _planned([1.0, 2.0], 0.9).with_columns(policy=pl.lit("make_to_order"))
    result = catalog_targets(planned, 0.9)
    assert result.allocation is None
    np.testing.assert_allclose(result.service, [0.9, 0.9])
