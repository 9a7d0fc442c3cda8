"""The KPIs' snapshot rows are summed in the database (`KpiRepository.month_sums`, per group,
month, moment seen to, location kind and holding rate) and the Python rule
(`services/kpis._add_costs`) works the figures out on the sums. Here, on both databases, the
same report worked out row by row (each snapshot row read alone and grouped in Python) must
show the same figures for every grouping and filter, and a few sums are checked by hand.

Now is 15 March 2026, 12:00 UTC; three months are asked for (January 31 days, February 28,
March 15 so far: 74). Moves fall at odd minutes and seconds, so March's open rows have seen
to different moments:

- FLOUR (`dry`, 2 each) at WH: 100 received from ACME 5 Jan 12:00 (promised 3 Jan: late);
  30 shipped 20 Jan 14:00;
  5 scrapped as spoiled 10 Feb 09:00; 2 as damaged 3 Mar 10:20:30; 10 sent to STORE-1 on
  10 Mar 12:00, still in transit (money tied up, not stock value): 53 left, 106.
- SUGAR (`dry`, its own holding rate 40%, 3 each) at STORE-1: 150 received from ACME
  10 Jan 12:00 (promised then: on time); 10 shipped 12 Feb 17:45; 1 scrapped as expired
  5 Mar 06:00: 139 left, 417.
- MILK (`cold`, 1.5 each) at STORE-2: 40 received 1 Feb 07:00; 20 shipped 2 Mar 11:11:11;
  4 scrapped for quality 14 Mar 22:00: 16 left, 24.
- SALT (`general`, 0.5 each): 20 received at WH 15 Jan 00:00; 10 at STORE-1 1 Mar 00:00.

Orders, placed at the end: 3 FLOUR at WH (25 Jan), 5 SUGAR at STORE-1 (20 Feb), 30 MILK at
STORE-2 (5 Mar; 16 on hand, so 14 short).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from leanstock.adapters.db.kpis import KpiRepository
from leanstock.adapters.db.uow import UnitOfWork
from leanstock.domain.catalog import Item, Location, LocationKind, Supplier, SupplierItem
from leanstock.domain.ledger import ScrapReason
from leanstock.services import catalog, kpis, purchasing, stock, transfers
from leanstock.services.orders import NewLine, place_order
from leanstock.services.purchasing import NewPurchaseLine, ReceiptLine

D = Decimal
NOW = datetime(2026, 3, 15, 12, tzinfo=UTC)


def _at(month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, second, tzinfo=UTC)


@pytest.fixture
def bakery(uow: UnitOfWork) -> UnitOfWork:
    catalog.add_location(uow, Location("WH", "Warehouse"))
    catalog.add_location(uow, Location("STORE-1", "First store", LocationKind.STORE))
    catalog.add_location(uow, Location("STORE-2", "Second store", LocationKind.STORE))
    for sku, cost, category in (
        ("FLOUR", D(2), "dry"),
        ("SUGAR", D(3), "dry"),
        ("MILK", D("1.5"), "cold"),
        ("SALT", D("0.5"), "general"),
    ):
        catalog.add_item(uow, Item(sku, sku.title(), unit_cost=cost, category=category))
    kpis.set_holding_rate(uow, "40%", "SUGAR")
    catalog.add_supplier(uow, Supplier("ACME", "Acme"))
    for sku, quantity, price, location, promised, received in (
        ("FLOUR", D(100), D(2), "WH", date(2026, 1, 3), date(2026, 1, 5)),
        ("SUGAR", D(150), D(3), "STORE-1", date(2026, 1, 10), date(2026, 1, 10)),
    ):
        catalog.add_supplier_item(uow, SupplierItem("ACME", sku, price, 5))
        line = NewPurchaseLine(sku, quantity, location, price, expected_date=promised)
        view = purchasing.add_to_draft(uow, "ACME", [line])
        purchasing.release(uow, view.number, at=_at(1, 1))
        purchasing.receive(uow, view.number, [ReceiptLine(1, quantity)], received_on=received)
    stock.receive(uow, "SALT", "WH", D(20), unit_cost=D("0.5"), occurred_at=_at(1, 15))
    stock.ship(uow, "FLOUR", "WH", D(30), occurred_at=_at(1, 20, 14))
    stock.receive(uow, "MILK", "STORE-2", D(40), unit_cost=D("1.5"), occurred_at=_at(2, 1, 7))
    stock.scrap(uow, "FLOUR", "WH", D(5), ScrapReason.SPOILAGE, occurred_at=_at(2, 10, 9))
    stock.ship(uow, "SUGAR", "STORE-1", D(10), occurred_at=_at(2, 12, 17, 45))
    stock.receive(uow, "SALT", "STORE-1", D(10), unit_cost=D("0.5"), occurred_at=_at(3, 1))
    stock.ship(uow, "MILK", "STORE-2", D(20), occurred_at=_at(3, 2, 11, 11, 11))
    stock.scrap(uow, "FLOUR", "WH", D(2), ScrapReason.DAMAGE, occurred_at=_at(3, 3, 10, 20, 30))
    stock.scrap(uow, "SUGAR", "STORE-1", D(1), ScrapReason.EXPIRY, occurred_at=_at(3, 5, 6))
    order = transfers.create_transfer_order(uow, "FLOUR", "WH", "STORE-1", D(10))
    transfers.release_transfer(uow, order.number)
    transfers.ship_transfer(uow, order.number, occurred_at=_at(3, 10, 12))
    stock.scrap(uow, "MILK", "STORE-2", D(4), ScrapReason.QUALITY, occurred_at=_at(3, 14, 22))
    for customer, sku, quantity, location, ordered in (
        ("Ann", "FLOUR", D(3), "WH", _at(1, 25, 9)),
        ("Cy", "SUGAR", D(5), "STORE-1", _at(2, 20, 10)),
        ("Bob", "MILK", D(30), "STORE-2", _at(3, 5, 9)),
    ):
        wanted = NewLine(sku, quantity, location)
        place_order(uow, customer, [wanted], confirm=True, ordered_at=ordered)
    return uow


def _each(
    repo: KpiRepository,
    rows: list[dict[str, Any]],
    group_by: str,
    sku: str | None,
    category: str | None,
    location: str | None,
) -> Iterator[tuple[dict[str, Any], str]]:
    """Each row alone, filtered in Python, with its group."""
    items = {int(r["id"]): r for r in repo.items()}
    places = {int(r["id"]): r for r in repo.locations()}
    for row in rows:
        item, place = items[int(row["item_id"])], places[int(row["location_id"])]
        if sku is not None and item["sku"] != sku:
            continue
        if category is not None and item["category"] != category:
            continue
        if location is not None and place["code"] != location:
            continue
        groups = {"item": item["sku"], "category": item["category"], "location": place["code"]}
        yield row, groups.get(group_by, "company")


def _row_by_row(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the repository hand the report every snapshot row, demand row (per item-location
    and month) and delivery alone, grouped and filtered in Python, not their sums."""

    def month_sums(
        self: KpiRepository,
        since: date,
        group_by: str,
        *,
        sku: str | None = None,
        category: str | None = None,
        location: str | None = None,
        own_rates: Any = (),
    ) -> list[dict[str, Any]]:
        rated = set(own_rates)
        return [
            row
            | {
                "group": group,
                "rate_item": row["item_id"] if row["item_id"] in rated else None,
                "scrap": [row["scrapped"]] if row["scrapped"] else [],
            }
            for row, group in _each(self, self.months(since), group_by, sku, category, location)
        ]

    def demand_sums(
        self: KpiRepository,
        since: datetime,
        group_by: str,
        *,
        sku: str | None = None,
        category: str | None = None,
        location: str | None = None,
    ) -> list[tuple[Any, ...]]:
        rows = [{"item_id": r[0], "location_id": r[1], "row": r} for r in self.demand_months(since)]
        return [
            (group, *row["row"][2:])
            for row, group in _each(self, rows, group_by, sku, category, location)
        ]

    def delivery_sums(
        self: KpiRepository,
        since: date,
        group_by: str,
        *,
        sku: str | None = None,
        category: str | None = None,
        location: str | None = None,
    ) -> list[tuple[Any, date, int, int]]:
        rows = [
            {"item_id": r[0], "location_id": r[1], "row": r}
            for r in self.deliveries(since)
            if r[4] is not None
        ]
        return [
            (group, row["row"][3].replace(day=1), 1, int(row["row"][3] > row["row"][4]))
            for row, group in _each(self, rows, group_by, sku, category, location)
        ]

    monkeypatch.setattr(KpiRepository, "month_sums", month_sums)
    monkeypatch.setattr(KpiRepository, "demand_sums", demand_sums)
    monkeypatch.setattr(KpiRepository, "delivery_sums", delivery_sums)


ASKED: list[dict[str, Any]] = [
    {},
    {"months": 1},
    {"months": 12},
    {"group_by": "category"},
    {"group_by": "location"},
    {"group_by": "item"},
    {"group_by": "item", "location": "STORE-1"},
    {"group_by": "category", "category": "dry"},
    {"group_by": "location", "sku": "FLOUR"},
    {"sku": "SUGAR"},
    {"location": "WH", "months": 2},
]


def test_the_sums_in_sql_show_what_each_row_would(
    bakery: UnitOfWork, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked = [{"months": 3} | a for a in ASKED]
    summed = [kpis.kpis(bakery, now=NOW, **a) for a in asked]
    with monkeypatch.context() as patch:
        _row_by_row(patch)
        one_by_one = [kpis.kpis(bakery, now=NOW, **a) for a in asked]
    for a, fast, slow in zip(asked, summed, one_by_one, strict=True):
        assert fast.total == slow.total, a
        assert fast.window == slow.window, a
        assert fast.history == slow.history, a
    # The data is not trivial: three months of costs in several groups.
    by_item = summed[5]
    assert {f.group for f in by_item.window} == {"FLOUR", "SUGAR", "MILK", "SALT"}
    assert sum(1 for f in by_item.history if f.money_tied_up) == 11  # MILK from February
    assert [(f.group, f.demand, f.deliveries) for f in by_item.window if f.demand] == [
        ("SUGAR", D(5), 1),
        ("FLOUR", D(3), 1),
        ("MILK", D(30), 0),
    ]


def test_the_summed_figures_match_the_hand_worked_business(bakery: UnitOfWork) -> None:
    company = kpis.kpis(bakery, months=3, now=NOW)
    (window,) = company.window
    assert window.days == 74
    assert window.stock_value == D("562.00")  # 106 + 5 + 10 + 417 + 24; not the 20 in transit
    assert window.cost_of_goods_sold == D("120.00")  # 60 FLOUR, 30 SUGAR, 30 MILK
    assert window.scrap_by_reason == {
        "damage": D("4.00"),
        "expiry": D("3.00"),
        "quality": D("6.00"),
        "spoilage": D("10.00"),
    }
    assert window.scrap_cost == D("23.00")
    assert (window.demand, window.filled, window.lines, window.lines_in_full) == (
        D(38),
        D(24),
        3,
        2,
    )
    assert (window.stockout_days, window.deliveries, window.late_deliveries) == (1, 2, 1)
    jan, feb, mar = company.history
    assert [(m.demand, m.deliveries) for m in company.history] == [(D(3), 2), (D(5), 0), (D(30), 0)]
    assert (jan.cost_of_goods_sold, feb.cost_of_goods_sold, mar.cost_of_goods_sold) == (
        D(60),
        D(30),
        D(30),
    )
    assert (feb.scrap_by_reason, mar.scrap_cost) == ({"spoilage": D("10.00")}, D("13.00"))
    by_place = kpis.kpis(bakery, group_by="location", months=3, now=NOW)
    assert {f.group: f.stock_value for f in by_place.window} == {
        "WH": D(116),  # 53 FLOUR, 20 SALT
        "STORE-1": D(422),  # 139 SUGAR, 10 SALT
        "STORE-2": D(24),
        "in_transit": D(0),  # 10 FLOUR, held in transit: money tied up, no stock value
    }
    transit = next(f for f in by_place.window if f.group == "in_transit")
    # 20 held from 10 Mar 12:00 to now, 5 of March's 14.5 days so far: (20 × 5 / 14.5) × 15 / 74
    assert transit.money_tied_up == D("1.40")
    by_category = kpis.kpis(bakery, group_by="category", months=3, now=NOW)
    figures = {f.group: f for f in by_category.window}
    assert set(figures) == {"dry", "cold", "general"}
    assert figures["dry"].scrap_by_reason == {
        "damage": D("4.00"),
        "expiry": D("3.00"),
        "spoilage": D("10.00"),
    }
    assert figures["cold"].scrap_by_reason == {"quality": D("6.00")}
    # SALT: 10 from 15 Jan (17 of 31 days), 10 in February, 15 in March (15 days counted):
    # (10 × 17 + 10 × 28 + 15 × 15) / 74 = 675 / 74
    assert figures["general"].money_tied_up == D("9.12")
    assert figures["general"].stock_value == D(15)
    sugar = kpis.kpis(bakery, group_by="item", sku="SUGAR", months=3, now=NOW).history[0]
    # 150 × 3 = 450 held 21.5 of January's 31 days, at its own 40% a year: 450 × 21.5 × 0.4 / 365
    assert sugar.carrying_cost == D("10.60")
    flour_wh = kpis.kpis(bakery, sku="FLOUR", location="WH", months=1, now=NOW).window[0]
    # 130 to 3 Mar 10:20:30, 126 to 10 Mar 12:00, then 106 to now, over 14.5 days, × 15 / 15
    held = (D(130) * (2 * 86400 + 37230) + D(126) * (7 * 86400 + 5970) + D(106) * (5 * 86400)) / (
        D("14.5") * 86400
    )
    assert flour_wh.money_tied_up == held.quantize(D("0.01"))
