"""Stores fed by a warehouse: plan the warehouse for its echelon, not only its own sales.

A warehouse that refills stores is planned from what the stores will draw, not from its own
counter sales alone. In the echelon view (Clark & Scarf 1960; Axsäter 2015, *Inventory
Control*, §5.3 and §8.2) the warehouse's **echelon** is the warehouse plus the stores it
feeds:

- echelon demand: the warehouse's own demand plus every store's, μ_e = μ_w + Σ μ_s and,
  demand at different places being independent, σ_e² = σ_w² + Σ σ_s²;
- echelon lead time: a unit the warehouse orders now reaches a store's shelf only after the
  supplier's lead time and then the store's refill (transfer) lead time, so the warehouse's
  buffer covers L_w + L_t, L_t the stores' refill lead time weighted by their demand (and its
  spread, σ_L² = σ_Lw² + σ_Lt²);
- echelon position: the warehouse's position plus the stores' (on hand + in transit −
  reserved), so a store running below its own buffer is a requirement the warehouse sees
  at once (the store buffers pass up), and stock already at the stores is not bought again.

`pass_up` turns plan-input rows into echelon rows for `plan_policies`; `echelon_positions`
turns stock positions into echelon positions for `suggest_orders`. The warehouse's own
(installation) level is then its echelon level less what the stores hold up to their levels
(`installation_levels`).
"""

from __future__ import annotations

import polars as pl

from leanstock.planning.policy.plan import Z_90

NETWORK_COLUMNS = ("location", "source", "transfer_lead_time")
"""A store (`location`), the warehouse that refills it (`source`), and the refill lead time in
periods (optionally `transfer_lead_time_sd`)."""


def _network(network: pl.DataFrame) -> pl.DataFrame:
    missing = [c for c in NETWORK_COLUMNS if c not in network.columns]
    if missing:
        raise ValueError(f"network frame is missing column(s): {', '.join(missing)}")
    sd = (
        pl.col("transfer_lead_time_sd").cast(pl.Float64).fill_null(0.0)
        if "transfer_lead_time_sd" in network.columns
        else pl.lit(0.0)
    )
    out = network.select(
        pl.col("location").cast(pl.Utf8),
        pl.col("source").cast(pl.Utf8),
        pl.col("transfer_lead_time").cast(pl.Float64),
        sd.alias("transfer_lead_time_sd"),
    )
    if out.get_column("location").is_duplicated().any():
        raise ValueError("network frame: a store is refilled from one warehouse only")
    if out.join(out, left_on="source", right_on="location", how="semi").height:
        raise ValueError("network frame: one level of stores under warehouses only")
    return out


def _sd(frame: pl.DataFrame) -> pl.Expr:
    """σ_d per row: `demand_sd`, else from the 90% quantile (q₉₀ − μ)/z₀.₉, as in
    `plan_policies`."""
    from_p90 = (
        ((pl.col("demand_p90") - pl.col("demand_mean")) / Z_90).clip(0.0)
        if "demand_p90" in frame.columns
        else pl.lit(None, dtype=pl.Float64)
    )
    if "demand_sd" in frame.columns:
        return pl.coalesce(pl.col("demand_sd").cast(pl.Float64), from_p90)
    return from_p90


def pass_up(plan_input: pl.DataFrame, network: pl.DataFrame) -> pl.DataFrame:
    """Plan-input rows (see `plan_policies`) with each warehouse row planned for its echelon.

    For every (item, warehouse) row that feeds stores in `network`: `demand_mean` becomes the
    echelon demand, `demand_sd` its spread, `lead_time_mean` the warehouse's lead time plus
    the stores' demand-weighted refill lead time, `lead_time_sd` the combined spread; the
    warehouse's own figures are kept in `own_demand_mean` and `own_lead_time_mean`, with
    `store_demand_mean`, `store_lead_time` and `stores` beside them and `echelon` true.
    Store rows and other rows are unchanged (`echelon` false). A store whose item has no row
    at its warehouse passes nothing up: give the warehouse a row (own demand 0) to plan it.
    """
    links = _network(network)
    sd = _sd(plan_input)
    frame = plan_input.with_columns(sd.alias("_sd"))
    stores = (
        frame.join(links, on="location", how="inner")
        .group_by("item", "source")
        .agg(
            pl.col("demand_mean").sum().alias("store_demand_mean"),
            (pl.col("_sd") ** 2).sum().alias("_store_var"),
            (
                (pl.col("transfer_lead_time") * pl.col("demand_mean")).sum()
                / pl.col("demand_mean").sum()
            ).alias("_weighted_lead"),
            pl.col("transfer_lead_time").mean().alias("_plain_lead"),
            (
                (pl.col("transfer_lead_time_sd") ** 2 * pl.col("demand_mean")).sum()
                / pl.col("demand_mean").sum()
            ).alias("_weighted_lead_var"),
            (pl.col("transfer_lead_time_sd") ** 2).mean().alias("_plain_lead_var"),
            pl.len().alias("stores"),
        )
        .rename({"source": "location"})
    )
    lead_sd = (
        pl.col("lead_time_sd").cast(pl.Float64).fill_null(0.0)
        if "lead_time_sd" in frame.columns
        else pl.lit(0.0)
    )
    joined = frame.join(stores, on=["item", "location"], how="left")
    fed = pl.col("stores").is_not_null()
    store_lead = pl.coalesce(pl.col("_weighted_lead").fill_nan(None), pl.col("_plain_lead"))
    store_lead_var = pl.coalesce(
        pl.col("_weighted_lead_var").fill_nan(None), pl.col("_plain_lead_var")
    )
    out = joined.with_columns(
        fed.alias("echelon"),
        pl.col("demand_mean").alias("own_demand_mean"),
        pl.col("lead_time_mean").alias("own_lead_time_mean"),
        store_lead.alias("store_lead_time"),
        pl.when(fed)
        .then(pl.col("demand_mean") + pl.col("store_demand_mean"))
        .otherwise(pl.col("demand_mean"))
        .alias("demand_mean"),
        pl.when(fed)
        .then((pl.col("_sd").fill_null(0.0) ** 2 + pl.col("_store_var").fill_null(0.0)).sqrt())
        .otherwise(pl.col("_sd"))
        .alias("demand_sd"),
        pl.when(fed)
        .then(pl.col("lead_time_mean") + store_lead)
        .otherwise(pl.col("lead_time_mean"))
        .alias("lead_time_mean"),
        pl.when(fed)
        .then((lead_sd**2 + store_lead_var.fill_null(0.0)).sqrt())
        .otherwise(lead_sd)
        .alias("lead_time_sd"),
        pl.col("stores").fill_null(0),
        pl.col("store_demand_mean").fill_null(0.0),
    )
    return out.drop(
        "_sd",
        "_store_var",
        "_weighted_lead",
        "_plain_lead",
        "_weighted_lead_var",
        "_plain_lead_var",
    )


POSITION_VALUES = ("on_hand", "open_supply", "reserved")


def echelon_positions(position: pl.DataFrame, network: pl.DataFrame) -> pl.DataFrame:
    """Stock positions (see `suggest_orders`) with each warehouse's made echelon-wide.

    A warehouse row's `on_hand`, `open_supply` and `reserved` become the sums over the
    warehouse and the stores it refills (a transfer on its way to a store is the store's
    open supply, already out of the warehouse's stock, so nothing counts twice); the
    warehouse's own figures stay in `own_on_hand`, `own_open_supply` and `own_reserved`.
    Store rows are unchanged. A store below its buffer so lowers the warehouse's position.
    """
    links = _network(network).select("location", "source")
    downstream = (
        position.join(links, on="location", how="inner")
        .group_by("item", "source")
        .agg(pl.col(c).cast(pl.Float64).sum().alias(f"_store_{c}") for c in POSITION_VALUES)
        .rename({"source": "location"})
    )
    joined = position.join(downstream, on=["item", "location"], how="left")
    return joined.with_columns(
        *(pl.col(c).alias(f"own_{c}") for c in POSITION_VALUES),
        *(
            (pl.col(c).cast(pl.Float64) + pl.col(f"_store_{c}").fill_null(0.0)).alias(c)
            for c in POSITION_VALUES
        ),
    ).drop(*(f"_store_{c}" for c in POSITION_VALUES))


def installation_levels(
    warehouse_plan: pl.DataFrame, store_plan: pl.DataFrame, network: pl.DataFrame
) -> pl.DataFrame:
    """The warehouse's own levels from its echelon plan: echelon level − Σ store levels.

    `warehouse_plan` is `plan_policies` on `pass_up` rows, `store_plan` the stores' plan;
    adds `installation_reorder_point` and `installation_order_up_to` (never below 0) and
    `store_order_up_to` (the sum of the stores' order-up-to levels) to the warehouse rows.
    """
    links = _network(network).select("location", "source")
    held = (
        store_plan.join(links, on="location", how="inner")
        .group_by("item", "source")
        .agg(pl.col("order_up_to").sum().alias("store_order_up_to"))
        .rename({"source": "location"})
    )
    joined = warehouse_plan.join(held, on=["item", "location"], how="left").with_columns(
        pl.col("store_order_up_to").fill_null(0.0)
    )
    return joined.with_columns(
        (pl.col("reorder_point") - pl.col("store_order_up_to"))
        .clip(0.0)
        .alias("installation_reorder_point"),
        (pl.col("order_up_to") - pl.col("store_order_up_to"))
        .clip(0.0)
        .alias("installation_order_up_to"),
    )
