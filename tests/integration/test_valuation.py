"""Costing on the ledger, on SQLite and PostgreSQL: receipts at their cost, the PO price, an
opening count, production at its components' cost plus conversion, units of measure."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from leanstock.adapters.db.uow import UnitOfWork
from leanstock.domain.catalog import CostingMethod, Item, ItemKind, Location, LocationKind, Supplier
from leanstock.domain.errors import InvalidInput, InvalidQuantity, WrongUnit
from leanstock.domain.ledger import ScrapReason
from leanstock.services import (
    catalog,
    orders,
    production,
    purchasing,
    queries,
    returns,
    stock,
    valuation,
)
from leanstock.services.purchasing import NewPurchaseLine, ReceiptLine
from leanstock.services.stock import StockLine, quarantine

D = Decimal
NOW = datetime.now(UTC).replace(microsecond=0)


def days_ago(n: int) -> datetime:
    return NOW - timedelta(days=n)


@pytest.fixture
def shop(uow: UnitOfWork) -> UnitOfWork:
    catalog.add_location(uow, Location("WH", "Warehouse"))
    catalog.add_location(uow, Location("STORE", "Store", LocationKind.STORE))
    catalog.add_item(uow, Item("CUP", "Paper cup", unit_cost=D("0.10")))
    catalog.add_item(
        uow, Item("TEA", "Tea", unit="kg", costing=CostingMethod.MOVING_AVERAGE, category="tea")
    )
    catalog.add_item(uow, Item("FLOUR", "Flour", unit="kg", category="bakery"))
    catalog.add_item(uow, Item("CHAIR", "Chair", divisible=False))
    catalog.add_supplier(uow, Supplier("ACME", "Acme"))
    return uow


def values(uow: UnitOfWork, **filters: object) -> dict[tuple[str, str], tuple[Decimal, Decimal]]:
    found = valuation.stock_value(uow, **filters)  # type: ignore[arg-type]
    return {(x.sku, x.location): (x.quantity, x.value) for x in found.lines}


def test_fifo_and_moving_average_match_the_hand_computed_example(shop: UnitOfWork) -> None:
    for sku in ("CUP", "TEA"):
        stock.receive(shop, sku, "WH", D(10), unit_cost=D(2), occurred_at=days_ago(3))
        stock.receive(shop, sku, "WH", D(10), unit_cost=D(3), occurred_at=days_ago(2))
        stock.ship(shop, sku, "WH", D(15), occurred_at=days_ago(1))
    # FIFO: 10 × 2 + 5 × 3 = 35 sold, 5 × 3 = 15 left. Average 2.50: 37.50 sold, 12.50 left.
    assert values(shop) == {("CUP", "WH"): (D(5), D(15)), ("TEA", "WH"): (D(5), D("12.5"))}
    flows = valuation.cost_flows(shop, since=days_ago(1) - timedelta(hours=1))
    by_sku = {x.sku: x for x in flows.lines}
    assert by_sku["CUP"].cost_of_goods_sold == D(35)
    assert by_sku["TEA"].cost_of_goods_sold == D("37.5")
    assert by_sku["CUP"].opening_value == D(50)
    assert flows.cost_of_goods_sold == D("72.5")
    assert flows.opening_value + flows.inflow == flows.outflow + flows.closing_value
    # As of two days ago, before the shipment.
    then = values(shop, as_of=days_ago(2) + timedelta(hours=1))
    assert then[("CUP", "WH")] == (D(20), D(50))


def test_a_receipt_without_a_cost_takes_the_items_unit_cost_and_transfers_keep_it(
    shop: UnitOfWork,
) -> None:
    stock.receive(shop, "CUP", "WH", D(100))
    stock.receive(shop, "CUP", "WH", D(100), unit_cost=D("0.20"))
    stock.transfer(shop, "CUP", "WH", "STORE", D(150))
    assert values(shop, sku="CUP") == {
        ("CUP", "WH"): (D(50), D(10)),
        ("CUP", "STORE"): (D(150), D(20)),  # 100 × 0.10 + 50 × 0.20
    }
    stock.scrap(shop, "CUP", "STORE", D(120), ScrapReason.DAMAGE)
    flows = valuation.cost_flows(shop, sku="CUP", location="STORE")
    (line,) = flows.lines
    assert line.flows == {"scrapped": D(-14), "transferred_in": D(20)}
    assert line.closing_value == D(6)


def test_returns_and_quarantine_carry_value(shop: UnitOfWork) -> None:
    stock.receive(shop, "CUP", "WH", D(10), unit_cost=D("0.20"), occurred_at=days_ago(5))
    sold = orders.place_order(shop, "Ann", [orders.NewLine("CUP", D(4), "WH")], confirm=True)
    orders.ship_order(shop, sold.number)
    # A customer return arrives at the item's unit cost (0.10), to stock or to quarantine.
    returns.return_goods(shop, sold.number, 1, D(2), returns.ReturnTo.STOCK)
    returns.return_goods(shop, sold.number, 1, D(1), returns.ReturnTo.QUARANTINE)
    assert values(shop, sku="CUP") == {
        ("CUP", "WH"): (D(8), D("1.4")),  # 6 × 0.20 + 2 × 0.10
        ("CUP", "QUARANTINE"): (D(1), D("0.1")),
    }
    stock.receive(shop, "CUP", "QUARANTINE", D(3), unit_cost=D("0.50"))
    # A release moves value like a transfer: FIFO, 1 × 0.10 + 1 × 0.50.
    quarantine.release(shop, "CUP", D(2), "WH")
    assert values(shop, sku="CUP") == {
        ("CUP", "WH"): (D(10), D(2)),
        ("CUP", "QUARANTINE"): (D(2), D(1)),
    }
    # A return to the supplier takes its value out.
    quarantine.return_to_supplier(shop, "CUP", D(2), supplier="ACME")
    assert values(shop, sku="CUP") == {("CUP", "WH"): (D(10), D(2))}
    (held,) = valuation.cost_flows(shop, sku="CUP", location="QUARANTINE").lines
    assert held.flows == {
        "received": D("1.5"),
        "returned_in": D("0.1"),
        "transferred_out": D("-0.6"),
        "returned_out": D(-1),
    }
    assert held.closing_value == 0
    (wh,) = valuation.cost_flows(shop, sku="CUP", location="WH").lines
    assert wh.flows["returned_in"] == D("0.2")
    assert wh.cost_of_goods_sold == D("0.8")


def test_an_opening_count_values_the_stock_it_finds_at_the_cost_given(shop: UnitOfWork) -> None:
    stock.count(shop, "FLOUR", "WH", D(40), unit_cost=D("0.75"))
    stock.count(shop, "FLOUR", "WH", D(30))  # 10 lost, at 0.75
    assert values(shop)[("FLOUR", "WH")] == (D(30), D("22.5"))
    with pytest.raises(InvalidQuantity) as error:
        stock.count(shop, "FLOUR", "WH", D(50), unit_cost=D(-1))
    assert error.value.field == "unit_cost"


def test_a_purchase_delivery_is_valued_at_the_po_price(shop: UnitOfWork) -> None:
    po = purchasing.add_to_draft(shop, "ACME", [NewPurchaseLine("CUP", D(40), "WH", D("0.12"))])
    purchasing.release(shop, po.number)
    purchasing.receive(shop, po.number, [ReceiptLine(1, D(40))])
    assert values(shop) == {("CUP", "WH"): (D(40), D("4.8"))}


def test_production_is_valued_at_its_components_plus_conversion_cost(shop: UnitOfWork) -> None:
    catalog.add_item(shop, Item("BREAD", "Bread", kind=ItemKind.MADE))
    production.put_bom(shop, "BREAD", [("FLOUR", D("0.5"), D(0))])
    stock.receive(shop, "FLOUR", "WH", D(25), unit_cost=D("0.80"))
    order = production.create_production_order(shop, "BREAD", D(10), "WH")
    production.release_production(shop, order.number)
    production.start_production_order(shop, order.number)
    production.produce(shop, order.number, D(10), conversion_cost=D(6))
    # 5 kg of flour at 0.80 = 4.00, plus 6.00 of conversion: 10 loaves at 1.00.
    found = values(shop)
    assert found[("BREAD", "WH")] == (D(10), D(10))
    assert found[("FLOUR", "WH")] == (D(20), D(16))
    stock.ship(shop, "BREAD", "WH", D(3))
    assert valuation.cost_flows(shop, sku="BREAD").cost_of_goods_sold == D(3)


def test_a_lot_tracked_output_keeps_its_batch_lot_and_its_cost(shop: UnitOfWork) -> None:
    catalog.add_item(
        shop, Item("CAKE", "Cake", kind=ItemKind.MADE, lot_tracked=True, shelf_life_days=3)
    )
    production.put_bom(shop, "CAKE", [("FLOUR", D(2), D(0))])
    stock.receive(shop, "FLOUR", "WH", D(10), unit_cost=D("0.50"))
    order = production.create_production_order(shop, "CAKE", D(4), "WH")
    production.release_production(shop, order.number)
    production.start_production_order(shop, order.number)
    production.produce(shop, order.number, D(2), conversion_cost=D(1))
    production.produce(shop, order.number, D(2), lot="MINE", conversion_cost=D(3))
    # Each output: 4 kg of flour at 0.50 = 2.00, plus its conversion cost.
    assert values(shop, sku="CAKE") == {("CAKE", "WH"): (D(4), D(8))}
    held = {row["lot"]: row["quantity"] for row in queries.lots(shop, "CAKE", "WH")}
    (batch,) = set(held) - {"MINE"}
    assert batch.startswith(order.number)  # the batch's own lot
    assert held == {batch: D(2), "MINE": D(2)}


def test_a_purchase_unit_converts_to_the_stock_unit_with_its_cost(shop: UnitOfWork) -> None:
    valuation.put_unit(shop, "FLOUR", "sack", D(25))
    stock.receive(shop, "FLOUR", "WH", D(2), unit="sack", unit_cost=D(20))
    assert values(shop)[("FLOUR", "WH")] == (D(50), D(40))  # 0.80 a kg
    stock.ship(shop, "FLOUR", "WH", D(1), unit="sack")
    assert values(shop)[("FLOUR", "WH")] == (D(25), D(20))
    assert [(u.unit, u.factor) for u in valuation.units(shop, "FLOUR")] == [("sack", D(25))]


def test_a_unit_without_a_conversion_is_refused_and_changes_nothing(shop: UnitOfWork) -> None:
    with pytest.raises(WrongUnit) as error:
        stock.receive(shop, "FLOUR", "WH", D(2), unit="bag")
    assert error.value.field == "unit"
    assert "PUT /api/v1/items/FLOUR/units/bag" in error.value.detail
    with pytest.raises(InvalidInput):
        valuation.put_unit(shop, "FLOUR", "kg", D(2))  # the stock unit itself
    with pytest.raises(InvalidQuantity):
        valuation.put_unit(shop, "FLOUR", "sack", D(0))
    assert values(shop) == {}


def test_an_indivisible_item_refuses_fractions_even_after_conversion(shop: UnitOfWork) -> None:
    with pytest.raises(InvalidInput) as error:
        stock.receive(shop, "CHAIR", "WH", D("1.5"))
    assert error.value.field == "quantity"
    valuation.put_unit(shop, "CHAIR", "set", D(4))
    stock.receive(shop, "CHAIR", "WH", D(2), unit="set")
    with pytest.raises(InvalidInput) as error:  # 0.3 set = 1.2 chairs
        stock.ship_lines(shop, "WH", [StockLine("CHAIR", D("0.3"), "set")])
    assert "whole" in error.value.detail
    stock.ship(shop, "CHAIR", "WH", D("0.25"), unit="set")
    assert values(shop)[("CHAIR", "WH")][0] == D(7)


def test_the_company_method_cannot_change_once_it_values_moves(shop: UnitOfWork) -> None:
    assert valuation.get_costing_method(shop) is CostingMethod.FIFO
    valuation.set_costing_method(shop, CostingMethod.MOVING_AVERAGE)
    stock.receive(shop, "CUP", "WH", D(1))
    with pytest.raises(InvalidInput) as error:
        valuation.set_costing_method(shop, CostingMethod.FIFO)
    assert error.value.field == "method"
    assert valuation.get_costing_method(shop) is CostingMethod.MOVING_AVERAGE
    with pytest.raises(InvalidInput):
        catalog.update_item(shop, "CUP", {"costing": CostingMethod.FIFO})
