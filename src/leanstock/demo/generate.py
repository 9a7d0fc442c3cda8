"""Generate the sample business for `leanstock demo` from a random seed, without a database.

A bakery-café chain: a warehouse (which also ships the online shop's orders) and two stores
that bake every morning. About 200 items: coffee, tea, homeware, pantry goods, seasonal lines,
ingredients, packaging, and breads and cakes made in-house. Eight suppliers, some slow, some
late or short.

Demand per item, location and day is a product of factors, each a pattern a forecaster should
find (Hyndman & Athanasopoulos, *Forecasting: Principles and Practice*, 3rd ed., §3.1, §7.4):

    μ = level × trend × weekly profile × yearly seasonality × season window × promotion × holiday

drawn as a negative binomial (Gamma-Poisson, shape 3) for counted items, as a Gamma (shape 8)
for weighed ones, and for slow movers as Bernoulli(occurrence) × (1 + Poisson(size − 1)),
Croston's intermittent demand (Syntetos & Boylan 2005).

Then a day-by-day simulation runs the business: suppliers deliver (late or short with their
own probabilities) into the warehouse or the stores, stores get transfers from the warehouse,
bakes are made each morning, demand is served first-expired-first-out from what is on hand and
the rest is lost, expired lots are scrapped, and reorder points — set from the expected demand
over the promised lead time plus a safety stock z·σ — trigger the next orders. Because every
move is taken from simulated stock, the history posts into the ledger without a single negative
balance. One numpy `Generator(PCG64(seed))` drives it all: the same seed and dates give the same
business.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import numpy as np
import polars as pl
from numpy.typing import NDArray

from leanstock.demo.catalog import (
    BAKE_DAYS,
    FAMILIES,
    RECIPES,
    SEASONAL_BAKES,
    SUPPLIERS,
    Family,
    Outflow,
    Route,
    Season,
    SupplierProfile,
)
from leanstock.domain.catalog import (
    Item,
    ItemKind,
    Location,
    LocationKind,
    Policy,
    Supplier,
    SupplierItem,
)
from leanstock.domain.errors import InvalidInput
from leanstock.domain.ledger import MoveKind, ScrapReason
from leanstock.domain.orders import PREFIXES as ORDER_PREFIXES
from leanstock.domain.orders import number as order_number

Ints = NDArray[np.int64]
Floats = NDArray[np.float64]
Bools = NDArray[np.bool_]
# The purchase order number as polars formats it, the same as `order_number` writes it
PO_PREFIX = ORDER_PREFIXES["purchase"] + "-{}"

WAREHOUSE, STORE_NORTH, STORE_SOUTH = "WH", "STORE-N", "STORE-S"
LOCATIONS = (
    Location(WAREHOUSE, "Central warehouse and online shop", LocationKind.WAREHOUSE),
    Location(STORE_NORTH, "North Street store", LocationKind.STORE),
    Location(STORE_SOUTH, "South Park store", LocationKind.STORE),
)
PLACES = np.array(
    [
        WAREHOUSE,
        STORE_NORTH,
        STORE_SOUTH,
        "supplier",
        "customer",
        "production",
        "scrap",
        "adjustment",
    ]
)
WH, NORTH, SOUTH, SUPPLIER, CUSTOMER, PRODUCTION, SCRAP, ADJUSTMENT = range(8)

SCALE = np.array([0.45, 1.0, 0.75])
"""Demand level per location relative to the North Street store (the warehouse's is online)."""

_WEEKLY = np.array(
    [
        [1.20, 1.15, 1.10, 1.05, 1.00, 0.70, 0.80],  # online: ordered on weekdays
        [0.85, 0.90, 0.90, 0.95, 1.10, 1.45, 1.25],  # North Street: Saturday shoppers
        [0.80, 0.85, 0.85, 0.90, 1.05, 1.40, 1.55],  # South Park: Sunday walkers
    ]
)
WEEKLY = _WEEKLY / _WEEKLY.mean(axis=1, keepdims=True)
"""Day-of-week profile (Monday first) per location, mean 1."""

MILLI = 1000
"""The simulation counts in thousandths of a unit: exact grams and millilitres, whole eaches."""

NO_EXPIRY = 1 << 30
HORIZON = 120  # days of expected demand computed past the end, for reorder points near it
Z = 1.65  # safety factor: a 95 % cycle service level under normal lead-time demand
COUNTED_SHAPE = 3.0  # Gamma-Poisson shape: variance μ + μ²/3
WEIGHED_SHAPE = 8.0  # Gamma shape: coefficient of variation 1/√8
WAREHOUSE_COVER = 10  # days of demand one purchase order covers
DIRECT_COVER = 2
STORE_COVER = 3
BACKUP_SHARE = 0.1  # orders that go to the backup supplier (primary out of stock, a better deal)
DISRUPTED_SUPPLIER = "ROASTHOUSE"
DISRUPTION = (0.55, 0.63)
"""Share of the history during which the disrupted supplier (a fire at the roastery) delivers
every order DISRUPTION_DELAY days late and half short: a period scorecards and lead-time
estimates should see, and stock-outs the forecasts should not mistake for low demand."""
DISRUPTION_DELAY = 12

# The kinds of moves, the hour of the day they happen and the reference prefix they carry.
KINDS = (
    MoveKind.ADJUSTMENT,
    MoveKind.RECEIPT,
    MoveKind.TRANSFER,
    MoveKind.PRODUCTION,
    MoveKind.SHIPMENT,
    MoveKind.CONSUMPTION,
    MoveKind.SCRAP,
)
OPENING, RECEIPT, TRANSFER, BAKE, SHIPMENT, CONSUMPTION, EXPIRY = range(len(KINDS))
HOURS = (5, 7, 8, 6, 19, 19, 21)
PREFIXES = ("OPENING", "PO", "TR", "BAKE", "SALES", "USE", "SCRAP")


@dataclass(frozen=True)
class DemoBom:
    """A made item's bill of materials: (component SKU, quantity per unit made)."""

    sku: str
    lead_time_days: int
    lines: tuple[tuple[str, Decimal], ...]


@dataclass(frozen=True, eq=False)
class DemoBusiness:
    """The sample business: catalog, suppliers, and a dated history of every stock move.

    `moves` has one row per move, in time order: `day`, `occurred_at` (UTC), `kind` (a
    `MoveKind` value), `sku`, `source`, `target` (location codes, virtual ones included),
    `quantity` (exact, Decimal with 3 places), `lot`, `expires_on`, `partner` (supplier code,
    "walk-in" or "online"), `reference` (one per operation) and `reason` (scraps).
    `ordered_on`/`promised_on` are set on receipts, for lead-time measurement.

    `demand` is what customers (or the bakery) asked for per item, location and day, and how
    much of it was `served`: the history behind the shipments, stock-outs included.
    `purchase_orders` has one row per order line; `promotions` and `holidays` are the events
    that moved demand; `profiles` the hidden truth per item (level, trend, pattern).
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


@dataclass(frozen=True)
class _Spec:
    """One item and the hidden truth about it that the generator draws from."""

    item: Item
    family: Family
    season: Season
    base: float  # expected units per day at North Street (per occurrence-weighted sale if slow)
    trend: float  # log growth per year
    amplitude: float
    occurrence: float | None  # chance of a sale per day, for intermittent items
    size: float
    pack: int

    @property
    def route(self) -> Route:
        return self.family.route

    @property
    def weighed(self) -> bool:
        return self.item.unit != "each"


def generate(seed: int = 42, days: int = 730, end: date | None = None) -> DemoBusiness:
    """The sample business with `days` of history ending on `end` (default: yesterday, UTC).

    Reproducible: the same seed, days and end give the same business, move for move.
    """
    if days < 14:
        raise InvalidInput("The demo history needs at least 14 days.", "days")
    end = end or datetime.now(UTC).date() - timedelta(days=1)
    start = end - timedelta(days=days - 1)
    rng = np.random.Generator(np.random.PCG64(seed))
    specs = _catalog(rng)
    terms = _terms(rng, specs)
    calendar = _Calendar(start, days + HORIZON)
    item_factor, promotions = _item_factors(rng, specs, calendar, days)
    slots = _Slots(specs, terms)
    mu = slots.expected(specs, item_factor, calendar.location_factor())
    demand = slots.draw(rng, mu[:days])
    simulation = _Simulation(rng, terms, slots, calendar, mu, demand)
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
        moves=simulation.moves_frame(skus),
        lots=simulation.lots_frame(skus),
        demand=_demand_frame(start, skus, slots, demand, simulation.served),
        purchase_orders=simulation.orders_frame(skus),
        promotions=pl.DataFrame(
            promotions,
            schema={"sku": pl.String, "start": pl.Date, "end": pl.Date, "uplift": pl.Float64},
            orient="row",
        ),
        holidays=calendar.holidays(days),
        profiles=_profiles_frame(specs),
        boms=_boms(specs),
    )


def _boms(specs: list[_Spec]) -> list[DemoBom]:
    """The recipe of every made item (`catalog.RECIPES`), its ingredients named by SKU."""
    sku_of = {s.item.name: s.item.sku for s in specs}
    boms = []
    for spec in specs:
        if spec.item.kind is not ItemKind.MADE:
            continue
        recipe = RECIPES[spec.item.name]
        lines = tuple((sku_of[name], Decimal(repr(quantity))) for name, quantity in recipe)
        boms.append(DemoBom(spec.item.sku, BAKE_DAYS, lines))
    return boms


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


# The catalog


def _catalog(rng: np.random.Generator) -> list[_Spec]:
    specs: list[_Spec] = []
    for family in FAMILIES:
        for number, name in enumerate(family.items, start=1):
            made = family.route is Route.MADE
            shelf_life = name.shelf_life_days or family.shelf_life_days
            occurrence = float(rng.uniform(*family.intermittent)) if family.intermittent else None
            cost = rng.uniform(*family.cost)
            item = Item(
                sku=f"{family.prefix}-{number:03d}",
                name=name.name,
                unit=name.unit or family.unit,
                kind=ItemKind.MADE if made else ItemKind.BOUGHT,
                category=family.category,
                unit_cost=Decimal(f"{cost:.2f}"),
                lot_tracked=family.lot_tracked or shelf_life is not None,
                shelf_life_days=shelf_life,
                policy=Policy(family.policy),
            )
            level = float(rng.uniform(*family.base)) * name.base
            specs.append(
                _Spec(
                    item=item,
                    family=family,
                    season=SEASONAL_BAKES.get(name.name, family.season),
                    base=occurrence * family.size if occurrence is not None else level,
                    trend=float(rng.normal(0.05, 0.12)),
                    amplitude=float(rng.uniform(*family.amplitude)),
                    occurrence=occurrence,
                    size=family.size,
                    pack=name.pack or family.pack,
                )
            )
    return specs


def _terms(rng: np.random.Generator, specs: list[_Spec]) -> list[list[SupplierItem]]:
    """Per item, its suppliers, preferred first; a backup costs more but usually comes sooner."""
    profiles = {p.code: p for p in SUPPLIERS}
    terms: list[list[SupplierItem]] = []
    for spec in specs:
        family = spec.family
        if family.supplier is None:
            terms.append([])
            continue
        cost = float(spec.item.unit_cost)
        primary = profiles[family.supplier]
        first = SupplierItem(
            supplier=primary.code,
            sku=spec.item.sku,
            price=_money(cost * rng.uniform(0.95, 1.05)),
            lead_time_days=primary.lead_time_days + int(rng.integers(0, 2)),
            moq=Decimal(
                spec.pack * int(rng.integers(family.moq_packs[0], family.moq_packs[1] + 1))
            ),
            pack_size=Decimal(spec.pack),
            priority=1,
            supplier_sku=f"{primary.code[:3]}-{int(rng.integers(10_000, 100_000))}",
        )
        ours = [first]
        if family.backup is not None and rng.random() < family.backup_share:
            backup = profiles[family.backup]
            ours.append(
                SupplierItem(
                    supplier=backup.code,
                    sku=spec.item.sku,
                    price=_money(cost * rng.uniform(1.08, 1.25)),
                    lead_time_days=backup.lead_time_days,
                    moq=Decimal(spec.pack),
                    pack_size=Decimal(spec.pack),
                    priority=2,
                    supplier_sku=f"{backup.code[:3]}-{int(rng.integers(10_000, 100_000))}",
                )
            )
        terms.append(ours)
    return terms


def _money(value: float) -> Decimal:
    return Decimal(f"{max(value, 0.01):.2f}")


# The calendar and the demand factors


def easter(year: int) -> date:
    """Easter Sunday (Gregorian), by the anonymous algorithm (Meeus/Jones/Butcher)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    g = (8 * b + 13) // 25
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    weekday = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * weekday) // 451
    month, day = divmod(h + weekday - 7 * m + 114, 31)
    return date(year, month, day + 1)


class _Calendar:
    """The days of the history (and a horizon past it) and what kind of day each one is."""

    def __init__(self, start: date, length: int) -> None:
        self.start = start
        self.dates = [start + timedelta(days=i) for i in range(length)]
        self.weekday = np.array([d.weekday() for d in self.dates])
        self.day_of_year = np.array([d.timetuple().tm_yday for d in self.dates])
        self.closed = np.array([(d.month, d.day) in ((12, 25), (1, 1)) for d in self.dates])
        easters = {y: easter(y) for y in {d.year for d in self.dates}}
        self.to_easter = np.array([(d - easters[d.year]).days for d in self.dates])
        self.rush = np.ones(length)
        self.rush[[d.month == 12 and 20 <= d.day <= 24 for d in self.dates]] = 1.35
        self.rush[(self.to_easter >= -2) & (self.to_easter <= 1)] = 1.25
        self.rush[self.closed] = 1.0

    def location_factor(self) -> Floats:
        """(day, location): weekly profile × holiday rush at the stores; nothing when closed."""
        factor = WEEKLY[:, self.weekday].T.copy()
        factor[:, NORTH:] *= self.rush[:, None]
        factor[self.closed] = 0.0
        return np.asarray(factor, dtype=np.float64)

    def season(self, season: Season, made: bool) -> Floats:
        """A season window's factor per day; outside it a trickle sells (or, baked, nothing)."""
        doy = self.day_of_year
        month = np.array([d.month for d in self.dates])
        day = np.array([d.day for d in self.dates])
        if season is Season.NONE:
            return np.ones(len(self.dates))
        if season is Season.CHRISTMAS:
            since = np.array([(d - date(d.year, 11, 1)).days for d in self.dates])
            window = (month >= 11) & ~((month == 12) & (day > 24))
            return np.where(window, 0.4 + 2.6 * since / 53, 0.0 if made else 0.03)
        if season is Season.SUMMER:
            bump = np.exp(-(((doy - 196) / 35.0) ** 2))
            return bump * (bump > 0.2) * 2.4 if made else 0.2 + 2.2 * bump
        if season is Season.EASTER:
            window = (self.to_easter >= -14) & (self.to_easter <= 1)
            return np.where(window, 3.0, 0.0 if made else 0.02)
        window = (doy >= 258) & (doy <= 319)  # mid-September to mid-November
        return np.where(window, 2.0, 0.0 if made else 0.3)

    def holidays(self, days: int) -> pl.DataFrame:
        rows = []
        for i, d in enumerate(self.dates[:days]):
            if self.closed[i]:
                rows.append((d, "Christmas Day" if d.month == 12 else "New Year's Day", True, 0.0))
            elif self.rush[i] != 1.0:
                name = "Christmas rush" if d.month == 12 else "Easter weekend"
                rows.append((d, name, False, float(self.rush[i])))
        return pl.DataFrame(
            rows,
            schema={"day": pl.Date, "name": pl.String, "closed": pl.Boolean, "uplift": pl.Float64},
            orient="row",
        )


def _item_factors(
    rng: np.random.Generator, specs: list[_Spec], calendar: _Calendar, days: int
) -> tuple[Floats, list[tuple[str, date, date, float]]]:
    """(day, item): trend × yearly seasonality × season window × promotions."""
    t = np.arange(len(calendar.dates))[:, None]
    trend = np.exp(np.array([s.trend for s in specs])[None, :] * t / 365.25)
    peak = np.array([s.family.peak_day_of_year for s in specs])[None, :]
    amplitude = np.array([s.amplitude for s in specs])[None, :]
    yearly = 1 + amplitude * np.cos(2 * np.pi * (calendar.day_of_year[:, None] - peak) / 365.25)
    seasons = {
        (season, made): calendar.season(season, made) for season in Season for made in (False, True)
    }
    window = np.stack([seasons[(s.season, s.route is Route.MADE)] for s in specs], axis=1)
    promo = np.ones_like(trend)
    promotions: list[tuple[str, date, date, float]] = []
    for i, spec in enumerate(specs):
        if spec.family.promo_share == 0 or rng.random() >= spec.family.promo_share:
            continue
        for _ in range(int(rng.integers(2, 6))):
            first = int(rng.integers(0, days - 7))
            length = int(rng.choice([7, 14]))
            uplift = round(float(rng.uniform(1.4, 2.2)), 2)
            promo[first : first + length, i] *= uplift
            last = min(first + length, days) - 1
            promotions.append((spec.item.sku, calendar.dates[first], calendar.dates[last], uplift))
    return np.asarray(trend * yearly * window * promo, dtype=np.float64), promotions


class _Slots:
    """The item-locations that hold stock, as parallel arrays, and how each one is supplied.

    Bought goods sit in the warehouse and both stores (the warehouse's own demand is the online
    shop's, for the lines sold online); fresh goods and bakes only in the stores.
    """

    def __init__(self, specs: list[_Spec], terms: list[list[SupplierItem]]) -> None:
        item, loc = [], []
        for i, spec in enumerate(specs):
            for location in (
                (NORTH, SOUTH) if spec.route in (Route.MADE, Route.DIRECT) else (WH, NORTH, SOUTH)
            ):
                item.append(i)
                loc.append(location)
        self.item: Ints = np.array(item, dtype=np.int64)
        self.loc: Ints = np.array(loc, dtype=np.int64)
        self.n = len(item)
        route = [specs[i].route for i in item]
        self.made: Bools = np.array([r is Route.MADE for r in route])
        self.fed: Bools = np.array(  # stores the warehouse replenishes by transfer
            [r is Route.WAREHOUSE and lc != WH for r, lc in zip(route, loc, strict=True)]
        )
        self.bought: Bools = ~self.made & ~self.fed  # ordered from a supplier
        first: dict[int, int] = {}
        for s, i in enumerate(item):
            first.setdefault(i, s)
        self.feeder: Ints = np.where(self.fed, [first[i] for i in item], -1).astype(np.int64)
        self.lot: Bools = np.array([specs[i].item.lot_tracked for i in item])
        self.shelf: Ints = np.array(
            [specs[i].item.shelf_life_days or 0 for i in item], dtype=np.int64
        )
        self.weighed: Bools = np.array([specs[i].weighed for i in item])
        self.slow: Bools = np.array([specs[i].occurrence is not None for i in item])
        self.size: Floats = np.array([specs[i].size for i in item])
        self.consumed: Bools = np.array(
            [specs[i].family.outflow is Outflow.CONSUMPTION for i in item]
        )
        self.asked: Bools = np.array(  # has demand of its own: stores, and the online shop's lines
            [lc != WH or specs[i].family.online for i, lc in zip(item, loc, strict=True)]
        )
        self.batch: Ints = np.array([specs[i].family.batch for i in item], dtype=np.int64)
        primary = [terms[i][0] if terms[i] else None for i in item]
        self.lead: Ints = np.array([p.lead_time_days if p else 0 for p in primary], dtype=np.int64)
        self.pack: Ints = np.array([int(p.pack_size) * MILLI if p else MILLI for p in primary])
        self.moq: Ints = np.array([int(p.moq) * MILLI if p else MILLI for p in primary])
        cover = np.where(self.loc == WH, WAREHOUSE_COVER, DIRECT_COVER)
        perishable = self.shelf > 0
        self.cover: Ints = np.where(
            perishable, np.minimum(cover, np.maximum(1, self.shelf // 3)), cover
        ).astype(np.int64)

    def expected(self, specs: list[_Spec], item_factor: Floats, location_factor: Floats) -> Floats:
        """(day, slot): expected demand in units."""
        base = np.array([specs[i].base for i in self.item]) * SCALE[self.loc] * self.asked
        return np.asarray(
            base[None, :] * item_factor[:, self.item] * location_factor[:, self.loc],
            dtype=np.float64,
        )

    def variance(self, mu: Floats) -> Floats:
        """Daily demand variance in units², by the distribution each slot draws from."""
        counted = mu + mu**2 / COUNTED_SHAPE
        weighed = mu**2 / WEIGHED_SHAPE
        slow = mu * self.size * 1.5
        return np.asarray(
            np.where(self.slow, slow, np.where(self.weighed, weighed, counted)), dtype=np.float64
        )

    def draw(self, rng: np.random.Generator, mu: Floats) -> Ints:
        """(day, slot): demand in thousandths, drawn from each slot's distribution."""
        counted = rng.poisson(rng.gamma(COUNTED_SHAPE, mu / COUNTED_SHAPE)) * MILLI
        weighed = np.rint(rng.gamma(WEIGHED_SHAPE, mu / WEIGHED_SHAPE) * MILLI)
        chance = np.minimum(mu / self.size, 0.95)
        sizes = 1 + rng.poisson(np.broadcast_to(self.size - 1, mu.shape))
        slow = (rng.random(mu.shape) < chance) * sizes * MILLI
        demand = np.where(self.slow, slow, np.where(self.weighed, weighed, counted))
        return np.asarray(demand, dtype=np.int64)


# The simulation


@dataclass
class _Line:
    po: int
    slot: int
    supplier: int
    ordered: int
    delivered: int
    ordered_on: int
    promised_on: int
    received_on: int


class _Log:
    """The moves, collected as arrays (a batch at once) or row by row (lot by lot)."""

    COLUMNS = ("day", "kind", "slot", "source", "target", "quantity", "lot", "po")

    def __init__(self) -> None:
        self.chunks: dict[str, list[Ints]] = {c: [] for c in self.COLUMNS}
        self.rows: list[tuple[int, ...]] = []

    def batch(
        self, day: int, kind: int, slots: Ints, source: Ints | int, target: Ints | int, qty: Ints
    ) -> None:
        keep = qty > 0
        n = int(keep.sum())
        if n == 0:
            return
        for column, values in zip(
            self.COLUMNS, (day, kind, slots, source, target, qty, -1, -1), strict=True
        ):
            array = np.asarray(values, dtype=np.int64)
            self.chunks[column].append(array[keep] if array.ndim else np.full(n, array))

    def row(
        self, day: int, kind: int, slot: int, source: int, target: int, qty: int, lot: int, po: int
    ) -> None:
        self.rows.append((day, kind, slot, source, target, qty, lot, po))

    def arrays(self) -> dict[str, Ints]:
        rows = np.array(self.rows, dtype=np.int64).reshape(-1, len(self.COLUMNS))
        return {
            c: np.concatenate([*self.chunks[c], rows[:, k]]) for k, c in enumerate(self.COLUMNS)
        }


class _Simulation:
    """Runs the business day by day over all slots at once; lots are tracked per slot.

    Each day: deliveries arrive, stores get transfers, stores bake, demand is served from stock
    first-expired-first-out (what is missing is lost), expired lots are scrapped, and the
    reorder points of the slots bought from suppliers are checked.
    """

    def __init__(
        self,
        rng: np.random.Generator,
        terms: list[list[SupplierItem]],
        slots: _Slots,
        calendar: _Calendar,
        mu: Floats,
        demand: Ints,
    ) -> None:
        self.rng = rng
        self.terms = terms
        self.s = slots
        self.calendar = calendar
        self.mu = mu
        self.demand = demand
        self.days = demand.shape[0]
        self.supplier_index = {p.code: k for k, p in enumerate(SUPPLIERS)}
        # Planning demand: a warehouse slot plans for its own online demand and its stores'.
        own_variance = slots.variance(mu)
        plan, variance = mu.copy(), own_variance.copy()
        fed = np.flatnonzero(slots.fed)
        np.add.at(plan.T, slots.feeder[fed], mu[:, fed].T)
        np.add.at(variance.T, slots.feeder[fed], own_variance[:, fed].T)
        # Cumulative sums (a zero row first), so any window's total is one subtraction.
        zero = np.zeros((1, slots.n))
        self.own = np.vstack([zero, np.cumsum(mu, axis=0)]) * MILLI
        self.own_var = np.vstack([zero, np.cumsum(own_variance, axis=0)]) * MILLI**2
        self.plan = np.vstack([zero, np.cumsum(plan, axis=0)]) * MILLI
        self.plan_var = np.vstack([zero, np.cumsum(variance, axis=0)]) * MILLI**2
        self.on_hand: Ints = np.zeros(slots.n, dtype=np.int64)
        self.on_order: Ints = np.zeros(slots.n, dtype=np.int64)
        self.served: Ints = np.zeros_like(demand)
        self.lots: dict[int, list[list[int]]] = {int(s): [] for s in np.flatnonzero(slots.lot)}
        self.lot_names: list[tuple[int, str, int]] = []  # (item, code, expiry day or NO_EXPIRY)
        self.lot_ids: dict[tuple[int, str], int] = {}
        self.arrivals: dict[int, list[_Line]] = defaultdict(list)
        self.lines: list[_Line] = []
        self.orders = 0
        self.log = _Log()

    # Levels

    def _window(self, cum: Floats, first: int, length: Ints | int, slots: Ints) -> Floats:
        last = np.minimum(first + np.asarray(length), cum.shape[0] - 1)
        return np.asarray(cum[last, slots] - cum[first, slots], dtype=np.float64)

    def _levels(
        self, day: int, slots: Ints, lead: Ints | int, cover: Ints | int, own: bool
    ) -> tuple[Floats, Floats]:
        """(reorder point s, order-up-to level S) in thousandths from `day` on.

        s = expected demand over lead time + review day + z·σ over it; S = s + `cover` days.
        """
        cum, var = (self.own, self.own_var) if own else (self.plan, self.plan_var)
        protect = np.asarray(lead) + 1
        need = self._window(cum, day, protect, slots)
        s = need + Z * np.sqrt(self._window(var, day, protect, slots))
        cycle = self._window(cum, day, protect + np.asarray(cover), slots) - need
        return s, s + cycle

    # Lots

    def _lot(self, item: int, code: str, expiry: int) -> int:
        key = (item, code)
        if key not in self.lot_ids:
            self.lot_ids[key] = len(self.lot_names)
            self.lot_names.append((item, code, expiry))
        return self.lot_ids[key]

    def _put(self, slot: int, lot: int, qty: int) -> None:
        held = self.lots[slot]
        for entry in held:
            if entry[1] == lot:
                entry[2] += qty
                return
        held.append([self.lot_names[lot][2], lot, qty])
        held.sort()

    def _take(self, slot: int, qty: int) -> list[tuple[int, int]]:
        """Take `qty` from a slot's lots, first-expired-first-out: [(lot, quantity)]."""
        held = self.lots[slot]
        taken = []
        while qty > 0:
            entry = held[0]
            part = min(qty, entry[2])
            taken.append((entry[1], part))
            entry[2] -= part
            qty -= part
            if entry[2] == 0:
                held.pop(0)
        return taken

    def _date(self, day: int) -> date:
        return self.calendar.dates[day]

    # The days

    def run(self) -> None:
        self._open()
        for day in range(self.days):
            self._receive(day)
            if not self.calendar.closed[day]:
                self._transfer(day, NORTH)
                self._transfer(day, SOUTH)
                self._bake(day)
                self._serve(day)
            self._expire(day)
            if not self.calendar.closed[day]:
                self._order(day)

    def _open(self) -> None:
        """Opening stock, counted on the first morning: about what the reorder rule would hold."""
        s = self.s
        slots = np.flatnonzero(~s.made)
        lead = np.where(s.fed[slots], 1, s.lead[slots])
        cover = np.where(s.fed[slots], STORE_COVER, s.cover[slots])
        low, high = self._levels(0, slots, lead, cover, own=False)
        fraction = self.rng.uniform(0.5, 1.0, len(slots))
        qty = self._round(slots, low + fraction * (high - low), up=True)
        expiry = {}
        for slot, q in zip(slots, qty, strict=True):
            self.on_hand[slot] = q
            if s.lot[slot] and q > 0:
                i = int(s.item[slot])
                shelf = int(s.shelf[slot])
                if i not in expiry:
                    expiry[i] = int(self.rng.integers(1, shelf + 1)) if shelf else NO_EXPIRY
                lot = self._lot(i, f"OPEN-{self._date(0):%y%m%d}", expiry[i])
                self._put(int(slot), lot, int(q))
                self.log.row(0, OPENING, int(slot), ADJUSTMENT, int(s.loc[slot]), int(q), lot, -1)
        plain = ~s.lot[slots]
        self.log.batch(0, OPENING, slots[plain], ADJUSTMENT, s.loc[slots[plain]], qty[plain])

    def _round(self, slots: Ints, qty: Floats, up: bool) -> Ints:
        """Whole units for counted items, thousandths for weighed ones."""
        step = np.where(self.s.weighed[slots], 1, MILLI)
        units = np.ceil(qty / step) if up else np.floor(qty / step)
        return np.asarray(np.maximum(units, 0) * step, dtype=np.int64)

    def _receive(self, day: int) -> None:
        for line in self.arrivals.pop(day, []):
            self.on_order[line.slot] -= line.ordered
            if line.delivered == 0:
                continue
            slot = line.slot
            self.on_hand[slot] += line.delivered
            lot = -1
            if self.s.lot[slot]:
                shelf = int(self.s.shelf[slot])
                code = f"L{self._date(day):%y%m%d}-{line.po:05d}"
                lot = self._lot(int(self.s.item[slot]), code, day + shelf if shelf else NO_EXPIRY)
                self._put(slot, lot, line.delivered)
            target = int(self.s.loc[slot])
            self.log.row(day, RECEIPT, slot, SUPPLIER, target, line.delivered, lot, line.po)

    def _transfer(self, day: int, store: int) -> None:
        s = self.s
        slots = np.flatnonzero(s.fed & (s.loc == store))
        low, high = self._levels(day, slots, 1, STORE_COVER, own=True)
        short = self.on_hand[slots] < low
        want = self._round(slots, np.where(short, high - self.on_hand[slots], 0), up=True)
        feeder = s.feeder[slots]
        give = np.minimum(want, self.on_hand[feeder])
        self.on_hand[feeder] -= give
        self.on_hand[slots] += give
        lots = s.lot[slots]
        self.log.batch(day, TRANSFER, slots[~lots], WH, store, give[~lots])
        for slot, source, q in zip(slots[lots], feeder[lots], give[lots], strict=True):
            if q > 0:
                for lot, part in self._take(int(source), int(q)):
                    self._put(int(slot), lot, part)
                    self.log.row(day, TRANSFER, int(slot), WH, store, part, lot, -1)

    def _bake(self, day: int) -> None:
        """Bake what today's expected demand needs, less what is left from yesterday, in trays."""
        s = self.s
        slots = np.flatnonzero(s.made)
        expected = self.mu[day, slots]
        plan = np.where(expected > 0, np.ceil(expected * 1.1 + 0.8 * np.sqrt(expected)), 0)
        missing = np.maximum(plan - self.on_hand[slots] / MILLI, 0)
        batch = s.batch[slots]
        qty = (np.ceil(missing / batch) * batch * MILLI).astype(np.int64)
        self.on_hand[slots] += qty
        for slot, q in zip(slots, qty, strict=True):
            if q > 0:
                store = int(s.loc[slot])
                code = f"B{self._date(day):%y%m%d}-{PLACES[store][-1]}"
                item = int(s.item[slot])
                lot = self._lot(item, code, day + int(s.shelf[slot]))
                self._put(int(slot), lot, int(q))
                self.log.row(day, BAKE, int(slot), PRODUCTION, store, int(q), lot, -1)

    def _serve(self, day: int) -> None:
        s = self.s
        served = np.minimum(self.demand[day], self.on_hand)
        self.served[day] = served
        self.on_hand -= served
        every = np.arange(s.n)
        sink = np.where(s.consumed, PRODUCTION, CUSTOMER)
        kind = np.where(s.consumed, CONSUMPTION, SHIPMENT)
        for k in (SHIPMENT, CONSUMPTION):
            plain = ~s.lot & (kind == k)
            self.log.batch(day, k, every[plain], s.loc[plain], sink[plain], served[plain])
        for slot in np.flatnonzero(s.lot & (served > 0)):
            for lot, part in self._take(int(slot), int(served[slot])):
                where = int(s.loc[slot])
                self.log.row(day, int(kind[slot]), int(slot), where, int(sink[slot]), part, lot, -1)

    def _expire(self, day: int) -> None:
        """Scrap lots at the end of their last usable day."""
        for slot, held in self.lots.items():
            while held and held[0][0] <= day:
                _, lot, qty = held.pop(0)
                self.on_hand[slot] -= qty
                self.log.row(day, EXPIRY, slot, int(self.s.loc[slot]), SCRAP, qty, lot, -1)

    def _order(self, day: int) -> None:
        """Order up to S from the supplier where stock plus open orders fell below s.

        One purchase order per supplier and location per day; the supplier delivers it late
        (1 + Poisson days) or lines of it short with its own probabilities.
        """
        s = self.s
        slots = np.flatnonzero(s.bought)
        low, high = self._levels(day + 1, slots, s.lead[slots], s.cover[slots], own=False)
        position = self.on_hand[slots] + self.on_order[slots]
        backup = self.rng.random(len(slots)) < BACKUP_SHARE
        due = (position < low) & (high > position)
        pack, moq = s.pack[slots], s.moq[slots]
        qty = np.maximum(np.ceil((high - position) / pack) * pack, moq).astype(np.int64)
        orders: dict[tuple[int, int], list[tuple[int, int, SupplierItem]]] = defaultdict(list)
        for k in np.flatnonzero(due):
            slot = int(slots[k])
            choices = self.terms[int(s.item[slot])]
            terms = choices[1] if backup[k] and len(choices) > 1 else choices[0]
            supplier = self.supplier_index[terms.supplier]
            orders[(supplier, int(s.loc[slot]))].append((slot, int(qty[k]), terms))
        for (supplier, _), lines in sorted(orders.items()):
            self._place(day, SUPPLIERS[supplier], supplier, lines)

    def _place(
        self,
        day: int,
        profile: SupplierProfile,
        supplier: int,
        lines: list[tuple[int, int, SupplierItem]],
    ) -> None:
        self.orders += 1
        po = self.orders
        late = self.rng.random() < profile.p_late
        delay = 1 + int(self.rng.poisson(profile.delay)) if late else 0
        disrupted = profile.code == DISRUPTED_SUPPLIER and (
            int(self.days * DISRUPTION[0]) <= day < int(self.days * DISRUPTION[1])
        )
        if disrupted:
            delay += DISRUPTION_DELAY
        for slot, qty, terms in lines:
            promised = day + terms.lead_time_days
            arrival = promised + delay
            while arrival < len(self.calendar.dates) and (
                self.calendar.weekday[arrival] == 6 or self.calendar.closed[arrival]
            ):
                arrival += 1  # no deliveries on Sundays or holidays
            delivered = qty
            if self.rng.random() < profile.p_short:
                pack = int(terms.pack_size) * MILLI
                delivered = int(qty * self.rng.uniform(0.5, 0.9)) // pack * pack
            if disrupted:
                pack = int(terms.pack_size) * MILLI
                delivered = min(delivered, qty // 2 // pack * pack)
            line = _Line(po, slot, supplier, qty, delivered, day, promised, arrival)
            self.lines.append(line)
            self.on_order[slot] += qty
            self.arrivals[arrival].append(line)

    # Frames

    def moves_frame(self, skus: NDArray[np.str_]) -> pl.DataFrame:
        a = self.log.arrays()
        kind, source, target = a["kind"], a["source"], a["target"]
        here = np.where((kind == TRANSFER) | (source > SOUTH), target, source)
        supplier_of = {line.po: SUPPLIERS[line.supplier].code for line in self.lines}
        lines = {(line.po, line.slot): line for line in self.lines}
        frame = pl.DataFrame(
            {
                "day_index": a["day"],
                "kind_index": kind,
                "sku": skus[self.s.item[a["slot"]]],
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
        day = pl.lit(self.calendar.start) + pl.duration(days=pl.col("day_index"))
        names = pl.DataFrame(
            {
                "kind_index": np.arange(len(KINDS)),
                "kind": [k.value for k in KINDS],
                "hour": HOURS,
                "prefix": PREFIXES,
            }
        )
        promised = {(line.po, line.slot): line.promised_on for line in self.lines}
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
        lots = self._lots_by_id(skus)
        return (
            frame.join(names, on="kind_index", how="left")
            .join(lots, on="lot_id", how="left")
            .with_columns(day=day.cast(pl.Date))
            .with_columns(
                occurred_at=pl.col("day").cast(pl.Datetime("us", "UTC"))
                + pl.duration(hours=pl.col("hour")),
                quantity=_decimal(pl.col("milli")),
                partner=pl.when(pl.col("kind_index") == RECEIPT)
                .then(
                    pl.col("po").replace_strict(supplier_of, default=None, return_dtype=pl.String)
                )
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
                ordered_on=pl.lit(self.calendar.start) + pl.duration(days=pl.col("ordered_index")),
                promised_on=pl.lit(self.calendar.start)
                + pl.duration(days=pl.col("promised_index")),
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

    def _lots_by_id(self, skus: NDArray[np.str_]) -> pl.DataFrame:
        start = self.calendar.start
        return pl.DataFrame(
            {
                "lot_id": np.arange(len(self.lot_names), dtype=np.int64),
                "lot_sku": [str(skus[i]) for i, _, _ in self.lot_names],
                "lot": [code for _, code, _ in self.lot_names],
                "expires_on": [
                    start + timedelta(days=e) if e != NO_EXPIRY else None
                    for _, _, e in self.lot_names
                ],
            },
            schema={
                "lot_id": pl.Int64,
                "lot_sku": pl.String,
                "lot": pl.String,
                "expires_on": pl.Date,
            },
        )

    def lots_frame(self, skus: NDArray[np.str_]) -> pl.DataFrame:
        """Every lot that ever held stock: sku, lot code, expiry date (null: does not expire)."""
        return (
            self._lots_by_id(skus)
            .select(pl.col("lot_sku").alias("sku"), "lot", "expires_on")
            .sort("sku", "lot")
        )

    def orders_frame(self, skus: NDArray[np.str_]) -> pl.DataFrame:
        """Purchase order lines; `received_on` is null for lines still open at the end."""
        start = self.calendar.start
        lines = self.lines

        def on(day: int) -> date | None:
            return start + timedelta(days=day) if day < self.days else None

        return pl.DataFrame(
            {
                "po": [order_number("purchase", line.po) for line in lines],
                "supplier": [SUPPLIERS[line.supplier].code for line in lines],
                "sku": [str(skus[self.s.item[line.slot]]) for line in lines],
                "location": [str(PLACES[self.s.loc[line.slot]]) for line in lines],
                "ordered_on": [on(line.ordered_on) for line in lines],
                "promised_on": [start + timedelta(days=line.promised_on) for line in lines],
                "received_on": [on(line.received_on) for line in lines],
                "ordered": np.array([line.ordered for line in lines], dtype=np.int64),
                "received": np.array(
                    [line.delivered if line.received_on < self.days else 0 for line in lines],
                    dtype=np.int64,
                ),
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


def _demand_frame(
    start: date, skus: NDArray[np.str_], slots: _Slots, demand: Ints, served: Ints
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


def _profiles_frame(specs: list[_Spec]) -> pl.DataFrame:
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
