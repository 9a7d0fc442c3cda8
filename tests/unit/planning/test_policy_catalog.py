"""One fill-rate target for the catalogue at the least stock value (marginal analysis)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from numpy.typing import ArrayLike

from leanstock.planning.policy.catalog import allocate_fill_rates, service_curves
from leanstock.planning.policy.distributions import is_count_demand, protection_moments


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
