"""The plain-language reason on each plan row: what the level covers, for which service.

A buyer acts on a number only when it says where it comes from, so each row of
`plan_policies` carries the formula with its own figures filled in.
"""

from __future__ import annotations

import polars as pl

from leanstock.planning.policy.kinds import NO_BUFFER


def number(name: str | pl.Expr) -> pl.Expr:
    """A number as a person reads it: whole numbers without decimals, else one decimal."""
    column = pl.col(name) if isinstance(name, str) else name
    return column.round(1).cast(pl.Utf8).str.replace(r"\.0$", "")


def explanation(period_days: float) -> pl.Expr:
    """The `explanation` column of `plan_policies`, from its output and private columns
    (`_fill`, `_review`, `_review_shortened`, `_needed`, `_shelf`); times in days."""
    days = period_days
    shelf_days = number(pl.col("_shelf") * days)
    lead_days = (pl.col("lead_time_mean") * days).round(1).cast(pl.Utf8).str.replace(r"\.0$", "")
    spread_days = (pl.col("lead_time_sd") * days).round(1).cast(pl.Utf8).str.replace(r"\.0$", "")
    interval = (
        pl.when(pl.col("_review") > 0)
        .then(
            pl.format(
                "{} days' lead time + {} days' review{}",
                lead_days,
                (pl.col("_review") * days).round(1).cast(pl.Utf8).str.replace(r"\.0$", ""),
                pl.when(pl.col("_review_shortened"))
                .then(pl.lit(" (shortened for the shelf life)"))
                .otherwise(pl.lit("")),
            )
        )
        .otherwise(pl.format("{} days' lead time", lead_days))
    )
    service = pl.format(
        "{}% {}",
        (pl.col("target_service") * 100).round(1).cast(pl.Utf8).str.replace(r"\.0$", ""),
        pl.when(pl.col("_fill")).then(pl.lit("fill")).otherwise(pl.lit("cycle service")),
    )
    spread = (
        pl.when(pl.col("lead_time_receipts").fill_null(0) > 0)
        .then(
            pl.format(
                "; lead time spread {} days from {} receipts",
                spread_days,
                pl.col("lead_time_receipts").cast(pl.Int64),
            )
        )
        .otherwise(pl.lit("; promised lead time, no receipts yet"))
    )
    safety_word = (
        pl.when(pl.col("safety_stock") >= 0)
        .then(pl.format("+ {} safety", number("safety_stock")))
        .otherwise(
            pl.format(
                "− {} (the order size or lumpy demand already meets the target)",
                (-pl.col("safety_stock")).round(1).cast(pl.Utf8).str.replace(r"\.0$", ""),
            )
        )
    )
    level_name = (
        pl.when(pl.col("policy") == "periodic")
        .then(pl.lit("order-up-to level"))
        .otherwise(pl.lit("reorder point"))
    )
    order = (
        pl.when(pl.col("policy") == "periodic")
        .then(pl.format("up to {} each review", number("order_up_to")))
        .otherwise(pl.format("{} when below it", number("order_quantity")))
    )
    buffered = pl.format(
        "{} {} = {} expected over {} {} for {}{}; order {}",
        level_name,
        number("reorder_point"),
        number("lead_time_demand_mean"),
        interval,
        safety_word,
        service,
        spread,
        order,
    )
    shelf_capped = pl.format(
        "{} {}, capped by the {} days' shelf life so that stock sells before it expires "
        "({} would need {} = {} expected over {} + {} safety){}; order {}",
        level_name,
        number("reorder_point"),
        shelf_days,
        service,
        number("_needed"),
        number("lead_time_demand_mean"),
        interval,
        number(pl.col("_needed") - pl.col("lead_time_demand_mean")),
        spread,
        order,
    )
    capped = (
        pl.when(pl.col("order_capped"))
        .then(pl.lit(" (capped by the maximum or the shelf life)"))
        .otherwise(pl.lit(""))
    )
    kanban = pl.format(
        "{} kanban cards × {} = demand {} per day × {} days' lead time × (1 + {} safety){}",
        pl.col("kanban_cards").cast(pl.Int64),
        number("order_quantity"),
        (pl.col("demand_mean") / days).round(2).cast(pl.Utf8),
        lead_days,
        pl.col("kanban_safety").round(2).cast(pl.Utf8),
        pl.when(pl.col("shelf_life_capped"))
        .then(
            pl.format(
                ", capped by the {} days' shelf life so that stock sells before it expires "
                "(the loop would need {})",
                shelf_days,
                number("_needed"),
            )
        )
        .otherwise(pl.lit("")),
    )
    no_buffer = (
        pl.when(pl.col("lead_time_ok").is_null())
        .then(
            pl.format(
                "no stock: each order pulls supply; set the wait customers accept "
                "to check the {} days' lead time",
                lead_days,
            )
        )
        .when(pl.col("lead_time_ok"))
        .then(
            pl.format(
                "no stock: {} days' lead time fits the {} days customers accept",
                lead_days,
                (pl.col("customer_wait") * days).round(1).cast(pl.Utf8).str.replace(r"\.0$", ""),
            )
        )
        .otherwise(
            pl.format(
                "no stock, but the {} days' lead time (spread {}) exceeds the {} days "
                "customers accept: find a faster supplier or hold a buffer",
                lead_days,
                spread_days,
                (pl.col("customer_wait") * days).round(1).cast(pl.Utf8).str.replace(r"\.0$", ""),
            )
        )
    )
    return (
        pl.when(pl.col("policy").is_in(list(NO_BUFFER)))
        .then(no_buffer)
        .when(pl.col("policy") == "kanban")
        .then(kanban)
        .when(pl.col("shelf_life_capped"))
        .then(pl.format("{}{}", shelf_capped, capped))
        .otherwise(pl.format("{}{}", buffered, capped))
        .alias("explanation")
    )
