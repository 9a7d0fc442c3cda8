"""The order services' rules on the in-memory unit of work: transitions and the events they
write, the pull, and the sourcing rule a promise date follows."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from fakes import InMemoryUnitOfWork
from leanstock.domain.catalog import Item, Location, Policy, Supplier, SupplierItem
from leanstock.domain.errors import InvalidTransition
from leanstock.domain.sourcing import SupplierRecord
from leanstock.services import catalog, orders, purchasing, stock

D = Decimal


def today() -> date:
    """Today in UTC, as the services judge it, read when it is used (not when the module was
    imported, which under xdist can be minutes earlier, on the other side of midnight)."""
    return datetime.now(UTC).date()


WEEK = timedelta(days=7)


@pytest.fixture
def uow() -> InMemoryUnitOfWork:
    uow = InMemoryUnitOfWork()
    catalog.add_location(uow, Location("WH", "Warehouse"))
    catalog.add_item(uow, Item("MUG", "Mug"))
    catalog.add_item(uow, Item("BEANS", "Beans", policy=Policy.BUY_TO_ORDER))
    for code in ("ROAST", "FARM", "DOCK"):
        catalog.add_supplier(uow, Supplier(code, code.title()))
    catalog.add_supplier_item(uow, SupplierItem("ROAST", "BEANS", D(9), 2, pack_size=D(5)))
    catalog.add_supplier_item(uow, SupplierItem("FARM", "BEANS", D(7), 9, priority=2))
    catalog.add_supplier_item(uow, SupplierItem("DOCK", "BEANS", D(6), 4, priority=3))
    stock.receive(uow, "MUG", "WH", D(10))
    return uow


def sell(uow: InMemoryUnitOfWork, sku: str, quantity: int, confirm: bool = True) -> str:
    line = orders.NewLine(sku, D(quantity), "WH")
    return orders.place_order(uow, "Ann", [line], confirm=confirm, actor="maria").number


def test_confirming_reserves_stock_and_writes_one_event_and_one_audit_row(
    uow: InMemoryUnitOfWork,
) -> None:
    number = sell(uow, "MUG", 4, confirm=False)
    assert orders.get_order(uow, number).status == "draft"
    view = orders.confirm_order(uow, number, actor="lee")
    assert (view.status, view.lines[0].reserved) == ("confirmed", D(4))
    assert [e["event"] for e in uow.events(number)] == [
        "sales_order.placed",
        "sales_order.confirmed",
    ]
    assert [(a["actor"], a["action"]) for a in uow.audit(number)] == [
        ("maria", "place"),
        ("lee", "confirm"),
    ]


def test_shipping_and_cancelling_record_what_changed(uow: InMemoryUnitOfWork) -> None:
    number = sell(uow, "MUG", 4)
    orders.ship_order(uow, number, {1: D(1)}, actor="wh")
    after = orders.cancel_order(uow, number, reason="changed mind", actor="ops")
    assert (after.status, after.lines[0].quantity) == ("shipped", D(1))
    events = uow.events(number)
    assert [e["event"] for e in events] == [
        "sales_order.confirmed",
        "sales_order.shipped",
        "sales_order.cancelled",
    ]
    assert events[1]["payload"] == {"lines": {"1": D(1)}, "status": "partially_shipped"}
    assert events[2]["payload"] == {"reason": "changed mind", "lines": (1,)}
    with uow:
        assert uow.state.reserved[(uow.catalog.item("MUG").id, uow.catalog.location("WH").id)] == 0


def test_a_refused_transition_changes_nothing_and_writes_no_event(
    uow: InMemoryUnitOfWork,
) -> None:
    number = sell(uow, "MUG", 2)
    orders.cancel_order(uow, number)
    before = len(uow.events())
    with pytest.raises(InvalidTransition, match="cancelled"):
        orders.ship_order(uow, number)
    with pytest.raises(InvalidTransition):
        orders.confirm_order(uow, number)
    assert len(uow.events()) == before
    assert orders.get_order(uow, number).status == "cancelled"


def test_a_pulled_line_goes_to_the_supplier_the_sourcing_rule_chooses(
    uow: InMemoryUnitOfWork,
) -> None:
    catalog.update_supplier(uow, "ROAST", {"active": False})
    number = sell(uow, "BEANS", 3)
    line = orders.get_order(uow, number).lines[0]
    (po,) = purchasing.list_purchase_orders(uow).items
    assert (line.fulfilment, po["supplier"]) == ("purchase", "FARM")
    assert line.promise_date == today() + timedelta(days=9)


def test_a_supplier_that_delivers_late_gives_way_to_the_next(uow: InMemoryUnitOfWork) -> None:
    catalog.add_location(uow, Location("BACK", "Back store"))
    for _ in range(5):
        order = purchasing.add_to_draft(
            uow,
            "ROAST",
            [purchasing.NewPurchaseLine("BEANS", D(5), "BACK", expected_date=today() - WEEK)],
        )
        purchasing.release(uow, order.number)
        late = purchasing.ReceiptLine(1, D(5))
        purchasing.receive(uow, order.number, [late], received_on=today() - timedelta(days=3))
    number = sell(uow, "BEANS", 3)
    drafts = purchasing.list_purchase_orders(uow, status="draft").items
    assert [po["supplier"] for po in drafts] == ["FARM"]
    assert orders.get_order(uow, number).lines[0].promise_date == today() + timedelta(days=9)


def test_cancelling_a_pulled_line_shrinks_the_draft_it_pulled(uow: InMemoryUnitOfWork) -> None:
    first = sell(uow, "BEANS", 3)
    second = sell(uow, "BEANS", 4)
    (po,) = purchasing.list_purchase_orders(uow).items
    assert po["quantity"] == 10  # 7 in packs of 5
    orders.cancel_order(uow, second)
    assert purchasing.list_purchase_orders(uow).items[0]["quantity"] == 5
    orders.cancel_order(uow, first)
    (cancelled,) = purchasing.list_purchase_orders(uow).items
    assert cancelled["status"] == "cancelled"
    assert [e["event"] for e in uow.events(po["number"])] == ["purchase_order.cancelled"]
    assert [a["action"] for a in uow.audit(po["number"])] == ["reduce_draft", "reduce_draft"]


def test_a_suppliers_record_counts_late_and_short_deliveries_as_the_database_does(
    uow: InMemoryUnitOfWork,
) -> None:
    catalog.add_location(uow, Location("BACK", "Back store"))
    promised = today() - timedelta(days=10)
    for days_ago, accepted in [(12, 10), (12, 8), (5, 10), (5, 10), (5, 10)]:
        line = purchasing.NewPurchaseLine("BEANS", D(10), "BACK", expected_date=promised)
        order = purchasing.add_to_draft(uow, "FARM", [line])
        purchasing.release(uow, order.number)
        arrived = purchasing.ReceiptLine(1, D(accepted))
        purchasing.receive(
            uow, order.number, [arrived], received_on=today() - timedelta(days=days_ago)
        )
    with uow:
        assert uow.purchasing.supplier_records() == {"FARM": SupplierRecord(0.2, 5)}
