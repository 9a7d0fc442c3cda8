"""Replenishment policies the simulator replays: the planner's own maths and a textbook baseline."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import numpy.typing as npt

from leanstock.planning.policy.catalog import ServiceAllocation, allocate_fill_rates
from leanstock.planning.policy.classic import eoq
from leanstock.planning.policy.distributions import (
    buffer_levels,
    is_count_demand,
    protection_moments,
)
from leanstock.planning.policy.rules import round_order_quantity
from leanstock.planning.simulate.forecasters import Forecast

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Items:
    """Per-item replenishment data, aligned with the rows of the demand matrix.

    Lead time in whole periods of the demand (an order placed at the end of period t arrives
    for period t + L + 1); `holding_rate` is per period, as a share of `unit_cost`.
    """

    lead_time: IntArray
    unit_cost: FloatArray
    moq: FloatArray
    pack_size: FloatArray
    order_cost: FloatArray
    holding_rate: FloatArray

    @classmethod
    def uniform(
        cls,
        n: int,
        lead_time: int,
        unit_cost: float = 1.0,
        moq: float = 0.0,
        pack_size: float = 1.0,
        order_cost: float = 0.0,
        holding_rate: float = 0.0,
    ) -> Items:
        """The same data for all `n` items."""
        return cls(
            lead_time=np.full(n, lead_time, dtype=np.int64),
            unit_cost=np.full(n, unit_cost),
            moq=np.full(n, moq),
            pack_size=np.full(n, pack_size),
            order_cost=np.full(n, order_cost),
            holding_rate=np.full(n, holding_rate),
        )


@dataclass(frozen=True)
class ReviewState:
    """What a policy may know at a review besides the forecast: the service achieved so far.

    Counted from the first simulated period (burn-in included) up to and including the
    current one; never anything later.
    """

    period: int
    demand: float
    served: float
    item_periods: int
    stockout_item_periods: int

    @property
    def fill_rate(self) -> float:
        return self.served / self.demand if self.demand > 0 else 1.0

    @property
    def cycle_service(self) -> float:
        if self.item_periods == 0:
            return 1.0
        return 1.0 - self.stockout_item_periods / self.item_periods


class Policy(Protocol):
    """Sets the reorder point s and order-up-to level S of every item at a review."""

    def start(self) -> None:
        """Forget anything learnt in an earlier run; called when a simulation starts."""

    def levels(self, forecast: Forecast, state: ReviewState) -> tuple[FloatArray, FloatArray]:
        """(s, S) per item: order up to S when the inventory position is below s."""


@dataclass
class PlannerPolicy:
    """The planner's own maths (`policy.plan_policies`, periodic and min-max branches).

    Per item: protection interval P = L + R; demand over P and over L from the forecast
    (σ_P² = P·σ_d² + P²·σ_μ̂² + μ_d²·σ_L²); a normal, Poisson or negative-binomial distribution by
    the item's shape; S the smallest level whose expected shortage per cycle
    n_P(S) − n_L(S) is at most (1 − β)·μ_d·R (fill rate) or with F_P(S) ≥ α (cycle service)
    (Silver, Pyke & Thomas 2017, §7.4–7.9). Items with an order cost and a holding rate get
    (s, S) with S = s + EOQ (rounded); the others order up to S every period (s = S).

    Service feedback (the "learn" step of the JIT loop): with `feedback_gain` > 0 the
    allowed shortage of every item is scaled by a common factor c, set by integral control
    on the shortfall in units. Each period's error is
    e = [(1 − β̄)·x − m] / [(1 − β̄)·x̄], x the demand exposed that period (item-periods for
    a cycle-service target), m the demand missed (item-periods with a stock-out), x̄ its
    running mean and 1 − β̄ the demand-weighted target shortfall; then
    log c ← log c + gain/τ·ē, bounded to [1e-4, 0.5]/(1 − β̄), with ē the error smoothed
    with `feedback_memory` per period and τ = L̄ + R the demand-weighted protection
    interval, the delay before a change of levels shows in service. Because e is linear in
    the units missed, the loop settles where the missed units average (1 − β̄) of demand,
    which is the fill rate measured; dividing the gain by τ keeps the loop stable
    (gain·τ/τ < π/2 for an integrator with dead time τ; Åström & Murray 2021, *Feedback
    Systems*, §10.4). Per-item targets keep their relative shape while demand the item
    models cannot foresee (a part's first ever order, a trend the mean lags) is made up for
    across the catalogue. Set the gain to 0 for the open-loop textbook policy.

    Catalogue target: with `catalog_target` set, `service_level` is re-allocated at every
    `reallocate_every`-th review from the current forecast by marginal analysis
    (`policy.catalog.allocate_fill_rates`): per-item fill rates whose demand-weighted mean
    is the target, at the least stock value. The feedback then holds that catalogue target.
    """

    items: Items
    service_level: FloatArray
    fill_rate: bool = True
    review_period: float = 1.0
    lead_time_sd: FloatArray | None = None
    integral_units: bool = True
    feedback_gain: float = 0.5
    feedback_memory: float = 0.0
    catalog_target: float | None = None
    reallocate_every: int = 1
    allocation: ServiceAllocation | None = field(default=None, init=False)
    _allocated_at: int | None = field(default=None, init=False)
    _log_scale: float = field(default=0.0, init=False)
    _last_period: int = field(default=-1, init=False)
    _seen: tuple[float, float, int, int] = field(default=(0.0, 0.0, 0, 0), init=False)
    _exposure: tuple[float, float] = field(default=(0.0, 0.0), init=False)
    _error: float = field(default=0.0, init=False)

    def start(self) -> None:
        self.allocation = None
        self._allocated_at = None
        self._log_scale = 0.0
        self._last_period = -1
        self._seen = (0.0, 0.0, 0, 0)
        self._exposure = (0.0, 0.0)
        self._error = 0.0

    def __post_init__(self) -> None:
        if self.catalog_target is not None and not self.fill_rate:
            raise ValueError("a catalogue target is a fill rate: set fill_rate=True")

    def _learn(self, state: ReviewState, mean: FloatArray) -> None:
        """One step of the service feedback from the latest period's outcome."""
        demand, served, item_periods, stockouts = self._seen
        now = (state.demand, state.served, state.item_periods, state.stockout_item_periods)
        if self.fill_rate:
            missed = (now[0] - demand) - (now[1] - served)
            exposed = now[0] - demand
        else:
            missed = float(now[3] - stockouts)
            exposed = float(now[2] - item_periods)
        self._seen = now
        total, count = self._exposure
        self._exposure = (total + exposed, count + 1.0)
        if total + exposed <= 0:
            return
        weights = mean if self.fill_rate and mean.sum() > 0 else np.ones_like(mean)
        if self.catalog_target is not None:
            target = 1.0 - self.catalog_target
        else:
            target = float(np.average(1.0 - self.service_level, weights=weights))
        interval = self.items.lead_time + self.review_period
        delay = max(float(np.average(interval, weights=weights)), 1.0)
        typical = (total + exposed) / (count + 1.0)
        error = (target * exposed - missed) / (target * typical)
        keep = self.feedback_memory
        self._error = keep * self._error + (1.0 - keep) * error
        self._log_scale += self.feedback_gain / delay * self._error
        lo = math.log(1e-4 / target)
        hi = math.log(0.5 / target)
        self._log_scale = min(max(self._log_scale, lo), hi)

    def levels(self, forecast: Forecast, state: ReviewState) -> tuple[FloatArray, FloatArray]:
        items = self.items
        mu = np.maximum(forecast.mean, 0.0)
        sd = np.maximum(forecast.sd, 0.0)
        mean_sd = np.zeros_like(mu) if forecast.mean_sd is None else forecast.mean_sd
        lt = items.lead_time.astype(np.float64)
        lt_sd = self.lead_time_sd if self.lead_time_sd is not None else np.zeros_like(lt)
        review = self.review_period
        mean_p, sd_p = protection_moments(mu, sd, lt, lt_sd, review, mean_sd)
        mean_l, sd_l = protection_moments(mu, sd, lt, lt_sd, 0.0, mean_sd)
        count = is_count_demand(mean_p, np.full(mu.shape, self.integral_units))
        holding = items.holding_rate * items.unit_cost
        has_eoq = (items.order_cost > 0) & (holding > 0)
        if has_eoq.any():
            economic = eoq(items.order_cost, holding, mu).quantity
            q = np.where(has_eoq, economic, mu * review)
            if self.integral_units:
                q = np.ceil(q - 1e-9)
            q = round_order_quantity(q, items.moq, items.pack_size).quantity
            cycle = np.where(has_eoq, np.maximum(q, mu * review), mu * review)
        else:
            q = cycle = mu * review
        if self.feedback_gain > 0 and state.period != self._last_period:
            self._learn(state, mu)
        self._last_period = state.period
        scale = math.exp(self._log_scale)
        if self.catalog_target is not None:
            # The feedback tightens or loosens the catalogue target the allocation aims at,
            # so that the per-item targets keep the shape marginal analysis gave them.
            due = self._allocated_at is None or (
                state.period - self._allocated_at >= self.reallocate_every
            )
            if due:
                aim = 1.0 - (1.0 - self.catalog_target) * scale
                self.allocation = allocate_fill_rates(
                    mu,
                    mean_p,
                    sd_p,
                    mean_l,
                    sd_l,
                    cycle,
                    review,
                    items.unit_cost,
                    count,
                    min(max(aim, 1e-6), 1.0 - 1e-6),
                )
                self.service_level = self.allocation.service
                self._allocated_at = state.period
            scale = 1.0
        if self.fill_rate:
            shortfall = np.clip((1.0 - self.service_level) * scale, 0.0, 0.999999)
            allowed = shortfall * cycle
            alpha = np.zeros_like(mu)
        else:
            allowed = np.full(mu.shape, np.inf)
            alpha = np.clip(1.0 - (1.0 - self.service_level) * scale, 0.0, 0.999999)
        level = buffer_levels(mean_p, sd_p, mean_l, sd_l, allowed, alpha, count)
        if self.integral_units:
            level = np.ceil(level - 1e-9)
        level = np.maximum(level, 0.0)
        up_to = np.where(has_eoq, level + q, level)
        return level, up_to

    @property
    def service_scale(self) -> float:
        """The feedback's current factor on every item's allowed shortage."""
        return math.exp(self._log_scale)


@dataclass
class BaseStockPolicy:
    """Textbook baseline: order up to S = μ·P + z·σ·√P every period, one z for all items.

    μ and σ are whatever the forecaster gives (the plain history mean and standard deviation
    with `HistoryForecaster`), P = L + R, normal demand (Silver, Pyke & Thomas 2017, §7.5).
    """

    items: Items
    z: float
    review_period: float = 1.0
    integral_units: bool = True

    def start(self) -> None:
        """Nothing to forget: the baseline does not learn."""

    def levels(self, forecast: Forecast, state: ReviewState) -> tuple[FloatArray, FloatArray]:
        p = self.items.lead_time.astype(np.float64) + self.review_period
        level = np.maximum(forecast.mean * p + self.z * forecast.sd * np.sqrt(p), 0.0)
        if self.integral_units:
            level = np.ceil(level - 1e-9)
        return level, level
