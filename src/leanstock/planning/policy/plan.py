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

import datetime as dt
from collections.abc import Mapping
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
from leanstock.planning.policy.explain import explanation, number
from leanstock.planning.policy.kinds import BUFFERED, NO_BUFFER, POLICIES
from leanstock.planning.policy.rules import (
    kanban_cards,
    lead_time_fits,
    round_order_quantity,
    shelf_life_cap,
)

FloatArray = npt.NDArray[np.float64]

SERVICE_BY_CLASS: Final[Mapping[str, float]] = {"A": 0.98, "B": 0.95, "C": 0.90}
"""Default service target by ABC class: fast movers that make most of the revenue get the
highest service (Silver, Pyke & Thomas 2017, §2.3 and §7.3)."""

DEFAULT_SERVICE: Final = 0.95

Z_90: Final = float(special.ndtri(0.9))

REQUIRED_COLUMNS: Final = ("item", "location", "policy", "demand_mean", "lead_time_mean")

OPTIONAL_COLUMNS: Final[Mapping[str, object]] = {
    "demand_sd": None,
    "demand_p90": None,
    "demand_mean_sd": 0.0,
    "lead_time_sd": 0.0,
    "lead_time_receipts": 0,
    "review_period": None,
    "service_level": None,
    "service_measure": "fill_rate",
    "abc_class": None,
    "unit_cost": 1.0,
    "order_cost": 0.0,
    "holding_rate": 0.0,
    "moq": 0.0,
    "pack_size": 1.0,
    "max_order": float("inf"),
    "shelf_life": float("inf"),
    "container_size": None,
    "kanban_safety": 0.1,
    "customer_wait": None,
    "integral_units": True,
}


class PlanInputError(ValueError):
    """The plan frame is missing a column or holds a value the maths cannot use."""


def _column(frame: pl.DataFrame, name: str) -> FloatArray:
    return frame.get_column(name).cast(pl.Float64).to_numpy()


def _price_breaks(frame: pl.DataFrame) -> tuple[FloatArray, FloatArray] | None:
    """`break_quantities` and `break_prices` list columns as NaN-padded (n, m) arrays."""
    if "break_quantities" not in frame.columns or "break_prices" not in frame.columns:
        return None
    lists = frame.select(
        pl.col("break_quantities").cast(pl.List(pl.Float64)),
        pl.col("break_prices").cast(pl.List(pl.Float64)),
    )
    uneven = lists.select(
        pl.col("break_quantities").list.len() != pl.col("break_prices").list.len()
    ).to_series()
    if uneven.any():
        row = int(uneven.arg_true()[0])
        raise PlanInputError(f"row {row}: break_quantities and break_prices differ in length")
    width = int(lists.get_column("break_prices").list.len().fill_null(0).to_numpy().max(initial=0))
    if width == 0:
        return None
    columns = lists.select(
        *(
            pl.col("break_quantities").list.get(j, null_on_oob=True).alias(f"q{j}")
            for j in range(width)
        ),
        *(
            pl.col("break_prices").list.get(j, null_on_oob=True).alias(f"p{j}")
            for j in range(width)
        ),
    ).fill_null(np.nan)
    values = columns.to_numpy().astype(np.float64)
    return values[:, :width], values[:, width:]


def _with_defaults(frame: pl.DataFrame) -> pl.DataFrame:
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        raise PlanInputError(f"plan frame is missing column(s): {', '.join(missing)}")
    if "demand_sd" not in frame.columns and "demand_p90" not in frame.columns:
        raise PlanInputError("plan frame needs demand_sd or demand_p90")
    unknown = set(frame.get_column("policy").unique().to_list()) - set(POLICIES)
    if unknown:
        raise PlanInputError(f"unknown policy {sorted(map(str, unknown))}; one of {POLICIES}")
    extra = [
        pl.lit(default).alias(name)
        for name, default in OPTIONAL_COLUMNS.items()
        if name not in frame.columns
    ]
    out = frame.with_columns(extra) if extra else frame
    return out.with_columns(
        pl.col(name).cast(pl.Float64)
        for name in (
            "demand_sd",
            "demand_p90",
            "review_period",
            "service_level",
            "container_size",
            "customer_wait",
        )
    )


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
    pack, maximum or shelf life kept the quantity from the need), `lead_time_ok`
    (make/buy-to-order only: lead time at 95% fits the customer's wait; null elsewhere) and
    `explanation`.

    The maths, per policy (order when the position is below the reorder point):

    - order quantity Q: the EOQ √(2Kλ/(i·c)) when an order cost and a holding rate are
      given (with price breaks, the all-units-discount EOQ of `eoq_price_breaks`), else the
      demand of one review period (one period for continuous review);
      then MOQ/pack rounding capped by `max_order` and the shelf-life cap
      Q ≤ μ_d·T − SS (`rules`);
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

    The distributions and loss functions are those of `distributions` (normal for smooth
    demand, Poisson or negative binomial for whole-unit demand with a small mean over P), with
    lead-time variability in σ_P (Silver, Pyke & Thomas 2017, §7.4–7.9).
    """
    f = _with_defaults(frame)
    policy = f.get_column("policy").to_numpy().astype(str)
    mu = np.maximum(np.nan_to_num(_column(f, "demand_mean")), 0.0)
    sd_in = _column(f, "demand_sd")
    p90 = _column(f, "demand_p90")
    sd = np.where(np.isnan(sd_in), np.maximum(p90 - mu, 0.0) / Z_90, sd_in)
    sd = np.maximum(np.nan_to_num(sd), 0.0)
    mean_sd = np.maximum(np.nan_to_num(_column(f, "demand_mean_sd")), 0.0)
    lt = np.maximum(_column(f, "lead_time_mean"), 0.0)
    lt_sd = np.maximum(np.nan_to_num(_column(f, "lead_time_sd")), 0.0)
    periodic_review = np.isin(policy, ("min_max", "periodic"))
    review = _column(f, "review_period")
    review = np.where(np.isnan(review), np.where(periodic_review, 1.0, 0.0), review)
    review = np.where(np.isin(policy, ("reorder_point", "kanban")), 0.0, np.maximum(review, 0.0))

    classes = f.get_column("abc_class").cast(pl.Utf8).fill_null("")
    by_class = classes.replace_strict(
        dict(service_by_class), default=default_service, return_dtype=pl.Float64
    ).to_numpy()
    service = _column(f, "service_level")
    service = np.clip(np.where(np.isnan(service), by_class, service), 0.0, 0.999999)
    fill = f.get_column("service_measure").cast(pl.Utf8).fill_null("fill_rate").to_numpy()
    fill = fill.astype(str) != "cycle"

    unit_cost = _column(f, "unit_cost")
    order_cost = _column(f, "order_cost")
    holding = _column(f, "holding_rate") * unit_cost
    moq = np.nan_to_num(_column(f, "moq"))
    pack = np.nan_to_num(_column(f, "pack_size"), nan=1.0)
    max_order = _column(f, "max_order")
    max_order = np.where(np.isnan(max_order), np.inf, max_order)
    shelf = _column(f, "shelf_life")
    shelf = np.where(np.isnan(shelf), np.inf, shelf)
    integral = f.get_column("integral_units").cast(pl.Boolean).fill_null(True).to_numpy()

    mean_p, sd_p = protection_moments(mu, sd, lt, lt_sd, review, mean_sd)
    mean_l, sd_l = protection_moments(mu, sd, lt, lt_sd, 0.0, mean_sd)

    economic = eoq(order_cost, holding, mu).quantity
    base_q = mu * np.maximum(review, 1.0)
    has_eoq = (order_cost > 0) & (holding > 0) & np.isfinite(economic)
    raw_q = np.where(has_eoq, economic, base_q)
    unit_price = unit_cost.copy()
    breaks = _price_breaks(f)
    if breaks is not None:
        quantities, prices = breaks
        priced = has_eoq & ~np.isnan(prices[:, 0])
        if priced.any():
            best = eoq_price_breaks(
                order_cost[priced],
                _column(f, "holding_rate")[priced],
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
    # The demand per cycle is what one order brings in: Q after MOQ and pack rounding.
    ordered = round_order_quantity(raw_q, moq, pack, max_order).quantity
    cycle_demand = np.where(policy == "periodic", mu * review, np.maximum(ordered, mu * review))
    allowed = np.where(fill, (1.0 - service) * cycle_demand, np.inf)
    alpha = np.where(fill, 0.0, service)
    buffered = np.isin(policy, BUFFERED)
    level = np.zeros(len(f))
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
    safety = np.where(buffered, level - level_mean_p, 0.0)

    cap = np.minimum(max_order, shelf_life_cap(mu, shelf, np.maximum(safety, 0.0)))
    rounded = round_order_quantity(raw_q, moq, pack, cap)
    q = rounded.quantity

    container = _column(f, "container_size")
    container = np.where(np.isnan(container) | (container <= 0), np.maximum(q, 1.0), container)
    loop = kanban_cards(mu, lt, container, _column(f, "kanban_safety"))
    is_kanban = policy == "kanban"
    cards = np.where(is_kanban, loop.cards, np.nan)

    reorder = np.select(
        [is_kanban, buffered],
        [(loop.cards - 1.0) * loop.container_size, level],
        default=0.0,
    )
    up_to = np.select(
        [is_kanban, policy == "periodic", buffered],
        [loop.cards * loop.container_size, level, level + q],
        default=0.0,
    )
    q = np.where(is_kanban, loop.container_size, q)
    safety = np.where(is_kanban, loop.cards * loop.container_size - mu * lt, safety)

    no_buffer = np.isin(policy, NO_BUFFER)
    wait = _column(f, "customer_wait")
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
    )
    return out.with_columns(explanation(period_days)).drop("_fill", "_review")


POSITION_COLUMNS: Final = ("item", "location", "on_hand", "open_supply", "reserved")


def suggest_orders(
    plan: pl.DataFrame,
    position: pl.DataFrame,
    *,
    today: dt.date,
    period_days: float = 1.0,
) -> pl.DataFrame:
    """What to order now, how much, and by when, per item-location.

    `plan` is the output of `plan_policies`; `position` has `item`, `location`, `on_hand`,
    `open_supply` (ordered, not received), `reserved` (promised to customer orders), and
    optionally `forecast_demand` (forecast over the protection interval; default the plan's
    `lead_time_demand_mean`) and `due` (make/buy-to-order: earliest customer due date).

    Net requirement (MRP netting; Silver, Pyke & Thomas 2017, §15.3):
    position = on hand + open supply − reserved, net = position − forecast over the
    protection interval. For buffered policies and kanban an order is suggested when the
    position is below the reorder point: quantity = order-up-to − position, rounded to MOQ
    and pack (for kanban, whole containers). Make/buy-to-order items order exactly what the
    customer orders need beyond stock and open supply: (reserved − on hand − open supply)⁺.

    Dates, just in time: the need date is when the projected position falls to the safety
    stock, today + (position − SS)/μ_d periods (the due date for make/buy-to-order); the
    order-by date is need date − lead time, and an order-by date in the past becomes today
    (a review found the position already below the reorder point). `late` is set when even
    an order placed today arrives after the projected stock-out (position / μ_d < lead time;
    for make/buy-to-order, when due − lead time has passed): expedite or accept a short gap.

    Returns `item`, `location`, `policy`, `position`, `net_requirement`,
    `suggested_quantity`, `need_date`, `order_by`, `late`, `explanation`; only rows with a
    positive suggested quantity.
    """
    missing = [c for c in POSITION_COLUMNS if c not in position.columns]
    if missing:
        raise PlanInputError(f"position frame is missing column(s): {', '.join(missing)}")
    cols = [
        "item",
        "location",
        "policy",
        "demand_mean",
        "lead_time_mean",
        "lead_time_demand_mean",
        "safety_stock",
        "reorder_point",
        "order_up_to",
        "order_quantity",
        "moq",
        "pack_size",
        "max_order",
    ]
    joined = plan.select(cols).join(position, on=["item", "location"], how="inner", validate="1:1")
    if "forecast_demand" not in joined.columns:
        joined = joined.with_columns(pl.col("lead_time_demand_mean").alias("forecast_demand"))
    if "due" not in joined.columns:
        joined = joined.with_columns(pl.lit(None, dtype=pl.Date).alias("due"))

    pos = _column(joined, "on_hand") + _column(joined, "open_supply") - _column(joined, "reserved")
    policy = joined.get_column("policy").to_numpy().astype(str)
    mto = np.isin(policy, NO_BUFFER)
    kanban = policy == "kanban"
    reorder = _column(joined, "reorder_point")
    up_to = _column(joined, "order_up_to")
    container = np.maximum(_column(joined, "order_quantity"), 1e-9)
    mu = _column(joined, "demand_mean")
    lead = _column(joined, "lead_time_mean")
    safety = _column(joined, "safety_stock")

    trigger = pos < reorder - 1e-9
    need = np.where(trigger, up_to - pos, 0.0)
    need = np.where(kanban & trigger, np.ceil((up_to - pos) / container - 1e-9) * container, need)
    need = np.where(mto, np.maximum(-pos, 0.0), need)
    rounded = round_order_quantity(
        need,
        np.where(kanban, 0.0, _column(joined, "moq")),
        np.where(kanban, container, _column(joined, "pack_size")),
        _column(joined, "max_order"),
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        periods_to_need = np.where(mu > 0, (pos - np.maximum(safety, 0.0)) / mu, np.inf)
    periods_to_need = np.where(mto, 0.0, np.clip(periods_to_need, 0.0, 3650.0 / period_days))
    need_days = np.round(periods_to_need * period_days)
    lead_days = np.round(lead * period_days)
    slack_days = np.round((periods_to_need - lead) * period_days)
    start = pl.lit(today, dtype=pl.Date)
    out = joined.with_columns(
        pl.Series("position", pos),
        pl.Series("net_requirement", pos - _column(joined, "forecast_demand")),
        pl.Series("suggested_quantity", rounded.quantity),
        pl.Series("_need_days", need_days.astype(np.int64)),
        pl.Series("_lead_days", lead_days.astype(np.int64)),
        pl.Series("_slack_days", slack_days.astype(np.int64)),
    ).with_columns(
        pl.coalesce(pl.col("due"), start + pl.duration(days=pl.col("_need_days"))).alias(
            "need_date"
        ),
        pl.when(pl.col("due").is_null())
        .then(start + pl.duration(days=pl.col("_slack_days")))
        .otherwise(pl.col("due") - pl.duration(days=pl.col("_lead_days")))
        .alias("_order_by"),
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        stockout_days = np.where(mu > 0, np.maximum(pos, 0.0) / mu, np.inf) * period_days
    runs_out_first = np.where(mto, lead_days > 0, stockout_days < lead_days)
    out = out.with_columns(
        (
            pl.when(pl.col("due").is_null())
            .then(pl.Series("_runs_out", runs_out_first))
            .otherwise(pl.col("_order_by") < start)
        ).alias("late"),
        pl.max_horizontal(pl.col("_order_by"), start).alias("order_by"),
    )
    reason = (
        pl.when(pl.col("policy").is_in(list(NO_BUFFER)))
        .then(
            pl.format(
                "customer orders need {} beyond stock and open supply",
                number("suggested_quantity"),
            )
        )
        .otherwise(
            pl.format(
                "position {} is below the reorder point {}: order up to {}, {} after rounding",
                number("position"),
                number("reorder_point"),
                number("order_up_to"),
                number("suggested_quantity"),
            )
        )
    )
    late_note = (
        pl.when(pl.col("late"))
        .then(pl.lit("; late: stock runs out before an order placed today arrives, expedite"))
        .otherwise(pl.lit(""))
    )
    return out.filter(pl.col("suggested_quantity") > 0).select(
        "item",
        "location",
        "policy",
        "position",
        "net_requirement",
        "suggested_quantity",
        "need_date",
        "order_by",
        "late",
        pl.format("{}{}", reason, late_note).alias("explanation"),
    )
