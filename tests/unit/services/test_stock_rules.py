"""The stock services' rules on the in-memory unit of work: availability, reservations, lots.

The same services run on SQLite and PostgreSQL in tests/integration; here they run in
milliseconds, so each rule is tested on its own.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fakes import InMemoryUnitOfWork
from leanstock.domain.catalog import Item, Location, Supplier
from leanstock.domain.errors import Conflict, InvalidInput, InvalidTransition, OutOfStock
from leanstock.domain.ledger import ReservationStatus
from leanstock.services import catalog, purchasing, stock

D = Decimal


def today() -> date:
    """Today in UTC, as the services judge it, read when it is used (not when the module was
    imported, which under xdist can be minutes earlier, on the other side of midnight)."""
    return datetime.now(UTC).date()


@pytest.fixture
def uow() -> InMemoryUnitOfWork:
    uow = InMemoryUnitOfWork()
    catalog.add_location(uow, Location("WH", "Warehouse"))
    catalog.add_item(uow, Item("CUP", "Cup"))
    catalog.add_item(uow, Item("MILK", "Milk", lot_tracked=True, shelf_life_days=10))
    catalog.add_supplier(uow, Supplier("DAIRY", "Dairy"))
    return uow


def reserved(uow: InMemoryUnitOfWork, sku: str) -> tuple[Decimal, Decimal]:
    """(the item-location's reserved counter, the sum of its open reservations)."""
    with uow:
        item_id = uow.catalog.item(sku).id
        place = uow.catalog.location("WH").id
        counter = uow.state.reserved.get((item_id, place), D(0))
        rows = [r for r in uow.state.reservations.values() if r.item_id == item_id]
    return counter, sum((r.open_quantity for r in rows if r.status == "open"), D(0))


def test_available_leaves_out_expired_lots_and_what_is_reserved(uow: InMemoryUnitOfWork) -> None:
    stock.receive(uow, "MILK", "WH", D(4), lot="OLD", expires_on=today() - timedelta(days=1))
    stock.receive(uow, "MILK", "WH", D(6), lot="NEW")
    stock.reserve(uow, "MILK", "WH", D(2), "SO-000001/1")
    with pytest.raises(OutOfStock) as refused:
        stock.ship(uow, "MILK", "WH", D(5))
    assert refused.value.available == 4
    with pytest.raises(OutOfStock):
        stock.reserve(uow, "MILK", "WH", D(5), "SO-000002/1")
    shipped = stock.ship(uow, "MILK", "WH", D(4))
    assert [(m.lot, m.quantity) for m in shipped.moves] == [("NEW", D(4))]


def test_reserve_release_and_consume_change_the_rows_and_the_counter_together(
    uow: InMemoryUnitOfWork,
) -> None:
    stock.receive(uow, "CUP", "WH", D(10))
    first = stock.reserve(uow, "CUP", "WH", D(6), "SO-000001/1")
    second = stock.reserve(uow, "CUP", "WH", D(3), "SO-000002/1")
    assert reserved(uow, "CUP") == (D(9), D(9))
    after = stock.release(uow, first.id, D(2))
    assert (after.open_quantity, after.status) == (D(4), "open")
    assert reserved(uow, "CUP") == (D(7), D(7))
    stock.consume(uow, second.id)
    assert reserved(uow, "CUP") == (D(4), D(4))
    assert stock.get_reservation(uow, second.id).status == ReservationStatus.CONSUMED
    with pytest.raises(InvalidTransition, match="already consumed"):
        stock.release(uow, second.id)
    with pytest.raises(Conflict, match="holds only 4"):
        stock.consume(uow, first.id, D(5))
    assert reserved(uow, "CUP") == (D(4), D(4))


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["reserve", "release", "consume"]), st.integers(1, 5)),
        max_size=12,
    )
)
def test_the_reserved_counter_is_always_the_sum_of_open_reservations(
    steps: list[tuple[str, int]],
) -> None:
    uow = InMemoryUnitOfWork()
    catalog.add_location(uow, Location("WH", "Warehouse"))
    catalog.add_item(uow, Item("CUP", "Cup"))
    stock.receive(uow, "CUP", "WH", D(20))
    made: list[int] = []
    for verb, quantity in steps:
        try:
            if verb == "reserve":
                made.append(stock.reserve(uow, "CUP", "WH", D(quantity), "ref").id)
            elif made and verb == "release":
                stock.release(uow, made[-1], D(quantity))
            elif made:
                stock.consume(uow, made[0], D(quantity))
        except (Conflict, InvalidTransition):
            pass
        counter, rows = reserved(uow, "CUP")
        assert counter == rows
        assert 0 <= counter <= 20


def test_a_receipt_registers_a_new_lot_with_its_shelf_life_and_refuses_another_expiry(
    uow: InMemoryUnitOfWork,
) -> None:
    stock.receive(uow, "MILK", "WH", D(5), lot="L1")
    with uow:
        item_id = uow.catalog.item("MILK").id
        assert uow.ledger.lot(item_id, "L1") is not None
        assert uow.state.lots[(item_id, "L1")] == today() + timedelta(days=10)
    with pytest.raises(InvalidInput, match="expires on"):
        stock.receive(uow, "MILK", "WH", D(1), lot="L1", expires_on=today())


def test_a_purchase_delivery_follows_the_same_lot_rule(uow: InMemoryUnitOfWork) -> None:
    stock.receive(uow, "MILK", "WH", D(5), lot="L1", expires_on=today() + timedelta(days=3))
    order = purchasing.add_to_draft(uow, "DAIRY", [purchasing.NewPurchaseLine("MILK", D(8), "WH")])
    purchasing.release(uow, order.number)
    with pytest.raises(InvalidInput, match="expires on"):
        purchasing.receive(
            uow, order.number, [purchasing.ReceiptLine(1, D(8), lot="L1", expires_on=today())]
        )
    with pytest.raises(InvalidInput, match="lot"):
        purchasing.receive(uow, order.number, [purchasing.ReceiptLine(1, D(8))])
    purchasing.receive(uow, order.number, [purchasing.ReceiptLine(1, D(8), lot="L2")])
    with uow:
        item_id = uow.catalog.item("MILK").id
        assert uow.state.lots[(item_id, "L2")] == today() + timedelta(days=10)
    assert purchasing.get_purchase_order(uow, order.number).status == "received"
