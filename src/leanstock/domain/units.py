"""Units of measure: an item's stock unit, the other units it is bought or sold in, and
whether it may be split.

The ledger always posts in the stock unit. Flour bought in 25 kg sacks and used in kg has the
stock unit `kg` and the unit `sack` with factor 25: 2 sacks post as 50 kg, and a price of 20
per sack is 0.8 per kg.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any, ClassVar

from leanstock.domain.catalog import Item, PriceBreak, text
from leanstock.domain.catalog import whole as catalog_whole
from leanstock.domain.errors import InvalidInput, WrongUnit
from leanstock.domain.events import DomainEvent
from leanstock.domain.quantities import QUANTUM, exact, non_negative, positive, tidy


@dataclass(frozen=True)
class UnitConversion:
    """1 `unit` of an item = `factor` of its stock unit."""

    sku: str
    unit: str
    factor: Decimal

    def __post_init__(self) -> None:
        object.__setattr__(self, "unit", text(self.unit, "unit", 16))
        object.__setattr__(self, "factor", positive(self.factor, "factor"))


class NoConversion(WrongUnit):
    """A unit the item has no conversion for (a WrongUnit that says how to add one)."""

    def __init__(self, item: Item, unit: str, known: Mapping[str, Decimal]) -> None:
        others = ", ".join(sorted(known)) or "none yet"
        InvalidInput.__init__(
            self,
            f"Item {item.sku} is stocked in {item.unit!r} and has no conversion from {unit!r} "
            f"(its other units: {others}); define one with PUT /api/v1/items/{item.sku}/units/"
            f"{unit} or give the quantity in {item.unit!r}.",
            "unit",
        )


def factor_of(item: Item, unit: str | None, factors: Mapping[str, Decimal]) -> Decimal:
    """How many stock units one `unit` holds: 1 for the stock unit (or none named)."""
    if unit is None or unit == item.unit:
        return Decimal(1)
    if unit not in factors:
        raise NoConversion(item, unit, factors)
    return factors[unit]


def whole(item: Item, quantity: Decimal, field: str = "quantity") -> Decimal:
    """`quantity` of the stock unit, refused when the item is indivisible and it is a fraction
    (the one rule: `catalog.whole`)."""
    return catalog_whole(item, quantity, field)


def to_stock_unit(
    item: Item,
    quantity: Decimal,
    unit: str | None,
    factors: Mapping[str, Decimal],
    field: str = "quantity",
) -> Decimal:
    """`quantity` given in `unit`, in the item's stock unit (exact, six places at most)."""
    converted = quantity * factor_of(item, unit, factors)
    return tidy(whole(item, exact(converted, field), field))


def cost_per_stock_unit(
    item: Item, cost: Decimal, unit: str | None, factors: Mapping[str, Decimal]
) -> Decimal:
    """A price per `unit` as a cost per stock unit, to the ledger's six places."""
    return (cost / factor_of(item, unit, factors)).quantize(QUANTUM, rounding=ROUND_HALF_EVEN)


def terms_in_stock_unit(
    item: Item, terms: Mapping[str, Any], unit: str | None, factors: Mapping[str, Decimal]
) -> dict[str, Any]:
    """Supplier terms (all of them, or the fields a change names) given in `unit` (a sack:
    price per sack, MOQ and pack size in sacks), in the item's stock unit, as planning and the
    ledger use them: quantities × factor (exact), prices ÷ factor (exact when the factor
    divides the price to six places, else rounded half-even there). A sack of 25 kg at 20 with
    a MOQ of 4 sacks is 0.8 per kg, a MOQ of 100 kg and a pack of 25 kg."""
    if unit is None or unit == item.unit:
        return dict(terms)
    factor_of(item, unit, factors)  # an unknown unit is refused before anything converts
    found = dict(terms)
    if found.get("price") is not None:
        price = non_negative(found["price"], "price")
        found["price"] = tidy(cost_per_stock_unit(item, price, unit, factors))
    for field in ("moq", "pack_size"):
        if found.get(field) is not None:
            found[field] = to_stock_unit(item, found[field], unit, factors, field)
    if found.get("price_breaks") is not None:
        found["price_breaks"] = tuple(
            PriceBreak(
                to_stock_unit(item, b.min_quantity, unit, factors, "price_breaks"),
                tidy(cost_per_stock_unit(item, b.price, unit, factors)),
            )
            for b in found["price_breaks"]
        )
    return found


@dataclass(frozen=True, kw_only=True)
class UnitDefined(DomainEvent):
    """A unit of an item was defined or its factor changed (audited)."""

    name: ClassVar[str | None] = "item.unit_defined"
    action: ClassVar[str | None] = "define_unit"
    unit: str
    factor: Decimal
