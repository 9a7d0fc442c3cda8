"""Import kinds that go row by row through the catalog, stock and BOM use cases.

Each `apply` gets one row's parsed values and calls the same use case the API calls (in the
import's batch, so each is a savepoint), creating what is new and changing what differs:
a re-import of the same file changes nothing. It answers "created", "updated" or
"unchanged".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

from leanstock.domain.barcodes import barcode
from leanstock.domain.catalog import (
    Item,
    ItemKind,
    Location,
    LocationKind,
    Policy,
    Supplier,
    SupplierItem,
)
from leanstock.domain.customers import Customer
from leanstock.domain.errors import AlreadyExists, InvalidInput, NotFound, WrongUnit
from leanstock.services import catalog, customers, production
from leanstock.services.imports.fields import (
    Field,
    as_bool,
    as_date,
    as_decimal,
    as_int,
    as_price_breaks,
    one_of,
)
from leanstock.services.ports import UnitOfWork
from leanstock.services.posting import Operation
from leanstock.services.stock import moves

Values = dict[str, Any]


@dataclass(frozen=True)
class RowKind:
    """An import kind applied row by row; `key` names the fields that identify a row (a
    second row with the same key is refused as a duplicate); `group` (BOMs) applies all rows
    of one key together."""

    name: str
    fields: tuple[Field, ...]
    key: tuple[str, ...]
    apply: Callable[[UnitOfWork, list[Values]], str]
    group: bool = False
    summary: str = ""


def _changes(current: object, values: Values, frozen: tuple[str, ...]) -> Values:
    return {k: v for k, v in values.items() if k not in frozen and getattr(current, k) != v}


def _require_name(values: Values, what: str) -> None:
    if "name" not in values:
        raise InvalidInput(f"A new {what} needs a name: fill in the name column.", "name")


def apply_item(uow: UnitOfWork, rows: list[Values]) -> str:
    values = rows[0]
    try:
        current = catalog.get_item(uow, values["sku"])
    except NotFound:
        _require_name(values, "item")
        catalog.add_item(uow, Item(**values))
        return "created"
    changes = _changes(current, values, ("sku",))
    if not changes:
        return "unchanged"
    catalog.update_item(uow, values["sku"], changes)
    return "updated"


def apply_location(uow: UnitOfWork, rows: list[Values]) -> str:
    values = rows[0]
    try:
        current = catalog.get_location(uow, values["code"])
    except NotFound:
        _require_name(values, "location")
        catalog.add_location(uow, Location(**values))
        return "created"
    changes = _changes(current, values, ("code",))
    if not changes:
        return "unchanged"
    catalog.update_location(uow, values["code"], changes)
    return "updated"


def apply_supplier(uow: UnitOfWork, rows: list[Values]) -> str:
    values = rows[0]
    try:
        current = catalog.get_supplier(uow, values["code"])
    except NotFound:
        _require_name(values, "supplier")
        catalog.add_supplier(uow, Supplier(**values))
        return "created"
    changes = _changes(current, values, ("code",))
    if not changes:
        return "unchanged"
    catalog.update_supplier(uow, values["code"], changes)
    return "updated"


def apply_terms(uow: UnitOfWork, rows: list[Values]) -> str:
    values = rows[0]
    found = catalog.list_supplier_items(uow, supplier=values["supplier"], sku=values["sku"])
    if not found.items:
        for needed in ("price", "lead_time_days"):
            if needed not in values:
                raise InvalidInput(f"New supplier terms need {needed}: fill it in.", needed)
        catalog.add_supplier_item(uow, SupplierItem(**values))
        return "created"
    changes = _changes(found.items[0], values, ("supplier", "sku"))
    if not changes:
        return "unchanged"
    catalog.update_supplier_item(uow, values["supplier"], values["sku"], changes)
    return "updated"


def apply_customer(uow: UnitOfWork, rows: list[Values]) -> str:
    values = rows[0]
    try:
        current = customers.get_customer(uow, values["code"])
    except NotFound:
        _require_name(values, "customer")
        customers.add_customer(uow, Customer(**values))
        return "created"
    changes = _changes(current, values, ("code",))
    if not changes:
        return "unchanged"
    customers.update_customer(uow, values["code"], changes)
    return "updated"


def apply_barcode(uow: UnitOfWork, rows: list[Values]) -> str:
    """One barcode of one item: added when new; already the item's, unchanged."""
    values = rows[0]
    try:
        catalog.add_barcode(uow, values["sku"], values["barcode"])
    except AlreadyExists:
        return "unchanged"  # this item has it already (another item's is a Conflict)
    return "created"


def apply_bom(uow: UnitOfWork, rows: list[Values]) -> str:
    parent = rows[0]["parent"]
    lead_times = {r["lead_time_days"] for r in rows if "lead_time_days" in r}
    if len(lead_times) > 1:
        raise InvalidInput(
            f"The rows of {parent} give different lead times {sorted(lead_times)}: give one.",
            "lead_time_days",
        )
    lead_time = lead_times.pop() if lead_times else 0
    lines = [(r["component"], r["quantity"], r.get("scrap", Decimal(0))) for r in rows]
    try:
        current = production.get_bom(uow, parent)
    except NotFound:
        current = None
    if current is not None:
        now = {(b.component, b.quantity, b.scrap) for b in current.lines}
        if now == set(lines) and current.lead_time_days == lead_time:
            return "unchanged"
    production.put_bom(uow, parent, lines, lead_time)
    return "created" if current is None else "updated"


def apply_opening_stock(uow: UnitOfWork, rows: list[Values]) -> str:
    """A stock count: the location then holds `quantity` of the item (and lot), so importing
    the same file again posts nothing."""
    values = rows[0]
    as_of: date | None = values.get("as_of")
    try:
        operation = _count(uow, values, as_of)
    except WrongUnit as error:
        # The ledger's message names the unit and says how to define its conversion.
        raise InvalidInput(error.detail, "unit") from None
    return "updated" if operation.moves else "unchanged"


def _count(uow: UnitOfWork, values: Values, as_of: date | None) -> Operation:
    return moves.count(
        uow,
        values["sku"],
        values["location"],
        values["quantity"],
        unit=values.get("unit"),
        lot=values.get("lot"),
        expires_on=values.get("expires_on"),
        reference="opening stock",
        occurred_at=datetime.combine(as_of, time(0), tzinfo=UTC) if as_of else None,
        unit_cost=values.get("unit_cost"),
    )


SKU_ALIASES = ("item", "item_code", "product_code", "article", "sku_code")

ITEMS = RowKind(
    "items",
    (
        Field("sku", required=True, aliases=(*SKU_ALIASES, "code"), example="FLOUR-25"),
        Field("name", aliases=("description", "item_name", "product_name"), example="Flour 25 kg"),
        Field("unit", aliases=("uom", "unit_of_measure"), example="bag"),
        Field("kind", one_of(ItemKind), example="bought", help="bought or made"),
        Field("category", aliases=("group",), example="dry goods"),
        Field("unit_cost", as_decimal, aliases=("cost", "standard_cost"), example="18.40"),
        Field("lot_tracked", as_bool, aliases=("lots", "lot_control"), example="true"),
        Field("shelf_life_days", as_int, aliases=("shelf_life",), example="180"),
        Field("policy", one_of(Policy), aliases=("replenishment",), example="reorder_point"),
        Field("active", as_bool, example="true"),
        Field(
            "serial_tracked",
            as_bool,
            aliases=("serials", "serial_control"),
            example="false",
            help="every unit carries a serial",
        ),
    ),
    ("sku",),
    apply_item,
    summary="Items, keyed by SKU: created when new, changed where the file differs.",
)

LOCATIONS = RowKind(
    "locations",
    (
        Field("code", required=True, aliases=("location", "location_code"), example="WH"),
        Field("name", aliases=("description",), example="Main warehouse"),
        Field("kind", one_of(LocationKind), aliases=("type",), example="warehouse"),
        Field("allow_negative", as_bool, example="false"),
    ),
    ("code",),
    apply_location,
    summary="Physical locations (warehouse, store, quarantine, work_in_progress), keyed by code.",
)

SUPPLIERS = RowKind(
    "suppliers",
    (
        Field(
            "code", required=True, aliases=("supplier", "supplier_code", "vendor"), example="MILL"
        ),
        Field("name", aliases=("supplier_name", "vendor_name"), example="The Mill"),
        Field("email", aliases=("e_mail", "mail"), example="orders@mill.example"),
        Field("active", as_bool, example="true"),
    ),
    ("code",),
    apply_supplier,
    summary="Suppliers, keyed by code.",
)

SUPPLIER_TERMS = RowKind(
    "supplier-terms",
    (
        Field("supplier", required=True, aliases=("supplier_code", "vendor"), example="MILL"),
        Field("sku", required=True, aliases=SKU_ALIASES, example="FLOUR-25"),
        Field("price", as_decimal, aliases=("unit_price", "cost"), example="18.40"),
        Field("lead_time_days", as_int, aliases=("lead_time",), example="3"),
        Field("moq", as_decimal, aliases=("minimum_order", "min_order_qty"), example="10"),
        Field("pack_size", as_decimal, aliases=("pack", "case_size"), example="5"),
        Field("priority", as_int, example="1"),
        Field("supplier_sku", aliases=("vendor_sku", "supplier_item"), example="M-FL25"),
        Field(
            "price_breaks",
            as_price_breaks,
            aliases=("breaks",),
            example="50:17.90; 200:17.20",
            help="quantity:price pairs separated by ';'",
        ),
    ),
    ("supplier", "sku"),
    apply_terms,
    summary="The terms a supplier sells an item on, with price breaks; keyed by supplier and SKU.",
)

BOMS = RowKind(
    "boms",
    (
        Field(
            "parent", required=True, aliases=("parent_sku", "product", "assembly"), example="LOAF"
        ),
        Field(
            "component",
            required=True,
            aliases=("component_sku", "ingredient", "material"),
            example="FLOUR-25",
        ),
        Field("quantity", as_decimal, required=True, aliases=("qty", "per"), example="0.02"),
        Field("scrap", as_decimal, aliases=("scrap_rate",), example="0.05"),
        Field("lead_time_days", as_int, aliases=("lead_time",), example="1"),
    ),
    ("parent", "component"),
    apply_bom,
    group=True,
    summary="Bills of materials, one row per component; a parent's rows replace its BOM.",
)

OPENING_STOCK = RowKind(
    "opening-stock",
    (
        Field("sku", required=True, aliases=SKU_ALIASES, example="FLOUR-25"),
        Field("location", required=True, aliases=("location_code", "warehouse"), example="WH"),
        Field(
            "quantity",
            as_decimal,
            required=True,
            aliases=("qty", "on_hand", "counted"),
            example="40",
        ),
        Field("unit", aliases=("uom",), example="bag"),
        Field("lot", aliases=("lot_number", "batch"), example="L2611"),
        Field(
            "expires_on",
            as_date,
            aliases=("expiry", "best_before", "expiry_date"),
            example="2027-05-31",
        ),
        Field("unit_cost", as_decimal, aliases=("cost",), example="18.40"),
        Field("as_of", as_date, aliases=("date", "counted_on"), example="2026-11-30"),
    ),
    ("sku", "location", "lot"),
    apply_opening_stock,
    summary="Stock on hand per item, location and lot, booked as a count.",
)

CUSTOMERS = RowKind(
    "customers",
    (
        Field(
            "code",
            required=True,
            aliases=("customer", "customer_code", "client", "account"),
            example="BISTRO",
        ),
        Field("name", aliases=("customer_name", "company"), example="Bistro Bella"),
        Field("email", aliases=("e_mail", "mail"), example="orders@bistro.example"),
        Field("phone", aliases=("telephone", "tel"), example="+44 20 7946 0000"),
        Field(
            "billing_address",
            aliases=("address", "bill_to", "invoice_address"),
            example="1 Main St, Springfield",
        ),
        Field(
            "shipping_address",
            aliases=("ship_to", "delivery_address"),
            example="Dock 4, Harbour Rd",
        ),
        Field(
            "priority", as_int, example="5", help="1 is served first when stock is short, 9 last"
        ),
        Field("active", as_bool, example="true"),
    ),
    ("code",),
    apply_customer,
    summary="Customers, keyed by code: the records sales orders refer to.",
)

BARCODES = RowKind(
    "barcodes",
    (
        Field("sku", required=True, aliases=SKU_ALIASES, example="FLOUR-25"),
        Field(
            "barcode",
            barcode,
            required=True,
            aliases=("gtin", "ean", "upc", "ean13"),
            example="4006381333931",
            help="GTIN-8, -12, -13 or -14 with its check digit",
        ),
    ),
    ("barcode",),
    apply_barcode,
    summary="Item barcodes, one row per barcode (an item may have several); keyed by barcode.",
)

ROW_KINDS = {
    k.name: k
    for k in (
        ITEMS,
        LOCATIONS,
        SUPPLIERS,
        SUPPLIER_TERMS,
        BOMS,
        OPENING_STOCK,
        CUSTOMERS,
        BARCODES,
    )
}
