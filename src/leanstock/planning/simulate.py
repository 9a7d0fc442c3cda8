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

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import numpy.typing as npt
import polars as pl
from scipy import special

from leanstock.planning.policy.classic import eoq
from leanstock.planning.policy.distributions import (
    buffer_levels,
    is_count_demand,
    protection_moments,
)
from leanstock.planning.policy.rules import round_order_quantity

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Forecast:
    """Demand forecast per item for each coming period: mean and error standard deviation."""

    mean: FloatArray
    sd: FloatArray


class Forecaster(Protocol):
    """A demand model that is fitted once and then told each new period's demand."""

    def fit(self, history: FloatArray) -> None:
        """Fit on `history`, shape (items, periods)."""

    def update(self, demand: FloatArray) -> None:
        """Observe one more period of demand, shape (items,)."""

    def forecast(self) -> Forecast:
        """Forecast per period from everything observed so far."""


class ExponentialForecaster:
    """Exponentially weighted mean and variance of demand (Brown 1959; West 1979).

    Weights (1 − α)^age over all history, so recent periods count more: intermittent parts
    whose demand dies out lose their buffer instead of keeping it for years. With weights w,
    μ = Σw·d/Σw and σ² = [Σw·d²/Σw − μ²]·n_eff/(n_eff − 1), n_eff = (Σw)²/Σw² the effective
    sample size (Kish 1965), which removes the small-sample bias. Updates are O(items).
    """

    def __init__(self, alpha: float = 0.1) -> None:
        if not 0.0 < alpha <= 1.0:
            raise ValueError("alpha must be in (0, 1]")
        self.alpha = alpha
        self._w = 0.0
        self._w2 = 0.0
        self._sx: FloatArray = np.zeros(0)
        self._sxx: FloatArray = np.zeros(0)

    def fit(self, history: FloatArray) -> None:
        n, t = history.shape
        weights = (1.0 - self.alpha) ** np.arange(t - 1, -1, -1, dtype=np.float64)
        self._w = float(weights.sum())
        self._w2 = float((weights**2).sum())
        self._sx = history @ weights if t else np.zeros(n)
        self._sxx = (history * history) @ weights if t else np.zeros(n)

    def update(self, demand: FloatArray) -> None:
        keep = 1.0 - self.alpha
        self._w = keep * self._w + 1.0
        self._w2 = keep * keep * self._w2 + 1.0
        self._sx = keep * self._sx + demand
        self._sxx = keep * self._sxx + demand * demand

    def forecast(self) -> Forecast:
        if self._w <= 0:
            return Forecast(np.zeros_like(self._sx), np.zeros_like(self._sx))
        mean = self._sx / self._w
        var = np.maximum(self._sxx / self._w - mean * mean, 0.0)
        n_eff = self._w * self._w / self._w2
        var = var * (n_eff / (n_eff - 1.0) if n_eff > 1.0 else 1.0)
        return Forecast(mean, np.sqrt(var))


class HistoryForecaster:
    """Plain mean and sample standard deviation of all the history seen (equal weights)."""

    def __init__(self) -> None:
        self._n = 0
        self._sx: FloatArray = np.zeros(0)
        self._sxx: FloatArray = np.zeros(0)

    def fit(self, history: FloatArray) -> None:
        self._n = history.shape[1]
        self._sx = history.sum(axis=1)
        self._sxx = (history * history).sum(axis=1)

    def update(self, demand: FloatArray) -> None:
        self._n += 1
        self._sx = self._sx + demand
        self._sxx = self._sxx + demand * demand

    def forecast(self) -> Forecast:
        n = max(self._n, 1)
        mean = self._sx / n
        var = np.maximum(self._sxx - n * mean * mean, 0.0) / max(n - 1, 1)
        return Forecast(mean, np.sqrt(var))


ForecastFunction = Callable[[FloatArray], tuple[FloatArray, FloatArray]]
"""history (items, periods so far) → (mean, sd) per period; refitted at every review."""


class FunctionForecaster:
    """Adapts a plain forecast function (e.g. a model from the forecasting engine).

    The function is called at every review with the full history so far, so it may refit
    from scratch; its time is what the simulator reports as forecast time.
    """

    def __init__(self, function: ForecastFunction) -> None:
        self._function = function
        self._history: FloatArray = np.zeros((0, 0))
        self._t = 0

    def fit(self, history: FloatArray) -> None:
        self._history = np.asarray(history, dtype=np.float64)
        self._t = self._history.shape[1]

    def attach(self, full: FloatArray, t: int) -> None:
        """Share the simulator's demand matrix instead of copying it each period."""
        self._history = full
        self._t = t

    def update(self, demand: FloatArray) -> None:
        if self._t < self._history.shape[1]:
            self._t += 1
        else:
            self._history = np.concatenate([self._history, demand[:, None]], axis=1)
            self._t = self._history.shape[1]

    def forecast(self) -> Forecast:
        mean, sd = self._function(self._history[:, : self._t])
        return Forecast(np.asarray(mean, dtype=np.float64), np.asarray(sd, dtype=np.float64))


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
    (σ_P² = P·σ_d² + μ_d²·σ_L²); a normal, Poisson or negative-binomial distribution by
    the item's shape; S the smallest level whose expected shortage per cycle
    n_P(S) − n_L(S) is at most (1 − β)·μ_d·R (fill rate) or with F_P(S) ≥ α (cycle service)
    (Silver, Pyke & Thomas 2017, §7.4–7.9). Items with an order cost and a holding rate get
    (s, S) with S = s + EOQ (rounded); the others order up to S every period (s = S).

    Service feedback (the "learn" step of the JIT loop): with `feedback_gain` > 0 the
    allowed shortage of every item is scaled by a common factor c, updated at each review
    from the recent service against the target (integral control on the log shortfall),
    log c ← log c + gain·(log(1 − target) − log(1 − achieved)), bounded to
    [1e-4, 0.5]/(1 − target), "achieved" being the served share of demand (or the
    share of item-periods without a stock-out, for a cycle-service target) exponentially
    weighted over past periods with `feedback_memory` per period. Per-item targets then
    keep their relative shape while demand the item models cannot foresee (a part's first
    ever order, a new lumpy pattern) is made up for across the catalogue. Set the gain to 0
    for the open-loop textbook policy.
    """

    items: Items
    service_level: FloatArray
    fill_rate: bool = True
    review_period: float = 1.0
    lead_time_sd: FloatArray | None = None
    integral_units: bool = True
    feedback_gain: float = 0.3
    feedback_memory: float = 0.8
    _log_scale: float = field(default=0.0, init=False)
    _last_period: int = field(default=-1, init=False)
    _seen: tuple[float, float, int, int] = field(default=(0.0, 0.0, 0, 0), init=False)
    _recent: tuple[float, float] = field(default=(0.0, 0.0), init=False)

    def start(self) -> None:
        self._log_scale = 0.0
        self._last_period = -1
        self._seen = (0.0, 0.0, 0, 0)
        self._recent = (0.0, 0.0)

    def _learn(self, state: ReviewState) -> None:
        """One step of the service feedback from the latest period's outcome."""
        demand, served, item_periods, stockouts = self._seen
        if self.fill_rate:
            missed = (state.demand - demand) - (state.served - served)
            exposed = state.demand - demand
        else:
            missed = float(state.stockout_item_periods - stockouts)
            exposed = float(state.item_periods - item_periods)
        self._seen = (state.demand, state.served, state.item_periods, state.stockout_item_periods)
        keep = self.feedback_memory
        self._recent = (
            keep * self._recent[0] + missed,
            keep * self._recent[1] + exposed,
        )
        if self._recent[1] <= 0:
            return
        target = 1.0 - float(np.mean(self.service_level))
        achieved = max(self._recent[0] / self._recent[1], 1e-6)
        self._log_scale += self.feedback_gain * (math.log(target) - math.log(achieved))
        lo = math.log(1e-4 / target)
        hi = math.log(0.5 / target)
        self._log_scale = min(max(self._log_scale, lo), hi)

    def levels(self, forecast: Forecast, state: ReviewState) -> tuple[FloatArray, FloatArray]:
        items = self.items
        if self.feedback_gain > 0 and state.period != self._last_period:
            self._learn(state)
        self._last_period = state.period
        scale = math.exp(self._log_scale)
        mu = np.maximum(forecast.mean, 0.0)
        sd = np.maximum(forecast.sd, 0.0)
        lt = items.lead_time.astype(np.float64)
        lt_sd = self.lead_time_sd if self.lead_time_sd is not None else np.zeros_like(lt)
        review = self.review_period
        mean_p, sd_p = protection_moments(mu, sd, lt, lt_sd, review)
        mean_l, sd_l = protection_moments(mu, sd, lt, lt_sd, 0.0)
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
    slots = int(items.lead_time.max(initial=0)) + 2
    pipeline = np.zeros((n, slots))
    rows = np.arange(n)
    arrival_offset = items.lead_time + 1

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
        placed = quantity > 0
        if t >= warmup:
            orders += placed
        pipeline[rows, (t + arrival_offset) % slots] += quantity
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
    )


class SimulationInputError(ValueError):
    """A demand or item table the simulator cannot use, pointing at the offending cell.

    `row` is the 0-based row of the frame (None for a missing column); a CSV reader adds
    its header line to report a file row.
    """

    def __init__(self, table: str, row: int | None, column: str, problem: str) -> None:
        self.table = table
        self.row = row
        self.column = column
        self.problem = problem
        where = f"row {row}, " if row is not None else ""
        super().__init__(f"{table}: {where}column {column}: {problem}")


DEMAND_COLUMNS = ("item", "ds", "qty")
ITEM_COLUMNS = ("item", "lead_time", "unit_cost")
ITEM_DEFAULTS: dict[str, float] = {
    "moq": 0.0,
    "pack_size": 1.0,
    "order_cost": 0.0,
    "holding_rate": 0.0,
}


def _numeric(frame: pl.DataFrame, table: str, column: str) -> FloatArray:
    series = frame.get_column(column)
    values = series.cast(pl.Float64, strict=False)
    bad = values.is_null() | values.is_nan()
    if bad.any():
        row = int(bad.arg_true()[0])
        raise SimulationInputError(table, row, column, f"not a number: {series[row]!r}")
    return values.to_numpy()


def _check(
    values: FloatArray, ok: npt.NDArray[np.bool_], table: str, column: str, rule: str
) -> None:
    if not ok.all():
        row = int(np.argmin(ok))
        raise SimulationInputError(table, row, column, f"{values[row]:g} {rule}")


@dataclass(frozen=True)
class PreparedHistory:
    """Demand as an items × periods matrix plus the items' data, rows aligned."""

    item_ids: list[str]
    periods: list[object]
    demand: FloatArray
    items: Items


def prepare_history(demand: pl.DataFrame, items: pl.DataFrame) -> PreparedHistory:
    """Check the tables and turn them into the simulator's matrices.

    `demand`: `item`, `ds` (period: a date or any sortable label), `qty` (≥ 0); several rows
    for one item and period add up, a missing period is zero demand. `items`: `item`,
    `lead_time` (whole periods ≥ 0), `unit_cost` (≥ 0) and optionally `moq`, `pack_size`,
    `order_cost`, `holding_rate` (per period). Every demand item must be in `items`; items
    without demand rows simulate with zero demand.
    """
    for table, frame, needed in (
        ("demand", demand, DEMAND_COLUMNS),
        ("items", items, ITEM_COLUMNS),
    ):
        for column in needed:
            if column not in frame.columns:
                raise SimulationInputError(table, None, column, "missing column")
    if demand.height == 0:
        raise SimulationInputError("demand", None, "qty", "no demand rows")
    ids = items.get_column("item").cast(pl.Utf8)
    if ids.null_count():
        raise SimulationInputError("items", int(ids.is_null().arg_true()[0]), "item", "empty item")
    duplicated = ids.is_duplicated()
    if duplicated.any():
        row = int(duplicated.arg_true()[1] if duplicated.sum() > 1 else duplicated.arg_true()[0])
        raise SimulationInputError("items", row, "item", f"duplicate item {ids[row]!r}")
    lead = _numeric(items, "items", "lead_time")
    _check(lead, lead >= 0, "items", "lead_time", "is negative; lead times are ≥ 0 periods")
    _check(lead, lead == np.round(lead), "items", "lead_time", "is not a whole number of periods")
    cost = _numeric(items, "items", "unit_cost")
    _check(cost, cost >= 0, "items", "unit_cost", "is negative")
    extra: dict[str, FloatArray] = {}
    for column, default in ITEM_DEFAULTS.items():
        if column in items.columns:
            values = _numeric(
                items.with_columns(pl.col(column).fill_null(default)), "items", column
            )
            ok = values > 0 if column == "pack_size" else values >= 0
            _check(
                values,
                ok,
                "items",
                column,
                "must be > 0" if column == "pack_size" else "is negative",
            )
            extra[column] = values
        else:
            extra[column] = np.full(items.height, default)

    qty = _numeric(demand, "demand", "qty")
    _check(qty, qty >= 0, "demand", "qty", "is negative; demand quantities are ≥ 0")
    demand_ids = demand.get_column("item").cast(pl.Utf8)
    known = demand_ids.is_in(ids.implode())
    if not known.all():
        row = int((~known).arg_true()[0])
        raise SimulationInputError(
            "demand", row, "item", f"unknown item {demand_ids[row]!r} (not in the items table)"
        )
    ds = demand.get_column("ds")
    if ds.null_count():
        raise SimulationInputError("demand", int(ds.is_null().arg_true()[0]), "ds", "empty period")

    periods = ds.unique().sort()
    row_of = {item: i for i, item in enumerate(ids.to_list())}
    item_index = demand_ids.replace_strict(row_of, return_dtype=pl.Int64).to_numpy()
    period_index = (
        ds.to_frame("ds")
        .join(
            periods.to_frame("ds").with_row_index("p"), on="ds", how="left", maintain_order="left"
        )
        .get_column("p")
        .to_numpy()
        .astype(np.int64)
    )
    matrix = np.zeros((items.height, periods.len()))
    np.add.at(matrix, (item_index, period_index), qty)
    return PreparedHistory(
        item_ids=ids.to_list(),
        periods=periods.to_list(),
        demand=matrix,
        items=Items(
            lead_time=lead.astype(np.int64),
            unit_cost=cost,
            moq=extra["moq"],
            pack_size=extra["pack_size"],
            order_cost=extra["order_cost"],
            holding_rate=extra["holding_rate"],
        ),
    )


POLICY_CHOICES = ("auto", "periodic", "baseline")


def simulate_history(
    history: PreparedHistory,
    *,
    policy: str = "auto",
    service_level: float = 0.95,
    fill_rate: bool = False,
    warmup_share: float = 0.5,
    backorders: bool = True,
    forecaster: Forecaster | ForecastFunction | None = None,
) -> SimulationResult:
    """Run one of the named policies over a prepared history.

    - "auto": the planner (`PlannerPolicy`): (s, S) with an EOQ for items with an order cost
      and a holding rate, (R, S) otherwise, for the service target;
    - "periodic": the planner with order costs ignored, (R, S) for every item;
    - "baseline": `BaseStockPolicy` with z = Φ⁻¹(service level) on the plain history mean
      and standard deviation.

    `warmup_share` of the periods is warm-up (fitting only).
    """
    if policy not in POLICY_CHOICES:
        raise ValueError(f"policy must be one of {POLICY_CHOICES}, not {policy!r}")
    if not 0.0 < service_level < 1.0:
        raise ValueError("service level must be between 0 and 1")
    horizon = history.demand.shape[1]
    if horizon < 3:
        raise ValueError(f"need at least 3 periods of demand to simulate, got {horizon}")
    warmup = min(max(round(warmup_share * horizon), 1), horizon - 1)
    items = history.items
    n = len(history.item_ids)
    chosen: Policy
    if policy == "baseline":
        chosen = BaseStockPolicy(items, float(special.ndtri(service_level)))
        forecaster = forecaster or HistoryForecaster()
    else:
        if policy == "periodic":
            items = Items(
                lead_time=items.lead_time,
                unit_cost=items.unit_cost,
                moq=items.moq,
                pack_size=items.pack_size,
                order_cost=np.zeros(n),
                holding_rate=np.zeros(n),
            )
        chosen = PlannerPolicy(items, np.full(n, service_level), fill_rate=fill_rate)
    return simulate(
        history.demand,
        items,
        chosen,
        forecaster,
        warmup=warmup,
        burn_in=max(warmup // 2, 1),
        backorders=backorders,
    )


def results_by_item(result: SimulationResult, item_ids: list[str]) -> pl.DataFrame:
    """Per-item figures as a frame: demand, fill rate, cycle service, stock, orders."""
    return pl.DataFrame(
        {
            "item": item_ids,
            "demand": result.demand,
            "fill_rate": result.fill_rate_by_item,
            "cycle_service_level": result.cycle_service_by_item,
            "average_on_hand": result.average_on_hand_by_item,
            "average_on_hand_value": result.average_on_hand_by_item * result.unit_cost,
            "orders": result.orders,
            "stockout_periods": result.stockout_periods,
        }
    ).with_columns(pl.col("fill_rate").fill_nan(None))
