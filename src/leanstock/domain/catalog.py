"""What the business stocks, where, and who supplies it."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from leanstock.domain.errors import InvalidInput, InvalidQuantity
from leanstock.domain.quantities import exact, non_negative, positive

CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-/]{0,63}$")


def code(value: str, field: str) -> str:
    """A SKU or location/supplier code: 1-64 letters, digits and `. _ - /`, no spaces."""
    if not CODE.match(value):
        raise InvalidInput(
            f"{field} {value!r} must be 1-64 letters, digits, '.', '_', '-' or '/', "
            "starting with a letter or digit.",
            field,
        )
    return value


def text(value: str, field: str, max_length: int = 200) -> str:
    stripped = value.strip()
    if not stripped or len(stripped) > max_length:
        raise InvalidInput(f"{field} must be 1-{max_length} characters.", field)
    return stripped


class ItemKind(StrEnum):
    BOUGHT = "bought"
    MADE = "made"


class Policy(StrEnum):
    """How an item-location is replenished (docs/architecture.md, the JIT loop, step 3)."""

    MAKE_TO_ORDER = "make_to_order"
    BUY_TO_ORDER = "buy_to_order"
    DROP_SHIP = "drop_ship"
    TRANSFER = "transfer"
    KANBAN = "kanban"
    REORDER_POINT = "reorder_point"
    MIN_MAX = "min_max"
    PERIODIC = "periodic"


class CostingMethod(StrEnum):
    """How an item's stock is valued (docs/costing.md): first-in-first-out layers, or one
    moving-average cost per location."""

    FIFO = "fifo"
    MOVING_AVERAGE = "moving_average"


class LocationKind(StrEnum):
    WAREHOUSE = "warehouse"
    STORE = "store"
    QUARANTINE = "quarantine"
    WORK_IN_PROGRESS = "work_in_progress"
    SUPPLIER = "supplier"
    CUSTOMER = "customer"
    PRODUCTION = "production"
    SCRAP = "scrap"
    ADJUSTMENT = "adjustment"
    IN_TRANSIT = "in_transit"


PHYSICAL_KINDS = frozenset(
    {
        LocationKind.WAREHOUSE,
        LocationKind.STORE,
        LocationKind.QUARANTINE,
        LocationKind.WORK_IN_PROGRESS,
    }
)


# Units that count whole things: an item counted in one of them is bought, sold and moved in
# whole numbers. Any other unit (kg, l, m, ...) is divisible.
INDIVISIBLE_UNITS = frozenset(
    {"each", "ea", "pc", "pcs", "piece", "unit", "box", "case", "pack", "bag", "bottle", "can",
     "jar", "tray", "roll", "carton", "dozen"}
)  # fmt: skip


def divisible_unit(unit: str) -> bool:
    """Whether a fraction of `unit` exists: an item stocked in it is divisible unless it says."""
    return unit.strip().lower() not in INDIVISIBLE_UNITS


def whole(item: Item, value: Decimal | int | str, field: str = "quantity") -> Decimal:
    """`value` of `item`, refused when it splits a unit that counts whole things."""
    quantity = exact(value, field)
    if not item.divisible and quantity != quantity.to_integral_value():
        raise InvalidQuantity(
            quantity,
            field,
            f"{item.sku} is counted in whole {item.unit!r}; {quantity} is not a whole number. "
            "Give a whole number (or make the item divisible).",
        )
    return quantity


@dataclass(frozen=True)
class Item:
    sku: str
    name: str
    unit: str = "each"
    kind: ItemKind = ItemKind.BOUGHT
    category: str = "general"
    unit_cost: Decimal = Decimal(0)
    lot_tracked: bool = False
    shelf_life_days: int | None = None
    policy: Policy = Policy.REORDER_POINT
    active: bool = True
    # None: the company's default costing method.
    costing: CostingMethod | None = None
    # False: only whole stock units may move (a chair, a crate). None (not said): whether a
    # fraction of the stock unit exists; a kg does, an "each", "box" or "pack" does not.
    divisible: bool | None = None
    # True: every unit carries a serial number, named whenever it arrives or leaves
    # (`domain.serials`); such an item moves in whole units only.
    serial_tracked: bool = False

    def __post_init__(self) -> None:
        code(self.sku, "sku")
        object.__setattr__(self, "name", text(self.name, "name"))
        object.__setattr__(self, "unit", text(self.unit, "unit", 16))
        if self.divisible is None:
            whole_only = self.serial_tracked or not divisible_unit(self.unit)
            object.__setattr__(self, "divisible", not whole_only)
        if self.serial_tracked and self.divisible:
            raise InvalidInput(
                "A serial-tracked item has one serial per unit, so it is counted in whole "
                "units: leave divisible out or set it to false.",
                "divisible",
            )
        object.__setattr__(self, "category", text(self.category, "category", 64))
        object.__setattr__(self, "unit_cost", non_negative(self.unit_cost, "unit_cost"))
        if self.shelf_life_days is not None and self.shelf_life_days <= 0:
            raise InvalidInput(
                "shelf_life_days must be a positive number of days.", "shelf_life_days"
            )
        if self.shelf_life_days is not None and not self.lot_tracked:
            raise InvalidInput(
                "A perishable item (with shelf_life_days) must be lot-tracked, "
                "so its expiry is known.",
                "lot_tracked",
            )


# Codes of the virtual locations every database has; they make every move balanced.
SUPPLIER = "supplier"
CUSTOMER = "customer"
PRODUCTION = "production"
SCRAP = "scrap"
ADJUSTMENT = "adjustment"
IN_TRANSIT = "in_transit"
VIRTUAL_LOCATIONS: dict[str, LocationKind] = {
    SUPPLIER: LocationKind.SUPPLIER,
    CUSTOMER: LocationKind.CUSTOMER,
    PRODUCTION: LocationKind.PRODUCTION,
    SCRAP: LocationKind.SCRAP,
    ADJUSTMENT: LocationKind.ADJUSTMENT,
    IN_TRANSIT: LocationKind.IN_TRANSIT,
}


@dataclass(frozen=True)
class Location:
    code: str
    name: str
    kind: LocationKind = LocationKind.WAREHOUSE
    allow_negative: bool = False

    def __post_init__(self) -> None:
        code(self.code, "code")
        object.__setattr__(self, "name", text(self.name, "name"))

    @property
    def is_physical(self) -> bool:
        return self.kind in PHYSICAL_KINDS

    @property
    def may_go_negative(self) -> bool:
        """Virtual locations are the other side of the ledger, so they run negative by design."""
        return self.allow_negative or not self.is_physical


@dataclass(frozen=True)
class Supplier:
    code: str
    name: str
    email: str | None = None
    active: bool = True

    def __post_init__(self) -> None:
        code(self.code, "code")
        object.__setattr__(self, "name", text(self.name, "name"))


@dataclass(frozen=True)
class PriceBreak:
    """From `min_quantity` on, the whole order is priced at `price` (all-units discount)."""

    min_quantity: Decimal
    price: Decimal

    def __post_init__(self) -> None:
        object.__setattr__(self, "min_quantity", positive(self.min_quantity, "price_breaks"))
        object.__setattr__(self, "price", non_negative(self.price, "price_breaks"))


@dataclass(frozen=True)
class SupplierItem:
    """The terms on which one supplier sells one item."""

    supplier: str
    sku: str
    price: Decimal
    lead_time_days: int
    moq: Decimal = Decimal(1)
    pack_size: Decimal = Decimal(1)
    priority: int = 1
    supplier_sku: str | None = None
    price_breaks: tuple[PriceBreak, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "price", non_negative(self.price, "price"))
        breaks = tuple(sorted(self.price_breaks, key=lambda b: b.min_quantity))
        object.__setattr__(self, "price_breaks", breaks)
        quantities = [b.min_quantity for b in breaks]
        if len(set(quantities)) != len(quantities):
            raise InvalidInput("Two price breaks start at the same quantity.", "price_breaks")
        prices = [self.price, *(b.price for b in breaks)]
        if any(later > earlier for earlier, later in itertools.pairwise(prices)):
            raise InvalidInput(
                "A price break must not raise the price: bigger orders cost the same or less.",
                "price_breaks",
            )
        object.__setattr__(self, "moq", positive(self.moq, "moq"))
        object.__setattr__(self, "pack_size", positive(self.pack_size, "pack_size"))
        if self.lead_time_days < 0:
            raise InvalidInput("lead_time_days must not be negative.", "lead_time_days")
        if self.priority < 1:
            raise InvalidInput("priority must be 1 (preferred) or more.", "priority")

    def price_at(self, quantity: Decimal) -> Decimal:
        """The unit price of an order of `quantity`: the last break it reaches, else the list
        price (all-units quantity discount; Silver, Pyke & Thomas 2017, §4.5)."""
        reached = [b.price for b in self.price_breaks if quantity >= b.min_quantity]
        return reached[-1] if reached else self.price
