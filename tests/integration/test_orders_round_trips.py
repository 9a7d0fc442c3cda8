"""A confirmation's statements do not grow with its lines (issue #18, the order path).

Counted with SQLAlchemy's `before_cursor_execute`, as docs/performance.md counts them: every
statement the unit of work sends, `BEGIN` and `COMMIT` included where the driver sends them.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine, event

from leanstock.adapters.db.uow import UnitOfWork
from leanstock.domain.catalog import Item, Location, Policy, Supplier, SupplierItem
from leanstock.services import catalog, orders, purchasing, stock

D = Decimal
STOCKED = [f"S-{i}" for i in range(6)]
PULLED = [f"B-{i}" for i in range(6)]


@pytest.fixture
def shop(uow: UnitOfWork) -> UnitOfWork:
    """Six stocked items with plenty on hand and six bought to order from two suppliers."""
    catalog.add_location(uow, Location("WH", "Warehouse"))
    for code in ("MILL", "FARM"):
        catalog.add_supplier(uow, Supplier(code, code.title()))
    for sku in STOCKED:
        catalog.add_item(uow, Item(sku, sku))
        stock.receive(uow, sku, "WH", D(1000))
    for n, sku in enumerate(PULLED):
        catalog.add_item(uow, Item(sku, sku, policy=Policy.BUY_TO_ORDER))
        supplier = ("MILL", "FARM")[n % 2]
        catalog.add_supplier_item(uow, SupplierItem(supplier, sku, D(2), 3, pack_size=D(6)))
    return uow


def _lines(skus: list[str], n: int) -> list[orders.NewLine]:
    return [orders.NewLine(sku, D(2), "WH") for sku in skus[:n]]


STOCKED_ONLY = STOCKED
PULLED_ONLY = PULLED
# A stocked item (reserved) then a bought one (pulled onto its supplier's draft), by turns.
MIXED = [sku for pair in zip(STOCKED, PULLED, strict=True) for sku in pair]
# (skus, the shorter order's lines): the shorter order is served the same ways as the longer.
KINDS = {"stocked": (STOCKED_ONLY, 1), "pulled": (PULLED_ONLY, 1), "mixed": (MIXED, 2)}


def _counted(engine: Engine, call: Any) -> int:
    statements: list[str] = []

    def counted(*args: Any) -> None:
        statements.append(args[2])

    event.listen(engine, "before_cursor_execute", counted)
    try:
        call()
    finally:
        event.remove(engine, "before_cursor_execute", counted)
    return len(statements)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_placing_a_confirmed_order_costs_as_many_statements_for_6_lines_as_for_1(
    shop: UnitOfWork, engine: Engine, kind: str
) -> None:
    uow = shop
    skus, fewest = KINDS[kind]
    # Each supplier's draft and its lines exist from here on, so every order below finds them.
    orders.place_order(uow, "Ann", _lines(skus, 6), confirm=True)
    counts = [
        _counted(engine, lambda n=n: orders.place_order(uow, "Ann", _lines(skus, n), confirm=True))
        for n in (fewest, 6)
    ]
    assert counts[0] == counts[1] < 20


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_confirming_a_draft_costs_as_many_statements_for_6_lines_as_for_1(
    shop: UnitOfWork, engine: Engine, kind: str
) -> None:
    uow = shop
    skus, fewest = KINDS[kind]
    orders.place_order(uow, "Ann", _lines(skus, 6), confirm=True)
    drafts = {n: orders.place_order(uow, "Bob", _lines(skus, n)).number for n in (fewest, 6)}
    counts = [_counted(engine, lambda n=n: orders.confirm_order(uow, drafts[n])) for n in drafts]
    assert counts[0] == counts[1] < 25


def test_lines_on_one_stock_row_and_one_draft_line_see_each_other(shop: UnitOfWork) -> None:
    """Two lines of one item share its stock and its draft line as if served one by one."""
    uow = shop
    stock.receive(uow, "S-0", "WH", D(3), reference="top-up")  # 1003 on hand
    view = orders.place_order(
        uow,
        "Ann",
        [
            orders.NewLine("S-0", D(1000), "WH"),
            orders.NewLine("B-0", D(4), "WH"),
            orders.NewLine("S-0", D(5), "WH"),
            orders.NewLine("B-0", D(3), "WH"),
        ],
        confirm=True,
    )
    lines = view.lines
    assert [ln.reserved for ln in lines] == [D(1000), D(0), D(3), D(0)]
    assert [ln.fulfilment for ln in lines] == ["stock", "purchase", "backorder", "purchase"]
    # Both B-0 lines peg the same draft line, which covers both, rounded up to the pack of 6.
    assert lines[1].pegs[0].supply == lines[3].pegs[0].supply
    (po,) = [p for p in purchasing.list_purchase_orders(uow).items if p["supplier"] == "MILL"]
    assert po["quantity"] == 12
