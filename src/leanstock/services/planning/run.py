"""The plan run: from forecasts, stock and supplier performance to reviewed, released orders.

A run reads the newest forecast run, the stock position (on hand, reserved, open supply),
the catalog's supplier terms and the suppliers' measured deliveries; the policy maths in
`planning.policy` sizes each item-location's buffer and says what to order, how much and by
when; the run is stored with its inputs so a manager can review it (edit quantities, drop
lines), approve it, and release it into purchase, production and transfer orders.

Single echelon: a store is refilled from the warehouse by transfer and the warehouse from
suppliers or production, each from its own forecast; store demand is not yet passed up to
the warehouse's requirement — except for what is made to stock: the warehouse's kitchen makes
it for the stores, so its line plans their demand with its own (`_kitchen_demand`).
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import asdict, replace
from datetime import UTC, date, datetime
from decimal import ROUND_CEILING, Decimal
from typing import Any

import polars as pl

from leanstock.domain.catalog import ItemKind, LocationKind, Policy, SupplierItem
from leanstock.domain.errors import InvalidInput, NotFound
from leanstock.domain.events import Changed
from leanstock.domain.orders import TRANSFER_DAYS, SupplyKind
from leanstock.domain.plans import PlanLineStatus
from leanstock.domain.sourcing import (
    NO_RECORD,
    SupplierRecord,
    SupplierStandard,
    choose_supplier,
)
from leanstock.planning.periods import PERIODS
from leanstock.planning.policy.catalog import catalog_targets
from leanstock.planning.policy.echelon import echelon_positions, pass_up
from leanstock.planning.policy.lead_time import lead_time_from_receipts
from leanstock.planning.policy.plan import plan_policies, suggest_orders
from leanstock.services import purchasing
from leanstock.services.planning.network import (
    echelon_items,
    kitchen_demand,
    makes_for_stores,
    supply_network,
    warehouse_rows,
    within_source_stock,
)
from leanstock.services.planning.review import PlanRun, get_plan
from leanstock.services.ports import UnitOfWork
from leanstock.services.retry import retrying
from leanstock.services.supplier_standard import company_standard

DEFAULT_PRODUCTION_DAYS = 1

PLACES = Decimal("0.000001")

# Item policies as the policy maths knows them: drop-ship is bought to order, and a
# transfer-refilled item keeps a reorder point at the location it is refilled to.

MATHS_POLICY = {
    Policy.MAKE_TO_ORDER: "make_to_order",
    Policy.BUY_TO_ORDER: "buy_to_order",
    Policy.DROP_SHIP: "buy_to_order",
    Policy.TRANSFER: "reorder_point",
    Policy.KANBAN: "kanban",
    Policy.REORDER_POINT: "reorder_point",
    Policy.MIN_MAX: "min_max",
    Policy.PERIODIC: "periodic",
}


def _exact(value: float) -> Decimal:
    """A suggested quantity as an exact decimal, rounded up to the sixth place."""
    return Decimal(repr(float(value))).quantize(PLACES, rounding=ROUND_CEILING)


def _abc(frame: pl.DataFrame) -> pl.DataFrame:
    """ABC class by forecast value: the items making the first 80% of it are A, the next 15%
    B, the rest C (Silver, Pyke & Thomas 2017, §2.3)."""
    value = (pl.col("demand_mean") * pl.col("unit_cost")).alias("_value")
    ranked = frame.with_columns(value).sort("_value", descending=True)
    total = ranked["_value"].sum() or 1.0
    before = (pl.col("_value").cum_sum() - pl.col("_value")) / total
    return ranked.with_columns(
        pl.when(before < 0.8)
        .then(pl.lit("A"))
        .when(before < 0.95)
        .then(pl.lit("B"))
        .otherwise(pl.lit("C"))
        .alias("abc_class")
    ).drop("_value")


def _inputs(uow: UnitOfWork, run_id: int | None, day: date) -> dict[str, Any]:
    with uow:
        try:
            forecast_run = uow.planning.forecast_run(run_id)
        except NotFound:
            if run_id is not None:
                raise
            raise InvalidInput(
                "There is no forecast yet: run one first (leanstock forecast, or POST "
                "/api/v1/forecast-runs).",
                "forecast_run",
            ) from None
        values = uow.planning.forecast_values(forecast_run["id"])
        items = uow.catalog.items(limit=1_000_000).items
        locations = uow.catalog.locations(limit=1_000_000, physical=True).items
        suppliers = uow.catalog.suppliers(limit=1_000_000).items
        offers = uow.catalog.supplier_items(limit=1_000_000).items
        levels, _ = uow.reports.stock_levels(day, limit=10_000_000)
        supply = uow.planning.open_supply()
        backorders = uow.planning.backorders()
        make_days = uow.planning.production_lead_times()
        records = uow.purchasing.supplier_records()
        standard = company_standard(uow)
    return {
        "records": records,
        "standard": standard,
        "forecast_run": forecast_run,
        "values": values,
        "items": items,
        "locations": locations,
        "suppliers": suppliers,
        "offers": offers,
        "levels": levels,
        "supply": supply,
        "backorders": backorders,
        "make_days": make_days,
    }


def run_plan(
    uow: UnitOfWork,
    *,
    forecast_run_id: int | None = None,
    service_level: float | None = None,
    fill_rate: bool = True,
    catalog_fill_rate: float | None = None,
    otif_standard: float | None = None,
    order_cost: float = 0.0,
    holding_rate: float = 0.25,
    today: date | None = None,
) -> PlanRun:
    """Plan every forecast item-location and store the suggested orders for review.

    With an `order_cost` (per order line) the order quantity is the economic one, price
    breaks included; without one (the JIT default) each order covers one period. The
    `holding_rate` is a share of the unit cost per year.

    With a `catalog_fill_rate`, the items' fill-rate targets are allocated so that the
    catalogue's demand-weighted fill rate reaches it at the least modelled stock value
    (`policy.catalog.catalog_targets`, Sherbrooke's marginal analysis), instead of one target
    per item; the plan's parameters record the modelled stock value against one target per
    item and the money saved.
    """
    if order_cost < 0:
        raise InvalidInput("order_cost must not be negative.", "order_cost")
    if not 0 <= holding_rate <= 5:
        raise InvalidInput(
            "holding_rate is a yearly share of the unit cost, e.g. 0.25.", "holding_rate"
        )
    if service_level is not None and not 0.5 <= service_level < 1:
        raise InvalidInput("service_level must be at least 0.5 and below 1.", "service_level")
    if catalog_fill_rate is not None:
        if not 0.5 <= catalog_fill_rate < 1:
            raise InvalidInput(
                "catalog_fill_rate must be at least 0.5 and below 1, e.g. 0.95.",
                "catalog_fill_rate",
            )
        if service_level is not None or not fill_rate:
            raise InvalidInput(
                "catalog_fill_rate is one fill-rate target for the whole catalogue: give it "
                "without service_level and without cycle service.",
                "catalog_fill_rate",
            )
    if otif_standard is not None and not 0 <= otif_standard <= 1:
        raise InvalidInput("otif_standard is a share between 0 and 1.", "otif_standard")
    day = today or datetime.now(UTC).date()
    data = _inputs(uow, forecast_run_id, day)
    run = data["forecast_run"]
    period_days = PERIODS[run["freq"]].days
    receipts = purchasing.receipt_history(uow)
    scores = data["records"]
    standard = data["standard"]
    if otif_standard is not None:
        standard = replace(standard, otif=otif_standard)
    active = {s.code: s.active for s in data["suppliers"]}
    offers_by_item: dict[str, list[SupplierItem]] = defaultdict(list)
    for offer in data["offers"]:
        offers_by_item[offer.sku].append(offer)
    items = {i.sku: i for i in data["items"]}
    kinds = {loc.code: loc.kind for loc in data["locations"]}
    warehouses = sorted(c for c, k in kinds.items() if k == LocationKind.WAREHOUSE)

    forecast = (
        pl.DataFrame(
            {
                "item": [r["item"] for r in data["values"]],
                "location": [r["location"] for r in data["values"]],
                "forecast": [r["forecast"] for r in data["values"]],
                "q90": [r["quantiles"].get("q90") or r["forecast"] for r in data["values"]],
            },
            schema={
                "item": pl.Utf8,
                "location": pl.Utf8,
                "forecast": pl.Float64,
                "q90": pl.Float64,
            },
        )
        .group_by("item", "location")
        .agg(demand_mean=pl.col("forecast").mean(), demand_p90=pl.col("q90").mean())
        .filter(pl.col("location").is_in(list(kinds)))
    )
    forecast = kitchen_demand(forecast, items, kinds, warehouses)
    echelon = echelon_items(forecast, items, kinds, warehouses)
    forecast = warehouse_rows(forecast, echelon, warehouses)
    lead_stats = _lead_times(receipts)
    rows: list[dict[str, Any]] = []
    for row in forecast.iter_rows(named=True):
        item = items.get(row["item"])
        if item is None or not item.active:
            continue
        line = _source(
            item,
            row["location"],
            kinds,
            warehouses,
            offers_by_item,
            active,
            scores,
            standard,
            data["make_days"],
            lead_stats,
            row["demand_mean"] / period_days,
        )
        rows.append(
            {
                **row,
                "policy": MATHS_POLICY[item.policy],
                "unit_cost": float(line["unit_cost"]),
                "moq": float(line["moq"]),
                "pack_size": float(line["pack_size"]),
                "lead_time_mean": line["lead_days"] / period_days,
                "lead_time_sd": line["lead_sd_days"] / period_days,
                "lead_time_receipts": line["receipts"],
                "order_cost": order_cost,
                "holding_rate": holding_rate * period_days / 365.25,
                "break_quantities": line["break_quantities"],
                "break_prices": line["break_prices"],
                "shelf_life": (item.shelf_life_days / period_days)
                if item.shelf_life_days
                else math.inf,
                "service_measure": "fill_rate" if fill_rate else "cycle",
                "_kind": line["kind"],
                "_supplier": line["supplier"],
                "_source": line["source"],
                "_note": line["note"],
            }
        )
    if not rows:
        raise InvalidInput(
            "The forecast run has no active item at a physical location to plan.", "forecast_run"
        )
    frame = _abc(pl.DataFrame(rows))
    network = supply_network(kinds, warehouses, period_days)
    in_echelon = pl.col("item").is_in(sorted(echelon))
    if echelon:
        frame = pl.concat(
            [pass_up(frame.filter(in_echelon), network), frame.filter(~in_echelon)],
            how="diagonal_relaxed",
        )
    if service_level is not None:
        frame = frame.with_columns(service_level=pl.lit(service_level))
    catalog: dict[str, Any] = {}
    if catalog_fill_rate is not None:
        uniform = frame.with_columns(service_level=pl.lit(catalog_fill_rate))
        allocated = catalog_targets(
            plan_policies(uniform, period_days=period_days), catalog_fill_rate
        )
        frame = frame.with_columns(service_level=pl.Series(allocated.service))
        if allocated.allocation is not None:
            a = allocated.allocation
            catalog = {
                "catalog_modelled_fill": round(a.catalog_fill, 4),
                "catalog_stock_value": round(a.total_value, 2),
                "one_target_stock_value": round(a.uniform_total_value, 2),
                "money_saved": round(a.uniform_total_value - a.total_value, 2),
                "saving_share": round(a.saving, 4),
            }
    plan = plan_policies(frame, period_days=period_days)
    position = _position(data["levels"], data["supply"], data["backorders"], plan)
    if echelon:
        position = pl.concat(
            [
                echelon_positions(position.filter(in_echelon), network).select(position.columns),
                position.filter(~in_echelon),
            ]
        )
    suggestions = suggest_orders(plan, position, today=day, period_days=period_days)
    extra = plan.select(
        "item",
        "location",
        "_kind",
        "_supplier",
        "_source",
        "_note",
        "unit_cost",
        "break_quantities",
        "break_prices",
        "abc_class",
        "reorder_point",
        "safety_stock",
        "order_up_to",
        "explanation",
    )
    merged = suggestions.join(extra, on=["item", "location"], how="left", suffix="_plan")
    merged, waiting = within_source_stock(merged, data["levels"])
    below = int(
        position.join(plan.select("item", "location", "reorder_point"), on=["item", "location"])
        .filter(
            pl.col("on_hand") + pl.col("open_supply") - pl.col("reserved") < pl.col("reorder_point")
        )
        .height
    )
    return _store_plan(
        uow,
        run["id"],
        merged,
        below,
        waiting,
        {
            "service_level": service_level,
            "fill_rate": fill_rate,
            "catalog_fill_rate": catalog_fill_rate,
            **catalog,
            "otif_standard": standard.otif,
            "supplier_standard": asdict(standard),
            "order_cost": order_cost,
            "holding_rate": holding_rate,
            "today": day.isoformat(),
            "period_days": period_days,
        },
    )


def _lead_times(receipts: pl.DataFrame) -> dict[tuple[str, str], dict[str, Any]]:
    if receipts.height == 0:
        return {}
    frame = receipts.select(
        "supplier",
        "item",
        ordered_on=pl.col("ordered_at").dt.date(),
        promised_on=pl.col("promised_date"),
        received_on=pl.col("received_date"),
    ).drop_nulls()
    stats = lead_time_from_receipts(frame, keys=("supplier", "item"))
    return {(r["supplier"], r["item"]): r for r in stats.iter_rows(named=True)}


def _source(
    item: Any,
    location: str,
    kinds: dict[str, LocationKind],
    warehouses: list[str],
    offers_by_item: dict[str, list[SupplierItem]],
    active: dict[str, bool],
    scores: dict[str, SupplierRecord],
    standard: SupplierStandard,
    make_days: dict[str, int],
    lead_stats: dict[tuple[str, str], dict[str, Any]],
    demand_per_day: float,
) -> dict[str, Any]:
    """Where an item-location's supply comes from, at what cost, after how long."""
    base = {
        "supplier": None,
        "source": None,
        "moq": 0,
        "pack_size": 1,
        "unit_cost": item.unit_cost,
        "break_quantities": [0.0],
        "break_prices": [float(item.unit_cost)],
        "receipts": 0,
        "lead_sd_days": 0.0,
        "note": "",
    }
    if item.kind == ItemKind.MADE and not (
        kinds[location] == LocationKind.STORE and makes_for_stores(item, warehouses)
    ):
        return {
            **base,
            "kind": SupplyKind.PRODUCTION.value,
            "lead_days": float(make_days.get(item.sku, DEFAULT_PRODUCTION_DAYS)),
            "note": f"; made at {location}",
        }
    if (
        kinds[location] == LocationKind.STORE
        and warehouses
        and item.policy not in (Policy.MAKE_TO_ORDER, Policy.BUY_TO_ORDER, Policy.DROP_SHIP)
    ):  # bought, or made to stock at the warehouse: the store is refilled from it
        return {
            **base,
            "kind": SupplyKind.TRANSFER.value,
            "source": warehouses[0],
            "lead_days": float(TRANSFER_DAYS),
            "note": f"; refilled from {warehouses[0]}",
        }
    offers = offers_by_item.get(item.sku, [])
    chosen = choose_supplier(offers, active, scores, standard, demand_per_day)
    if chosen is None:
        note = (
            "; no supplier is available: all that sell it are marked unavailable"
            if offers
            else "; no supplier sells it: add supplier terms"
        )
        return {**base, "kind": SupplyKind.PURCHASE.value, "lead_days": 0.0, "note": note}
    offer, reason = chosen.offer, chosen.reason
    stats = lead_stats.get((offer.supplier, item.sku))
    lead_days = float(stats["lead_time_mean"]) if stats else float(offer.lead_time_days)
    spread = float(stats["lead_time_sd"] or 0.0) if stats else 0.0
    receipts = int(stats["receipts"]) if stats else 0
    delivered = scores.get(offer.supplier, NO_RECORD)
    record = (
        f"{delivered.on_time_in_full:.0%} on time in full over {delivered.deliveries} deliveries"
        if delivered.deliveries
        else "no deliveries yet"
    )
    return {
        **base,
        "kind": SupplyKind.PURCHASE.value,
        "supplier": offer.supplier,
        "moq": offer.moq,
        "pack_size": offer.pack_size,
        "unit_cost": offer.price,
        "break_quantities": [0.0, *(float(b.min_quantity) for b in offer.price_breaks)],
        "break_prices": [float(offer.price), *(float(b.price) for b in offer.price_breaks)],
        "lead_days": lead_days,
        "lead_sd_days": spread,
        "receipts": receipts,
        "note": f"; from {offer.supplier} ({record}){reason}",
    }


def _position(
    levels: list[dict[str, Any]],
    supply: list[dict[str, Any]],
    backorders: list[dict[str, Any]],
    plan: pl.DataFrame,
) -> pl.DataFrame:
    """On hand (unexpired), open supply, and the demand already ordered that they must cover:
    what is reserved plus what confirmed sales lines wait for beyond that (backorders), so
    position = on hand + open supply − reserved − backordered."""
    keys = plan.select("item", "location")
    waiting = {(r["item"], r["location"]): float(r["backordered"]) for r in backorders}
    stock = pl.DataFrame(
        {
            "item": [r["sku"] for r in levels],
            "location": [r["location"] for r in levels],
            "on_hand": [float(r["on_hand"] - r["expired"]) for r in levels],
            "reserved": [
                float(r["reserved"]) + waiting.pop((r["sku"], r["location"]), 0.0) for r in levels
            ],
        },
        schema={
            "item": pl.Utf8,
            "location": pl.Utf8,
            "on_hand": pl.Float64,
            "reserved": pl.Float64,
        },
    )
    if waiting:
        stock = pl.concat(
            [
                stock,
                pl.DataFrame(
                    {
                        "item": [k[0] for k in waiting],
                        "location": [k[1] for k in waiting],
                        "on_hand": [0.0] * len(waiting),
                        "reserved": list(waiting.values()),
                    },
                    schema=stock.schema,
                ),
            ]
        )
    open_supply = pl.DataFrame(
        {
            "item": [r["item"] for r in supply],
            "location": [r["location"] for r in supply],
            "open_supply": [float(r["open_supply"]) for r in supply],
        },
        schema={"item": pl.Utf8, "location": pl.Utf8, "open_supply": pl.Float64},
    )
    return (
        keys.join(stock, on=["item", "location"], how="left")
        .join(open_supply, on=["item", "location"], how="left")
        .fill_null(0.0)
    )


@retrying
def _store_plan(
    uow: UnitOfWork,
    forecast_run_id: int,
    merged: pl.DataFrame,
    below: int,
    waiting: int,
    parameters: dict[str, Any],
) -> PlanRun:
    with uow:
        items, places = uow.planning.ids()
        supplier_ids = {
            s.code: uow.catalog.supplier(s.code).id
            for s in uow.catalog.suppliers(limit=1_000_000).items
        }
        lines: list[dict[str, Any]] = []
        value = Decimal(0)
        for r in merged.iter_rows(named=True):
            quantity = _exact(r["suggested_quantity"])
            unit_cost = _price_at(quantity, r["break_quantities"], r["break_prices"])
            value += quantity * unit_cost
            lines.append(
                {
                    "item_id": items[r["item"]],
                    "location_id": places[r["location"]],
                    "kind": r["_kind"],
                    "supplier_id": supplier_ids.get(r["_supplier"]) if r["_supplier"] else None,
                    "source_location_id": places.get(r["_source"]) if r["_source"] else None,
                    "suggested_quantity": quantity,
                    "quantity": quantity,
                    "unit_cost": unit_cost,
                    "order_by": r["order_by"],
                    "need_by": r["need_date"],
                    "status": PlanLineStatus.PROPOSED.value,
                    "explanation": f"{r['explanation_plan']}; {r['explanation']}{r['_note']}",
                    "figures": {
                        "abc_class": r["abc_class"],
                        "reorder_point": _num(r["reorder_point"]),
                        "safety_stock": _num(r["safety_stock"]),
                        "order_up_to": _num(r["order_up_to"]),
                        "position": _num(r["position"]),
                        "late": bool(r["late"]),
                    },
                }
            )
        summary = {
            "orders": len(lines),
            "purchase": sum(1 for x in lines if x["kind"] == SupplyKind.PURCHASE),
            "production": sum(1 for x in lines if x["kind"] == SupplyKind.PRODUCTION),
            "transfer": sum(1 for x in lines if x["kind"] == SupplyKind.TRANSFER),
            "value": str(value.quantize(Decimal("0.01"))),
            "late": sum(1 for x in lines if x["figures"]["late"]),
            "below_reorder_point": below,
            "transfers_waiting": waiting,
            "item_locations": merged.height if merged.height else 0,
        }
        run_id = uow.planning.add_plan_run(forecast_run_id, parameters, summary)
        uow.planning.add_plan_lines([{**x, "run_id": run_id} for x in lines])
        uow.record(
            Changed(
                subject=f"plan:{run_id}",
                verb="plan_run",
                values={"forecast_run": forecast_run_id, **parameters, "summary": summary},
            )
        )
        uow.commit()
    return get_plan(uow, run_id)


def _price_at(quantity: Decimal, breaks: list[float], prices: list[float]) -> Decimal:
    """The unit price the whole order earns under all-units quantity breaks."""
    reached = [p for q, p in zip(breaks, prices, strict=True) if quantity >= Decimal(repr(q))]
    return Decimal(repr(reached[-1] if reached else prices[0])).quantize(PLACES)


def _num(value: Any) -> float | None:
    return (
        None
        if value is None or (isinstance(value, float) and not math.isfinite(value))
        else round(float(value), 3)
    )
