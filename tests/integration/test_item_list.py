"""The items list's figures and sorting, on a small shop worked out by hand (SQLite and
PostgreSQL).

| item  | cost | stock                                 | reserved | demand (8 weeks / before) |
|-------|------|---------------------------------------|----------|---------------------------|
| BREAD | 2    | 44 at WH, 20 at STORE                 | 14 at WH | 56 at WH / 100 at WH      |
| MILK  | 1    | lot OLD 10 (expired yesterday), lot   | 10 at WH | 28 at WH / none           |
|       |      | NEW 30 (expires in 10 days), at WH    |          |                           |
| SALT  | 5    | none                                  | none     | none                      |

BREAD: stock 64, available 64 − 14 = 50, 1 a day over 8 weeks: 50.0 days of cover.
MILK: stock 40, available 30 − 10 = 20 (the expired lot is not available), half a day: 40.0.
SALT: nothing, no demand: no days of cover. A reader of STORE only sees BREAD's 20 and none of
its demand. ABC by the year's usage value (BREAD 312, MILK 28, SALT 0): A, B, C.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest

from conftest import Templates
from item_shop import TODAY, open_item_shop
from leanstock.adapters.db.uow import UnitOfWork
from leanstock.domain.access import Visibility
from leanstock.domain.errors import InvalidInput
from leanstock.services import catalog, insight
from leanstock.services.item_list import ItemRow, item_rows


@pytest.fixture
def db_url(db_kind: str, templates: Templates, request: pytest.FixtureRequest) -> Iterator[str]:
    """A copy of the shop's template (`open_item_shop`, written once per session and worker)
    for the tests that ask for `shop`."""
    seeds = {"shop": ("item_list_shop", lambda engine: open_item_shop(UnitOfWork(engine)))}
    with templates.for_test(request, db_kind, seeds) as url:
        yield url


@pytest.fixture
def shop(uow: UnitOfWork) -> UnitOfWork:
    """The shop of the module's docstring, in this test's copy of the template."""
    return uow


def figures(rows: list[ItemRow]) -> dict[str, tuple[Decimal, Decimal, Decimal | None]]:
    return {r.item.sku: (r.stock, r.available, r.days_of_cover) for r in rows}


def test_each_item_shows_its_stock_available_and_days_of_cover(shop: UnitOfWork) -> None:
    page = item_rows(shop, classes=True)
    assert figures(page.items) == {
        "BREAD": (Decimal(64), Decimal(50), Decimal("50.0")),
        "MILK": (Decimal(40), Decimal(20), Decimal("40.0")),
        "SALT": (Decimal(0), Decimal(0), None),
    }
    assert [r.abc_class for r in page.items] == ["A", "B", "C"]
    classed = insight.classify_items(shop, TODAY)
    assert dict(zip(classed["sku"], classed["abc_class"], strict=True)) == {
        r.item.sku: r.abc_class for r in page.items
    }


def test_a_reader_of_one_location_sees_only_its_stock_and_demand(
    shop: UnitOfWork,
) -> None:
    store = UnitOfWork(shop.engine, Visibility(locations=frozenset({"STORE"})))
    assert figures(item_rows(store).items) == {
        "BREAD": (Decimal(20), Decimal(20), None),
        "MILK": (Decimal(0), Decimal(0), None),
        "SALT": (Decimal(0), Decimal(0), None),
    }


def test_barcodes_show_the_items_first(shop: UnitOfWork) -> None:
    catalog.add_barcode(shop, "BREAD", "4006381333931")
    catalog.add_barcode(shop, "BREAD", "0012345678905")
    rows = {r.item.sku: r.barcode for r in item_rows(shop).items}
    assert rows == {"BREAD": "0012345678905", "MILK": None, "SALT": None}


@pytest.mark.parametrize(
    ("sort", "descending", "expected"),
    [
        ("sku", True, ["SALT", "MILK", "BREAD"]),
        ("name", False, ["BREAD", "MILK", "SALT"]),
        ("category", True, ["SALT", "MILK", "BREAD"]),  # dry, dairy, bakery
        ("stock", False, ["SALT", "MILK", "BREAD"]),
        ("available", True, ["BREAD", "MILK", "SALT"]),
        ("cover", False, ["MILK", "BREAD", "SALT"]),  # no demand: last either way
        ("cover", True, ["BREAD", "MILK", "SALT"]),
        ("class", False, ["BREAD", "MILK", "SALT"]),
        ("class", True, ["SALT", "MILK", "BREAD"]),
    ],
)
def test_sorting_ranks_the_whole_list(
    shop: UnitOfWork, sort: str, descending: bool, expected: list[str]
) -> None:
    whole = item_rows(shop, sort=sort, descending=descending, classes=True)
    assert [r.item.sku for r in whole.items] == expected
    pages = [
        item_rows(shop, 1, offset, sort=sort, descending=descending, classes=True)
        for offset in range(3)
    ]
    assert [p.items[0].item.sku for p in pages] == expected
    assert {p.total for p in pages} == {3}


def test_sorting_keeps_to_the_filters(shop: UnitOfWork) -> None:
    found = item_rows(shop, sort="available", descending=True, category="dairy")
    assert [r.item.sku for r in found.items] == ["MILK"]
    assert found.total == 1


def test_an_unknown_sort_is_refused_by_name(shop: UnitOfWork) -> None:
    with pytest.raises(InvalidInput, match="sort by one of sku, name"):
        item_rows(shop, sort="price")
    with pytest.raises(InvalidInput, match="classes"):
        item_rows(shop, sort="class")
