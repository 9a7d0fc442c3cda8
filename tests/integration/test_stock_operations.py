"""Stock operations on the ledger, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from leanstock.adapters.db import tables as t
from leanstock.adapters.db.uow import UnitOfWork
from leanstock.domain.catalog import Item, Location, LocationKind, Supplier
from leanstock.domain.errors import (
    InvalidInput,
    LotExpired,
    LotNotTracked,
    LotRequired,
    NotFound,
    OutOfStock,
    WrongUnit,
)
from leanstock.domain.ledger import ScrapReason
from leanstock.services import catalog, queries, stock
from leanstock.services.stock import StockLine

D = Decimal


def today() -> date:
    """Today in UTC, as the services judge it, read when it is used (not when the module was
    imported, which under xdist can be minutes earlier, on the other side of midnight)."""
    return datetime.now(UTC).date()


@pytest.fixture
def shop(uow: UnitOfWork) -> UnitOfWork:
    catalog.add_location(uow, Location("WH", "Warehouse"))
    catalog.add_location(uow, Location("STORE", "Store", LocationKind.STORE))
    catalog.add_item(uow, Item("CUP", "Paper cup"))
    catalog.add_item(uow, Item("MILK", "Milk 1l", unit="l", lot_tracked=True, shelf_life_days=10))
    catalog.add_supplier(uow, Supplier("DAIRY", "Dairy farm"))
    return uow


def level(uow: UnitOfWork, sku: str, location: str) -> dict[str, Decimal]:
    rows = queries.stock(uow, sku, location).items
    return rows[0] if rows else {"on_hand": D(0), "reserved": D(0), "available": D(0)}


def _numbers(row: dict[str, Decimal]) -> tuple[Decimal, Decimal, Decimal]:
    return row["on_hand"], row["reserved"], row["available"]


def balances_sum_to_zero(uow: UnitOfWork) -> None:
    with uow:
        rows = uow.connection.execute(
            select(t.balances.c.item_id, func.sum(t.balances.c.quantity)).group_by(
                t.balances.c.item_id
            )
        ).all()
    assert all(total == 0 for _, total in rows), rows


def test_a_receipt_moves_stock_from_the_supplier_into_the_location(shop: UnitOfWork) -> None:
    operation = stock.receive(shop, "CUP", "WH", D("100"), supplier="DAIRY", reference="PO-1")
    assert [(m.source, m.target, m.quantity) for m in operation.moves] == [
        ("supplier", "WH", D(100))
    ]
    assert level(shop, "CUP", "WH")["on_hand"] == 100
    balances_sum_to_zero(shop)


def test_a_shipment_takes_the_first_expiring_lot_first(shop: UnitOfWork) -> None:
    stock.receive(shop, "MILK", "WH", D(10), lot="LATE", expires_on=today() + timedelta(days=9))
    stock.receive(shop, "MILK", "WH", D(10), lot="SOON", expires_on=today() + timedelta(days=2))
    operation = stock.ship(shop, "MILK", "WH", D(15))
    assert [(m.lot, m.quantity) for m in operation.moves] == [("SOON", D(10)), ("LATE", D(5))]
    balances_sum_to_zero(shop)


def test_a_shipment_never_takes_an_expired_lot(shop: UnitOfWork) -> None:
    stock.receive(shop, "MILK", "WH", D(10), lot="OLD", expires_on=today() - timedelta(days=1))
    stock.receive(shop, "MILK", "WH", D(4), lot="NEW", expires_on=today() + timedelta(days=5))
    assert level(shop, "MILK", "WH")["available"] == 4
    with pytest.raises(OutOfStock, match="Only 4 of MILK"):
        stock.ship(shop, "MILK", "WH", D(5))
    with pytest.raises(LotExpired):
        stock.ship(shop, "MILK", "WH", D(1), lot="OLD")
    assert [m.lot for m in stock.ship(shop, "MILK", "WH", D(4)).moves] == ["NEW"]


def test_expired_stock_is_scrapped_with_its_reason(shop: UnitOfWork) -> None:
    stock.receive(shop, "MILK", "WH", D(3), lot="OLD", expires_on=today() - timedelta(days=1))
    operation = stock.scrap(shop, "MILK", "WH", D(3), ScrapReason.EXPIRY, lot="OLD")
    assert operation.moves[0].target == "scrap"
    history = queries.moves(shop, "MILK").items
    assert history[-1]["reason"] == "expiry"
    assert queries.lots(shop, "MILK") == []


def test_a_perishable_lot_expires_after_its_shelf_life(shop: UnitOfWork) -> None:
    stock.receive(shop, "MILK", "WH", D(1), lot="L1")
    (lot,) = queries.lots(shop, "MILK")
    assert lot["expires_on"] == today() + timedelta(days=10)


def test_a_transfer_moves_stock_between_two_locations(shop: UnitOfWork) -> None:
    stock.receive(shop, "CUP", "WH", D(50))
    stock.transfer(shop, "CUP", "WH", "STORE", D(20))
    assert level(shop, "CUP", "WH")["on_hand"] == 30
    assert level(shop, "CUP", "STORE")["on_hand"] == 20
    with pytest.raises(OutOfStock):
        stock.transfer(shop, "CUP", "STORE", "WH", D(21))
    with pytest.raises(InvalidInput, match="virtual"):
        stock.transfer(shop, "CUP", "WH", "customer", D(1))
    balances_sum_to_zero(shop)


def test_a_count_books_the_difference_as_an_adjustment(shop: UnitOfWork) -> None:
    stock.receive(shop, "CUP", "WH", D(50))
    lost = stock.count(shop, "CUP", "WH", D(47))
    assert [(m.source, m.target, m.quantity) for m in lost.moves] == [("WH", "adjustment", D(3))]
    found = stock.count(shop, "CUP", "WH", D(49))
    assert [(m.source, m.target, m.quantity) for m in found.moves] == [("adjustment", "WH", D(2))]
    assert stock.count(shop, "CUP", "WH", D(49)).moves == []
    assert level(shop, "CUP", "WH")["on_hand"] == D(49)


def test_reserved_stock_is_not_available_to_others(shop: UnitOfWork) -> None:
    stock.receive(shop, "CUP", "WH", D(10))
    reservation = stock.reserve(shop, "CUP", "WH", D(7), "SO-1/1")
    assert _numbers(level(shop, "CUP", "WH")) == (D(10), D(7), D(3))
    with pytest.raises(OutOfStock):
        stock.reserve(shop, "CUP", "WH", D(4), "SO-2/1")
    with pytest.raises(OutOfStock):
        stock.ship(shop, "CUP", "WH", D(4))
    stock.release(shop, reservation.id, D(2))
    assert level(shop, "CUP", "WH")["available"] == 5
    shipped = stock.consume(shop, reservation.id)
    assert sum(m.quantity for m in shipped.moves) == 5
    assert _numbers(level(shop, "CUP", "WH")) == (D(5), D(0), D(5))
    assert stock.get_reservation(shop, reservation.id).status == "consumed"


def test_bad_input_names_the_problem_and_changes_nothing(shop: UnitOfWork) -> None:
    stock.receive(shop, "CUP", "WH", D(5))
    with pytest.raises(NotFound, match="No item NOPE"):
        stock.ship(shop, "NOPE", "WH", D(1))
    with pytest.raises(NotFound, match="No location MARS"):
        stock.ship(shop, "CUP", "MARS", D(1))
    with pytest.raises(InvalidInput, match="greater than zero"):
        stock.ship(shop, "CUP", "WH", D(0))
    with pytest.raises(InvalidInput, match="greater than zero"):
        stock.receive(shop, "CUP", "WH", D(-1))
    with pytest.raises(InvalidInput, match="decimal places"):
        stock.receive(shop, "CUP", "WH", D("0.0000001"))
    with pytest.raises(WrongUnit):
        stock.receive(shop, "CUP", "WH", D(1), unit="kg")
    with pytest.raises(LotRequired):
        stock.receive(shop, "MILK", "WH", D(1))
    with pytest.raises(LotNotTracked):
        stock.receive(shop, "CUP", "WH", D(1), lot="L1")
    with pytest.raises(OutOfStock, match="Only 5 of CUP available at WH; 6 wanted"):
        stock.ship(shop, "CUP", "WH", D(6))
    with pytest.raises(InvalidInput, match="future"):
        stock.receive(shop, "CUP", "WH", D(1), occurred_at=datetime.now(UTC) + timedelta(days=1))
    assert level(shop, "CUP", "WH")["on_hand"] == 5
    assert queries.moves(shop, "CUP").total == 1


def test_stock_as_of_a_past_date_sums_the_moves_up_to_then(shop: UnitOfWork) -> None:
    monday = datetime(2026, 3, 2, 9, tzinfo=UTC)
    stock.receive(shop, "CUP", "WH", D(100), occurred_at=monday)
    stock.ship(shop, "CUP", "WH", D(30), occurred_at=monday + timedelta(days=2))
    as_of = queries.stock_as_of(shop, monday + timedelta(days=1), sku="CUP")
    assert [(r["location"], r["on_hand"]) for r in as_of] == [("WH", D(100))]
    assert queries.stock_as_of(shop, monday - timedelta(days=1), sku="CUP") == []
    later = queries.stock_as_of(shop, monday + timedelta(days=3), sku="CUP")
    assert [(r["location"], r["on_hand"]) for r in later] == [("WH", D(70))]
    history = queries.moves(shop, "CUP", since=monday + timedelta(hours=1)).items
    assert [(m["kind"], m["quantity"]) for m in history] == [("shipment", D(30))]


def test_a_location_allowed_to_go_negative_ships_more_than_it_holds(shop: UnitOfWork) -> None:
    catalog.add_location(uow := shop, Location("POPUP", "Pop-up", allow_negative=True))
    stock.ship(uow, "CUP", "POPUP", D(3))
    assert level(uow, "CUP", "POPUP")["on_hand"] == -3
    balances_sum_to_zero(uow)


def test_quantities_stay_exact(shop: UnitOfWork) -> None:
    for _ in range(10):
        stock.receive(shop, "MILK", "WH", D("0.1"), lot="M1")
    assert level(shop, "MILK", "WH")["on_hand"] == D(1)
    stock.ship(shop, "MILK", "WH", D("0.3"))
    assert level(shop, "MILK", "WH")["on_hand"] == D("0.7")


def test_moves_are_never_edited_a_correction_is_a_new_move(shop: UnitOfWork) -> None:
    stock.receive(shop, "CUP", "WH", D(10))
    stock.count(shop, "CUP", "WH", D(8))
    history = queries.moves(shop, "CUP").items
    assert [(m["source"], m["target"], m["quantity"]) for m in history] == [
        ("supplier", "WH", D(10)),
        ("WH", "adjustment", D(2)),
    ]


def test_lines_of_one_document_cannot_together_take_more_than_is_available(
    shop: UnitOfWork,
) -> None:
    later = today() + timedelta(days=5)
    stock.receive(shop, "MILK", "WH", D(5), lot="A", expires_on=later)
    stock.receive(shop, "MILK", "WH", D(5), lot="B", expires_on=later)
    stock.reserve(shop, "MILK", "WH", D(6), "SO-9/1")
    with pytest.raises(OutOfStock) as refused:
        stock.ship_lines(
            shop, "WH", [StockLine("MILK", D(3), lot="A"), StockLine("MILK", D(3), lot="B")]
        )
    assert refused.value.field == "lines[1].quantity"
    shipped = stock.ship_lines(
        shop, "WH", [StockLine("MILK", D(2), lot="A"), StockLine("MILK", D(2), lot="B")]
    )
    assert [(m.lot, m.quantity) for m in shipped.moves] == [("A", D(2)), ("B", D(2))]


def test_half_of_an_item_counted_in_each_is_refused_and_nothing_moves(shop: UnitOfWork) -> None:
    stock.receive(shop, "CUP", "WH", D(10))
    with pytest.raises(InvalidInput, match="whole"):
        stock.ship(shop, "CUP", "WH", D("0.5"))
    with pytest.raises(InvalidInput, match="whole"):
        stock.receive(shop, "CUP", "WH", D("2.5"))
    assert _numbers(level(shop, "CUP", "WH")) == (D(10), D(0), D(10))
    stock.receive(shop, "MILK", "WH", D("2.5"), lot="M1")  # litres divide
    assert level(shop, "MILK", "WH")["on_hand"] == D("2.5")
