"""Export the business as tables: the import kinds in the shape they import back in, stock
(now or as of a moment, with its value at the items' unit cost), moves (up to a moment),
sales and purchase orders, and plan runs.

Every cell is text, written the way the import reads it (ISO dates, plain decimals,
true/false), so an export imported again changes nothing (tests/integration/
test_import_export.py holds it to that for every kind).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any, TypeVar

from leanstock.domain.errors import InvalidInput
from leanstock.domain.orders import number
from leanstock.services.imports import kind_of
from leanstock.services.imports.fields import Sheet
from leanstock.services.paging import MAX_PAGE
from leanstock.services.ports import Page, UnitOfWork

T = TypeVar("T")
ZERO = Decimal(0)


def cell(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        text = format(value.normalize(), "f")
        return "0" if text in ("-0", "0") else text
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Enum):
        return str(value.value)
    return str(value)


def _all(fetch: Callable[[int, int], Page[T]]) -> Iterator[T]:
    offset = 0
    while True:
        page = fetch(MAX_PAGE, offset)
        yield from page.items
        offset += len(page.items)
        if not page.items or offset >= page.total:
            return


def _objects(
    kind: str, objects: Iterator[Any], extra: Callable[[Any], dict[str, Any]] | None = None
) -> Sheet:
    names = [f.name for f in kind_of(kind).fields]
    rows = []
    for obj in objects:
        values = {**{n: getattr(obj, n, None) for n in names}, **(extra(obj) if extra else {})}
        rows.append([cell(values.get(n)) for n in names])
    return Sheet(names, rows)


def _breaks(terms: Any) -> dict[str, Any]:
    text = "; ".join(f"{cell(b.min_quantity)}:{cell(b.price)}" for b in terms.price_breaks)
    return {"price_breaks": text or None}


def _boms(uow: UnitOfWork) -> Sheet:
    names = [f.name for f in kind_of("boms").fields]
    rows = []
    for parent, lines in sorted(uow.boms.all().items()):
        lead = uow.boms.lead_time(uow.catalog.item(parent).id)
        for line in lines:
            values = {
                "parent": parent,
                "component": line.component,
                "quantity": line.quantity,
                "scrap": line.scrap,
                "lead_time_days": lead,
            }
            rows.append([cell(values.get(n)) for n in names])
    return Sheet(names, rows)


def _barcodes(uow: UnitOfWork) -> Sheet:
    """Every barcode with its item's SKU, by SKU and barcode."""
    rows: list[list[str | None]] = []
    skus = [i.sku for i in _all(lambda n, o: uow.catalog.items(n, o))]
    for start in range(0, len(skus), MAX_PAGE):
        found = uow.catalog.barcodes(skus[start : start + MAX_PAGE])
        rows += [[sku, code] for sku in sorted(found) for code in found[sku]]
    return Sheet(["sku", "barcode"], rows)


def _physical(uow: UnitOfWork) -> set[str]:
    return {loc.code for loc in _all(lambda n, o: uow.catalog.locations(n, o, physical=True))}


def _stock(uow: UnitOfWork, at: datetime | None, shape: str) -> Sheet:
    """On hand per item, location and lot (at `at`, else now); `shape` "opening-stock" is
    the import's, "stock" adds unit, unit cost and value."""
    moment = at or datetime.now(UTC)
    places = _physical(uow)
    items = {i.sku: i for i in _all(lambda n, o: uow.catalog.items(n, o))}
    ids: dict[str, int] = {}
    rows = []
    if shape == "opening-stock":
        names = [f.name for f in kind_of("opening-stock").fields]
    else:
        names = ["sku", "location", "lot", "expires_on", "quantity", "unit", "unit_cost", "value"]
    for row in uow.reports.on_hand_as_of(moment):
        if row["location"] not in places or row["on_hand"] == ZERO:
            continue
        item = items[row["sku"]]
        lot = row["lot"] or None
        expires = None
        if lot is not None:
            if row["sku"] not in ids:
                ids[row["sku"]] = uow.catalog.item(row["sku"]).id
            known = uow.ledger.lot(ids[row["sku"]], lot)
            expires = known.expires_on if known else None
        values = {
            "sku": row["sku"],
            "location": row["location"],
            "quantity": row["on_hand"],
            "unit": item.unit,
            "lot": lot,
            "expires_on": expires,
            "unit_cost": item.unit_cost,
            "value": row["on_hand"] * item.unit_cost,
            "as_of": moment.date() if at else None,
        }
        rows.append([cell(values.get(n)) for n in names])
    return Sheet(names, rows)


def _sales_history(uow: UnitOfWork) -> Sheet:
    names = [f.name for f in kind_of("sales-history").fields]
    rows = []
    for r in uow.history.history_rows("sales"):
        moment = r["ordered_at"]
        moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
        values = {
            "date": moment.astimezone(UTC).date(),
            "sku": r["sku"],
            "location": r["location"],
            "quantity": r["ordered_quantity"],
            "shipped": r["shipped"],
            "customer": r["customer"],
            "order": r["import_ref"] or f"SO-{r['order_id']:06d}",
        }
        rows.append([cell(values.get(n)) for n in names])
    return Sheet(names, rows)


def _purchase_history(uow: UnitOfWork) -> Sheet:
    names = [f.name for f in kind_of("purchase-history").fields]
    rows = []
    for r in uow.history.history_rows("purchase"):
        moment = r["ordered_at"]
        moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
        values = {
            "order": r["import_ref"] or f"PO-{r['order_id']:06d}",
            "supplier": r["supplier"],
            "sku": r["sku"],
            "location": r["location"],
            "quantity": r["quantity"],
            "price": r["price"],
            "ordered_on": moment.astimezone(UTC).date(),
            "promised_on": r["expected_date"],
            "received_on": r["received_on"],
            "received": r["received"] if r["received_on"] is not None else ZERO,
        }
        rows.append([cell(values.get(n)) for n in names])
    return Sheet(names, rows)


def _dicts(rows: list[dict[str, Any]], columns: list[str]) -> Sheet:
    import json

    def text(value: Any) -> str | None:
        if isinstance(value, dict | list):
            return json.dumps(value, default=str, sort_keys=True)
        return cell(value)

    return Sheet(columns, [[text(row.get(c)) for c in columns] for row in rows])


def _pages(fetch: Callable[[int, int], tuple[list[dict[str, Any]], int]]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    while True:
        page, total = fetch(MAX_PAGE, len(rows))
        rows.extend(page)
        if not page or len(rows) >= total:
            return rows


def _orders(uow: UnitOfWork, kind: str) -> Sheet:
    if kind == "sales-orders":
        rows = _pages(lambda n, o: uow.sales.page(limit=n, offset=o))
        kind_name = "sales"
        columns = ["number", "customer", "status", "ordered_at", "lines", "quantity", "shipped"]
    else:
        rows = _pages(lambda n, o: uow.purchasing.page(limit=n, offset=o))
        kind_name = "purchase"
        columns = [
            "number",
            "supplier",
            "status",
            "ordered_at",
            "promised_date",
            "lines",
            "quantity",
            "received",
            "drop_ship_customer",
        ]
    for row in rows:
        row["number"] = number(kind_name, int(row["id"]))
    return _dicts(sorted(rows, key=lambda r: int(r["id"])), columns)


def _moves(uow: UnitOfWork, since: datetime | None, until: datetime | None) -> Sheet:
    columns = [
        "occurred_at",
        "kind",
        "sku",
        "lot",
        "source",
        "target",
        "quantity",
        "reference",
        "partner",
        "reason",
        "operation_id",
    ]
    rows: list[dict[str, Any]] = []
    for item in _all(lambda n, o: uow.catalog.items(n, o)):
        item_id = uow.catalog.item(item.sku).id
        found = _pages(
            lambda n, o, i=item_id: uow.reports.moves(i, None, since, until, n, o)  # type: ignore[misc]
        )
        rows.extend({**r, "sku": item.sku, "lot": r["lot"] or None} for r in found)
    rows.sort(key=lambda r: (str(r["occurred_at"]), int(r["id"])))
    return _dicts(rows, columns)


def _plan_runs(uow: UnitOfWork) -> Sheet:
    rows = _pages(lambda n, o: uow.planning.plan_runs(n, o))
    columns = list(rows[0]) if rows else ["id"]
    return _dicts(sorted(rows, key=lambda r: int(r["id"])), columns)


EXPORTS = (
    "items",
    "locations",
    "suppliers",
    "customers",
    "barcodes",
    "supplier-terms",
    "boms",
    "opening-stock",
    "sales-history",
    "purchase-history",
    "stock",
    "moves",
    "sales-orders",
    "purchase-orders",
    "plan-runs",
)


def export(
    uow: UnitOfWork,
    kind: str,
    as_of: datetime | None = None,
    locations: frozenset[str] | None = None,
) -> Sheet:
    """The table of `kind` (one of EXPORTS); `as_of` only for stock and opening-stock.
    `locations` (a user limited to some) keeps only the rows of those locations."""
    sheet = _export(uow, kind, as_of)
    column = "code" if kind == "locations" else "location"
    if locations is None or column not in sheet.columns:
        return sheet
    at = sheet.columns.index(column)
    return Sheet(sheet.columns, [row for row in sheet.rows if row[at] in locations])


def _export(uow: UnitOfWork, kind: str, as_of: datetime | None) -> Sheet:
    name = kind.strip().lower().replace("_", "-")
    if name not in EXPORTS:
        raise InvalidInput(
            f"Unknown export kind {kind!r}: use one of {', '.join(EXPORTS)}.", "kind"
        )
    if as_of is not None and name not in ("stock", "opening-stock", "moves"):
        raise InvalidInput("as_of applies to stock, opening-stock and moves only.", "as_of")
    if as_of is not None and as_of.tzinfo is None:
        as_of = as_of.replace(tzinfo=UTC)
    with uow:
        if name == "items":
            return _objects(name, _all(lambda n, o: uow.catalog.items(n, o)))
        if name == "locations":
            return _objects(name, _all(lambda n, o: uow.catalog.locations(n, o, physical=True)))
        if name == "suppliers":
            return _objects(name, _all(lambda n, o: uow.catalog.suppliers(n, o)))
        if name == "customers":
            return _objects(name, _all(lambda n, o: uow.customers.page(n, o)))
        if name == "barcodes":
            return _barcodes(uow)
        if name == "supplier-terms":
            return _objects(name, _all(lambda n, o: uow.catalog.supplier_items(n, o)), _breaks)
        if name == "boms":
            return _boms(uow)
        if name == "sales-history":
            return _sales_history(uow)
        if name == "purchase-history":
            return _purchase_history(uow)
        if name == "moves":
            return _moves(uow, None, as_of)
        if name in ("sales-orders", "purchase-orders"):
            return _orders(uow, name)
        if name == "plan-runs":
            return _plan_runs(uow)
        return _stock(uow, as_of, name)
