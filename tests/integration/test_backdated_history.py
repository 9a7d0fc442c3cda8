"""A backdated move changes the histories the forecasts and scorecards read, on its own date,
and their next run sees it (both databases)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest

from leanstock.adapters.db.uow import UnitOfWork
from leanstock.domain.catalog import Item, Location, Supplier, SupplierItem
from leanstock.domain.ledger import ShipmentReason
from leanstock.services import catalog, orders, purchasing, scorecards, stock
from leanstock.services.purchasing import NewPurchaseLine, ReceiptLine

D = Decimal
DAY0 = datetime.now(UTC).date() - timedelta(days=30)


def day(n: int) -> date:
    return DAY0 + timedelta(days=n)


def at(n: int) -> datetime:
    return datetime.combine(day(n), time(12), UTC)


@pytest.fixture
def shop(uow: UnitOfWork) -> UnitOfWork:
    catalog.add_location(uow, Location("WH", "Warehouse"))
    catalog.add_item(uow, Item("CUP", "Cup", unit_cost=D(1)))
    catalog.add_supplier(uow, Supplier("ROAST", "Roast"))
    catalog.add_supplier_item(uow, SupplierItem("ROAST", "CUP", D(1), 5))
    return uow


def demand(uow: UnitOfWork) -> dict[date, float]:
    frame = orders.demand_history(uow, "D").filter(item="CUP", location="WH")
    return dict(zip(frame["ds"].to_list(), frame["qty"].to_list(), strict=True))


def test_a_backdated_counter_sale_is_demand_on_the_day_it_happened(shop: UnitOfWork) -> None:
    stock.receive(shop, "CUP", "WH", D(20), occurred_at=at(0))
    stock.ship(shop, "CUP", "WH", D(3), occurred_at=at(5), reason=ShipmentReason.SALE)
    assert demand(shop) == {day(5): 3.0}
    # Keyed in the next morning: the next read (the next forecast run) has it on day 4.
    stock.ship(shop, "CUP", "WH", D(2), occurred_at=at(4), reason=ShipmentReason.SALE)
    assert demand(shop) == {day(4): 2.0, day(5): 3.0}


def test_a_backdated_delivery_counts_in_the_scorecard_on_the_day_it_arrived(
    shop: UnitOfWork,
) -> None:
    def order() -> str:
        view = purchasing.add_to_draft(
            shop, "ROAST", [NewPurchaseLine("CUP", D(10), "WH", expected_date=day(5))]
        )
        purchasing.release(shop, view.number, at=at(0))
        return view.number

    first, second = order(), order()
    purchasing.receive(shop, first, [ReceiptLine(1, D(10))], received_on=day(4))
    card = scorecards.scorecard(shop, "ROAST")
    assert (card.figures.deliveries, card.figures.on_time_requested) == (1, 1.0)
    # The second delivery came on day 8 and is keyed in today: late, 8 days' lead time.
    purchasing.receive(shop, second, [ReceiptLine(1, D(10))], received_on=day(8))
    history = purchasing.receipt_history(shop)
    assert sorted(history["received_date"].to_list()) == [day(4), day(8)]
    card = scorecards.scorecard(shop, "ROAST")
    assert (card.figures.deliveries, card.figures.on_time_requested) == (2, 0.5)
    assert card.figures.lead_time_mean_days == pytest.approx(6.0)
    # The window is judged by the day it arrived, not the day it was keyed in.
    assert scorecards.scorecard(shop, "ROAST", since=day(7), until=day(9)).figures.deliveries == 1
