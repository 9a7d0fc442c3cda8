"""Supplier terms, purchase lines, purchase receipts and sales lines in a purchase or sales unit,
on SQLite and PostgreSQL: kept and posted in the stock unit, quantities and prices converted
exactly; a unit with no conversion refused, naming it and the item's units, changing nothing."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from leanstock.adapters.db import tables as t
from leanstock.adapters.db.uow import UnitOfWork
from leanstock.domain.catalog import Item, Location, PriceBreak, Supplier, SupplierItem
from leanstock.domain.errors import InvalidInput, InvalidQuantity, WrongUnit
from leanstock.services import catalog, orders, purchasing, queries, valuation

D = Decimal


@pytest.fixture
def bakery(uow: UnitOfWork) -> UnitOfWork:
    catalog.add_location(uow, Location("WH", "Warehouse"))
    catalog.add_item(uow, Item("FLOUR", "Flour", unit="kg", unit_cost=D("0.9")))
    catalog.add_item(uow, Item("EGG", "Egg", unit_cost=D("0.25")))
    catalog.add_supplier(uow, Supplier("MILL", "Mill"))
    valuation.put_unit(uow, "FLOUR", "sack", D(25))
    valuation.put_unit(uow, "FLOUR", "bag", D(3))
    valuation.put_unit(uow, "EGG", "dozen", D(12))
    return uow


def on_hand(uow: UnitOfWork, sku: str) -> Decimal:
    rows = queries.stock(uow, sku, "WH").items
    return rows[0]["on_hand"] if rows else D(0)


def test_supplier_terms_in_sacks_are_kept_per_kg(bakery: UnitOfWork) -> None:
    terms = SupplierItem(
        "MILL",
        "FLOUR",
        D(20),
        3,
        moq=D(4),
        pack_size=D(1),
        price_breaks=(PriceBreak(D(10), D(18)),),
    )
    kept = catalog.add_supplier_item(bakery, terms, unit="sack")
    assert (kept.price, kept.moq, kept.pack_size) == (D("0.8"), D(100), D(25))
    assert kept.price_breaks == (PriceBreak(D(250), D("0.72")),)
    changed = catalog.update_supplier_item(
        bakery, "MILL", "FLOUR", {"price": D("22.5"), "moq": D(2)}, unit="sack"
    )
    assert (changed.price, changed.moq, changed.pack_size) == (D("0.9"), D(50), D(25))
    stored = catalog.list_supplier_items(bakery, supplier="MILL").items
    assert [(s.price, s.moq) for s in stored] == [(D("0.9"), D(50))]


def test_a_price_the_factor_does_not_divide_is_rounded_half_even_to_six_places(
    bakery: UnitOfWork,
) -> None:
    kept = catalog.add_supplier_item(bakery, SupplierItem("MILL", "FLOUR", D(10), 3), unit="bag")
    assert kept.price == D("3.333333")  # 10 / 3 kg
    assert kept.moq == D(3)


def test_terms_in_a_unit_with_no_conversion_are_refused_naming_it(bakery: UnitOfWork) -> None:
    with pytest.raises(WrongUnit) as raised:
        catalog.add_supplier_item(bakery, SupplierItem("MILL", "FLOUR", D(10), 3), unit="tonne")
    assert raised.value.field == "unit"
    assert "'tonne'" in raised.value.detail
    assert "bag, sack" in raised.value.detail
    assert catalog.list_supplier_items(bakery, supplier="MILL").items == []


def test_a_purchase_line_and_its_receipt_in_sacks_post_kg_at_the_converted_price(
    bakery: UnitOfWork,
) -> None:
    line = purchasing.NewPurchaseLine("FLOUR", D(2), "WH", price=D(21), unit="sack")
    po = purchasing.add_to_draft(bakery, "MILL", [line])
    assert [(ln.quantity, ln.price) for ln in po.lines] == [(D(50), D("0.84"))]
    purchasing.release(bakery, po.number)
    with pytest.raises(WrongUnit) as raised:
        purchasing.receive(bakery, po.number, [purchasing.ReceiptLine(1, D(2), unit="crate")])
    assert "'crate'" in raised.value.detail
    assert on_hand(bakery, "FLOUR") == 0
    received = purchasing.receive(
        bakery, po.number, [purchasing.ReceiptLine(1, D("1.5"), unit="sack")]
    )
    assert [(ln.received, ln.outstanding) for ln in received.lines] == [(D("37.5"), D("12.5"))]
    assert on_hand(bakery, "FLOUR") == D("37.5")
    with bakery:
        costs = bakery.connection.execute(select(t.moves.c.quantity, t.moves.c.unit_cost)).all()
    assert costs == [(D("37.5"), D("0.84"))]


def test_a_sales_line_in_dozens_is_kept_in_eggs_and_a_part_egg_is_refused(
    bakery: UnitOfWork,
) -> None:
    order = orders.place_order(
        bakery, "Cafe", [orders.NewLine("EGG", D("2.5"), "WH", unit="dozen")]
    )
    assert [ln.quantity for ln in order.lines] == [D(30)]
    with pytest.raises(InvalidQuantity) as raised:
        orders.place_order(bakery, "Cafe", [orders.NewLine("EGG", D("0.1"), "WH", unit="dozen")])
    assert "whole" in raised.value.detail
    with pytest.raises(InvalidInput) as unknown:
        orders.place_order(
            bakery,
            "Cafe",
            [orders.NewLine("EGG", D(1), "WH"), orders.NewLine("EGG", D(1), "WH", unit="tray")],
        )
    assert unknown.value.field == "lines[1].unit"
    assert "dozen" in unknown.value.detail
    assert orders.list_orders(bakery).total == 1
