"""The demo catalog drawn from a seed: each item, its hidden demand profile, its supplier terms
and, for what the kitchen makes, its bill of materials (`recipes.RECIPES`)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from leanstock.demo.catalog import FAMILIES, SEASONAL_BAKES, SUPPLIERS, Family, Route, Season
from leanstock.demo.recipes import BAKE_DAYS, RECIPES
from leanstock.domain.catalog import Item, ItemKind, Policy, SupplierItem

MADE_ROUTES = (Route.MADE, Route.MADE_TO_ORDER)


@dataclass(frozen=True)
class DemoBom:
    """A made item's bill of materials: (component SKU, quantity per unit made)."""

    sku: str
    lead_time_days: int
    lines: tuple[tuple[str, Decimal], ...]


@dataclass(frozen=True)
class Spec:
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

    @property
    def made(self) -> bool:
        return self.route in MADE_ROUTES


def draw_catalog(rng: np.random.Generator) -> list[Spec]:
    specs: list[Spec] = []
    for family in FAMILIES:
        for number, name in enumerate(family.items, start=1):
            made = family.route in MADE_ROUTES
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
                Spec(
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


def draw_terms(rng: np.random.Generator, specs: list[Spec]) -> list[list[SupplierItem]]:
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


def boms(specs: list[Spec]) -> list[DemoBom]:
    """The recipe of every made item (`recipes.RECIPES`), its ingredients named by SKU."""
    sku_of = {s.item.name: s.item.sku for s in specs}
    boms = []
    for spec in specs:
        if spec.item.kind is not ItemKind.MADE:
            continue
        recipe = RECIPES[spec.item.name]
        lines = tuple((sku_of[name], Decimal(repr(quantity))) for name, quantity in recipe)
        boms.append(DemoBom(spec.item.sku, BAKE_DAYS, lines))
    return boms
