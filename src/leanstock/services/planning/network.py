"""The plan's supply network: where made-to-stock items are made for the stores, what the
warehouse plans for the stores it refills (the echelon), the kitchen's demand for ingredients,
and transfers kept within what their source has free. Used by `run.run_plan`."""

from __future__ import annotations

import math
from typing import Any

import polars as pl

from leanstock.domain.catalog import ItemKind, LocationKind, Policy
from leanstock.domain.orders import TRANSFER_DAYS, SupplyKind


def makes_for_stores(item: Any, warehouses: list[str]) -> bool:
    """A made-to-stock item where there is a warehouse: made there, sent to the stores."""
    return (
        bool(warehouses)
        and item.kind == ItemKind.MADE
        and item.policy not in (Policy.MAKE_TO_ORDER, Policy.BUY_TO_ORDER, Policy.DROP_SHIP)
    )


def echelon_items(
    forecast: pl.DataFrame,
    items: dict[str, Any],
    kinds: dict[str, LocationKind],
    warehouses: list[str],
) -> set[str]:
    """Bought items that stores sell and the warehouse refills them with (what is made to
    stock is planned at the warehouse by `_kitchen_demand`; what is bought or made to order
    is not refilled)."""
    if not warehouses:
        return set()
    at_stores = forecast.filter(
        pl.col("location").is_in([c for c, k in kinds.items() if k == LocationKind.STORE])
    )
    return {
        sku
        for sku in at_stores.get_column("item").unique().to_list()
        if sku in items
        and items[sku].kind != ItemKind.MADE
        and items[sku].policy not in (Policy.MAKE_TO_ORDER, Policy.BUY_TO_ORDER, Policy.DROP_SHIP)
    }


def warehouse_rows(
    forecast: pl.DataFrame, echelon: set[str], warehouses: list[str]
) -> pl.DataFrame:
    """A row at the warehouse (own demand 0) for each echelon item it has none for: the
    stores' demand passes up to it, so it buys for them."""
    if not echelon:
        return forecast
    has = set(forecast.filter(pl.col("location") == warehouses[0]).get_column("item").to_list())
    missing = sorted(echelon - has)
    if not missing:
        return forecast
    extra = pl.DataFrame(
        {
            "item": missing,
            "location": [warehouses[0]] * len(missing),
            "demand_mean": [0.0] * len(missing),
            "demand_p90": [0.0] * len(missing),
        }
    )
    return pl.concat([forecast, extra.select(forecast.columns).cast(forecast.schema)])


def supply_network(
    kinds: dict[str, LocationKind], warehouses: list[str], period_days: float
) -> pl.DataFrame:
    """Every store, refilled from the first warehouse in `TRANSFER_DAYS` (in periods)."""
    stores = sorted(c for c, k in kinds.items() if k == LocationKind.STORE)
    source = warehouses[0] if warehouses else ""
    return pl.DataFrame(
        {
            "location": stores,
            "source": [source] * len(stores),
            "transfer_lead_time": [TRANSFER_DAYS / period_days] * len(stores),
        },
        schema={"location": pl.Utf8, "source": pl.Utf8, "transfer_lead_time": pl.Float64},
    )


def kitchen_demand(
    forecast: pl.DataFrame,
    items: dict[str, Any],
    kinds: dict[str, LocationKind],
    warehouses: list[str],
) -> pl.DataFrame:
    """The warehouse makes what is made to stock for the stores it refills, so its line plans
    their demand with its own: μ = Σ μ_i over the warehouse and the stores, and the spread
    above the mean combined as independent, p90 = μ + √Σ (p90_i − μ_i)² (the echelon demand of
    Axsäter 2015, *Inventory Control*, §5.3). The stores' own lines are transfers from it."""
    made = [sku for sku, item in items.items() if makes_for_stores(item, warehouses)]
    if not made:
        return forecast
    kitchen = warehouses[0]
    places = [kitchen, *(code for code, kind in kinds.items() if kind == LocationKind.STORE)]
    mine = pl.col("item").is_in(made) & pl.col("location").is_in(places)
    combined = (
        forecast.filter(mine)
        .group_by("item")
        .agg(
            demand_mean=pl.col("demand_mean").sum(),
            spread=((pl.col("demand_p90") - pl.col("demand_mean")).clip(0) ** 2).sum().sqrt(),
        )
        .select(
            "item",
            location=pl.lit(kitchen),
            demand_mean="demand_mean",
            demand_p90=pl.col("demand_mean") + pl.col("spread"),
        )
    )
    rest = forecast.filter(~(pl.col("item").is_in(made) & (pl.col("location") == kitchen)))
    return pl.concat([rest, combined.select(forecast.columns).cast(forecast.schema)])


def within_source_stock(
    merged: pl.DataFrame, levels: list[dict[str, Any]]
) -> tuple[pl.DataFrame, int]:
    """Transfers take no more than their source has free (on hand − expired − reserved),
    shared among the stores in order of need; what is left waits for the source's own supply,
    which its own line (or the next plan) orders. So a released plan's transfers can be
    served. Also how many transfers had nothing to take."""
    transfer = pl.col("_kind") == SupplyKind.TRANSFER.value
    moving = merged.filter(transfer)
    if moving.is_empty():
        return merged, 0
    free = {
        (r["sku"], r["location"]): float(r["on_hand"] - r["expired"] - r["reserved"])
        for r in levels
    }
    kept: list[dict[str, Any]] = []
    waiting = 0
    for r in moving.sort("need_date", "item", "location").iter_rows(named=True):
        key = (r["item"], r["_source"])
        left = math.floor(max(free.get(key, 0.0), 0.0) * 1000) / 1000
        take = min(r["suggested_quantity"], left)
        if take <= 0:
            waiting += 1
            continue
        free[key] = left - take
        if take < r["suggested_quantity"]:
            r["_note"] += (
                f"; capped at the {take:g} {r['_source']} has free (the rest waits for "
                f"{r['_source']}'s own supply)"
            )
            r["suggested_quantity"] = take
        kept.append(r)
    rest = merged.filter(~transfer)
    if not kept:
        return rest, waiting
    return pl.concat([rest, pl.DataFrame(kept, schema=merged.schema)]), waiting
