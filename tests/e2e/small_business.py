"""A small business with history: a warehouse and a café, sales enough to forecast and plan."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np
from sqlalchemy import Engine

from leanstock.adapters.db.uow import UnitOfWork
from leanstock.domain.catalog import (
    Item,
    ItemKind,
    Location,
    Policy,
    Supplier,
    SupplierItem,
)
from leanstock.services import catalog, stock
from leanstock.services.orders import NewLine, place_order, ship_order

WEEKS = 20


def cafe_with_history(engine: Engine) -> None:
    """A warehouse selling beans and a café selling cups, both bought from a roaster, with 20
    weeks of sales, and a cake made to order: enough for a forecast and a plan."""
    uow = UnitOfWork(engine)
    catalog.add_location(uow, Location("WH", "Warehouse"))
    catalog.add_location(uow, Location("CAFE", "Café"))
    catalog.add_item(uow, Item("BEANS", "Coffee beans", unit="kg", unit_cost=Decimal(12)))
    catalog.add_item(uow, Item("CUPS", "Cups", unit_cost=Decimal("0.05")))
    catalog.add_item(uow, Item("CAKE", "Cake", kind=ItemKind.MADE, policy=Policy.MAKE_TO_ORDER))
    catalog.add_supplier(uow, Supplier("ROAST", "Roastery"))
    catalog.add_supplier_item(uow, SupplierItem("ROAST", "BEANS", Decimal(11), 7))
    catalog.add_supplier_item(uow, SupplierItem("ROAST", "CUPS", Decimal("0.04"), 7))
    rng = np.random.default_rng(3)
    start = datetime.now(UTC).replace(hour=9, minute=0, second=0, microsecond=0)
    start -= timedelta(days=start.weekday() + 7 * WEEKS)
    # The opening stock was there before the history it served (no past may go negative).
    stock.receive(uow, "BEANS", "WH", Decimal(2000), occurred_at=start - timedelta(days=1))
    stock.receive(uow, "CUPS", "CAFE", Decimal(3000), occurred_at=start - timedelta(days=1))
    for week in range(WEEKS):
        lines = [
            NewLine("BEANS", Decimal(int(rng.poisson(40)) + 1), "WH"),
            NewLine("CUPS", Decimal(int(rng.poisson(60)) + 1), "CAFE"),
        ]
        when = start + timedelta(weeks=week)
        order = place_order(uow, f"Guest {week}", lines, confirm=True, ordered_at=when)
        ship_order(uow, order.number, occurred_at=when + timedelta(hours=2))
    stock.count(uow, "BEANS", "WH", Decimal(5))
    stock.count(uow, "CUPS", "CAFE", Decimal(5))
