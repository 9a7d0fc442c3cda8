"""Backorders filled as stock arrives, and lots carried through transfers and production, on
SQLite and PostgreSQL: every kind of arrival reserves
for waiting lines, fairly, and the order then ships."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from leanstock.adapters.db.uow import UnitOfWork
from leanstock.domain.catalog import Item, ItemKind, Location, LocationKind, Supplier, SupplierItem
from leanstock.services import (
    catalog,
    orders,
    production,
    purchasing,
    queries,
    stock,
    transfers,
)

D = Decimal
TODAY = datetime.now(UTC).date()


@pytest.fixture
def shop(uow: UnitOfWork) -> UnitOfWork:
    catalog.add_location(uow, Location("WH", "Warehouse"))
    catalog.add_location(uow, Location("SHOP", "Shop", LocationKind.STORE))
    catalog.add_item(uow, Item("MUG", "Mug"))
    catalog.add_item(uow, Item("CLAY", "Clay", unit="kg"))
    catalog.add_item(uow, Item("VASE", "Vase", kind=ItemKind.MADE))
    catalog.add_supplier(uow, Supplier("POTTER", "Potter"))
    catalog.add_supplier_item(uow, SupplierItem("POTTER", "MUG", D(3), 5))
    return uow


def reserved(uow: UnitOfWork, number: str) -> Decimal:
    return orders.get_order(uow, number).lines[0].reserved


def sell(uow: UnitOfWork, sku: str, quantity: int, location: str = "WH") -> str:
    line = orders.NewLine(sku, D(quantity), location)
    return orders.place_order(uow, "Ann", [line], confirm=True).number


def test_a_receipt_fills_backorders_oldest_first_then_the_order_ships(shop: UnitOfWork) -> None:
    first, second = sell(shop, "MUG", 2), sell(shop, "MUG", 4)
    stock.receive(shop, "MUG", "WH", D(5))
    assert (reserved(shop, first), reserved(shop, second)) == (D(2), D(3))
    assert orders.ship_order(shop, first).status == "shipped"
    events = [e["event"] for e in orders.order_events(shop, second)[0]]
    assert events[-1] == "sales_line.backorder_filled"


def test_a_purchase_delivery_fills_a_backorder(shop: UnitOfWork) -> None:
    number = sell(shop, "MUG", 3)
    po = purchasing.add_to_draft(shop, "POTTER", [purchasing.NewPurchaseLine("MUG", D(10), "WH")])
    purchasing.release(shop, po.number)
    purchasing.receive(shop, po.number, [purchasing.ReceiptLine(1, D(10))])
    assert reserved(shop, number) == D(3)


def test_a_transfer_in_fills_a_backorder_at_the_store(shop: UnitOfWork) -> None:
    number = sell(shop, "MUG", 2, "SHOP")
    stock.receive(shop, "MUG", "WH", D(5))
    order = transfers.create_transfer_order(shop, "MUG", "WH", "SHOP", D(5))
    transfers.ship_transfer(shop, order.number)
    transfers.receive_transfer(shop, order.number)
    assert reserved(shop, number) == D(2)


def test_production_output_fills_a_backorder(shop: UnitOfWork) -> None:
    production.put_bom(shop, "VASE", [("CLAY", D(2), D(0))])
    stock.receive(shop, "CLAY", "WH", D(10))
    number = sell(shop, "VASE", 2)
    order = production.create_production_order(shop, "VASE", D(3), "WH")
    production.release_production(shop, order.number)
    production.start_production_order(shop, order.number)
    production.produce(shop, order.number, D(3))
    assert reserved(shop, number) == D(2)


def test_cancelling_a_filled_line_passes_its_stock_to_the_next(shop: UnitOfWork) -> None:
    first, second = sell(shop, "MUG", 2), sell(shop, "MUG", 2)
    stock.receive(shop, "MUG", "WH", D(2))
    orders.cancel_order(shop, first)
    assert reserved(shop, second) == D(2)


def test_a_transfer_keeps_its_lots_and_their_expiry_through_transit(shop: UnitOfWork) -> None:
    catalog.add_item(shop, Item("MILK", "Milk", lot_tracked=True, shelf_life_days=10))
    soon = TODAY + timedelta(days=3)
    later = TODAY + timedelta(days=8)
    stock.receive(shop, "MILK", "WH", D(4), lot="L-LATE", expires_on=later)
    stock.receive(shop, "MILK", "WH", D(3), lot="L-SOON", expires_on=soon)
    order = transfers.create_transfer_order(shop, "MILK", "WH", "SHOP", D(5))
    transfers.ship_transfer(shop, order.number)
    transfers.receive_transfer(shop, order.number, D(4))  # one lost on the way
    rows = queries.lots(shop, "MILK", "SHOP")
    assert {(r["lot"], r["quantity"], r["expires_on"]) for r in rows} == {
        ("L-SOON", D(3), soon),
        ("L-LATE", D(1), later),
    }


def test_a_batch_gets_its_own_lot_expiring_no_later_than_its_components(
    shop: UnitOfWork,
) -> None:
    catalog.add_item(shop, Item("CREAM", "Cream", lot_tracked=True))
    catalog.add_item(
        shop, Item("CAKE", "Cake", kind=ItemKind.MADE, lot_tracked=True, shelf_life_days=5)
    )
    production.put_bom(shop, "CAKE", [("CREAM", D(1), D(0))])
    early, late = TODAY + timedelta(days=2), TODAY + timedelta(days=9)
    stock.receive(shop, "CREAM", "WH", D(1), lot="C-LATE", expires_on=late)
    stock.receive(shop, "CREAM", "WH", D(1), lot="C-EARLY", expires_on=early)
    order = production.create_production_order(shop, "CAKE", D(1), "WH")
    production.release_production(shop, order.number)
    production.start_production_order(shop, order.number)
    production.produce(shop, order.number, D(1))
    (cake,) = queries.lots(shop, "CAKE", "WH")
    assert (cake["lot"], cake["quantity"], cake["expires_on"]) == (order.number, D(1), early)
    (left,) = queries.lots(shop, "CREAM", "WH")
    assert left["lot"] == "C-LATE"  # the first-expiring lot went into the cake
