"""A small shop for the items list's tests, worked out by hand (tests/integration/
test_item_list.py has the table): on the database and on the in-memory unit of work alike."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from leanstock.domain.catalog import Item, Location, LocationKind
from leanstock.domain.ledger import ShipmentReason
from leanstock.services import catalog, stock
from leanstock.services.ports import UnitOfWork

NOW = datetime.now(UTC)
TODAY = NOW.date()
SALE = ShipmentReason.SALE


def open_item_shop(uow: UnitOfWork) -> None:
    catalog.add_location(uow, Location("WH", "Warehouse"))
    catalog.add_location(uow, Location("STORE", "Store", LocationKind.STORE))
    catalog.add_item(uow, Item("BREAD", "Bread", category="bakery", unit_cost=Decimal(2)))
    catalog.add_item(
        uow, Item("MILK", "Milk", category="dairy", unit_cost=Decimal(1), lot_tracked=True)
    )
    catalog.add_item(uow, Item("SALT", "Salt", category="dry", unit_cost=Decimal(5)))
    long_ago = NOW - timedelta(days=80)
    stock.receive(uow, "BREAD", "WH", Decimal(200), occurred_at=long_ago)
    stock.ship(uow, "BREAD", "WH", Decimal(100), reason=SALE, occurred_at=NOW - timedelta(days=60))
    stock.ship(uow, "BREAD", "WH", Decimal(56), reason=SALE, occurred_at=NOW - timedelta(days=10))
    stock.receive(uow, "BREAD", "STORE", Decimal(20))
    stock.reserve(uow, "BREAD", "WH", Decimal(14), "SO-1")
    old, new = TODAY - timedelta(days=1), TODAY + timedelta(days=10)
    stock.receive(uow, "MILK", "WH", Decimal(10), lot="OLD", expires_on=old, occurred_at=long_ago)
    stock.receive(uow, "MILK", "WH", Decimal(58), lot="NEW", expires_on=new, occurred_at=long_ago)
    stock.ship(
        uow, "MILK", "WH", Decimal(28), lot="NEW", reason=SALE, occurred_at=NOW - timedelta(days=5)
    )
    stock.reserve(uow, "MILK", "WH", Decimal(10), "SO-2")
