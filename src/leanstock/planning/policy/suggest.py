"""Order suggestions: a plan applied to the current stock position, just in time."""

from __future__ import annotations

import datetime as dt
from typing import Final

import numpy as np
import polars as pl

from leanstock.planning.policy.explain import number
from leanstock.planning.policy.frames import PlanInputError, column
from leanstock.planning.policy.kinds import NO_BUFFER
from leanstock.planning.policy.rules import round_order_quantity

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

    pos = column(joined, "on_hand") + column(joined, "open_supply") - column(joined, "reserved")
    policy = joined.get_column("policy").to_numpy().astype(str)
    mto = np.isin(policy, NO_BUFFER)
    kanban = policy == "kanban"
    reorder = column(joined, "reorder_point")
    up_to = column(joined, "order_up_to")
    container = np.maximum(column(joined, "order_quantity"), 1e-9)
    mu = column(joined, "demand_mean")
    lead = column(joined, "lead_time_mean")
    safety = column(joined, "safety_stock")

    trigger = pos < reorder - 1e-9
    need = np.where(trigger, up_to - pos, 0.0)
    need = np.where(kanban & trigger, np.ceil((up_to - pos) / container - 1e-9) * container, need)
    need = np.where(mto, np.maximum(-pos, 0.0), need)
    rounded = round_order_quantity(
        need,
        np.where(kanban, 0.0, column(joined, "moq")),
        np.where(kanban, container, column(joined, "pack_size")),
        column(joined, "max_order"),
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
        pl.Series("net_requirement", pos - column(joined, "forecast_demand")),
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
