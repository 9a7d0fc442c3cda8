"""The item-locations of the demo business, as parallel arrays: how each is supplied, what its
demand is expected to be, and the demand drawn for it.

Demand is drawn as a negative binomial (Gamma-Poisson, shape 3) for counted items, as a Gamma
(shape 8) for weighed ones, and for slow movers as Bernoulli(occurrence) × (1 + Poisson(size −
1)), Croston's intermittent demand (Syntetos & Boylan 2005).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from leanstock.demo.catalog import Outflow, Route
from leanstock.demo.places import MILLI, STORES, WH
from leanstock.demo.specs import DemoBom, Spec
from leanstock.domain.catalog import SupplierItem

Ints = NDArray[np.int64]
Floats = NDArray[np.float64]
Bools = NDArray[np.bool_]

SCALE = np.array([0.45, 1.0, 0.75])
"""Demand level per location relative to the North Street store (the warehouse's is online)."""

COUNTED_SHAPE = 3.0  # Gamma-Poisson shape: variance μ + μ²/3
WEIGHED_SHAPE = 8.0  # Gamma shape: coefficient of variation 1/√8
WAREHOUSE_COVER = 10  # days of demand one purchase order covers

PLACES_OF = {
    Route.WAREHOUSE: (WH, *STORES),
    Route.INGREDIENT: (WH,),
    Route.MADE: (WH, *STORES),
    Route.MADE_TO_ORDER: (WH,),
    Route.DROP_SHIP: (WH,),
}
"""Where each route's items are stocked (or, drop-shipped, sold): the kitchen and its
ingredients are at the warehouse, and so is the online shop that takes cake orders."""


class Slots:
    """The item-locations, and how each one is supplied.

    Bought goods sit in the warehouse and both stores (the warehouse's own demand is the online
    shop's, for the lines sold online); the stores get them by transfer. The warehouse kitchen
    keeps the ingredients, bakes breads and pastries to stock every morning and sends them to
    the stores, and bakes cakes for the day's online orders. Drop-shipped lines are sold online
    and never stocked.
    """

    def __init__(self, specs: list[Spec], terms: list[list[SupplierItem]]) -> None:
        item, loc = [], []
        for i, spec in enumerate(specs):
            for location in PLACES_OF[spec.route]:
                item.append(i)
                loc.append(location)
        self.item: Ints = np.array(item, dtype=np.int64)
        self.loc: Ints = np.array(loc, dtype=np.int64)
        self.n = len(item)
        route = [specs[i].route for i in item]
        # The kitchen's slots: baked to stock for the stores, or to order.
        self.made: Bools = np.array(
            [r is Route.MADE and lc == WH for r, lc in zip(route, loc, strict=True)]
        )
        self.to_order: Bools = np.array([r is Route.MADE_TO_ORDER for r in route])
        self.bakes: Bools = np.array([r is Route.MADE for r in route])
        self.drop: Bools = np.array([r is Route.DROP_SHIP for r in route])
        self.ingredient: Bools = np.array([r is Route.INGREDIENT for r in route])
        self.fed: Bools = np.array(  # stores the warehouse replenishes by transfer
            [
                r in (Route.WAREHOUSE, Route.MADE) and lc != WH
                for r, lc in zip(route, loc, strict=True)
            ]
        )
        # Ordered from a supplier by reorder point (drop-ship lines are ordered per sale).
        self.bought: Bools = ~self.made & ~self.to_order & ~self.fed & ~self.drop
        first: dict[int, int] = {}
        for s, i in enumerate(item):
            first.setdefault(i, s)
        self.wh: Ints = np.array([first[i] for i in range(len(specs))], dtype=np.int64)
        """The warehouse slot of each item (every item has one)."""
        self.feeder: Ints = np.where(self.fed, self.wh[self.item], -1).astype(np.int64)
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
            [
                not self.ingredient[k] and (lc != WH or specs[i].family.online)
                for k, (i, lc) in enumerate(zip(item, loc, strict=True))
            ]
        )
        self.batch: Ints = np.array([specs[i].family.batch for i in item], dtype=np.int64)
        primary = [terms[i][0] if terms[i] else None for i in item]
        self.lead: Ints = np.array([p.lead_time_days if p else 0 for p in primary], dtype=np.int64)
        self.pack: Ints = np.array([int(p.pack_size) * MILLI if p else MILLI for p in primary])
        self.moq: Ints = np.array([int(p.moq) * MILLI if p else MILLI for p in primary])
        perishable = self.shelf > 0
        self.cover: Ints = np.where(
            perishable,
            np.minimum(WAREHOUSE_COVER, np.maximum(1, self.shelf // 3)),
            WAREHOUSE_COVER,
        ).astype(np.int64)

    def recipe_matrix(self, specs: list[Spec], boms: list[DemoBom]) -> Ints:
        """(item made, component item): thousandths of the component one unit takes."""
        index = {s.item.sku: i for i, s in enumerate(specs)}
        matrix = np.zeros((len(specs), len(specs)), dtype=np.int64)
        for bom in boms:
            for component, quantity in bom.lines:
                matrix[index[bom.sku], index[component]] = int(quantity * MILLI)
        return matrix

    def expected(self, specs: list[Spec], item_factor: Floats, location_factor: Floats) -> Floats:
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
