"""Oracle tests: the textbook models against values published in Snyder & Shen,
*Fundamentals of Supply Chain Theory* (2nd ed., 2019), and Zheng & Federgruen (1991)."""

from __future__ import annotations

import numpy as np
import pytest

from leanstock.planning.policy import (
    eoq,
    eoq_price_breaks,
    newsvendor_normal,
    rq_eil,
    zheng_federgruen,
)

# The EOQ and newsvendor values are printed to 4 decimals, so they are checked to half a unit
# of the last printed digit (absolute 5e-5), which is as close as a rounded value allows.
PRINTED_4DP = 5e-5


def test_eoq_matches_snyder_shen_example() -> None:
    result = eoq(order_cost=8, holding_cost=0.225, demand_rate=1300)
    assert float(result.quantity) == pytest.approx(304.0468, abs=PRINTED_4DP)
    assert float(result.cost) == pytest.approx(68.4105, abs=PRINTED_4DP)


def test_eoq_is_vectorised_and_orders_what_is_needed_without_a_fixed_cost() -> None:
    result = eoq([8, 0, 8], [0.225, 0.225, 0.225], [1300, 1300, 0])
    assert result.quantity[0] == pytest.approx(304.0468, abs=PRINTED_4DP)
    assert result.quantity[1] == 0.0
    assert result.quantity[2] == 0.0


def test_newsvendor_with_normal_demand_matches_snyder_shen_example() -> None:
    result = newsvendor_normal(mean=50, sd=8, holding_cost=0.18, stockout_cost=0.7)
    assert float(result.level) == pytest.approx(56.6040, abs=PRINTED_4DP)
    assert float(result.cost) == pytest.approx(1.9976, abs=PRINTED_4DP)


def test_optimal_s_s_for_poisson_6_matches_snyder_shen_example() -> None:
    result = zheng_federgruen(mean=6, holding_cost=1, stockout_cost=4, order_cost=5)
    assert float(result.reorder_point[()]) == 4
    assert float(result.order_up_to[()]) == 10
    assert float(result.cost[()]) == pytest.approx(8.034111561, rel=1e-6)


def test_r_q_under_the_eil_approximation_matches_snyder_shen_example() -> None:
    result = rq_eil(
        demand_rate=1300,
        demand_sd=150,
        lead_time=1 / 12,
        holding_cost=0.225,
        stockout_cost=7.5,
        order_cost=8,
    )
    assert float(result.reorder_point) == pytest.approx(213.97, abs=0.01)
    assert float(result.quantity) == pytest.approx(318.59, abs=0.01)
    assert float(result.cost) == pytest.approx(95.45, abs=0.01)


ZHENG_FEDERGRUEN_TABLE = [
    # μ, s*, S*, cost — Zheng & Federgruen (1991), Table I: h = 1, p = 9, K = 64.
    (10, 6, 40, 35.022),
    (15, 10, 49, 42.698),
    (20, 14, 62, 49.173),
    (25, 19, 56, 54.262),
    (30, 23, 66, 57.819),
    (35, 28, 77, 61.215),
    (40, 33, 87, 64.512),
    (45, 37, 97, 67.776),
    (50, 42, 108, 70.975),
    (55, 47, 118, 74.149),
    (60, 52, 129, 77.306),
    (65, 56, 75, 78.518),
    (70, 62, 81, 79.037),
    (75, 67, 86, 79.554),
    (21, 15, 65, 50.406),
    (22, 16, 68, 51.632),
    (23, 17, 52, 52.757),
    (24, 18, 54, 53.518),
    (51, 43, 110, 71.611),
    (52, 44, 112, 72.246),
    (59, 51, 126, 76.679),
    (61, 52, 131, 77.929),
    (63, 54, 73, 78.287),
    (64, 55, 74, 78.402),
]


@pytest.mark.parametrize(("mean", "s", "big_s", "cost"), ZHENG_FEDERGRUEN_TABLE)
def test_optimal_s_s_matches_zheng_federgruen_table(
    mean: float, s: int, big_s: int, cost: float
) -> None:
    result = zheng_federgruen(mean=mean, holding_cost=1, stockout_cost=9, order_cost=64)
    assert float(result.reorder_point[()]) == s
    assert float(result.order_up_to[()]) == big_s
    assert float(result.cost[()]) == pytest.approx(cost, abs=0.0005)


def test_optimal_s_s_solves_many_items_at_once() -> None:
    table = np.array(ZHENG_FEDERGRUEN_TABLE)
    result = zheng_federgruen(mean=table[:, 0], holding_cost=1, stockout_cost=9, order_cost=64)
    np.testing.assert_array_equal(result.reorder_point, table[:, 1])
    np.testing.assert_array_equal(result.order_up_to, table[:, 2])
    np.testing.assert_allclose(result.cost, table[:, 3], atol=0.0005)


def test_price_breaks_take_the_discount_when_it_pays() -> None:
    # λ = 1000/yr, K = 100, i = 0.2; prices 5.00 (< 500), 4.80 (≥ 500), 4.75 (≥ 1000).
    # EOQ at 4.80 is √(2·100·1000/0.96) = 456.4 < 500, so Q = 500 at cost
    # 4.80·1000 + 100·1000/500 + 0.96·500/2 = 5240; at 4.75, Q = 1000: 4750 + 100 + 475 =
    # 5325; at 5.00, Q = 447.2: 5000 + 447.2 = 5447.2. Best: 500 units at 4.80.
    result = eoq_price_breaks(100, 0.2, 1000, [0, 500, 1000], [5.0, 4.8, 4.75])
    assert float(result.quantity[()]) == pytest.approx(500)
    assert float(result.unit_price[()]) == pytest.approx(4.8)
    assert float(result.cost[()]) == pytest.approx(5240)


def test_price_breaks_keep_the_plain_eoq_when_no_break_is_worth_it() -> None:
    result = eoq_price_breaks(8, 0.1, 1300, [0, 5000], [2.25, 2.20])
    assert float(result.quantity[()]) == pytest.approx(np.sqrt(2 * 8 * 1300 / 0.225))
    assert float(result.unit_price[()]) == pytest.approx(2.25)


def test_price_breaks_accept_a_schedule_per_item_padded_with_nan() -> None:
    result = eoq_price_breaks(
        [100, 100],
        0.2,
        [1000, 1000],
        [[0.0, 500.0, 1000.0], [0.0, 500.0, np.nan]],
        [[5.0, 4.8, 4.75], [5.0, 4.8, np.nan]],
    )
    np.testing.assert_allclose(result.quantity, [500, 500])
