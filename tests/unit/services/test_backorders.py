"""Backorders filled by arriving stock, on the in-memory unit of work: the fair order, partial
fills, and (property-based) that nothing is ever promised twice or lost."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fakes import InMemoryUnitOfWork
from leanstock.domain.catalog import Item, Location
from leanstock.domain.customers import Customer
from leanstock.domain.errors import DomainError
from leanstock.services import catalog, customers, orders, stock
from leanstock.services.backorders import backorders

D = Decimal
TODAY = datetime.now(UTC).date()


@pytest.fixture
def uow() -> InMemoryUnitOfWork:
    uow = InMemoryUnitOfWork()
    catalog.add_location(uow, Location("WH", "Warehouse"))
    catalog.add_item(uow, Item("MUG", "Mug"))
    return uow


def sell(uow: InMemoryUnitOfWork, quantity: int, **line: object) -> str:
    new = orders.NewLine("MUG", D(quantity), "WH", **line)  # type: ignore[arg-type]
    return orders.place_order(uow, "Ann", [new], confirm=True).number


def test_backorder_two_receive_five_then_ship(uow: InMemoryUnitOfWork) -> None:
    number = sell(uow, 2)
    assert orders.get_order(uow, number).lines[0].reserved == 0
    stock.receive(uow, "MUG", "WH", D(5))
    line = orders.get_order(uow, number).lines[0]
    assert (line.reserved, line.promise_date) == (D(2), TODAY)
    shipped = orders.ship_order(uow, number)
    assert (shipped.status, shipped.lines[0].shipped) == ("shipped", D(2))
    filled = [e for e in uow.events(number) if e["event"] == "sales_line.backorder_filled"]
    assert [e["payload"]["quantity"] for e in filled] == [D(2)]
    # The other three are free stock: a counter sale may take them.
    stock.ship(uow, "MUG", "WH", D(3))


def test_arriving_stock_fills_the_oldest_order_first_and_partially(
    uow: InMemoryUnitOfWork,
) -> None:
    first = sell(uow, 3)
    second = sell(uow, 4)
    stock.receive(uow, "MUG", "WH", D(5))
    assert orders.get_order(uow, first).lines[0].reserved == D(3)
    assert orders.get_order(uow, second).lines[0].reserved == D(2)
    stock.receive(uow, "MUG", "WH", D(10))
    assert orders.get_order(uow, second).lines[0].reserved == D(4)


def test_a_line_wanted_later_waits_behind_one_wanted_sooner(uow: InMemoryUnitOfWork) -> None:
    later = sell(uow, 2, requested_date=TODAY + timedelta(days=30))
    sooner = sell(uow, 2, requested_date=TODAY + timedelta(days=3))
    stock.receive(uow, "MUG", "WH", D(2))
    assert orders.get_order(uow, sooner).lines[0].reserved == D(2)
    assert orders.get_order(uow, later).lines[0].reserved == 0


def test_a_customer_of_higher_priority_goes_before_an_earlier_and_sooner_wanted_line(
    uow: InMemoryUnitOfWork,
) -> None:
    customers.add_customer(uow, Customer("VIP", "Very Important", priority=1))
    customers.add_customer(uow, Customer("LOW", "Low", priority=9))
    walk_in = sell(uow, 2, requested_date=TODAY + timedelta(days=3))
    low = orders.place_order(
        uow, None, [orders.NewLine("MUG", D(2), "WH")], confirm=True, customer_code="LOW"
    ).number
    vip = orders.place_order(
        uow,
        None,
        [orders.NewLine("MUG", D(2), "WH", TODAY + timedelta(days=30))],
        confirm=True,
        customer_code="VIP",
    ).number
    stock.receive(uow, "MUG", "WH", D(3))
    reserved = {n: orders.get_order(uow, n).lines[0].reserved for n in (walk_in, low, vip)}
    assert reserved == {vip: D(2), walk_in: D(1), low: 0}


def test_a_count_gain_fills_a_backorder_and_a_cancelled_line_claims_nothing(
    uow: InMemoryUnitOfWork,
) -> None:
    cancelled = sell(uow, 2)
    waiting = sell(uow, 2)
    orders.cancel_order(uow, cancelled)
    stock.count(uow, "MUG", "WH", D(2))
    assert orders.get_order(uow, waiting).lines[0].reserved == D(2)
    assert orders.get_order(uow, cancelled).lines[0].reserved == 0


operations = st.lists(
    st.one_of(
        st.tuples(st.just("order"), st.integers(1, 6)),
        st.tuples(st.just("receive"), st.integers(1, 8)),
        st.tuples(st.just("ship"), st.integers(0, 9)),
        st.tuples(st.just("cancel"), st.integers(0, 9)),
        st.tuples(st.just("sell_counter"), st.integers(1, 4)),
    ),
    max_size=15,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(operations)
def test_reservations_never_exceed_stock_and_every_open_unit_is_reserved_or_waiting(
    ops: list[tuple[str, int]],
) -> None:
    uow = InMemoryUnitOfWork()
    catalog.add_location(uow, Location("WH", "Warehouse"))
    catalog.add_item(uow, Item("MUG", "Mug"))
    placed: list[str] = []
    for op, n in ops:
        try:
            if op == "order":
                placed.append(sell(uow, n))
            elif op == "receive":
                stock.receive(uow, "MUG", "WH", D(n))
            elif op == "ship" and placed:
                orders.ship_order(uow, placed[n % len(placed)])
            elif op == "cancel" and placed:
                orders.cancel_order(uow, placed[n % len(placed)])
            elif op == "sell_counter":
                stock.ship(uow, "MUG", "WH", D(n))
        except DomainError:
            pass  # refused (nothing reserved to ship, already cancelled, out of stock)
        with uow:
            key = (uow.catalog.item("MUG").id, uow.catalog.location("WH").id)
            on_hand = uow.state.on_hand.get(key, D(0))
            reserved = uow.state.reserved.get(key, D(0))
            assert D(0) <= reserved <= on_hand
            waiting = {
                b.reference: b.waiting for b in backorders(uow, key[0], uow.state.place("WH"))
            }
        for number in placed:
            for line in orders.get_order(uow, number).lines:
                reference = f"{number}/{line.line_no}"
                open_quantity = line.quantity - line.shipped if not line.cancelled else D(0)
                assert line.reserved + waiting.get(reference, D(0)) == open_quantity
                # Stock is never left free while a line waits: what a cancelled line gave
                # back went to the next one.
                if waiting.get(reference, D(0)) > 0:
                    assert on_hand == reserved
