"""The items list on the in-memory unit of work: the same shop and figures as on the databases
(tests/integration/test_item_list.py), so the fake's sort keys and figures agree with SQL's."""

from __future__ import annotations

from decimal import Decimal

import pytest

from fakes import InMemoryUnitOfWork
from item_shop import open_item_shop
from leanstock.services.item_list import item_rows


@pytest.fixture
def shop() -> InMemoryUnitOfWork:
    uow = InMemoryUnitOfWork()
    open_item_shop(uow)
    return uow


def test_the_figures_follow_the_ledgers_availability_rule(shop: InMemoryUnitOfWork) -> None:
    rows = {r.item.sku: r for r in item_rows(shop, classes=True).items}
    assert (rows["MILK"].stock, rows["MILK"].available) == (Decimal(40), Decimal(20))
    assert rows["BREAD"].days_of_cover == Decimal("50.0")
    assert rows["SALT"].days_of_cover is None
    assert [rows[s].abc_class for s in ("BREAD", "MILK", "SALT")] == ["A", "B", "C"]


@pytest.mark.parametrize(
    ("sort", "descending", "expected"),
    [
        ("stock", False, ["SALT", "MILK", "BREAD"]),
        ("available", True, ["BREAD", "MILK", "SALT"]),
        ("cover", False, ["MILK", "BREAD", "SALT"]),
        ("cover", True, ["BREAD", "MILK", "SALT"]),
        ("class", True, ["SALT", "MILK", "BREAD"]),
    ],
)
def test_sorting_matches_the_databases(
    shop: InMemoryUnitOfWork, sort: str, descending: bool, expected: list[str]
) -> None:
    found = item_rows(shop, sort=sort, descending=descending, classes=True)
    assert [r.item.sku for r in found.items] == expected
