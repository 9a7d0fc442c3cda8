"""Past sales and purchase orders behind a loaded history (the demo business's two years).

Demand is recorded as sales orders, one per location and day (the online shop's at the
warehouse, walk-in sales at the stores), one line per item asked for: `ordered_quantity` is
what customers asked, served or not, `shipped` what they got, and `short_at_order` the lost
rest — the demand history forecasts read (`orders.demand_history`). A cake's line was baked for
its order (fulfilment `production`); a drop-shipped line (`drop_ship`) is shipped when its own
purchase order reached the customer, and still open if that is after the history's end.
Supply is recorded as the purchase orders the history's receipts came from, with the promised
date and quantity next to the actual ones — what supplier scorecards read
(`purchasing.receipt_history`); a drop-ship order names its customer and sales order.

The stock moves themselves are already in the ledger; these rows only describe them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

import polars as pl

from leanstock.demo.generate import WAREHOUSE, DemoBusiness
from leanstock.domain.errors import InvalidInput
from leanstock.domain.orders import PREFIXES, Fulfilment, PurchaseStatus, SalesStatus
from leanstock.services.ports import UnitOfWork

ZERO = Decimal(0)
ORDER_HOUR = time(12, tzinfo=UTC)
PO_HOUR = time(9, tzinfo=UTC)
ONLINE = "online"


@dataclass(frozen=True)
class OrderHistorySummary:
    sales_orders: int
    sales_lines: int
    purchase_orders: int
    purchase_lines: int
    receipts: int


def _at(day: date, hour: time) -> datetime:
    return datetime.combine(day, hour)


def record_order_history(uow: UnitOfWork, business: DemoBusiness) -> OrderHistorySummary:
    """Write the business's past orders in the caller's unit of work (the load's transaction).

    Needs the items, locations and suppliers in place and no orders yet: the purchase orders
    keep the numbers the receipts' moves already refer to (PO-000001, ...).
    """
    if not uow.history.empty():
        raise InvalidInput("The database has orders already; history goes into a new one.")
    items, suppliers = uow.history.catalog_ids()
    codes = sorted({loc.code for loc in business.locations})
    locations = uow.catalog.location_codes(codes)
    sales_orders, sales_lines = _sales(business, items, locations)
    online = {
        order["ordered_at"].date(): order["id"]
        for order in sales_orders
        if order["customer"] == ONLINE
    }
    purchase_orders, purchase_lines, receipts = _purchases(
        business, items, suppliers, locations, online
    )
    uow.history.add(sales_orders, sales_lines, purchase_orders, purchase_lines, receipts)
    return OrderHistorySummary(
        len(sales_orders),
        len(sales_lines),
        len(purchase_orders),
        len(purchase_lines),
        len(receipts),
    )


def _sales(
    business: DemoBusiness, items: dict[str, int], locations: dict[str, int]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    sold = business.profiles.filter(pl.col("outflow") == "shipment")["sku"]
    route = dict(business.profiles.select("sku", "route").iter_rows())
    dropped = business.purchase_orders.filter(pl.col("drop_ship"))
    # A drop-shipped sale is its own purchase order, placed the day it was ordered.
    delivered = {
        (day, sku): got if arrived is not None else None
        for day, sku, got, arrived in dropped.select(
            "ordered_on", "sku", "received", "received_on"
        ).iter_rows()
    }
    demand = (
        business.demand.filter(pl.col("sku").is_in(sold.implode()) & (pl.col("demanded") > 0))
        .sort("day", "location", "sku")
        .select("day", "location", "sku", "demanded", "served")
    )
    orders: list[dict[str, Any]] = []
    lines: list[dict[str, Any]] = []
    order_id = 0
    current: tuple[date, str] | None = None
    line_no = 0
    shipped_any = open_any = False
    for day, location, sku, demanded, served in demand.iter_rows():
        if (day, location) != current:
            if current is not None:
                orders[-1]["status"] = _status(shipped_any, open_any)
            order_id += 1
            current, line_no, shipped_any, open_any = (day, location), 0, False, False
            moment = _at(day, ORDER_HOUR)
            orders.append(
                {
                    "id": order_id,
                    "customer": ONLINE if location == WAREHOUSE else f"walk-in {location}",
                    "status": "",
                    "ordered_at": moment,
                    "created_at": moment,
                    "updated_at": moment,
                }
            )
        line_no += 1
        asked, got = Decimal(demanded), Decimal(served)
        fulfilment = FULFILMENT.get(route[sku], Fulfilment.STOCK)
        waiting = False
        if fulfilment is Fulfilment.DROP_SHIP:
            arrived = delivered.get((day, sku))
            got, waiting = (arrived, False) if arrived is not None else (ZERO, True)
        shipped_any = shipped_any or got > 0
        open_any = open_any or waiting
        lines.append(
            {
                "order_id": order_id,
                "line_no": line_no,
                "item_id": items[sku],
                "location_id": locations[location],
                "quantity": got if got > 0 else asked,
                "ordered_quantity": asked,
                "shipped": got,
                "short_at_order": ZERO if waiting else asked - got,
                "fulfilment": fulfilment.value,
                "requested_date": day,
                "cancelled": got == 0 and not waiting,
            }
        )
    if orders:
        orders[-1]["status"] = _status(shipped_any, open_any)
    return orders, lines


FULFILMENT = {"made_to_order": Fulfilment.PRODUCTION, "drop_ship": Fulfilment.DROP_SHIP}
"""How the history's sales lines were supplied, by the item's route (`DemoBusiness.profiles`):
a cake baked for its order, coffee equipment delivered by its supplier; the rest from stock."""


def _status(shipped: bool, waiting: bool) -> str:
    """A past walk-in sale is done: shipped what was there; what was not is lost, not owed.
    An online order still waiting for a drop-shipped line is confirmed (or partly shipped)."""
    if waiting:
        return (SalesStatus.PARTIALLY_SHIPPED if shipped else SalesStatus.CONFIRMED).value
    return SalesStatus.SHIPPED.value if shipped else SalesStatus.CANCELLED.value


def _purchases(
    business: DemoBusiness,
    items: dict[str, int],
    suppliers: dict[str, int],
    locations: dict[str, int],
    online: dict[date, int],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    prices = {(s.supplier, s.sku): s.price for s in business.supplier_items}
    frame = business.purchase_orders.with_columns(
        number=pl.col("po").str.strip_prefix(f"{PREFIXES['purchase']}-").cast(pl.Int64)
    ).sort("number", "sku", "location")
    orders: list[dict[str, Any]] = []
    lines: list[dict[str, Any]] = []
    receipts: list[dict[str, Any]] = []
    for (number,), group in frame.group_by(["number"], maintain_order=True):
        rows = group.to_dicts()
        first = rows[0]
        ordered_at = _at(first["ordered_on"] or business.end, PO_HOUR)
        received = [r["received_on"] is not None for r in rows]
        status = (
            PurchaseStatus.CLOSED
            if all(received)
            else PurchaseStatus.PARTIALLY_RECEIVED
            if any(received)
            else PurchaseStatus.RELEASED
        )
        orders.append(
            {
                "id": int(number),
                "supplier_id": suppliers[first["supplier"]],
                "status": status.value,
                "expected_date": first["promised_on"],
                "drop_ship_customer": ONLINE if first["drop_ship"] else None,
                "sales_order_id": online.get(first["ordered_on"]) if first["drop_ship"] else None,
                "change_requested": False,
                "ordered_at": ordered_at,
                "created_at": ordered_at,
                "updated_at": ordered_at,
            }
        )
        for line_no, row in enumerate(rows, 1):
            got = Decimal(row["received"]) if row["received_on"] is not None else ZERO
            line_id = len(lines) + 1
            lines.append(
                {
                    "id": line_id,
                    "order_id": int(number),
                    "line_no": line_no,
                    "item_id": items[row["sku"]],
                    "location_id": locations[row["location"]],
                    "quantity": Decimal(row["ordered"]),
                    "price": prices.get((row["supplier"], row["sku"]), ZERO),
                    "expected_date": row["promised_on"],
                    "confirmed_quantity": None,
                    "confirmed_date": None,
                    "shipped_quantity": ZERO,
                    "received": got,
                    "rejected": ZERO,
                }
            )
            if row["received_on"] is not None:
                receipts.append(
                    {
                        "purchase_line_id": line_id,
                        "received_on": row["received_on"],
                        "promised_date": row["promised_on"],
                        "quantity": got,
                        "rejected": ZERO,
                        "rejected_to": None,
                        "operation_id": None,
                        "created_at": _at(row["received_on"], PO_HOUR),
                    }
                )
    return orders, lines, receipts
