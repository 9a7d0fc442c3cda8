"""Stocktakes on the in-memory unit of work: the snapshot, blind views, clashes and what a
posted count books. The same service runs over HTTP on SQLite and PostgreSQL in
tests/e2e/test_api_stocktakes.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from fakes import InMemoryUnitOfWork
from leanstock.domain.catalog import Item, Location
from leanstock.domain.errors import Conflict, InvalidInput
from leanstock.services import catalog, stock
from leanstock.services.stock import stocktakes
from leanstock.services.stock.stocktakes import CountEntry

D = Decimal


@pytest.fixture
def uow() -> InMemoryUnitOfWork:
    uow = InMemoryUnitOfWork()
    catalog.add_location(uow, Location("WH", "Warehouse"))
    catalog.add_item(uow, Item("CUP", "Cup", category="cups"))
    catalog.add_item(uow, Item("LID", "Lid", category="cups"))
    catalog.add_item(uow, Item("MILK", "Milk", category="dairy", lot_tracked=True))
    stock.receive(uow, "CUP", "WH", D(10))
    stock.receive(uow, "MILK", "WH", D(4), lot="M1")
    return uow


def test_a_frozen_count_snapshots_its_category_and_a_blind_one_hides_it(
    uow: InMemoryUnitOfWork,
) -> None:
    started = stocktakes.start_stocktake(
        uow, "WH", category="cups", freeze=True, blind=True, show_expected=False
    )
    assert [(x.sku, x.expected) for x in started.lines] == [("CUP", None)]
    assert not started.expected_shown
    shown = stocktakes.get_stocktake(uow, started.number, show_expected=True)
    assert [(x.sku, x.expected) for x in shown.lines] == [("CUP", D(10))]
    # A lid found on the shelf, not on the sheet: the books held none at the start.
    counted = stocktakes.enter_counts(uow, started.number, [CountEntry("LID", D(2))])
    assert {x.sku: x.expected for x in counted.lines} == {"CUP": D(10), "LID": D(0)}
    posted = stocktakes.post_stocktake(uow, started.number)
    # CUP was never counted: it posts nothing; the lid is a gain of 2.
    assert {x.sku: x.difference for x in posted.lines} == {"CUP": None, "LID": D(2)}
    assert posted.expected_shown


def test_a_later_count_overwrites_and_a_count_is_not_dated_before_the_start(
    uow: InMemoryUnitOfWork,
) -> None:
    number = stocktakes.start_stocktake(uow, "WH").number
    stocktakes.enter_counts(uow, number, [CountEntry("CUP", D(9))])
    stocktakes.enter_counts(uow, number, [CountEntry("CUP", D(8))])
    (line,) = stocktakes.get_stocktake(uow, number).lines
    assert line.counted == D(8)
    early = datetime.now(UTC) - timedelta(hours=1)
    with pytest.raises(InvalidInput, match="before ST-") as refused:
        stocktakes.enter_counts(uow, number, [CountEntry("CUP", D(1))], counted_at=early)
    assert refused.value.field == "counted_at"
    posted = stocktakes.post_stocktake(uow, number)
    assert [(x.sku, x.book, x.difference) for x in posted.lines] == [("CUP", D(10), D(-2))]
    with uow:
        assert uow.ledger.lot_stock(uow.catalog.item("CUP").id, uow.catalog.location("WH").id)[
            0
        ].quantity == D(8)
        assert list(uow.state.reasons.values())[-1] == "count"


def test_counts_of_other_categories_may_run_side_by_side(uow: InMemoryUnitOfWork) -> None:
    cups = stocktakes.start_stocktake(uow, "WH", category="cups").number
    stocktakes.start_stocktake(uow, "WH", category="dairy")
    with pytest.raises(Conflict, match=f"{cups}.*category cups") as refused:
        stocktakes.start_stocktake(uow, "WH")
    assert refused.value.field == "location"
    with pytest.raises(Conflict, match=cups):
        stock.count(uow, "LID", "WH", D(1))
    with pytest.raises(InvalidInput, match="category dairy"):
        stocktakes.enter_counts(uow, cups, [CountEntry("MILK", D(1), lot="M1")])


def test_a_loss_larger_than_what_is_left_is_refused_and_nothing_posts(
    uow: InMemoryUnitOfWork,
) -> None:
    number = stocktakes.start_stocktake(uow, "WH", freeze=True).number
    stocktakes.enter_counts(
        uow, number, [CountEntry("CUP", D(3)), CountEntry("MILK", D(5), lot="M1")]
    )
    # All 10 cups leave after they were counted as 3: posting a loss of 7 is impossible.
    stock.ship(uow, "CUP", "WH", D(10))
    with pytest.raises(Conflict, match="count it again"):
        stocktakes.post_stocktake(uow, number)
    view = stocktakes.get_stocktake(uow, number)
    assert view.status == "open"
    assert all(x.difference is None for x in view.lines)
