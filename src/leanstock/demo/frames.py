"""The simulated history as the frames `DemoBusiness` carries: moves, lots, purchase order
lines, demand and the hidden profiles, with exact decimal quantities and real dates."""

from __future__ import annotations

import math
from datetime import date, timedelta

import numpy as np
import polars as pl
from numpy.typing import NDArray

from leanstock.demo.catalog import SUPPLIERS, Season
from leanstock.demo.places import (
    EXPIRY,
    HOURS,
    KINDS,
    MILLI,
    NO_EXPIRY,
    OPENING,
    PLACES,
    PREFIXES,
    RECEIPT,
    SHIPMENT,
    SOUTH,
    TRANSFER,
    WAREHOUSE,
)
from leanstock.demo.simulation import Simulation
from leanstock.demo.slots import Ints, Slots
from leanstock.demo.specs import Spec
from leanstock.domain.ledger import ScrapReason
from leanstock.domain.orders import PREFIXES as ORDER_PREFIXES
from leanstock.domain.orders import number as order_number

PO_PREFIX = ORDER_PREFIXES["purchase"] + "-{}"
"""The purchase order number as polars formats it, the same as `order_number` writes it."""


def moves_frame(sim: Simulation, skus: NDArray[np.str_]) -> pl.DataFrame:
    a = sim.log.arrays()
    kind, source, target = a["kind"], a["source"], a["target"]
    here = np.where((kind == TRANSFER) | (source > SOUTH), target, source)
    supplier_of = {line.po: SUPPLIERS[line.supplier].code for line in sim.lines}
    lines = {(line.po, line.slot): line for line in sim.lines}
    frame = pl.DataFrame(
        {
            "day_index": a["day"],
            "kind_index": kind,
            "sku": skus[sim.s.item[a["slot"]]],
            "source": PLACES[source],
            "target": PLACES[target],
            "milli": a["quantity"],
            "lot_id": a["lot"],
            "po": a["po"],
            "here": PLACES[here],
            "ordered_index": [
                lines[(po, slot)].ordered_on if po >= 0 else None
                for po, slot in zip(a["po"].tolist(), a["slot"].tolist(), strict=True)
            ],
        }
    )
    day = pl.lit(sim.calendar.start) + pl.duration(days=pl.col("day_index"))
    names = pl.DataFrame(
        {
            "kind_index": np.arange(len(KINDS)),
            "kind": [k.value for k in KINDS],
            "hour": HOURS,
            "prefix": PREFIXES,
        }
    )
    promised = {(line.po, line.slot): line.promised_on for line in sim.lines}
    frame = frame.with_columns(
        pl.Series(
            "promised_index",
            [
                promised.get((po, slot))
                for po, slot in zip(a["po"].tolist(), a["slot"].tolist(), strict=True)
            ],
            dtype=pl.Int64,
        )
    )
    lots = _lots_by_id(sim, skus)
    return (
        frame.join(names, on="kind_index", how="left")
        .join(lots, on="lot_id", how="left")
        .with_columns(day=day.cast(pl.Date))
        .with_columns(
            occurred_at=pl.col("day").cast(pl.Datetime("us", "UTC"))
            + pl.duration(hours=pl.col("hour")),
            quantity=_decimal(pl.col("milli")),
            partner=pl.when(pl.col("kind_index") == RECEIPT)
            .then(pl.col("po").replace_strict(supplier_of, default=None, return_dtype=pl.String))
            .when(pl.col("kind_index") == SHIPMENT)
            .then(
                pl.when(pl.col("here") == WAREHOUSE)
                .then(pl.lit("online"))
                .otherwise(pl.lit("walk-in"))
            )
            .otherwise(None),
            reference=pl.when(pl.col("kind_index") == RECEIPT)
            .then(pl.format(PO_PREFIX, pl.col("po").cast(pl.String).str.zfill(6)))
            .when(pl.col("kind_index") == OPENING)
            .then(pl.lit("OPENING-COUNT"))
            .otherwise(
                pl.format("{}-{}-{}", "prefix", "here", pl.col("day").dt.strftime("%Y%m%d"))
            ),
            reason=pl.when(pl.col("kind_index") == EXPIRY)
            .then(pl.lit(ScrapReason.EXPIRY.value))
            .otherwise(None),
            ordered_on=pl.lit(sim.calendar.start) + pl.duration(days=pl.col("ordered_index")),
            promised_on=pl.lit(sim.calendar.start) + pl.duration(days=pl.col("promised_index")),
        )
        .sort(["occurred_at", "reference", "sku", "lot"], nulls_last=False)
        .select(
            "day",
            "occurred_at",
            "kind",
            "sku",
            "source",
            "target",
            "quantity",
            "lot",
            "expires_on",
            "partner",
            "reference",
            "reason",
            pl.col("ordered_on").cast(pl.Date),
            pl.col("promised_on").cast(pl.Date),
        )
    )


def _lots_by_id(sim: Simulation, skus: NDArray[np.str_]) -> pl.DataFrame:
    start = sim.calendar.start
    return pl.DataFrame(
        {
            "lot_id": np.arange(len(sim.lot_names), dtype=np.int64),
            "lot_sku": [str(skus[i]) for i, _, _ in sim.lot_names],
            "lot": [code for _, code, _ in sim.lot_names],
            "expires_on": [
                start + timedelta(days=e) if e != NO_EXPIRY else None for _, _, e in sim.lot_names
            ],
        },
        schema={
            "lot_id": pl.Int64,
            "lot_sku": pl.String,
            "lot": pl.String,
            "expires_on": pl.Date,
        },
    )


def lots_frame(sim: Simulation, skus: NDArray[np.str_]) -> pl.DataFrame:
    """Every lot that ever held stock: sku, lot code, expiry date (null: does not expire)."""
    return (
        _lots_by_id(sim, skus)
        .select(pl.col("lot_sku").alias("sku"), "lot", "expires_on")
        .sort("sku", "lot")
    )


def orders_frame(sim: Simulation, skus: NDArray[np.str_]) -> pl.DataFrame:
    """Purchase order lines; `received_on` is null for lines still open at the end, and
    `drop_ship` says the supplier delivers the line to the customer."""
    start = sim.calendar.start
    lines = sim.lines

    def on(day: int) -> date | None:
        return start + timedelta(days=day) if day < sim.days else None

    return pl.DataFrame(
        {
            "po": [order_number("purchase", line.po) for line in lines],
            "supplier": [SUPPLIERS[line.supplier].code for line in lines],
            "sku": [str(skus[sim.s.item[line.slot]]) for line in lines],
            "location": [str(PLACES[sim.s.loc[line.slot]]) for line in lines],
            "ordered_on": [on(line.ordered_on) for line in lines],
            "promised_on": [start + timedelta(days=line.promised_on) for line in lines],
            "received_on": [on(line.received_on) for line in lines],
            "ordered": np.array([line.ordered for line in lines], dtype=np.int64),
            "received": np.array(
                [line.delivered if line.received_on < sim.days else 0 for line in lines],
                dtype=np.int64,
            ),
            "drop_ship": [line.drop_ship for line in lines],
        },
        schema_overrides={
            "ordered_on": pl.Date,
            "promised_on": pl.Date,
            "received_on": pl.Date,
        },
    ).with_columns(_decimal(pl.col("ordered")), _decimal(pl.col("received")))


def _decimal(thousandths: pl.Expr) -> pl.Expr:
    """Thousandths (int) as an exact Decimal with three places."""
    return thousandths.cast(pl.Decimal(18, 3)) / pl.lit(MILLI).cast(pl.Decimal(18, 0))


def demand_frame(
    start: date, skus: NDArray[np.str_], slots: Slots, demand: Ints, served: Ints
) -> pl.DataFrame:
    """Demand per day and item-location where customers (or the bakery) can ask for it."""
    asked = np.flatnonzero(slots.asked)
    days, n = demand.shape[0], len(asked)
    return pl.DataFrame(
        {
            "day_index": np.repeat(np.arange(days), n),
            "sku": np.tile(skus[slots.item[asked]], days),
            "location": np.tile(PLACES[slots.loc[asked]], days),
            "demanded": demand[:, asked].ravel(),
            "served": served[:, asked].ravel(),
        }
    ).select(
        (pl.lit(start) + pl.duration(days=pl.col("day_index"))).cast(pl.Date).alias("day"),
        "sku",
        "location",
        _decimal(pl.col("demanded")).alias("demanded"),
        _decimal(pl.col("served")).alias("served"),
    )


def profiles_frame(specs: list[Spec]) -> pl.DataFrame:
    """The hidden truth per item: how it is supplied and how its demand was generated."""
    return pl.DataFrame(
        {
            "sku": [s.item.sku for s in specs],
            "route": [s.route.value for s in specs],
            "outflow": [s.family.outflow.value for s in specs],
            "online": [s.family.online for s in specs],
            "pattern": [
                "intermittent"
                if s.occurrence is not None
                else "seasonal"
                if s.season is not Season.NONE
                else "regular"
                for s in specs
            ],
            "season": [s.season.value for s in specs],
            "level": [s.base for s in specs],
            "trend_per_year": [math.expm1(s.trend) for s in specs],
            "yearly_amplitude": [s.amplitude for s in specs],
            "occurrence": [s.occurrence for s in specs],
        }
    )
