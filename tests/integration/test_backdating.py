"""Backdated moves keep history true, on SQLite and PostgreSQL: no balance goes negative at
any past moment, nothing is posted in a closed period, and values follow."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Engine, select

from leanstock.adapters.db import tables as t
from leanstock.adapters.db.uow import UnitOfWork
from leanstock.domain.catalog import Item, Location
from leanstock.domain.errors import DomainError, OutOfStock
from leanstock.domain.history import PastShortfall
from leanstock.domain.ledger import ScrapReason
from leanstock.services import catalog, queries, stock, valuation

D = Decimal
# Day 0 is thirty days ago at noon, so every day of the example is in the past.
START = (datetime.now(UTC) - timedelta(days=30)).replace(hour=12, minute=0, second=0, microsecond=0)


def day(n: int) -> datetime:
    return START + timedelta(days=n)


@pytest.fixture
def shop(uow: UnitOfWork) -> UnitOfWork:
    catalog.add_location(uow, Location("WH", "Warehouse"))
    catalog.add_item(uow, Item("CUP", "Paper cup"))
    catalog.add_item(uow, Item("MILK", "Milk", lot_tracked=True))
    return uow


def on_hand(uow: UnitOfWork, at: datetime) -> Decimal:
    rows = queries.stock_as_of(uow, at, "CUP", "WH")
    return sum((r["on_hand"] for r in rows), D(0))


def test_the_issues_example_is_refused_naming_the_fifth(shop: UnitOfWork) -> None:
    stock.receive(shop, "CUP", "WH", D(10), occurred_at=day(1))
    stock.ship(shop, "CUP", "WH", D(3), occurred_at=day(20))
    stock.receive(shop, "CUP", "WH", D(5), occurred_at=day(10))
    with pytest.raises(PastShortfall) as refused:
        stock.ship(shop, "CUP", "WH", D(12), occurred_at=day(5))
    assert refused.value.field == "occurred_at"
    assert f"2 short on {day(5):%Y-%m-%d}" in refused.value.detail
    assert on_hand(shop, day(6)) == 10  # nothing changed
    assert on_hand(shop, datetime.now(UTC)) == 12


def test_a_later_point_going_negative_is_named_even_when_today_is_fine(shop: UnitOfWork) -> None:
    stock.receive(shop, "CUP", "WH", D(10), occurred_at=day(1))
    stock.ship(shop, "CUP", "WH", D(8), occurred_at=day(10))
    stock.receive(shop, "CUP", "WH", D(10), occurred_at=day(15))
    with pytest.raises(PastShortfall) as refused:
        stock.ship(shop, "CUP", "WH", D(5), occurred_at=day(5))  # 5 left on day 5: fine
    assert f"3 short on {day(10):%Y-%m-%d}" in refused.value.detail  # but not on day 10


def test_a_backdated_receipt_makes_a_past_shortfall_valid(shop: UnitOfWork) -> None:
    stock.receive(shop, "CUP", "WH", D(10), occurred_at=day(1))
    stock.ship(shop, "CUP", "WH", D(3), occurred_at=day(20))
    stock.receive(shop, "CUP", "WH", D(5), occurred_at=day(10))
    with pytest.raises(PastShortfall):
        stock.ship(shop, "CUP", "WH", D(12), occurred_at=day(5))
    stock.receive(shop, "CUP", "WH", D(5), occurred_at=day(3))  # the delivery keyed in late
    stock.ship(shop, "CUP", "WH", D(12), occurred_at=day(5))
    assert [on_hand(shop, day(n)) for n in (1, 3, 5, 10, 20)] == [10, 15, 3, 8, 5]


def test_a_lot_is_checked_on_its_own(shop: UnitOfWork) -> None:
    stock.receive(shop, "MILK", "WH", D(5), lot="A", occurred_at=day(1))
    stock.receive(shop, "MILK", "WH", D(5), lot="B", occurred_at=day(8))
    with pytest.raises(PastShortfall) as refused:  # lot B was not there on day 5
        stock.ship(shop, "MILK", "WH", D(2), lot="B", occurred_at=day(5))
    assert "lot B" in refused.value.detail
    stock.ship(shop, "MILK", "WH", D(2), lot="A", occurred_at=day(5))


def test_fifo_values_follow_a_backdated_receipt(shop: UnitOfWork) -> None:
    stock.receive(shop, "CUP", "WH", D(10), unit_cost=D(2), occurred_at=day(1))
    stock.receive(shop, "CUP", "WH", D(10), unit_cost=D(3), occurred_at=day(2))
    stock.ship(shop, "CUP", "WH", D(15), occurred_at=day(3))
    assert valuation.cost_flows(shop).cost_of_goods_sold == D(35)
    stock.receive(shop, "CUP", "WH", D(5), unit_cost=D(1), occurred_at=day(0))
    # By hand: FIFO now ships 5 × 1 + 10 × 2 on day 3 (25), and holds 10 × 3 (30).
    assert valuation.cost_flows(shop).cost_of_goods_sold == D(25)
    (line,) = valuation.stock_value(shop).lines
    assert (line.quantity, line.value) == (D(10), D(30))
    (before,) = valuation.stock_value(shop, as_of=day(2)).lines
    assert (before.quantity, before.value) == (D(25), D(55))


def prefixes_never_negative(engine: Engine, sku: str) -> None:
    """Walk every move of `sku` at WH in time order: no prefix leaves the balance below zero."""
    with engine.connect() as db:
        wh = db.execute(select(t.locations.c.id).where(t.locations.c.code == "WH")).scalar_one()
        rows = db.execute(
            select(t.moves.c.source_id, t.moves.c.quantity)
            .join(t.items, t.items.c.id == t.moves.c.item_id)
            .where(t.items.c.sku == sku)
            .where((t.moves.c.source_id == wh) | (t.moves.c.target_id == wh))
            .order_by(t.moves.c.occurred_at, t.moves.c.operation_id, t.moves.c.id)
        ).all()
    running = D(0)
    for source, quantity in rows:
        running += -quantity if source == wh else quantity
        assert running >= 0, rows


def test_concurrent_backdated_and_current_shipments_never_make_the_past_negative(
    engine: Engine,
) -> None:
    race(engine, "CUP", day(0), day(1), day(3))


def test_concurrent_shipments_dated_minutes_ago_never_make_the_past_negative(
    engine: Engine,
) -> None:
    # Within the five minutes that flag a move backdated: checked all the same.
    now = datetime.now(UTC)
    minutes = [now - timedelta(minutes=n) for n in (20, 4, 2)]
    race(engine, "TEA", *minutes)


def race(engine: Engine, prefix: str, first: datetime, when: datetime, second: datetime) -> None:
    """Receive 10 at `first` and 10 at `second`; then two shipments of 6 dated `when` (between
    the two) and one of 9 dated now race each other, four rounds."""
    uow = UnitOfWork(engine)
    catalog.add_location(uow, Location("WH", "Warehouse"))
    for round_ in range(4):
        sku = f"{prefix}-{round_}"
        catalog.add_item(uow, Item(sku, "Paper cup"))
        stock.receive(uow, sku, "WH", D(10), occurred_at=first)
        stock.receive(uow, sku, "WH", D(10), occurred_at=second)
        # Each alone fits; the two backdated ones together would take 12 of the 10 there at
        # `when`, and the current one competes for what is left now.
        jobs: list[tuple[Decimal, datetime | None]] = [(D(6), when), (D(6), when), (D(9), None)]
        gate = threading.Barrier(len(jobs))

        def ship(job: tuple[Decimal, datetime | None], sku: str, gate: threading.Barrier) -> bool:
            gate.wait()
            try:
                stock.ship(UnitOfWork(engine), sku, "WH", job[0], occurred_at=job[1])
            except (PastShortfall, OutOfStock):
                return False
            return True

        with ThreadPoolExecutor(len(jobs)) as pool:
            done = list(pool.map(ship, jobs, [sku] * 3, [gate] * 3))
        assert not all(done[:2]), f"round {round_}: both backdated shipments were accepted"
        assert any(done), f"round {round_}: everything was refused"
        prefixes_never_negative(engine, sku)


def test_refusals_are_domain_errors_the_api_renders(shop: UnitOfWork) -> None:
    stock.receive(shop, "CUP", "WH", D(1), occurred_at=day(2))
    with pytest.raises(DomainError):
        stock.ship(shop, "CUP", "WH", D(1), occurred_at=day(1))


def test_a_count_taken_in_the_past_is_compared_with_that_days_books(shop: UnitOfWork) -> None:
    stock.receive(shop, "CUP", "WH", D(10), occurred_at=day(1))
    stock.ship(shop, "CUP", "WH", D(3), occurred_at=day(5))
    operation = stock.count(shop, "CUP", "WH", D(8), occurred_at=day(3))  # 10 on the books then
    assert [(m.source, m.quantity) for m in operation.moves] == [("WH", D(2))]
    assert [on_hand(shop, day(n)) for n in (2, 3, 5)] == [10, 8, 5]
    with pytest.raises(PastShortfall):  # found 2 on day 4: the day-5 shipment of 3 had no stock
        stock.count(shop, "CUP", "WH", D(2), occurred_at=day(4))


def test_a_move_dated_minutes_ago_is_checked_like_one_dated_days_ago(shop: UnitOfWork) -> None:
    # Nothing is there until a receipt a minute ago; a shipment dated three minutes ago would
    # have taken stock that had not arrived. No grace window lets it through.
    now = datetime.now(UTC)
    stock.receive(shop, "CUP", "WH", D(5), occurred_at=now - timedelta(minutes=1))
    with pytest.raises(PastShortfall) as refused:
        stock.ship(shop, "CUP", "WH", D(5), occurred_at=now - timedelta(minutes=3))
    assert refused.value.short == D(5)
    assert on_hand(shop, now) == D(5)  # nothing was posted
    stock.ship(shop, "CUP", "WH", D(5), occurred_at=now - timedelta(seconds=30))
    assert on_hand(shop, datetime.now(UTC)) == D(0)


def test_a_count_taken_minutes_ago_is_compared_with_the_books_then(shop: UnitOfWork) -> None:
    now = datetime.now(UTC)
    stock.receive(shop, "CUP", "WH", D(10), occurred_at=day(1))
    stock.receive(shop, "CUP", "WH", D(4), occurred_at=now - timedelta(minutes=1))
    operation = stock.count(shop, "CUP", "WH", D(9), occurred_at=now - timedelta(minutes=2))
    assert [(m.source, m.quantity) for m in operation.moves] == [("WH", D(1))]  # 10 then
    assert on_hand(shop, datetime.now(UTC)) == D(13)


def test_reservations_count_from_the_moment_they_were_made(shop: UnitOfWork) -> None:
    stock.receive(shop, "CUP", "WH", D(10), occurred_at=day(0))
    stock.receive(shop, "CUP", "WH", D(10), occurred_at=day(3))
    stock.reserve(shop, "CUP", "WH", D(12), "SO-1/1")  # made now: 20 there, 12 promised
    stock.receive(shop, "CUP", "WH", D(10))  # after the reservation: 30 there, 18 free now
    # 9 dated day 1 fits day 1 and today, but leaves 11 when the 12 were promised.
    with pytest.raises(PastShortfall) as refused:
        stock.ship(shop, "CUP", "WH", D(9), occurred_at=day(1))
    assert refused.value.short == D(1)
    assert "counting what was reserved by then" in refused.value.detail
    # 8 leaves exactly what was promised. Before the reservation was made it did not count:
    # only 2 were there on day 1.
    stock.ship(shop, "CUP", "WH", D(8), occurred_at=day(1))
    assert on_hand(shop, day(2)) == D(2)


def test_a_backdated_shipment_of_what_a_reservation_holds_is_not_counted_twice(
    shop: UnitOfWork,
) -> None:
    stock.receive(shop, "CUP", "WH", D(10), occurred_at=day(0))
    held = stock.reserve(shop, "CUP", "WH", D(8), "SO-2/1")
    stock.receive(shop, "CUP", "WH", D(5))
    stock.consume(shop, held.id, occurred_at=day(1))  # its own 8 are not also "promised"
    assert on_hand(shop, day(2)) == D(2)


def test_physical_moves_ignore_reservations_in_the_past_as_today(shop: UnitOfWork) -> None:
    stock.receive(shop, "CUP", "WH", D(10), occurred_at=day(0))
    stock.reserve(shop, "CUP", "WH", D(10), "SO-3/1")
    stock.receive(shop, "CUP", "WH", D(10))
    # Damaged stock is gone whoever it was promised to.
    stock.scrap(shop, "CUP", "WH", D(5), ScrapReason.DAMAGE, occurred_at=day(1))
    assert on_hand(shop, day(2)) == D(5)
