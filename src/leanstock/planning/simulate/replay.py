"""Replay a demand history under a replenishment policy, period by period, all items at once.

The simulator answers "what service and how much stock would this policy have given on our
own history?" without look-ahead: at every review the forecast and the policy see only the
demand of the periods already played.

Event order in each period t (periodic review, R = 1 period):

1. receive the orders due (placed at the end of period t − L − 1, L the lead time);
2. serve backorders first, then the period's demand from stock on hand; what cannot be
   served is **backordered** (default; `backorders=False` loses it instead). Only demand
   served from the shelf in its own period counts toward the fill rate;
3. the forecaster observes the period's demand;
4. review the inventory position (on hand + on order − backorders) and, when it is below the
   reorder point s, order up to the order-up-to level S (rounded up to MOQ and pack);
   the order arrives L periods later, in time for period t + L + 1.

Orders placed at the end of period t therefore cover periods t + 1 … t + L + 1, the
protection interval L + R of the policy maths.

Warm-up: the periods before `warmup` are for fitting only and count in no figure. Policies
start at `burn_in` (default half the warm-up), with stock on hand at the first order-up-to
level and nothing on order, and play the rest of the warm-up so that stock, the pipeline and
the planner's service feedback are in steady state when measurement begins — the usual
warm-up of a steady-state simulation (Law 2015, *Simulation Modeling and Analysis*, §9.5).

Everything is vectorised over items with numpy; the only Python loop is over periods.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from leanstock.planning.policy.rules import round_order_quantity
from leanstock.planning.simulate.forecasters import (
    ExponentialForecaster,
    Forecaster,
    ForecastFunction,
    FunctionForecaster,
)
from leanstock.planning.simulate.policies import Items, Policy, ReviewState

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Supply:
    """How supply really behaves from period `start` on, where it departs from the plan.

    The policy keeps planning with the items' own lead times; orders placed at or after
    `start` arrive after `lead_time` instead (None: as planned), each one `late_by` periods
    later still with probability `late_share` (a supplier's on-time rate falling), drawn
    with `seed` so that two replays see the same late orders. `stopped` items get nothing:
    their orders are not placed.
    """

    start: int = 0
    lead_time: IntArray | None = None
    late_share: FloatArray | None = None
    late_by: IntArray | None = None
    stopped: BoolArray | None = None
    seed: int = 0

    def offsets(self, planned: IntArray) -> tuple[IntArray, IntArray, FloatArray, BoolArray]:
        """(arrival offset without lateness, extra periods when late, chance of being late,
        stopped) per item, for orders from `start` on."""
        n = planned.shape[0]
        lead = planned if self.lead_time is None else np.asarray(self.lead_time, dtype=np.int64)
        late = np.zeros(n, dtype=np.int64) if self.late_by is None else self.late_by
        share = np.zeros(n) if self.late_share is None else self.late_share
        stopped = np.zeros(n, dtype=np.bool_) if self.stopped is None else self.stopped
        if np.any(lead < 0) or np.any(late < 0):
            raise ValueError("lead times and delays must be ≥ 0")
        return lead + 1, np.asarray(late, dtype=np.int64), np.asarray(share), stopped


@dataclass(frozen=True)
class SimulationResult:
    """Per-item and overall figures over the measured periods (after the warm-up).

    fill rate = demand served from the shelf in its period / demand; cycle service level =
    share of item-periods without a stock-out (a period with demand not served from the
    shelf); average on hand = mean end-of-period stock on hand.
    """

    demand: FloatArray
    served: FloatArray
    on_hand_sum: FloatArray
    orders: IntArray
    stockout_periods: IntArray
    periods: int
    unit_cost: FloatArray
    seconds: float
    forecast_seconds: float
    simulated_periods: int = 0
    """Periods played, burn-in included: what the replay's speed is measured on."""
    ordered: FloatArray | None = None
    """Units ordered per item over the measured periods."""

    @property
    def item_periods(self) -> int:
        return self.periods * len(self.demand)

    @property
    def fill_rate_by_item(self) -> FloatArray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.demand > 0, self.served / self.demand, np.nan)

    @property
    def cycle_service_by_item(self) -> FloatArray:
        return 1.0 - self.stockout_periods / max(self.periods, 1)

    @property
    def average_on_hand_by_item(self) -> FloatArray:
        return self.on_hand_sum / max(self.periods, 1)

    @property
    def fill_rate(self) -> float:
        total = float(self.demand.sum())
        return float(self.served.sum()) / total if total > 0 else 1.0

    @property
    def cycle_service(self) -> float:
        return 1.0 - float(self.stockout_periods.sum()) / max(self.item_periods, 1)

    @property
    def average_on_hand(self) -> float:
        """Average units on hand per item and period."""
        return float(self.on_hand_sum.sum()) / max(self.item_periods, 1)

    @property
    def average_value(self) -> float:
        """Average stock value on hand in total (all items), per period."""
        return float((self.on_hand_sum * self.unit_cost).sum()) / max(self.periods, 1)

    @property
    def simulation_seconds(self) -> float:
        """Wall time of the replay (all simulated periods, re-planning included) without the
        forecaster's time."""
        return max(self.seconds - self.forecast_seconds, 1e-12)

    def overall(self) -> dict[str, float | int]:
        """Overall figures, JSON-ready."""
        return {
            "items": len(self.demand),
            "periods": self.periods,
            "item_periods": self.item_periods,
            "fill_rate": round(self.fill_rate, 6),
            "cycle_service_level": round(self.cycle_service, 6),
            "average_on_hand": round(self.average_on_hand, 6),
            "average_on_hand_value": round(self.average_value, 4),
            "orders": int(self.orders.sum()),
            "stockout_periods": int(self.stockout_periods.sum()),
            "simulated_item_periods": self.simulated_periods * len(self.demand),
            "simulation_seconds": round(self.simulation_seconds, 4),
            "forecast_seconds": round(self.forecast_seconds, 4),
            "item_periods_per_second": round(
                self.simulated_periods * len(self.demand) / self.simulation_seconds
            ),
        }


def simulate(
    demand: FloatArray,
    items: Items,
    policy: Policy,
    forecaster: Forecaster | ForecastFunction | None = None,
    *,
    warmup: int | None = None,
    burn_in: int | None = None,
    backorders: bool = True,
    supply: Supply | None = None,
) -> SimulationResult:
    """Replay `demand` (items × periods) under `policy`; see the module docstring.

    `forecaster` defaults to `ExponentialForecaster()`; a plain function
    history → (mean, sd) is accepted too. `warmup` defaults to half the periods, `burn_in`
    (first simulated period) to half the warm-up. Forecast time is measured separately.
    """
    demand = np.ascontiguousarray(demand, dtype=np.float64)
    n, horizon = demand.shape
    warmup = horizon // 2 if warmup is None else warmup
    if not 0 < warmup < horizon:
        raise ValueError(f"warm-up must leave periods to measure: 0 < {warmup} < {horizon}")
    burn_in = max(warmup // 2, 1) if burn_in is None else burn_in
    if not 0 < burn_in <= warmup:
        raise ValueError(f"burn-in must start within the warm-up: 0 < {burn_in} <= {warmup}")
    if np.any(items.lead_time < 0):
        raise ValueError("lead times must be ≥ 0")
    if forecaster is None:
        model: Forecaster = ExponentialForecaster()
    elif callable(forecaster) and not hasattr(forecaster, "forecast"):
        model = FunctionForecaster(forecaster)
    else:
        model = forecaster  # type: ignore[assignment]

    started = time.perf_counter()
    forecast_seconds = 0.0
    arrival_offset = items.lead_time + 1
    actual, late_by, late_share, stopped = (supply or Supply()).offsets(items.lead_time)
    draws = np.zeros((n, horizon), dtype=np.bool_)
    if supply is not None:
        draws = np.random.default_rng(supply.seed).random((n, horizon)) < late_share[:, None]
    longest = int(max(arrival_offset.max(initial=0), (actual + late_by).max(initial=0)))
    slots = longest + 1
    pipeline = np.zeros((n, slots))
    rows = np.arange(n)

    tick = time.perf_counter()
    if isinstance(model, FunctionForecaster):
        model.attach(demand, burn_in)
    else:
        model.fit(demand[:, :burn_in])
    forecast = model.forecast()
    forecast_seconds += time.perf_counter() - tick

    policy.start()
    state = ReviewState(burn_in - 1, 0.0, 0.0, 0, 0)
    _, up_to = policy.levels(forecast, state)
    on_hand = up_to.astype(np.float64).copy()
    on_order = np.zeros(n)
    backlog = np.zeros(n)

    total_demand = np.zeros(n)
    total_served = np.zeros(n)
    on_hand_sum = np.zeros(n)
    orders = np.zeros(n, dtype=np.int64)
    ordered = np.zeros(n)
    stockouts = np.zeros(n, dtype=np.int64)
    seen_demand = 0.0
    seen_served = 0.0
    seen_stockouts = 0
    seen_item_periods = 0

    for t in range(burn_in, horizon):
        slot = t % slots
        arriving = pipeline[:, slot]
        on_hand += arriving
        on_order -= arriving
        pipeline[:, slot] = 0.0

        if backorders:
            cleared = np.minimum(on_hand, backlog)
            on_hand -= cleared
            backlog -= cleared
        d = demand[:, t]
        served = np.minimum(on_hand, d)
        on_hand -= served
        short = d - served
        if backorders:
            backlog += short
        stockout = short > 1e-9

        seen_demand += float(d.sum())
        seen_served += float(served.sum())
        seen_stockouts += int(stockout.sum())
        seen_item_periods += n
        if t >= warmup:
            total_demand += d
            total_served += served
            on_hand_sum += on_hand
            stockouts += stockout

        tick = time.perf_counter()
        model.update(d)
        forecast = model.forecast()
        forecast_seconds += time.perf_counter() - tick

        state = ReviewState(t, seen_demand, seen_served, seen_item_periods, seen_stockouts)
        reorder, up_to = policy.levels(forecast, state)
        position = on_hand + on_order - backlog
        below = position < reorder - 1e-9
        if not below.any():
            continue
        need = np.where(below, up_to - position, 0.0)
        quantity = round_order_quantity(need, items.moq, items.pack_size).quantity
        offset = arrival_offset
        if supply is not None and t >= supply.start:
            quantity = np.where(stopped, 0.0, quantity)
            offset = actual + np.where(draws[:, t], late_by, 0)
        placed = quantity > 0
        if t >= warmup:
            orders += placed
            ordered += quantity
        pipeline[rows, (t + offset) % slots] += quantity
        on_order += quantity

    return SimulationResult(
        demand=total_demand,
        served=total_served,
        on_hand_sum=on_hand_sum,
        orders=orders,
        stockout_periods=stockouts,
        periods=horizon - warmup,
        unit_cost=items.unit_cost,
        seconds=time.perf_counter() - started,
        forecast_seconds=forecast_seconds,
        simulated_periods=horizon - burn_in,
        ordered=ordered,
    )
