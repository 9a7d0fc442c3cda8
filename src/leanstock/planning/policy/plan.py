"""Replenishment policies per item-location, and the order suggestions they imply.

`plan_policies` turns forecasts, lead-time statistics, costs and service targets into the
numbers a buyer acts on (safety stock, reorder point, order-up-to level, order quantity,
kanban cards) with a plain-language reason per row. `suggest_orders` applies a plan to the
current stock position and says what to order, how much, and by when.

Convention used throughout: an order is triggered at a review when the inventory position
(on hand + open supply − reserved/backordered) is **below** the reorder point, and it brings
the position up to the order-up-to level (for (s, Q) by whole multiples of Q). With the
position at or above the reorder point after ordering, the service maths below holds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt
import polars as pl
from scipy import special

from leanstock.planning.policy.classic import eoq, eoq_price_breaks
from leanstock.planning.policy.distributions import (
    buffer_levels,
    is_count_demand,
    protection_moments,
)
from leanstock.planning.policy.explain import explanation
from leanstock.planning.policy.frames import PlanInputError, column, price_breaks, with_defaults
from leanstock.planning.policy.kinds import BUFFERED, NO_BUFFER
from leanstock.planning.policy.rules import (
    kanban_cards,
    lead_time_fits,
    round_order_quantity,
    shelf_life_level,
)
from leanstock.planning.policy.suggest import suggest_orders

__all__ = [
    "DEFAULT_SERVICE",
    "SERVICE_BY_CLASS",
    "PlanInputError",
    "plan_policies",
    "suggest_orders",
]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

SERVICE_BY_CLASS: Final[Mapping[str, float]] = {"A": 0.98, "B": 0.95, "C": 0.90}
"""Default service target by ABC class: fast movers that make most of the revenue get the
highest service (Silver, Pyke & Thomas 2017, §2.3 and §7.3)."""

DEFAULT_SERVICE: Final = 0.95

Z_90: Final = float(special.ndtri(0.9))


@dataclass(frozen=True)
class _Demand:
    mean: FloatArray
    sd: FloatArray
    mean_sd: FloatArray
    lead_time: FloatArray
    lead_time_sd: FloatArray
    integral: BoolArray


@dataclass(frozen=True)
class _Costs:
    unit_cost: FloatArray
    order_cost: FloatArray
    holding: FloatArray
    holding_rate: FloatArray
    breaks: tuple[FloatArray, FloatArray] | None


@dataclass(frozen=True)
class _Sized:
    mean_p: FloatArray
    sd_p: FloatArray
    level_mean_p: FloatArray
    level_sd_p: FloatArray
    count: BoolArray
    raw_q: FloatArray
    unit_price: FloatArray
    level: FloatArray


def _size(
    demand: _Demand,
    costs: _Costs,
    review: FloatArray,
    policy: npt.NDArray[np.str_],
    fill: BoolArray,
    service: FloatArray,
    moq: FloatArray,
    pack: FloatArray,
    max_order: FloatArray,
    shelf: FloatArray,
) -> _Sized:
    """Order quantity and service level per row for the given review periods (see
    `plan_policies`), before the shelf-life cap."""
    mu, sd, integral = demand.mean, demand.sd, demand.integral
    lt, lt_sd, mean_sd = demand.lead_time, demand.lead_time_sd, demand.mean_sd
    unit_cost, order_cost, holding = costs.unit_cost, costs.order_cost, costs.holding
    periodic_review = np.isin(policy, ("min_max", "periodic"))
    mean_p, sd_p = protection_moments(mu, sd, lt, lt_sd, review, mean_sd)
    mean_l, sd_l = protection_moments(mu, sd, lt, lt_sd, 0.0, mean_sd)

    economic = eoq(order_cost, holding, mu).quantity
    base_q = mu * np.where(review > 0, review, 1.0)
    has_eoq = (order_cost > 0) & (holding > 0) & np.isfinite(economic)
    raw_q = np.where(has_eoq, economic, base_q)
    unit_price = unit_cost.copy()
    breaks = costs.breaks
    if breaks is not None:
        quantities, prices = breaks
        priced = has_eoq & ~np.isnan(prices[:, 0])
        if priced.any():
            best = eoq_price_breaks(
                order_cost[priced],
                costs.holding_rate[priced],
                mu[priced],
                quantities[priced],
                prices[priced],
            )
            raw_q[priced] = best.quantity
            unit_price[priced] = best.unit_price
    raw_q = np.where(integral, np.ceil(raw_q - 1e-9), raw_q)

    # Continuous review protects the lead time only; the P/L split handles periodic review.
    cont = ~periodic_review
    level_mean_p = np.where(cont, mean_l, mean_p)
    level_sd_p = np.where(cont, sd_l, sd_p)
    level_mean_l = np.where(cont, 0.0, mean_l)
    level_sd_l = np.where(cont, 0.0, sd_l)
    count = is_count_demand(level_mean_p, integral)
    # The demand per cycle is what one order brings in: Q after MOQ and pack rounding, and no
    # more than sells within the shelf life (Q ≤ μ_d·T, before the safety stock's share).
    most = np.minimum(max_order, shelf_life_level(mu, 0.0, shelf))
    ordered = round_order_quantity(raw_q, moq, pack, most).quantity
    cycle_demand = np.where(policy == "periodic", mu * review, np.maximum(ordered, mu * review))
    allowed = np.where(fill, (1.0 - service) * cycle_demand, np.inf)
    alpha = np.where(fill, 0.0, service)
    buffered = np.isin(policy, BUFFERED)
    level = np.zeros(len(mu))
    if buffered.any():
        idx = np.nonzero(buffered)
        level[idx] = buffer_levels(
            level_mean_p[idx],
            level_sd_p[idx],
            level_mean_l[idx],
            level_sd_l[idx],
            allowed[idx],
            alpha[idx],
            count[idx],
        )
    level = np.where(integral & ~count, np.ceil(level - 1e-9), level)
    level = np.maximum(level, 0.0)
    return _Sized(mean_p, sd_p, level_mean_p, level_sd_p, count, raw_q, unit_price, level)


def plan_policies(
    frame: pl.DataFrame,
    *,
    period_days: float = 1.0,
    service_by_class: Mapping[str, float] = SERVICE_BY_CLASS,
    default_service: float = DEFAULT_SERVICE,
) -> pl.DataFrame:
    """Safety stock, reorder point, order-up-to and order quantity per item-location.

    Input frame, one row per item-location (time in periods of `period_days` days, demand in
    units per period):

    - required: `item`, `location`, `policy` (one of `POLICIES`), `demand_mean` (forecast mean
      per period), `lead_time_mean`; and `demand_sd` (forecast error standard deviation per
      period, e.g. the backtest RMSE) or `demand_p90` (the forecast's 90% quantile per period,
      then σ_d = (q₉₀ − μ_d)/z₀.₉);
    - optional (default): `demand_mean_sd` (0; the standard error of the forecast mean,
      entering σ_P² with P², see `protection_moments`); `lead_time_sd` (0) and
      `lead_time_receipts` (0) from `lead_time_from_receipts`; `review_period` (1 for
      min_max/periodic, 0 otherwise);
      `service_level` (by `abc_class` from `service_by_class`, else `default_service`);
      `service_measure` ("fill_rate" or "cycle"); `unit_cost` (1), `order_cost` (0),
      `holding_rate` (0; per period, share of unit cost); `moq` (0), `pack_size` (1),
      `max_order` (∞), `shelf_life` (∞ periods), `container_size` (kanban; default the
      order quantity), `kanban_safety` (0.1), `customer_wait` (make/buy-to-order: the wait
      customers accept, periods), `integral_units` (True: demand comes in whole units);
      `break_quantities` / `break_prices` (lists, all-units quantity discounts: the price
      `break_prices[j]` applies to a whole order of at least `break_quantities[j]`, the
      first break at 0).

    Output: the input columns plus `protection_interval`, `lead_time_demand_mean`,
    `lead_time_demand_sd` (over the protection interval), `distribution` ("normal",
    "poisson", "negative_binomial" or "none"), `target_service`, `safety_stock`,
    `reorder_point`, `order_up_to`, `order_quantity`, `unit_price` (the price the order
    quantity earns; `unit_cost` without price breaks), `kanban_cards`, `order_capped` (MOQ,
    pack, maximum or shelf life kept the quantity from the need), `shelf_life_capped` (the
    shelf life lowered the level below what the service target needs), `lead_time_ok`
    (make/buy-to-order only: lead time at 95% fits the customer's wait; null elsewhere) and
    `explanation`.

    The maths, per policy (order when the position is below the reorder point):

    - order quantity Q: the EOQ √(2Kλ/(i·c)) when an order cost and a holding rate are
      given (with price breaks, the all-units-discount EOQ of `eoq_price_breaks`), else the
      demand of one review period (one period for continuous review);
      then MOQ/pack rounding capped by `max_order` and the shelf-life cap below;
    - `reorder_point` (s, Q), continuous review: protection interval P = L; s the smallest
      level with expected shortage per cycle n_L(s) ≤ (1 − β)·Q (fill rate) or
      F_L(s) ≥ α (cycle service); order-up-to s + Q;
    - `min_max` (s, S), periodic review R: P = L + R; s from
      n_P(s) − n_L(s) ≤ (1 − β)·max(Q, μ_d·R); S = s + Q;
    - `periodic` (R, S): P = L + R; S from n_P(S) − n_L(S) ≤ (1 − β)·μ_d·R; s = S;
    - `kanban`: N = ⌈μ_d·L·(1 + α)/C⌉ cards of C units, order-up-to N·C, and a container is
      ordered whenever one is emptied (reorder point (N − 1)·C);
    - `make_to_order` / `buy_to_order`: no buffer; only the check
      E[L] + z₀.₉₅·σ_L ≤ customer wait.

    Shelf life T caps every buffered and kanban plan, whatever the period: the review period
    is at most T (and at least a day), and no order-up-to level exceeds μ_d·(L + T), so what
    is on hand after a receipt sells before it expires (`rules.shelf_life_level`; for (s, Q)
    this is Q ≤ μ_d·T − SS). Where the cap is below what the service target needs, the level
    is capped, `shelf_life_capped` is set and the explanation gives both figures: the target
    is then out of reach without spoilage.

    The distributions and loss functions are those of `distributions` (normal for smooth
    demand, Poisson or negative binomial for whole-unit demand with a small mean over P), with
    lead-time variability in σ_P (Silver, Pyke & Thomas 2017, §7.4–7.9).
    """
    f = with_defaults(frame)
    policy = f.get_column("policy").to_numpy().astype(str)
    mu = np.maximum(np.nan_to_num(column(f, "demand_mean")), 0.0)
    sd_in = column(f, "demand_sd")
    p90 = column(f, "demand_p90")
    sd = np.where(np.isnan(sd_in), np.maximum(p90 - mu, 0.0) / Z_90, sd_in)
    sd = np.maximum(np.nan_to_num(sd), 0.0)
    mean_sd = np.maximum(np.nan_to_num(column(f, "demand_mean_sd")), 0.0)
    lt = np.maximum(column(f, "lead_time_mean"), 0.0)
    lt_sd = np.maximum(np.nan_to_num(column(f, "lead_time_sd")), 0.0)
    periodic_review = np.isin(policy, ("min_max", "periodic"))
    review = column(f, "review_period")
    review = np.where(np.isnan(review), np.where(periodic_review, 1.0, 0.0), review)
    review = np.where(np.isin(policy, ("reorder_point", "kanban")), 0.0, np.maximum(review, 0.0))
    shelf = column(f, "shelf_life")
    shelf = np.where(np.isnan(shelf), np.inf, shelf)
    # A perishable is reviewed at least once per shelf life (at most daily): reviewing one-day
    # bread weekly, as a weekly forecast's period would, makes every order cover a week.
    fastest = np.maximum(shelf, 1.0 / period_days)
    review_shortened = periodic_review & (review > fastest * (1.0 + 1e-9))
    review = np.where(review_shortened, fastest, review)

    classes = f.get_column("abc_class").cast(pl.Utf8).fill_null("")
    by_class = classes.replace_strict(
        dict(service_by_class), default=default_service, return_dtype=pl.Float64
    ).to_numpy()
    service = column(f, "service_level")
    service = np.clip(np.where(np.isnan(service), by_class, service), 0.0, 0.999999)
    fill = f.get_column("service_measure").cast(pl.Utf8).fill_null("fill_rate").to_numpy()
    fill = fill.astype(str) != "cycle"

    unit_cost = column(f, "unit_cost")
    order_cost = column(f, "order_cost")
    holding = column(f, "holding_rate") * unit_cost
    moq = np.nan_to_num(column(f, "moq"))
    pack = np.nan_to_num(column(f, "pack_size"), nan=1.0)
    max_order = column(f, "max_order")
    max_order = np.where(np.isnan(max_order), np.inf, max_order)
    integral = f.get_column("integral_units").cast(pl.Boolean).fill_null(True).to_numpy()

    buffered = np.isin(policy, BUFFERED)
    cover = shelf_life_level(mu, lt, shelf)
    cover = np.where(integral & np.isfinite(cover), np.floor(cover + 1e-9), cover)
    costs = _Costs(unit_cost, order_cost, holding, column(f, "holding_rate"), price_breaks(f))
    demand = _Demand(mu, sd, mean_sd, lt, lt_sd, integral)
    sized = _size(demand, costs, review, policy, fill, service, moq, pack, max_order, shelf)
    # Where a review as long as the shelf life leaves no room for the safety stock, review
    # more often (at most daily) so that the order plus the buffer sell before they expire.
    day = 1.0 / period_days
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        roomy = shelf - (sized.level - sized.level_mean_p) / mu
        whole_days = np.floor(roomy / day + 1e-9) * day
    roomy = np.where(np.isfinite(roomy), np.maximum(whole_days, day), np.inf)
    again = buffered & periodic_review & (sized.level > cover) & (roomy < review) & (mu > 0)
    if again.any():
        review = np.where(again, roomy, review)
        review_shortened |= again
        sized = _size(demand, costs, review, policy, fill, service, moq, pack, max_order, shelf)
    mean_p, sd_p, level, count = sized.mean_p, sized.sd_p, sized.level, sized.count
    level_mean_p, level_sd_p = sized.level_mean_p, sized.level_sd_p
    raw_q, unit_price = sized.raw_q, sized.unit_price
    # No level holds more than sells before it expires: S ≤ μ_d·(L + T), whole units down.
    needed = level.copy()
    level_capped = buffered & (level > cover)
    level = np.minimum(level, cover)
    safety = np.where(buffered, level - level_mean_p, 0.0)

    # For (s, Q) and (s, S) the order on top of s is what the cover leaves: Q ≤ μ_d·T − SS.
    room = np.where(policy == "periodic", np.inf, np.maximum(cover - level, 0.0))
    rounded = round_order_quantity(raw_q, moq, pack, np.minimum(max_order, room))
    q = rounded.quantity

    container = column(f, "container_size")
    container = np.where(np.isnan(container) | (container <= 0), np.maximum(q, 1.0), container)
    loop = kanban_cards(mu, lt, container, column(f, "kanban_safety"))
    is_kanban = policy == "kanban"
    kanban_needed = loop.cards * loop.container_size
    most_cards = np.maximum(np.floor(cover / loop.container_size + 1e-9), 1.0)
    kanban_capped = is_kanban & (loop.cards > most_cards)
    loop_cards = np.where(kanban_capped, most_cards, loop.cards)
    cards = np.where(is_kanban, loop_cards, np.nan)

    reorder = np.select(
        [is_kanban, buffered],
        [(loop_cards - 1.0) * loop.container_size, level],
        default=0.0,
    )
    up_to = np.select(
        [is_kanban, policy == "periodic", buffered],
        [loop_cards * loop.container_size, level, level + q],
        default=0.0,
    )
    q = np.where(is_kanban, loop.container_size, q)
    safety = np.where(is_kanban, loop_cards * loop.container_size - mu * lt, safety)
    needed = np.where(is_kanban, kanban_needed, needed)
    shelf_capped = level_capped | kanban_capped

    no_buffer = np.isin(policy, NO_BUFFER)
    wait = column(f, "customer_wait")
    fits = lead_time_fits(lt, lt_sd, np.nan_to_num(wait, nan=-np.inf))
    distribution = np.where(
        buffered,
        np.where(
            count,
            np.where(level_sd_p**2 > level_mean_p * (1 + 1e-9), "negative_binomial", "poisson"),
            "normal",
        ),
        "none",
    )

    out = f.with_columns(
        pl.Series("protection_interval", lt + review),
        pl.Series("lead_time_demand_mean", mean_p),
        pl.Series("lead_time_demand_sd", sd_p),
        pl.Series("distribution", distribution, dtype=pl.Utf8),
        pl.Series("target_service", np.where(buffered, service, np.nan)).fill_nan(None),
        pl.Series("safety_stock", safety),
        pl.Series("reorder_point", reorder),
        pl.Series("order_up_to", up_to),
        pl.Series("order_quantity", np.where(no_buffer, 0.0, q)),
        pl.Series("kanban_cards", cards).fill_nan(None),
        pl.Series("order_capped", rounded.capped & ~no_buffer),
        pl.Series("shelf_life_capped", shelf_capped),
        pl.Series("unit_price", unit_price),
        pl.Series("lead_time_ok", fits)
        .to_frame()
        .select(
            pl.when(pl.Series(no_buffer) & pl.Series(~np.isnan(wait)))
            .then(pl.col("lead_time_ok"))
            .otherwise(None)
        )
        .to_series(),
        pl.Series("_fill", fill),
        pl.Series("_review", review),
        pl.Series("_review_shortened", review_shortened),
        pl.Series("_needed", needed),
        pl.Series("_shelf", shelf),
    )
    return out.with_columns(explanation(period_days)).drop(
        "_fill", "_review", "_review_shortened", "_needed", "_shelf"
    )
