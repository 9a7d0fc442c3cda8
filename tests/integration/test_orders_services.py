"""The order services on SQLite and PostgreSQL: propagation, receipts, history frames, refusals."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import polars as pl
import pytest

from leanstock.adapters.db.uow import UnitOfWork
from leanstock.domain.catalog import (
    Item,
    ItemKind,
    Location,
    LocationKind,
    Policy,
    Supplier,
    SupplierItem,
)
from leanstock.domain.errors import Conflict, InvalidInput, InvalidTransition, OutOfStock
from leanstock.domain.ledger import ShipmentReason
from leanstock.domain.orders import RejectTo
from leanstock.services import (
    catalog,
    orders,
    production,
    purchasing,
    queries,
    returns,
    stock,
    transfers,
)

D = Decimal


def today() -> date:
    """Today in UTC, as the services judge it, read when it is used (not when the module was
    imported, which under xdist can be minutes earlier, on the other side of midnight)."""
    return datetime.now(UTC).date()


@pytest.fixture
def business(uow: UnitOfWork) -> UnitOfWork:
    catalog.add_location(uow, Location("WH", "Warehouse"))
    catalog.add_location(uow, Location("SHOP", "Shop", LocationKind.STORE))
    catalog.add_supplier(uow, Supplier("MILL", "Mill"))
    catalog.add_supplier(uow, Supplier("SLOW", "Slow Ltd"))
    for item in (
        Item("FLOUR", "Flour", unit="kg", policy=Policy.BUY_TO_ORDER),
        Item("SUGAR", "Sugar", unit="kg", policy=Policy.BUY_TO_ORDER),
        Item("CAKE", "Cake", kind=ItemKind.MADE, policy=Policy.MAKE_TO_ORDER),
        Item("CUP", "Cup"),
    ):
        catalog.add_item(uow, item)
    catalog.add_supplier_item(uow, SupplierItem("MILL", "FLOUR", D(1), 2, moq=D(10)))
    catalog.add_supplier_item(uow, SupplierItem("SLOW", "SUGAR", D(2), 6))
    production.put_bom(uow, "CAKE", [("FLOUR", D(1), D(0)), ("SUGAR", D("0.5"), D(0))], 1)
    return uow


def one_line(uow: UnitOfWork, sku: str, quantity: int, location: str = "WH") -> str:
    view = orders.place_order(
        uow, "Ann", [orders.NewLine(sku, D(quantity), location)], confirm=True
    )
    return view.number


def _unbalanced(uow: UnitOfWork) -> list[int]:
    with uow:
        found: list[int] = uow.ledger.ledger_check()["unbalanced_items"]
    return found


def test_cancelling_a_made_to_order_line_cancels_its_production_and_component_drafts(
    business: UnitOfWork,
) -> None:
    uow = business
    number = one_line(uow, "CAKE", 4)
    (mo,) = production.list_production_orders(uow).items
    assert mo["status"] == "draft"
    pos = {p["supplier"]: p for p in purchasing.list_purchase_orders(uow).items}
    assert (pos["MILL"]["quantity"], pos["SLOW"]["quantity"]) == (10, 2)
    promised = orders.get_order(uow, number).lines[0].promise_date
    assert promised == today() + timedelta(days=7)  # sugar in 6 days, a day to bake
    orders.cancel_order(uow, number, actor="ops")
    assert production.list_production_orders(uow).items[0]["status"] == "cancelled"
    assert {p["status"] for p in purchasing.list_purchase_orders(uow).items} == {"cancelled"}


def test_reducing_a_line_whose_supply_is_released_flags_a_change_request(
    business: UnitOfWork,
) -> None:
    uow = business
    number = one_line(uow, "SUGAR", 5)
    (po,) = purchasing.list_purchase_orders(uow).items
    purchasing.release(uow, po["number"])
    orders.change_line(uow, number, 1, D(3), actor="ops")
    after = purchasing.get_purchase_order(uow, po["number"])
    assert after.change_requested
    assert after.lines[0].quantity == 5
    with uow:
        events = [e["event"] for e in uow.outbox.events(po["number"])]
    assert "purchase_order.change_requested" in events


def test_a_short_acknowledgement_unpegs_the_newest_demand(business: UnitOfWork) -> None:
    uow = business
    first = one_line(uow, "SUGAR", 3)
    second = one_line(uow, "SUGAR", 2)
    (po,) = purchasing.list_purchase_orders(uow).items
    purchasing.release(uow, po["number"])
    purchasing.acknowledge(uow, po["number"], {1: (D(3), today() + timedelta(days=8))})
    assert orders.get_order(uow, first).lines[0].promise_date == today() + timedelta(days=8)
    later = orders.get_order(uow, second).lines[0]
    assert later.pegs[0].status == "cancelled"
    assert later.promise_date == today() + timedelta(days=6)  # back to a full lead time


def test_receipts_reserve_for_pegs_first_and_rejects_never_reach_stock(
    business: UnitOfWork,
) -> None:
    uow = business
    number = one_line(uow, "FLOUR", 4)
    (po,) = purchasing.list_purchase_orders(uow).items
    purchasing.release(uow, po["number"])
    late = today() - timedelta(days=1)
    purchasing.receive(
        uow,
        po["number"],
        [purchasing.ReceiptLine(1, D(3), D(2), RejectTo.SUPPLIER)],
        received_on=late,
    )
    (row,) = queries.stock(uow, "FLOUR", "WH").items
    assert (row["on_hand"], row["reserved"]) == (3, 3)
    assert [r["location"] for r in queries.stock(uow, "FLOUR").items] == ["WH"]
    purchasing.receive(uow, po["number"], [purchasing.ReceiptLine(1, D(5), D(1))])
    (row,) = queries.stock(uow, "FLOUR", "WH").items
    assert (row["on_hand"], row["reserved"]) == (8, 4)
    (quarantined,) = queries.stock(uow, "FLOUR", "QUARANTINE").items
    assert quarantined["on_hand"] == 1
    line = orders.get_order(uow, number).lines[0]
    assert (line.reserved, line.promise_date) == (D(4), today())
    history = purchasing.receipt_history(uow)
    assert history.columns == [
        "supplier",
        "item",
        "ordered_at",
        "promised_date",
        "received_date",
        "ordered_qty",
        "received_qty",
        "rejected_qty",
        "line_id",
        "requested_date",
        "first_confirmed_date",
    ]
    assert history.select("received_date", "received_qty", "rejected_qty").rows() == [
        (late, 5.0, 2.0),
        (today(), 6.0, 1.0),
    ]
    assert history["promised_date"].to_list() == [today() + timedelta(days=2)] * 2
    assert _unbalanced(uow) == []


def test_closing_short_sends_waiting_lines_back_to_backorder(business: UnitOfWork) -> None:
    uow = business
    number = one_line(uow, "FLOUR", 10)
    (po,) = purchasing.list_purchase_orders(uow).items
    purchasing.release(uow, po["number"])
    purchasing.receive(uow, po["number"], [purchasing.ReceiptLine(1, D(6))])
    purchasing.close(uow, po["number"])
    line = orders.get_order(uow, number).lines[0]
    assert line.reserved == 6
    assert line.pegs[0].status == "cancelled"
    assert line.promise_date == today() + timedelta(days=2)


def test_a_production_order_cannot_start_while_a_component_is_short(
    business: UnitOfWork,
) -> None:
    uow = business
    stock.receive(uow, "FLOUR", "WH", D(5))
    mo = production.create_production_order(uow, "CAKE", D(2), "WH")
    assert [(c.sku, c.reserved) for c in mo.components] == [("FLOUR", D(2)), ("SUGAR", D(0))]
    production.release_production(uow, mo.number)
    with pytest.raises(OutOfStock):
        production.start_production_order(uow, mo.number)
    assert production.get_production_order(uow, mo.number).status == "released"
    (flour,) = queries.stock(uow, "FLOUR", "WH").items
    assert (flour["on_hand"], flour["reserved"]) == (5, 2)


def test_a_make_to_order_item_without_a_bom_is_refused_and_nothing_changes(
    business: UnitOfWork,
) -> None:
    uow = business
    catalog.add_item(uow, Item("PIE", "Pie", kind=ItemKind.MADE, policy=Policy.MAKE_TO_ORDER))
    with pytest.raises(Conflict, match="no bill of materials"):
        one_line(uow, "PIE", 1)
    assert orders.list_orders(uow).total == 0


def test_a_transfer_that_arrives_short_writes_off_the_rest(business: UnitOfWork) -> None:
    uow = business
    stock.receive(uow, "CUP", "WH", D(10))
    to = transfers.create_transfer_order(uow, "CUP", "WH", "SHOP", D(6))
    with pytest.raises(OutOfStock):
        transfers.create_transfer_order(uow, "CUP", "WH", "SHOP", D(5))
    transfers.ship_transfer(uow, to.number)
    with pytest.raises(InvalidTransition):
        transfers.cancel_transfer(uow, to.number)
    transfers.receive_transfer(uow, to.number, D(5))
    assert queries.stock(uow, "CUP", "SHOP").items[0]["on_hand"] == 5
    assert queries.stock(uow, "CUP", "WH").items[0]["on_hand"] == 4
    assert _unbalanced(uow) == []


def test_demand_history_counts_demand_at_order_time_per_period(business: UnitOfWork) -> None:
    uow = business
    stock.receive(uow, "CUP", "WH", D(3))
    days = [datetime(2026, 3, d, 10, tzinfo=UTC) for d in (2, 3, 9, 10)]
    for moment, quantity in zip(days, (2, 2, 1, 1), strict=True):
        orders.place_order(
            uow, "Ann", [orders.NewLine("CUP", D(quantity), "WH")], confirm=True, ordered_at=moment
        )
    orders.place_order(uow, "Bo", [orders.NewLine("CUP", D(9), "WH")], ordered_at=days[0])
    weekly = orders.demand_history(uow, "W")
    assert weekly.schema == pl.Schema(
        {
            "item": pl.String,
            "location": pl.String,
            "ds": pl.Date,
            "qty": pl.Float64,
            "stockout": pl.Boolean,
        }
    )
    assert weekly.rows() == [
        ("CUP", "WH", date(2026, 3, 2), 4.0, True),
        ("CUP", "WH", date(2026, 3, 9), 2.0, True),
    ]
    monthly = orders.demand_history(uow, "M", since=date(2026, 3, 3))
    assert monthly.rows() == [("CUP", "WH", date(2026, 3, 1), 4.0, True)]
    assert orders.demand_history(uow, "D").height == 4


def test_cancelled_orders_leave_the_demand_history_and_counter_sales_join_it(
    business: UnitOfWork,
) -> None:
    uow = business
    monday = datetime(2026, 3, 2, 10, tzinfo=UTC)
    stock.receive(uow, "CUP", "WH", D(20), occurred_at=monday)
    kept = orders.NewLine("CUP", D(2), "WH")
    orders.place_order(uow, "Ann", [kept], confirm=True, ordered_at=monday)
    gone = orders.place_order(
        uow, "Bo", [orders.NewLine("CUP", D(5), "WH")], confirm=True, ordered_at=monday
    )
    orders.cancel_order(uow, gone.number)
    lost = orders.place_order(  # 30 asked, 18 free: 12 could not be served, a lost sale
        uow, "Cy", [orders.NewLine("CUP", D(30), "WH")], confirm=True, ordered_at=monday
    )
    orders.cancel_order(uow, lost.number)
    stock.ship(uow, "CUP", "WH", D(3), reason=ShipmentReason.SALE, occurred_at=monday)
    stock.ship(uow, "CUP", "WH", D(4), occurred_at=monday)  # a sample: not demand
    assert orders.demand_history(uow, "W").rows() == [("CUP", "WH", date(2026, 3, 2), 17.0, True)]


def test_a_delivery_of_a_known_lot_with_another_expiry_is_refused_and_changes_nothing(
    business: UnitOfWork,
) -> None:
    uow = business
    catalog.add_item(uow, Item("MILK", "Milk", lot_tracked=True, shelf_life_days=10))
    stock.receive(uow, "MILK", "WH", D(5), lot="L1", expires_on=today() + timedelta(days=4))
    order = purchasing.add_to_draft(uow, "MILL", [purchasing.NewPurchaseLine("MILK", D(6), "WH")])
    purchasing.release(uow, order.number)
    other = purchasing.ReceiptLine(1, D(6), lot="L1", expires_on=today() + timedelta(days=9))
    with pytest.raises(InvalidInput, match="expires on"):
        purchasing.receive(uow, order.number, [other])
    assert purchasing.get_purchase_order(uow, order.number).lines[0].received == 0
    purchasing.receive(uow, order.number, [purchasing.ReceiptLine(1, D(6), lot="L2")])
    lots = {r["lot"]: r["expires_on"] for r in queries.lots(uow, "MILK")}
    assert lots == {"L1": today() + timedelta(days=4), "L2": today() + timedelta(days=10)}


def test_a_pulled_line_is_promised_on_the_lead_time_of_the_supplier_it_is_bought_from(
    business: UnitOfWork,
) -> None:
    uow = business
    catalog.add_supplier(uow, Supplier("FAST", "Fast Ltd"))
    catalog.add_supplier_item(uow, SupplierItem("FAST", "SUGAR", D(2), 1))
    catalog.update_supplier(uow, "FAST", {"active": False})
    catalog.update_supplier_item(uow, "SLOW", "SUGAR", {"priority": 2})
    number = one_line(uow, "SUGAR", 4)
    line = orders.get_order(uow, number).lines[0]
    assert line.pegs[0].supply.startswith("PO-")
    assert purchasing.list_purchase_orders(uow).items[0]["supplier"] == "SLOW"
    assert line.promise_date == today() + timedelta(days=6)
    cup = orders.place_order(uow, "Bo", [orders.NewLine("CUP", D(1), "WH")], confirm=True)
    assert cup.lines[0].fulfilment == "backorder"
    assert cup.lines[0].promise_date is None


def test_a_supplier_is_judged_on_its_deliveries_and_an_unreliable_one_gives_way(
    business: UnitOfWork,
) -> None:
    uow = business
    catalog.add_supplier_item(uow, SupplierItem("SLOW", "FLOUR", D(1), 6, priority=2))
    promised = today() - timedelta(days=10)
    deliveries = [(12, 10), (12, 8), (5, 10), (5, 10), (5, 10)]  # (days ago, accepted)
    for days_ago, accepted in deliveries:
        line = purchasing.NewPurchaseLine("FLOUR", D(10), "SHOP", expected_date=promised)
        order = purchasing.add_to_draft(uow, "MILL", [line])
        purchasing.release(uow, order.number)
        purchasing.receive(
            uow,
            order.number,
            [purchasing.ReceiptLine(1, D(accepted))],
            received_on=today() - timedelta(days=days_ago),
        )
    with uow:
        records = uow.purchasing.supplier_records()
    # One on time in full, one short, 3 late: OTIF 1/5, on time 2/5, nothing rejected; lead
    # times (released today, received in the past) -12, -12, -5, -5, -5: spread √14.7.
    (mill,) = records.values()
    assert (mill.on_time_in_full, mill.deliveries, mill.on_time, mill.defect_rate) == (
        0.2,
        5,
        0.4,
        0.0,
    )
    assert mill.lead_time_sd_days == pytest.approx(14.7**0.5)
    assert list(records) == ["MILL"]
    number = one_line(uow, "FLOUR", 4)
    drafts = purchasing.list_purchase_orders(uow, status="draft").items
    assert [po["supplier"] for po in drafts] == ["SLOW"]
    assert orders.get_order(uow, number).lines[0].promise_date == today() + timedelta(days=6)


def test_a_customer_return_nets_out_of_the_demand_history(business: UnitOfWork) -> None:
    uow = business
    monday = datetime(2026, 3, 2, 10, tzinfo=UTC)
    stock.receive(uow, "CUP", "WH", D(5), occurred_at=monday)
    sold = orders.place_order(
        uow, "Ann", [orders.NewLine("CUP", D(4), "WH")], confirm=True, ordered_at=monday
    )
    orders.ship_order(uow, sold.number)
    returns.return_goods(uow, sold.number, 1, D(1), returns.ReturnTo.QUARANTINE)
    assert orders.demand_history(uow, "W").rows() == [("CUP", "WH", date(2026, 3, 2), 3.0, False)]
    assert queries.stock(uow, "CUP", "QUARANTINE").items[0]["on_hand"] == D(1)
