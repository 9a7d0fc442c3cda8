"""Generate the sample business for `leanstock demo` from a random seed, without a database.

A bakery-café chain: a warehouse with a kitchen (it also ships the online shop's orders) and
two stores. About 200 items: coffee, tea, homeware, pantry goods, seasonal lines, the
kitchen's ingredients and packaging, breads and pastries baked to stock every morning and sent
to the stores, cakes baked to order, and coffee equipment drop-shipped by its supplier. Eight
suppliers, some slow, some late or short.

The pieces: `catalog` (the families of items and the suppliers) and `recipes` (the bills of
materials); `specs` draws each item, its terms and its BOM; `calendar` and `slots` give the
demand per item, location and day; `simulation` runs the business day by day; `frames` turns
its log into the frames below; `services.demo` writes them into a database. One numpy
`Generator(PCG64(seed))` drives it all: the same seed and dates give the same business.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import numpy as np
import polars as pl

from leanstock.demo import frames
from leanstock.demo.calendar import Calendar, easter, item_factors
from leanstock.demo.catalog import SUPPLIERS
from leanstock.demo.places import LOCATIONS, MILLI, WAREHOUSE
from leanstock.demo.simulation import (
    DISRUPTED_SUPPLIER,
    DISRUPTION,
    DISRUPTION_DELAY,
    Simulation,
)
from leanstock.demo.slots import Slots
from leanstock.demo.specs import DemoBom, boms, draw_catalog, draw_terms
from leanstock.domain.catalog import Item, Location, Supplier, SupplierItem
from leanstock.domain.errors import InvalidInput
from leanstock.domain.ledger import MoveKind

__all__ = [
    "DISRUPTED_SUPPLIER",
    "DISRUPTION",
    "DISRUPTION_DELAY",
    "WAREHOUSE",
    "DemoBom",
    "DemoBusiness",
    "easter",
    "generate",
    "shortfalls",
]

HORIZON = 120  # days of expected demand computed past the end, for reorder points near it


@dataclass(frozen=True, eq=False)
class DemoBusiness:
    """The sample business: catalog, suppliers, and a dated history of every stock move.

    `moves` has one row per move, in time order: `day`, `occurred_at` (UTC), `kind` (a
    `MoveKind` value), `sku`, `source`, `target` (location codes, virtual ones included),
    `quantity` (exact, Decimal with 3 places), `lot`, `expires_on`, `partner` (supplier code,
    "walk-in" or "online"), `reference` (one per operation; a bake's output and the
    ingredients it took share theirs) and `reason` (scraps). `ordered_on`/`promised_on` are
    set on receipts, for lead-time measurement.

    `demand` is what customers (or the bakery) asked for per item, location and day, and how
    much of it was `served`: the history behind the shipments, stock-outs included.
    `purchase_orders` has one row per order line (`drop_ship` lines went to the customer);
    `promotions` and `holidays` are the events that moved demand; `profiles` the hidden truth
    per item (route, level, trend, pattern).
    """

    seed: int
    start: date
    end: date
    items: list[Item]
    locations: list[Location]
    suppliers: list[Supplier]
    supplier_items: list[SupplierItem]
    moves: pl.DataFrame
    lots: pl.DataFrame
    demand: pl.DataFrame
    purchase_orders: pl.DataFrame
    promotions: pl.DataFrame
    holidays: pl.DataFrame
    profiles: pl.DataFrame
    boms: list[DemoBom]

    @property
    def receipts(self) -> pl.DataFrame:
        return self.moves.filter(pl.col("kind") == MoveKind.RECEIPT.value)

    @property
    def shipments(self) -> pl.DataFrame:
        return self.moves.filter(pl.col("kind") == MoveKind.SHIPMENT.value)

    @property
    def transfers(self) -> pl.DataFrame:
        return self.moves.filter(pl.col("kind") == MoveKind.TRANSFER.value)


def generate(seed: int = 42, days: int = 730, end: date | None = None) -> DemoBusiness:
    """The sample business with `days` of history ending on `end` (default: yesterday, UTC).

    Reproducible: the same seed, days and end give the same business, move for move.
    """
    if days < 14:
        raise InvalidInput("The demo history needs at least 14 days.", "days")
    end = end or datetime.now(UTC).date() - timedelta(days=1)
    start = end - timedelta(days=days - 1)
    rng = np.random.Generator(np.random.PCG64(seed))
    specs = draw_catalog(rng)
    terms = draw_terms(rng, specs)
    recipes = boms(specs)
    calendar = Calendar(start, days + HORIZON)
    item_factor, promotions = item_factors(rng, specs, calendar, days)
    slots = Slots(specs, terms)
    mu = slots.expected(specs, item_factor, calendar.location_factor())
    demand = slots.draw(rng, mu[:days])
    simulation = Simulation(
        rng, terms, slots, slots.recipe_matrix(specs, recipes), calendar, mu, demand
    )
    simulation.run()
    skus = np.array([s.item.sku for s in specs])
    return DemoBusiness(
        seed=seed,
        start=start,
        end=end,
        items=[s.item for s in specs],
        locations=list(LOCATIONS),
        suppliers=[Supplier(p.code, p.name, p.email) for p in SUPPLIERS],
        supplier_items=[t for ts in terms for t in ts],
        moves=frames.moves_frame(simulation, skus),
        lots=frames.lots_frame(simulation, skus),
        demand=frames.demand_frame(start, skus, slots, demand, simulation.served),
        purchase_orders=frames.orders_frame(simulation, skus),
        promotions=pl.DataFrame(
            promotions,
            schema={"sku": pl.String, "start": pl.Date, "end": pl.Date, "uplift": pl.Float64},
            orient="row",
        ),
        holidays=calendar.holidays(days),
        profiles=frames.profiles_frame(specs),
        boms=recipes,
    )


def shortfalls(moves: pl.DataFrame, physical: Collection[str] | None = None) -> pl.DataFrame:
    """Where a physical location's balance of an item and lot would go below zero, if anywhere.

    Replays `moves` in time order (all moves of one instant together) and returns the
    item-location-lots and instants at which the running balance is negative: an empty frame
    means the history can be posted to a ledger that refuses negative stock.
    """
    codes = list(physical) if physical is not None else [loc.code for loc in LOCATIONS]
    thousandths = (pl.col("quantity") * MILLI).cast(pl.Int64)
    keys = ["sku", "location", "lot"]
    legs = pl.concat(
        [
            moves.select(
                "occurred_at", "sku", pl.col("target").alias("location"), "lot", thousandths
            ),
            moves.select(
                "occurred_at", "sku", pl.col("source").alias("location"), "lot", -thousandths
            ),
        ]
    )
    return (
        legs.filter(pl.col("location").is_in(codes))
        .group_by([*keys, "occurred_at"])
        .agg(pl.col("quantity").sum())
        .sort("occurred_at")
        .with_columns(balance=pl.col("quantity").cum_sum().over(keys))
        .filter(pl.col("balance") < 0)
        .select(*keys, "occurred_at", (pl.col("balance").cast(pl.Float64) / MILLI).alias("balance"))
    )
