"""The policy simulator: known answers, no look-ahead, the planner's maths, input checks."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt
import polars as pl
import pytest
from scipy import stats

from leanstock.planning.policy import plan_policies
from leanstock.planning.simulate import (
    BaseStockPolicy,
    ExponentialForecaster,
    Forecast,
    HistoryForecaster,
    Items,
    PlannerPolicy,
    Policy,
    ReviewState,
    SimulationInputError,
    compare_catalog_target,
    prepare_history,
    simulate,
    simulate_history,
)


class FixedLevel:
    """Order up to S every period, whatever happened."""

    def __init__(self, n: int, level: float) -> None:
        self.level = np.full(n, level)

    def start(self) -> None:
        pass

    def levels(self, forecast: Forecast, state: ReviewState) -> tuple[np.ndarray, np.ndarray]:
        return self.level, self.level


def _poisson_demand(n: int, periods: int, mean: float, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).poisson(mean, (n, periods)).astype(float)


Floats = npt.NDArray[np.float64]


@pytest.mark.parametrize("level", [8, 12, 14])
def test_base_stock_with_backorders_matches_the_analytic_fill_rate_and_stock(level: int) -> None:
    # Poisson(3) per period, L = 2: fill = 1 − (n_P(S) − n_L(S))/μ with P = L + 1, and
    # E[on hand] = E[(S − D_P)⁺] (Snyder & Shen 2019, §4.4; Silver, Pyke & Thomas, §7.6).
    n, mean, lead = 3000, 3.0, 2
    demand = _poisson_demand(n, 300, mean)
    items = Items.uniform(n, lead)
    result = simulate(demand, items, FixedLevel(n, level), warmup=40, burn_in=5)
    x = np.arange(200)
    over_p = stats.poisson(mean * (lead + 1)).pmf(x)
    over_l = stats.poisson(mean * lead).pmf(x)
    espc = np.sum(np.maximum(x - level, 0) * (over_p - over_l))
    assert result.fill_rate == pytest.approx(1 - espc / mean, abs=0.004)
    assert result.average_on_hand == pytest.approx(
        np.sum(np.maximum(level - x, 0) * over_p), rel=0.01
    )


def test_zero_lead_time_orders_arrive_for_the_next_period() -> None:
    demand = np.array([[0, 0, 5, 5, 5, 5]], dtype=float)
    result = simulate(demand, Items.uniform(1, 0), FixedLevel(1, 5), warmup=2, burn_in=1)
    assert result.fill_rate == 1.0
    assert result.orders.tolist() == [4]


def test_fill_rate_counts_only_demand_served_from_the_shelf_in_its_period() -> None:
    demand = np.array([[0, 0, 9, 0, 0, 0]], dtype=float)
    items = Items.uniform(1, 1)
    lost = simulate(demand, items, FixedLevel(1, 4), warmup=2, burn_in=1, backorders=False)
    kept = simulate(demand, items, FixedLevel(1, 4), warmup=2, burn_in=1)
    assert lost.fill_rate == pytest.approx(4 / 9)
    assert kept.fill_rate == pytest.approx(4 / 9)
    # Backorders are served from the next receipt but never count toward the fill rate; and a
    # base-stock policy restores the same stock either way.
    assert lost.average_on_hand == kept.average_on_hand


class Recorder:
    """Wraps a policy and keeps every decision with what it was shown."""

    def __init__(self, inner: Policy) -> None:
        self.inner = inner
        self.decisions: list[tuple[np.ndarray, np.ndarray]] = []

    def start(self) -> None:
        self.inner.start()
        self.decisions.clear()

    def levels(self, forecast: Forecast, state: ReviewState) -> tuple[Floats, Floats]:
        s, big_s = self.inner.levels(forecast, state)
        self.decisions.append((s.copy(), big_s.copy()))
        return s, big_s


def test_changing_future_demand_does_not_change_past_decisions() -> None:
    n = 40
    demand = np.random.default_rng(5).negative_binomial(1.0, 0.3, (n, 60)).astype(float)
    future = demand.copy()
    future[:, 45:] *= 7
    items = Items.uniform(n, 2)
    runs = []
    for history in (demand, future):
        policy = Recorder(PlannerPolicy(items, np.full(n, 0.95)))
        simulate(history, items, policy, warmup=30, burn_in=10)
        runs.append(policy.decisions)
    # decision k is taken at the end of period burn_in + k − 1, seeing periods < burn_in + k.
    for k in range(0, 45 - 10 + 1):
        np.testing.assert_array_equal(runs[0][k][1], runs[1][k][1])
    assert any(not np.array_equal(a[1], b[1]) for a, b in zip(runs[0], runs[1], strict=True))


def test_the_forecaster_sees_only_the_past() -> None:
    seen: list[int] = []

    def forecast(history: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        seen.append(history.shape[1])
        return history.mean(axis=1), history.std(axis=1)

    demand = _poisson_demand(3, 20, 2.0)
    items = Items.uniform(3, 1)
    simulate(demand, items, BaseStockPolicy(items, 1.0), forecast, warmup=10, burn_in=4)
    assert seen == list(range(4, 21))


@pytest.mark.parametrize(("policy_name", "order_cost"), [("periodic", 0.0), ("min_max", 40.0)])
def test_planner_levels_are_those_of_plan_policies(policy_name: str, order_cost: float) -> None:
    rng = np.random.default_rng(2)
    n = 200
    mean = rng.gamma(0.6, 8.0, n)
    sd = mean * rng.uniform(0.3, 2.5, n) + 0.05
    lead = rng.integers(0, 6, n)
    items = Items(
        lead_time=lead,
        unit_cost=np.full(n, 2.0),
        moq=np.full(n, 5.0),
        pack_size=np.full(n, 3.0),
        order_cost=np.full(n, order_cost),
        holding_rate=np.full(n, 0.01),
    )
    mean_sd = sd * rng.uniform(0.0, 0.5, n)
    policy = PlannerPolicy(items, np.full(n, 0.95), feedback_gain=0.0)
    reorder, up_to = policy.levels(Forecast(mean, sd, mean_sd), ReviewState(0, 0.0, 0.0, 0, 0))
    plan = plan_policies(
        pl.DataFrame(
            {
                "item": np.arange(n).astype(str),
                "location": "main",
                "policy": policy_name,
                "demand_mean": mean,
                "demand_sd": sd,
                "demand_mean_sd": mean_sd,
                "lead_time_mean": lead.astype(float),
                "unit_cost": 2.0,
                "order_cost": order_cost,
                "holding_rate": 0.01,
                "moq": 5.0,
                "pack_size": 3.0,
            }
        )
    )
    np.testing.assert_array_equal(reorder, plan["reorder_point"].to_numpy())
    np.testing.assert_array_equal(up_to, plan["order_up_to"].to_numpy())


class Understating:
    """Exponential smoothing that reports too small a spread: a model too sure of itself."""

    def __init__(self, factor: float) -> None:
        self.inner = ExponentialForecaster()
        self.factor = factor

    def fit(self, history: np.ndarray) -> None:
        self.inner.fit(history)

    def update(self, demand: np.ndarray) -> None:
        self.inner.update(demand)

    def forecast(self) -> Forecast:
        seen = self.inner.forecast()
        return Forecast(seen.mean, seen.sd * self.factor, seen.mean_sd)


def test_service_feedback_brings_fill_rate_to_target_when_the_model_is_too_optimistic() -> None:
    rng = np.random.default_rng(9)
    n = 300
    mean = rng.uniform(2.0, 30.0, n)[:, None]
    demand = rng.negative_binomial(2.0, 2.0 / (2.0 + mean), (n, 120)).astype(float)
    items = Items.uniform(n, 3)
    open_loop = simulate(
        demand, items, PlannerPolicy(items, np.full(n, 0.95), feedback_gain=0.0), Understating(0.7)
    )
    closed = simulate(demand, items, PlannerPolicy(items, np.full(n, 0.95)), Understating(0.7))
    assert open_loop.fill_rate < 0.9
    assert abs(closed.fill_rate - 0.95) < 0.01


def _generated(kind: str, seed: int, n: int = 300, periods: int = 156) -> tuple[pl.DataFrame, ...]:
    """Demand and item tables: steady (Poisson), trending (the mean moving by −60% to +200%
    over the history) or intermittent (a sale in 5–50% of periods, negative-binomial sizes);
    lead times 1–10 periods."""
    rng = np.random.default_rng(seed)
    base = rng.lognormal(2.0, 1.0, n)[:, None]
    t = np.arange(periods)[None, :]
    if kind == "steady":
        demand = rng.poisson(np.broadcast_to(base, (n, periods)))
    elif kind == "trending":
        change = rng.uniform(-0.6, 2.0, n)[:, None]
        demand = rng.poisson(base * np.maximum(1.0 + change * t / periods, 0.05))
    else:
        occurs = rng.random((n, periods)) < rng.uniform(0.05, 0.5, n)[:, None]
        size = rng.lognormal(0.5, 0.8, n)[:, None]
        demand = np.where(
            occurs, 1 + rng.negative_binomial(2.0, 2.0 / (2.0 + size), (n, periods)), 0
        )
    ids = [f"sku{i}" for i in range(n)]
    sales = pl.DataFrame(
        {
            "item": np.repeat(ids, periods),
            "ds": np.tile(np.arange(periods), n),
            "qty": demand.ravel().astype(float),
        }
    )
    items = pl.DataFrame(
        {"item": ids, "lead_time": rng.integers(1, 11, n), "unit_cost": rng.lognormal(2.0, 1.0, n)}
    )
    return sales, items


@pytest.mark.parametrize("kind", ["steady", "trending", "intermittent"])
@pytest.mark.parametrize("target", [0.9, 0.95, 0.98])
def test_a_fill_rate_target_is_met_within_two_points(kind: str, target: float) -> None:
    history = prepare_history(*_generated(kind, seed=int(target * 100)))
    result = simulate_history(history, service_level=target, fill_rate=True)
    assert result.fill_rate == pytest.approx(target, abs=0.02)


def test_a_long_lead_time_does_not_make_the_service_feedback_swing() -> None:
    # Steady demand, 6 periods' lead time: the feedback used to swing between its bounds
    # (allowed shortage ×0.002 … ×10) and end near 91% fill with more stock than needed.
    n, periods = 100, 156
    demand = np.random.default_rng(4).poisson(20.0, (n, periods)).astype(float)
    items = Items.uniform(n, 6)
    policy = PlannerPolicy(items, np.full(n, 0.95))
    scales: list[float] = []

    class Watch:
        def start(self) -> None:
            policy.start()

        def levels(self, forecast: Forecast, state: ReviewState) -> tuple[Floats, Floats]:
            levels = policy.levels(forecast, state)
            if state.period >= periods // 2:
                scales.append(policy.service_scale)
            return levels

    result = simulate(demand, items, Watch(), warmup=periods // 2, burn_in=periods // 4)
    assert result.fill_rate == pytest.approx(0.95, abs=0.01)
    assert min(scales) > 0.25
    assert max(scales) < 4.0


def test_higher_service_costs_more_stock() -> None:
    demand = _poisson_demand(300, 80, 4.0)
    items = Items.uniform(300, 1)
    figures = [
        simulate(demand, items, PlannerPolicy(items, np.full(300, s), feedback_gain=0.0))
        for s in (0.8, 0.95, 0.99)
    ]
    stock = [f.average_on_hand for f in figures]
    fill = [f.fill_rate for f in figures]
    assert stock == sorted(stock)
    assert fill == sorted(fill)


def test_forecasters_agree_with_direct_formulas() -> None:
    demand = _poisson_demand(5, 30, 2.0)
    plain = HistoryForecaster()
    plain.fit(demand[:, :20])
    for t in range(20, 30):
        plain.update(demand[:, t])
    np.testing.assert_allclose(plain.forecast().mean, demand.mean(axis=1))
    np.testing.assert_allclose(plain.forecast().sd, demand.std(axis=1, ddof=1))
    smooth = ExponentialForecaster(alpha=0.2)
    smooth.fit(demand[:, :20])
    for t in range(20, 30):
        smooth.update(demand[:, t])
    weights = 0.8 ** np.arange(29, -1, -1)
    np.testing.assert_allclose(smooth.forecast().mean, demand @ weights / weights.sum())


def test_items_with_order_costs_order_in_economic_batches() -> None:
    n = 50
    demand = _poisson_demand(n, 80, 5.0)
    plain = Items.uniform(n, 1)
    batched = Items.uniform(n, 1, order_cost=50.0, holding_rate=0.01)
    few = simulate(demand, batched, PlannerPolicy(batched, np.full(n, 0.95)))
    many = simulate(demand, plain, PlannerPolicy(plain, np.full(n, 0.95)))
    assert few.orders.sum() < many.orders.sum() / 2


def test_packs_and_moq_shape_every_order() -> None:
    n = 20
    demand = _poisson_demand(n, 60, 3.0)
    items = Items.uniform(n, 1, moq=10.0, pack_size=6.0)
    history = simulate(demand, items, PlannerPolicy(items, np.full(n, 0.95)))
    assert history.fill_rate > 0.9


def _tables() -> tuple[pl.DataFrame, pl.DataFrame]:
    demand = pl.DataFrame(
        {
            "item": ["a", "a", "b", "a"],
            "ds": ["2024-01", "2024-02", "2024-02", "2024-02"],
            "qty": ["1", "2", "3", "4"],
        }
    )
    items = pl.DataFrame(
        {"item": ["a", "b", "c"], "lead_time": ["1", "2", "0"], "unit_cost": ["1", "2", "3"]}
    )
    return demand, items


def test_prepare_history_sums_rows_and_fills_missing_periods_with_zero() -> None:
    history = prepare_history(*_tables())
    np.testing.assert_array_equal(history.demand, [[1, 6], [0, 3], [0, 0]])
    assert history.periods == ["2024-01", "2024-02"]
    assert history.items.lead_time.tolist() == [1, 2, 0]


@pytest.mark.parametrize(
    ("change", "table", "row", "column"),
    [
        (lambda d, i: (d.drop("qty"), i), "demand", None, "qty"),
        (
            lambda d, i: (d.with_columns(qty=pl.Series(["1", "-2", "3", "4"])), i),
            "demand",
            1,
            "qty",
        ),
        (lambda d, i: (d.with_columns(qty=pl.Series(["1", "x", "3", "4"])), i), "demand", 1, "qty"),
        (
            lambda d, i: (d.with_columns(item=pl.Series(["a", "a", "z", "a"])), i),
            "demand",
            2,
            "item",
        ),
        (
            lambda d, i: (d, i.with_columns(lead_time=pl.Series(["1", "-1", "0"]))),
            "items",
            1,
            "lead_time",
        ),
        (
            lambda d, i: (d, i.with_columns(lead_time=pl.Series(["1", "1.5", "0"]))),
            "items",
            1,
            "lead_time",
        ),
        (lambda d, i: (d, i.drop("unit_cost")), "items", None, "unit_cost"),
    ],
)
def test_bad_tables_name_the_row_and_column(
    change: Callable[[pl.DataFrame, pl.DataFrame], tuple[pl.DataFrame, pl.DataFrame]],
    table: str,
    row: int | None,
    column: str,
) -> None:
    with pytest.raises(SimulationInputError) as caught:
        prepare_history(*change(*_tables()))
    assert (caught.value.table, caught.value.row, caught.value.column) == (table, row, column)


def test_named_policies_run_over_a_prepared_history() -> None:
    history = prepare_history(*_tables())
    with pytest.raises(ValueError, match="at least 3 periods"):
        simulate_history(history)
    demand = pl.DataFrame(
        {"item": ["a"] * 12, "ds": [f"2024-{m:02d}" for m in range(1, 13)], "qty": [2.0] * 12}
    )
    items = pl.DataFrame({"item": ["a"], "lead_time": [1], "unit_cost": [4.0]})
    full = prepare_history(demand, items)
    for policy in ("auto", "periodic", "baseline"):
        result = simulate_history(full, policy=policy, fill_rate=True)
        assert result.fill_rate == 1.0
        assert result.periods == 6


def test_one_catalogue_target_meets_the_fill_with_less_money_in_stock() -> None:
    sales, items = _generated("steady", seed=11, n=200, periods=104)
    history = prepare_history(sales, items.with_columns(lead_time=pl.lit(2)))
    comparison = compare_catalog_target(history, service_level=0.95)
    assert comparison.catalog.fill_rate == pytest.approx(0.95, abs=0.01)
    assert comparison.per_item.fill_rate == pytest.approx(0.95, abs=0.01)
    assert comparison.saving > 0.1
    with pytest.raises(ValueError, match="fill rate"):
        simulate_history(history, catalog_target=True)
