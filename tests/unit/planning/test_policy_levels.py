"""Service levels from lead-time demand: loss functions, fill rate, cycle service."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from leanstock.planning.policy import (
    count_levels,
    negative_binomial_parameters,
    normal_levels,
    normal_loss,
    poisson_loss,
    protection_moments,
)
from leanstock.planning.policy.distributions import (
    count_loss,
    count_losses,
    standard_normal_loss_inverse,
)


def _brute_loss(dist: Any, level: float) -> float:
    x = np.arange(0, 2000)
    return float(np.sum(np.maximum(x - level, 0) * dist.pmf(x)))


def test_protection_moments_add_lead_time_spread() -> None:
    mean, sd = protection_moments(10.0, 3.0, 4.0, 1.0, 1.0)
    assert mean == pytest.approx(50.0)
    assert sd == pytest.approx(np.sqrt(5 * 9 + 100 * 1))


def test_an_uncertain_forecast_mean_counts_once_per_period_of_the_interval() -> None:
    # The same error of the mean repeats in each of the P = 5 periods: P²·σ_μ̂², not P·σ_μ̂².
    _, sd = protection_moments(10.0, 3.0, 4.0, 0.0, 1.0, 0.5)
    assert sd == pytest.approx(np.sqrt(5 * 9 + 25 * 0.25))


def test_normal_loss_matches_the_standard_table() -> None:
    # G(0) = φ(0) = 0.3989, G(1) = 0.0833, G(2) = 0.0085 (Silver, Pyke & Thomas, App. II).
    assert normal_loss(0.0, 0.0, 1.0) == pytest.approx(0.398942, abs=1e-6)
    assert normal_loss(1.0, 0.0, 1.0) == pytest.approx(0.083315, abs=1e-6)
    assert normal_loss(12.0, 10.0, 1.0) == pytest.approx(0.008491, abs=1e-6)
    assert normal_loss(3.0, 5.0, 0.0) == pytest.approx(2.0)


@given(st.floats(min_value=1e-8, max_value=3.0))
def test_standard_normal_loss_inverse_inverts(target: float) -> None:
    z = standard_normal_loss_inverse(target)
    assert normal_loss(z, 0.0, 1.0) == pytest.approx(target, rel=1e-8)


@pytest.mark.parametrize("level", [0, 1, 3, 6, 10])
def test_poisson_loss_matches_a_direct_sum(level: int) -> None:
    assert poisson_loss(level, 4.2) == pytest.approx(_brute_loss(stats.poisson(4.2), level))


def test_count_levels_meet_the_fill_rate_with_the_smallest_whole_level() -> None:
    mean_l, var_l, mean_p, var_p = 2.0, 8.0, 3.0, 12.0
    r, p = negative_binomial_parameters(mean_p, var_p)
    rl, pl_ = negative_binomial_parameters(mean_l, var_l)
    allowed = 0.05 * 1.0
    level = float(count_levels(mean_p, var_p, mean_l, var_l, allowed, 0.0))

    def espc(s: float) -> float:
        return _brute_loss(stats.nbinom(r, p), s) - _brute_loss(stats.nbinom(rl, pl_), s)

    assert espc(level) <= allowed + 1e-12
    assert espc(level - 1) > allowed


@pytest.mark.parametrize(("mean", "var"), [(3.0, 3.0), (3.0, 12.0), (0.4, 2.5), (30.0, 45.0)])
def test_count_levels_for_cycle_service_are_the_quantile(mean: float, var: float) -> None:
    if var > mean:
        dist = stats.nbinom(*negative_binomial_parameters(mean, var))
    else:
        dist = stats.poisson(mean)
    level = count_levels(mean, var, 0.0, 0.0, np.inf, 0.95)
    assert level == dist.ppf(0.95)


def test_normal_levels_meet_the_fill_rate_and_the_cycle_service() -> None:
    fill = normal_levels(100.0, 20.0, 0.05 * 50.0, 0.0)
    assert normal_loss(fill, 100.0, 20.0) == pytest.approx(2.5, rel=1e-9)
    cycle = normal_levels(100.0, 20.0, np.inf, 0.95)
    assert cycle == pytest.approx(100 + 20 * 1.6448536, rel=1e-7)


@settings(max_examples=60, deadline=None)
@given(
    mean=st.floats(0.05, 40.0),
    dispersion=st.floats(1.0, 6.0),
    low=st.floats(0.5, 0.98),
    step=st.floats(0.0, 0.019),
)
def test_higher_service_never_lowers_the_level(
    mean: float, dispersion: float, low: float, step: float
) -> None:
    high = low + step
    var = mean * dispersion
    for lo_args, hi_args in (
        ((np.inf, low), (np.inf, high)),
        (((1 - low) * mean, 0.0), ((1 - high) * mean, 0.0)),
    ):
        assert count_levels(mean * 3, var * 3, mean * 2, var * 2, *lo_args) <= count_levels(
            mean * 3, var * 3, mean * 2, var * 2, *hi_args
        )
        assert (
            normal_levels(mean, np.sqrt(var), *lo_args)
            <= normal_levels(mean, np.sqrt(var), *hi_args) + 1e-9
        )


def test_an_item_without_demand_needs_no_buffer() -> None:
    assert count_levels(0.0, 0.0, 0.0, 0.0, 0.0, 0.99) == 0.0


def test_count_losses_at_every_level_match_the_closed_form() -> None:
    mean = np.array([0.0, 0.3, 3.0, 20.0, 45.0])
    var = np.array([0.0, 0.9, 3.0, 200.0, 46.0])
    every = count_losses(mean, var, 300)
    closed = count_loss(np.arange(301)[None, :], mean[:, None], var[:, None])
    np.testing.assert_allclose(every, closed, atol=1e-9)
