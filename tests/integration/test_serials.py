"""Serial numbers on the ledger, on SQLite and PostgreSQL: one serial per unit, each in one
place at a time, refused (naming the serial, changing nothing) when it is not where a move
takes it from."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Engine, func, select

from leanstock.adapters.db import tables as t
from leanstock.adapters.db.uow import UnitOfWork
from leanstock.domain.catalog import Item, ItemKind, Location, LocationKind, Supplier
from leanstock.domain.errors import DomainError, InvalidInput
from leanstock.domain.ledger import ScrapReason
from leanstock.domain.serials import (
    SerialCountMismatch,
    SerialElsewhere,
    SerialExists,
    SerialsNotSupported,
    SerialsNotTracked,
    SerialsRequired,
    UnknownSerial,
)
from leanstock.services import (
    catalog,
    orders,
    production,
    purchasing,
    queries,
    returns,
    serials,
    stock,
    transfers,
)
from leanstock.services.stock import StockLine, expiry, quarantine, stocktakes

D = Decimal


@pytest.fixture
def shop(uow: UnitOfWork) -> UnitOfWork:
    catalog.add_location(uow, Location("WH", "Warehouse"))
    catalog.add_location(uow, Location("STORE", "Store", LocationKind.STORE))
    catalog.add_item(uow, Item("LAPTOP", "Laptop", serial_tracked=True, unit_cost=D(500)))
    catalog.add_item(uow, Item("CUP", "Paper cup"))
    catalog.add_supplier(uow, Supplier("ACME", "Acme"))
    return uow


def where(uow: UnitOfWork, sku: str = "LAPTOP") -> dict[str, str]:
    page = serials.list_serials(uow, sku, limit=500)
    return {s.serial: s.location for s in page.items}


def on_hand(uow: UnitOfWork, sku: str, location: str) -> Decimal:
    rows = queries.stock(uow, sku, location).items
    return rows[0]["on_hand"] if rows else D(0)


def serials_match_balances(uow: UnitOfWork) -> None:
    """For every serial-tracked item, the serials at each location are its balance there (at
    every location but the supplier's side, whose balance is minus what came from it, the
    adjustment's (lost minus found), and production's for the items made there)."""
    with uow:
        counts = uow.serials.count_by_place()
        tracked = select(t.items.c.id).where(t.items.c.serial_tracked)
        sources = select(t.locations.c.id).where(  # what stock comes from and goes to
            (t.locations.c.kind == "supplier") | (t.locations.c.code == "adjustment")
        )
        query = (
            select(t.balances.c.item_id, t.balances.c.location_id, func.sum(t.balances.c.quantity))
            .where(t.balances.c.item_id.in_(tracked), t.balances.c.location_id.not_in(sources))
            .group_by(t.balances.c.item_id, t.balances.c.location_id)
        )
        levels = {(int(i), int(loc)): q for i, loc, q in uow.connection.execute(query)}
        supplier_ids = {int(i) for (i,) in uow.connection.execute(sources)}
        made_at = {
            int(i)
            for (i,) in uow.connection.execute(
                select(t.locations.c.id).where(t.locations.c.code == "production")
            )
        }
    counts = {k: n for k, n in counts.items() if k[1] not in supplier_ids}
    assert counts, "no serials to compare"
    for key in set(counts) | set(levels):
        if key[1] in made_at and levels.get(key, D(0)) < 0:
            # the units made came from production (minus there), their serials new
            assert counts.get(key, 0) == 0, key
            continue
        assert D(counts.get(key, 0)) == levels.get(key, D(0)), key


def refused(error: type[DomainError], serial: str, call: Callable[[], object]) -> DomainError:
    with pytest.raises(error) as raised:
        call()
    assert serial in raised.value.detail
    assert raised.value.field is not None
    assert raised.value.field.endswith("serials")
    return raised.value


def test_a_receipt_names_one_serial_per_unit_and_each_is_then_at_the_location(
    shop: UnitOfWork,
) -> None:
    op = stock.receive(shop, "LAPTOP", "WH", D(3), supplier="ACME", serials=["S1", "S2", "S3"])
    assert [(m.target, m.quantity) for m in op.moves] == [("WH", D(3))]
    assert where(shop) == {"S1": "WH", "S2": "WH", "S3": "WH"}
    serials_match_balances(shop)


@pytest.mark.parametrize(
    ("quantity", "named", "error"),
    [
        (D(2), [], SerialsRequired),
        (D(2), ["S1"], SerialCountMismatch),
        (D(2), ["S1", "S1"], InvalidInput),
        (D("1.5"), ["S1"], InvalidInput),
        (D(1), ["bad serial"], InvalidInput),
    ],
)
def test_a_receipt_with_the_wrong_serials_is_refused_and_changes_nothing(
    shop: UnitOfWork, quantity: Decimal, named: list[str], error: type[DomainError]
) -> None:
    with pytest.raises(error) as raised:
        stock.receive(shop, "LAPTOP", "WH", quantity, serials=named)
    assert raised.value.field in {"serials", "quantity"}
    assert where(shop) == {}
    assert on_hand(shop, "LAPTOP", "WH") == 0


def test_serials_on_an_item_that_is_not_serial_tracked_are_refused(shop: UnitOfWork) -> None:
    with pytest.raises(SerialsNotTracked):
        stock.receive(shop, "CUP", "WH", D(1), serials=["X"])
    assert on_hand(shop, "CUP", "WH") == 0


def test_a_serial_received_twice_is_refused_naming_it(shop: UnitOfWork) -> None:
    stock.receive(shop, "LAPTOP", "WH", D(2), serials=["S1", "S2"])
    error = refused(
        SerialElsewhere,
        "S2",
        lambda: stock.receive(shop, "LAPTOP", "STORE", D(2), serials=["S3", "S2"]),
    )
    assert "received already" in error.detail
    assert where(shop) == {"S1": "WH", "S2": "WH"}
    assert on_hand(shop, "LAPTOP", "STORE") == 0


def test_a_shipment_names_its_serials_and_a_serial_shipped_twice_is_refused(
    shop: UnitOfWork,
) -> None:
    stock.receive(shop, "LAPTOP", "WH", D(3), serials=["S1", "S2", "S3"])
    op = stock.ship(shop, "LAPTOP", "WH", D(2), customer="Ann", serials=["S3", "S1"])
    assert [(m.target, m.quantity) for m in op.moves] == [("customer", D(2))]
    assert where(shop) == {"S1": "customer", "S2": "WH", "S3": "customer"}
    error = refused(
        SerialElsewhere, "S1", lambda: stock.ship(shop, "LAPTOP", "WH", D(1), serials=["S1"])
    )
    assert "shipped to a customer already" in error.detail
    refused(UnknownSerial, "S9", lambda: stock.ship(shop, "LAPTOP", "WH", D(1), serials=["S9"]))
    with pytest.raises(SerialsRequired):
        stock.ship(shop, "LAPTOP", "WH", D(1))
    assert on_hand(shop, "LAPTOP", "WH") == 1
    serials_match_balances(shop)


def test_a_transfer_moves_the_serials_named_and_not_others(shop: UnitOfWork) -> None:
    stock.receive(shop, "LAPTOP", "WH", D(2), serials=["S1", "S2"])
    stock.transfer(shop, "LAPTOP", "WH", "STORE", D(1), serials=["S2"])
    assert where(shop) == {"S1": "WH", "S2": "STORE"}
    refused(
        SerialElsewhere,
        "S2",
        lambda: stock.transfer(shop, "LAPTOP", "WH", "STORE", D(1), serials=["S2"]),
    )
    stock.scrap(shop, "LAPTOP", "STORE", D(1), ScrapReason.DAMAGE, serials=["S2"])
    assert where(shop) == {"S1": "WH", "S2": "scrap"}
    serials_match_balances(shop)


def test_one_bad_serial_on_a_multi_line_shipment_changes_nothing(shop: UnitOfWork) -> None:
    stock.receive(shop, "LAPTOP", "WH", D(2), serials=["S1", "S2"])
    stock.receive(shop, "CUP", "WH", D(10))
    lines = [StockLine("CUP", D(4)), StockLine("LAPTOP", D(2), serials=("S1", "S7"))]
    with pytest.raises(UnknownSerial) as raised:
        stock.ship_lines(shop, "WH", lines)
    assert raised.value.field == "lines[1].serials"
    assert on_hand(shop, "CUP", "WH") == 10
    assert where(shop) == {"S1": "WH", "S2": "WH"}


def test_lot_and_serial_tracked_items_leave_from_the_lots_of_their_serials(
    shop: UnitOfWork,
) -> None:
    catalog.add_item(shop, Item("KEG", "Keg", lot_tracked=True, serial_tracked=True))
    stock.receive(shop, "KEG", "WH", D(2), lot="L1", serials=["K1", "K2"])
    stock.receive(shop, "KEG", "WH", D(1), lot="L2", serials=["K3"])
    op = stock.ship(shop, "KEG", "WH", D(2), serials=["K1", "K3"])
    assert sorted((m.lot, m.quantity) for m in op.moves) == [("L1", D(1)), ("L2", D(1))]
    serials_match_balances(shop)


def test_a_purchase_receipt_and_a_sales_shipment_carry_serials_and_a_return_brings_one_back(
    shop: UnitOfWork,
) -> None:
    new = purchasing.NewPurchaseLine("LAPTOP", D(2), "WH", D(450))
    po = purchasing.add_to_draft(shop, "ACME", [new])
    purchasing.release(shop, po.number)
    with pytest.raises(SerialsRequired):
        purchasing.receive(shop, po.number, [purchasing.ReceiptLine(1, D(2))])
    purchasing.receive(shop, po.number, [purchasing.ReceiptLine(1, D(2), serials=("P1", "P2"))])
    assert where(shop) == {"P1": "WH", "P2": "WH"}
    sale = orders.place_order(shop, "Bea", [orders.NewLine("LAPTOP", D(1), "WH")], confirm=True)
    with pytest.raises(SerialsRequired):
        orders.ship_order(shop, sale.number)
    orders.ship_order(shop, sale.number, serials={1: ["P2"]})
    assert where(shop) == {"P1": "WH", "P2": "customer"}
    found = serials.trace(shop, "LAPTOP", "P2")
    assert (found.supplier, found.customer, found.location) == ("ACME", "Bea", "customer")
    assert [s.kind for s in found.moves] == ["receipt", "shipment"]
    refused(
        SerialElsewhere,
        "P1",
        lambda: returns.return_goods(
            shop, sale.number, 1, D(1), returns.ReturnTo.STOCK, serials=["P1"]
        ),
    )
    returns.return_goods(shop, sale.number, 1, D(1), returns.ReturnTo.STOCK, serials=["P2"])
    assert where(shop) == {"P1": "WH", "P2": "WH"}
    serials_match_balances(shop)


def test_a_transfer_order_ships_named_serials_into_transit_and_receives_them_at_the_target(
    shop: UnitOfWork,
) -> None:
    catalog.add_item(shop, Item("KEG", "Keg", lot_tracked=True, serial_tracked=True))
    stock.receive(shop, "KEG", "WH", D(2), supplier="ACME", lot="L1", serials=["S1", "S2"])
    stock.receive(shop, "KEG", "WH", D(2), supplier="ACME", lot="L2", serials=["S3", "S4"])
    order = transfers.create_transfer_order(shop, "KEG", "WH", "STORE", D(3))
    with pytest.raises(SerialsRequired):
        transfers.ship_transfer(shop, order.number)
    with pytest.raises(SerialCountMismatch):
        transfers.ship_transfer(shop, order.number, serials=["S1"])
    refused(
        UnknownSerial,
        "S9",
        lambda: transfers.ship_transfer(shop, order.number, serials=["S1", "S2", "S9"]),
    )
    assert transfers.get_transfer_order(shop, order.number).status == "draft"
    transfers.ship_transfer(shop, order.number, serials=["S1", "S3", "S4"])
    moving = {"S1": "in_transit", "S3": "in_transit", "S4": "in_transit"}
    assert where(shop, "KEG") == moving | {"S2": "WH"}
    assert on_hand(shop, "KEG", "WH") == 1
    serials_match_balances(shop)

    other = transfers.create_transfer_order(shop, "KEG", "WH", "STORE", D(1))
    refused(
        SerialElsewhere,
        "S3",
        lambda: transfers.ship_transfer(shop, other.number, serials=["S3"]),
    )
    transfers.ship_transfer(shop, other.number, serials=["S2"])
    # S2 is in transit, but with the other order
    refused(
        InvalidInput,
        "S2",
        lambda: transfers.receive_transfer(shop, order.number, serials=["S1", "S2"]),
    )
    with pytest.raises(SerialsRequired):
        transfers.receive_transfer(shop, order.number, D(2))
    assert transfers.get_transfer_order(shop, order.number).status == "in_transit"

    done = transfers.receive_transfer(shop, order.number, serials=["S1", "S4"])
    assert (done.received, done.status) == (D(2), "received")
    arrived = {"S1": "STORE", "S4": "STORE"}
    assert where(shop, "KEG") == arrived | {"S2": "in_transit", "S3": "adjustment"}
    assert on_hand(shop, "KEG", "STORE") == 2
    at_store = queries.stock_as_of(shop, datetime.now(UTC), "KEG", "STORE")
    lots = {r["lot"]: r["on_hand"] for r in at_store}
    assert lots == {"L1": D(1), "L2": D(1)}
    transfers.receive_transfer(shop, other.number)
    assert where(shop, "KEG")["S2"] == "STORE"
    assert [s.kind for s in serials.trace(shop, "KEG", "S4").moves] == [
        "receipt",
        "transfer",
        "transfer",
    ]
    serials_match_balances(shop)


def test_rejects_go_to_quarantine_with_their_serials_and_are_released_returned_or_scrapped(
    shop: UnitOfWork,
) -> None:
    new = purchasing.NewPurchaseLine("LAPTOP", D(5), "WH", D(450))
    po = purchasing.add_to_draft(shop, "ACME", [new])
    purchasing.release(shop, po.number)
    with pytest.raises(SerialsRequired):
        purchasing.receive(
            shop, po.number, [purchasing.ReceiptLine(1, D(2), D(3), serials=("A1", "A2"))]
        )
    line = purchasing.ReceiptLine(1, D(1), D(1), serials=("A1",), rejected_serials=("A1",))
    with pytest.raises(InvalidInput) as both:
        purchasing.receive(shop, po.number, [line])
    assert "A1" in both.value.detail
    assert where(shop) == {}
    rejects = ("Q1", "Q2", "Q3")
    line = purchasing.ReceiptLine(1, D(2), D(3), serials=("A1", "A2"), rejected_serials=rejects)
    purchasing.receive(shop, po.number, [line])
    assert where(shop) == {"A1": "WH", "A2": "WH", "Q1": "QUARANTINE", "Q2": "QUARANTINE"} | {
        "Q3": "QUARANTINE"
    }
    refused(
        SerialElsewhere,
        "A1",
        lambda: quarantine.release(shop, "LAPTOP", D(1), "STORE", serials=["A1"]),
    )
    with pytest.raises(SerialsRequired):
        quarantine.release(shop, "LAPTOP", D(1), "STORE")
    assert on_hand(shop, "LAPTOP", "STORE") == 0
    quarantine.release(shop, "LAPTOP", D(1), "STORE", serials=["Q1"])
    quarantine.return_to_supplier(shop, "LAPTOP", D(1), purchase_order=po.number, serials=["Q2"])
    quarantine.scrap(shop, "LAPTOP", D(1), ScrapReason.QUALITY, serials=["Q3"])
    refused(
        SerialElsewhere,
        "Q3",
        lambda: quarantine.scrap(shop, "LAPTOP", D(1), ScrapReason.QUALITY, serials=["Q3"]),
    )
    assert where(shop) == {"A1": "WH", "A2": "WH", "Q1": "STORE", "Q2": "supplier"} | {
        "Q3": "scrap"
    }
    assert on_hand(shop, "LAPTOP", "STORE") == 1
    serials_match_balances(shop)


def test_production_issues_and_consumes_component_serials_and_names_its_output_serials(
    shop: UnitOfWork,
) -> None:
    kit = Item("KIT", "Laptop kit", kind=ItemKind.MADE, serial_tracked=True)
    catalog.add_item(shop, kit)
    production.put_bom(shop, "KIT", [("LAPTOP", D(1), D(0)), ("CUP", D(2), D(0))])
    stock.receive(shop, "LAPTOP", "WH", D(3), serials=["S1", "S2", "S3"])
    stock.receive(shop, "CUP", "WH", D(10))
    order = production.create_production_order(shop, "KIT", D(2), "WH")
    production.release_production(shop, order.number)
    with pytest.raises(SerialsRequired):
        production.start_production_order(shop, order.number)
    with pytest.raises(SerialsNotTracked):
        production.start_production_order(
            shop, order.number, serials={"LAPTOP": ["S1", "S2"], "CUP": ["C1"]}
        )
    refused(
        UnknownSerial,
        "S9",
        lambda: production.start_production_order(
            shop, order.number, serials={"LAPTOP": ["S1", "S9"]}
        ),
    )
    assert on_hand(shop, "CUP", "WH") == 10
    production.start_production_order(shop, order.number, serials={"LAPTOP": ["S1", "S3"]})
    assert where(shop) == {"S1": "WIP", "S2": "WH", "S3": "WIP"}

    with pytest.raises(SerialsRequired):
        production.produce(shop, order.number, D(1))
    stock.receive(shop, "KIT", "WH", D(1), serials=["K9"])
    refused(
        SerialExists, "K9", lambda: production.produce(shop, order.number, D(1), serials=["K9"])
    )
    assert where(shop) == {"S1": "WIP", "S2": "WH", "S3": "WIP"}
    production.produce(shop, order.number, D(1), serials=["K1"])
    assert where(shop) == {"S1": "production", "S2": "WH", "S3": "WIP"}
    assert where(shop, "KIT") == {"K1": "WH", "K9": "WH"}
    assert on_hand(shop, "KIT", "WH") == 2
    production.close_production(shop, order.number)
    assert where(shop) == {"S1": "production", "S2": "WH", "S3": "WH"}
    assert on_hand(shop, "LAPTOP", "WH") == 2
    assert [s.kind for s in serials.trace(shop, "KIT", "K1").moves] == ["production"]
    serials_match_balances(shop)


def test_flows_without_serials_refuse_a_serial_tracked_item(shop: UnitOfWork) -> None:
    stock.receive(shop, "LAPTOP", "WH", D(1), serials=["S1"])
    count = stocktakes.start_stocktake(shop, "WH")
    with pytest.raises(SerialsNotSupported) as raised:
        stocktakes.enter_counts(shop, count.number, [stocktakes.CountEntry("LAPTOP", D(3))])
    assert "LAPTOP" in raised.value.detail
    assert "--serial" in raised.value.detail
    assert on_hand(shop, "LAPTOP", "WH") == 1


def test_shipping_a_reservation_names_its_serials(shop: UnitOfWork) -> None:
    stock.receive(shop, "LAPTOP", "WH", D(3), serials=["S1", "S2", "S3"])
    held = stock.reserve(shop, "LAPTOP", "WH", D(2), "ORDER-7")
    with pytest.raises(SerialsRequired):
        stock.consume(shop, held.id, D(1))
    refused(UnknownSerial, "S9", lambda: stock.consume(shop, held.id, D(1), serials=["S9"]))
    stock.consume(shop, held.id, D(1), serials=["S2"])
    refused(SerialElsewhere, "S2", lambda: stock.consume(shop, held.id, D(1), serials=["S2"]))
    assert where(shop) == {"S1": "WH", "S2": "customer", "S3": "WH"}
    assert on_hand(shop, "LAPTOP", "WH") == 2
    serials_match_balances(shop)


def test_a_count_names_the_serials_found_and_books_the_missing_and_the_misplaced(
    shop: UnitOfWork,
) -> None:
    stock.receive(shop, "LAPTOP", "WH", D(3), serials=["S1", "S2", "S3"])
    stock.receive(shop, "LAPTOP", "STORE", D(1), serials=["S4"])
    stock.ship(shop, "LAPTOP", "WH", D(1), serials=["S3"])
    with pytest.raises(SerialsRequired):
        stock.count(shop, "LAPTOP", "WH", D(2))
    with pytest.raises(SerialCountMismatch):
        stock.count(shop, "LAPTOP", "WH", D(2), serials=["S1"])
    refused(
        SerialElsewhere,
        "S3",
        lambda: stock.count(shop, "LAPTOP", "WH", D(2), serials=["S1", "S3"]),
    )
    assert where(shop) == {"S1": "WH", "S2": "WH", "S3": "customer", "S4": "STORE"}
    # S2 is missing, S4 (booked at the store) and a new S5 are found at the warehouse
    stock.count(shop, "LAPTOP", "WH", D(3), serials=["S1", "S4", "S5"])
    assert where(shop) == {"S1": "WH", "S2": "adjustment", "S3": "customer"} | {
        "S4": "WH",
        "S5": "WH",
    }
    assert (on_hand(shop, "LAPTOP", "WH"), on_hand(shop, "LAPTOP", "STORE")) == (D(3), D(0))
    serials_match_balances(shop)
    # S2 turns up again: it comes back from the adjustment; a count of nothing loses the rest
    stock.count(shop, "LAPTOP", "STORE", D(1), serials=["S2"])
    stock.count(shop, "LAPTOP", "WH", D(0))
    assert where(shop) == {"S1": "adjustment", "S2": "STORE", "S3": "customer"} | {
        "S4": "adjustment",
        "S5": "adjustment",
    }
    assert on_hand(shop, "LAPTOP", "WH") == 0
    serials_match_balances(shop)


def test_an_item_with_stock_cannot_become_serial_tracked(shop: UnitOfWork) -> None:
    stock.receive(shop, "CUP", "WH", D(1))
    with pytest.raises(InvalidInput) as raised:
        catalog.update_item(shop, "CUP", {"serial_tracked": True})
    assert raised.value.field == "serial_tracked"


def test_a_serial_tracked_item_is_counted_in_whole_units() -> None:
    with pytest.raises(InvalidInput) as raised:
        Item("TV", "TV", serial_tracked=True, divisible=True)
    assert raised.value.field == "divisible"
    assert Item("TV", "TV", unit="kg", serial_tracked=True).divisible is False


@pytest.mark.slow
def test_eight_clients_shipping_one_serial_at_once_ship_it_once(engine: Engine) -> None:
    uow = UnitOfWork(engine)
    catalog.add_location(uow, Location("WH", "Warehouse"))
    catalog.add_item(uow, Item("LAPTOP", "Laptop", serial_tracked=True))
    stock.receive(uow, "LAPTOP", "WH", D(2), serials=["ONE", "TWO"])

    def ship(client: int) -> str:
        try:
            stock.ship(UnitOfWork(engine), "LAPTOP", "WH", D(1), serials=["ONE"])
        except SerialElsewhere as refused:
            return refused.detail
        return "shipped"

    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(ship, range(8)))
    assert outcomes.count("shipped") == 1
    refusals = [o for o in outcomes if o != "shipped"]
    assert len(refusals) == 7
    assert all("Serial ONE of LAPTOP" in o for o in refusals)
    assert where(uow) == {"ONE": "customer", "TWO": "WH"}
    assert on_hand(uow, "LAPTOP", "WH") == 1


def test_the_expiry_sweep_scraps_an_expired_lot_with_its_serials(shop: UnitOfWork) -> None:
    catalog.add_item(shop, Item("KIT", "Test kit", lot_tracked=True, serial_tracked=True))
    past = date.today() - timedelta(days=3)
    stock.receive(shop, "KIT", "WH", D(2), lot="OLD", expires_on=past, serials=["K1", "K2"])
    stock.receive(shop, "KIT", "WH", D(1), lot="NEW", serials=["K3"])
    swept = expiry.expire(shop)
    assert [(m.lot, m.quantity) for m in swept.lines] == [("OLD", D(2))]
    assert where(shop, "KIT") == {"K1": "scrap", "K2": "scrap", "K3": "WH"}
    serials_match_balances(shop)
