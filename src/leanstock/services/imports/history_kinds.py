"""Import of past sales and purchases, in bulk (100,000 rows in seconds, not minutes).

Rows are grouped into orders by their order reference (or, for sales without one, by day,
location and customer) and written as orders of the past: sales lines whose ordered quantity
is the demand forecasts read, as recorded sales are (`orders.demand_history`), and purchase
lines with their receipts, promised against actual, as supplier scorecards read. No stock
moves: history describes the past; today's stock comes from the opening stock import.
An order imported before (same reference) has its lines replaced, so a re-import updates.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

from leanstock.domain.orders import Fulfilment, PurchaseStatus, SalesStatus
from leanstock.services.imports.catalog_kinds import SKU_ALIASES
from leanstock.services.imports.fields import Field, Problem, as_date, as_decimal
from leanstock.services.ports import UnitOfWork

ZERO = Decimal(0)
SHIPPED, CANCELLED = SalesStatus.SHIPPED.value, SalesStatus.CANCELLED.value
CLOSED, FROM_STOCK = PurchaseStatus.CLOSED.value, Fulfilment.STOCK.value
ORDER_HOUR = time(12, tzinfo=UTC)
LOCATION_ALIASES = ("location_code", "warehouse", "store")
Values = dict[str, Any]


@dataclass(frozen=True)
class HistoryKind:
    name: str
    fields: tuple[Field, ...]
    summary: str


SALES_HISTORY = HistoryKind(
    "sales-history",
    (
        Field(
            "date",
            as_date,
            required=True,
            aliases=("ordered_on", "order_date", "day"),
            example="2026-10-01",
        ),
        Field("sku", required=True, aliases=SKU_ALIASES, example="LOAF"),
        Field("location", required=True, aliases=LOCATION_ALIASES, example="STORE"),
        Field(
            "quantity",
            as_decimal,
            required=True,
            aliases=("qty", "ordered", "demand", "demanded"),
            example="12",
            help="what the customer asked for",
        ),
        Field(
            "shipped",
            as_decimal,
            aliases=("served", "delivered", "sold"),
            example="12",
            help="what they got (default: all)",
        ),
        Field("customer", aliases=("customer_name", "client"), example="walk-in"),
        Field(
            "order",
            aliases=("order_ref", "order_number", "reference", "order_no"),
            example="R-1001",
        ),
    ),
    "Past sales, one row per order line; demand as ordered, for the forecasts.",
)

PURCHASE_HISTORY = HistoryKind(
    "purchase-history",
    (
        Field(
            "order",
            required=True,
            aliases=("po", "po_number", "order_ref", "reference"),
            example="P-88",
        ),
        Field("supplier", required=True, aliases=("supplier_code", "vendor"), example="MILL"),
        Field("sku", required=True, aliases=SKU_ALIASES, example="FLOUR-25"),
        Field("location", required=True, aliases=LOCATION_ALIASES, example="WH"),
        Field("quantity", as_decimal, required=True, aliases=("qty", "ordered"), example="40"),
        Field("price", as_decimal, aliases=("unit_price",), example="18.40"),
        Field(
            "ordered_on",
            as_date,
            required=True,
            aliases=("order_date", "date"),
            example="2026-09-01",
        ),
        Field(
            "promised_on",
            as_date,
            aliases=("expected_on", "due_date", "promised"),
            example="2026-09-04",
        ),
        Field(
            "received_on", as_date, aliases=("delivered_on", "receipt_date"), example="2026-09-05"
        ),
        Field("received", as_decimal, aliases=("received_quantity", "delivered"), example="40"),
    ),
    "Past purchase orders, one row per line, with what was received when (supplier scorecards).",
)

HISTORY_KINDS = {k.name: k for k in (SALES_HISTORY, PURCHASE_HISTORY)}


def _at(day: date) -> datetime:
    return datetime.combine(day, ORDER_HOUR)


def _check_codes(
    rows: Sequence[tuple[int, Values]],
    field: str,
    known: dict[str, int],
    what: str,
    columns: dict[str, str],
    problems: list[Problem],
) -> None:
    for number, values in rows:
        if values[field] not in known:
            problems.append(
                Problem(
                    number,
                    columns[field],
                    f"No {what} {values[field]} exists: import it first or correct the code.",
                )
            )


def _quantities(number: int, values: Values, done: str, columns: dict[str, str]) -> list[Problem]:
    problems = []
    if values["quantity"] <= 0:
        problems.append(
            Problem(number, columns["quantity"], "The quantity must be greater than zero.")
        )
    got = values.get(done)
    if got is not None and (got < 0 or got > values["quantity"]):
        problems.append(
            Problem(
                number,
                columns[done],
                f"{done} must be between 0 and the quantity ({values['quantity']}).",
            )
        )
    return problems


def import_history(
    uow: UnitOfWork, kind: HistoryKind, rows: Sequence[tuple[int, Values]], columns: dict[str, str]
) -> tuple[int, int, list[Problem]]:
    """Check the rows against the catalog and write them as past orders in `uow`'s
    transaction (a batch). (orders added, orders updated, problems); nothing is written when
    there is a problem."""
    items, suppliers = uow.history.catalog_ids()
    codes = sorted({values["location"] for _, values in rows})
    locations = uow.catalog.location_codes(codes)
    problems: list[Problem] = []
    _check_codes(rows, "sku", items, "item", columns, problems)
    _check_codes(rows, "location", locations, "location", columns, problems)
    if kind is PURCHASE_HISTORY:
        _check_codes(rows, "supplier", suppliers, "supplier", columns, problems)
    done = "shipped" if kind is SALES_HISTORY else "received"
    for number, values in rows:
        problems.extend(_quantities(number, values, done, columns))
    if problems:
        return 0, 0, problems
    if kind is SALES_HISTORY:
        return (*_sales(uow, rows, items, locations, columns, problems), problems)
    return (*_purchases(uow, rows, items, suppliers, locations, columns, problems), problems)


def _sales(
    uow: UnitOfWork,
    rows: Sequence[tuple[int, Values]],
    items: dict[str, int],
    locations: dict[str, int],
    columns: dict[str, str],
    problems: list[Problem],
) -> tuple[int, int]:
    orders: dict[str, Values] = {}
    lines: list[Values] = []
    seen: dict[tuple[str, str, str], int] = {}
    for number, values in rows:
        customer = values.get("customer") or "imported"
        ref = values.get("order") or f"{values['date']}/{values['location']}/{customer}"
        order = orders.get(ref)
        if order is None:
            moment = _at(values["date"])
            order = orders[ref] = {
                "import_ref": ref,
                "customer": customer,
                "status": CANCELLED,
                "ordered_at": moment,
                "created_at": moment,
                "updated_at": moment,
                "_lines": 0,
            }
        elif order["ordered_at"] != _at(values["date"]) or order["customer"] != customer:
            problems.append(
                Problem(
                    number,
                    columns.get("order"),
                    f"Order {ref} has rows with different dates or customers: one order is "
                    "one day and one customer.",
                )
            )
            continue
        key = (ref, values["sku"], values["location"])
        if key in seen:
            problems.append(
                Problem(
                    number,
                    columns["sku"],
                    f"{values['sku']} at {values['location']} is on row {seen[key]} of the same "
                    "order already: put it on one row.",
                )
            )
            continue
        seen[key] = number
        asked: Decimal = values["quantity"]
        got: Decimal = values.get("shipped", asked)
        order["_lines"] += 1
        if got > 0:
            order["status"] = SHIPPED
        lines.append(
            {
                "import_ref": ref,
                "line_no": order["_lines"],
                "item_id": items[values["sku"]],
                "location_id": locations[values["location"]],
                "quantity": got if got > 0 else asked,
                "ordered_quantity": asked,
                "shipped": got,
                "short_at_order": asked - got,
                "fulfilment": FROM_STOCK,
                "requested_date": values["date"],
                "cancelled": got == 0,
            }
        )
    if problems:
        return 0, 0
    for order in orders.values():
        del order["_lines"]
    return uow.history.put_sales(list(orders.values()), lines)


def _purchases(
    uow: UnitOfWork,
    rows: Sequence[tuple[int, Values]],
    items: dict[str, int],
    suppliers: dict[str, int],
    locations: dict[str, int],
    columns: dict[str, str],
    problems: list[Problem],
) -> tuple[int, int]:
    orders: dict[str, Values] = {}
    lines: list[Values] = []
    receipts: list[Values] = []
    for number, values in rows:
        ref = values["order"]
        received_on: date | None = values.get("received_on")
        default = values["quantity"] if received_on else ZERO
        got: Decimal = values.get("received", default)  # type: ignore[assignment]
        if got > 0 and received_on is None:
            problems.append(
                Problem(
                    number,
                    columns.get("received_on", "received_on"),
                    "A line with a received quantity needs the day it was received.",
                )
            )
            continue
        order = orders.get(ref)
        moment = _at(values["ordered_on"])
        if order is None:
            order = orders[ref] = {
                "import_ref": ref,
                "supplier_id": suppliers[values["supplier"]],
                "status": CLOSED,
                "expected_date": values.get("promised_on"),
                "drop_ship_customer": None,
                "sales_order_id": None,
                "change_requested": False,
                "ordered_at": moment,
                "created_at": moment,
                "updated_at": moment,
                "_lines": 0,
            }
        elif order["supplier_id"] != suppliers[values["supplier"]] or order["ordered_at"] != moment:
            problems.append(
                Problem(
                    number,
                    columns["order"],
                    f"Order {ref} has rows with different suppliers or order dates: one order "
                    "is one supplier on one day.",
                )
            )
            continue
        order["_lines"] += 1
        lines.append(
            {
                "import_ref": ref,
                "line_no": order["_lines"],
                "item_id": items[values["sku"]],
                "location_id": locations[values["location"]],
                "quantity": values["quantity"],
                "price": values.get("price", ZERO),
                "expected_date": values.get("promised_on"),
                "confirmed_quantity": None,
                "confirmed_date": None,
                "shipped_quantity": ZERO,
                "received": got,
                "rejected": ZERO,
            }
        )
        if received_on is not None:
            receipts.append(
                {
                    "import_ref": ref,
                    "line_no": order["_lines"],
                    "received_on": received_on,
                    "promised_date": values.get("promised_on"),
                    "quantity": got,
                    "rejected": ZERO,
                    "rejected_to": None,
                    "operation_id": None,
                    "created_at": _at(received_on),
                }
            )
    if problems:
        return 0, 0
    for order in orders.values():
        del order["_lines"]
    return uow.history.put_purchases(list(orders.values()), lines, receipts)
