"""Concurrent confirmations never over-reserve, and all pull onto one draft per supplier."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from sqlalchemy import Engine

from leanstock.adapters.db.uow import UnitOfWork
from leanstock.domain.catalog import Item, Location, Policy, Supplier, SupplierItem
from leanstock.services import catalog, orders, purchasing, queries, stock

CLIENTS = 32
ORDERS_EACH = 4
ON_HAND = 50


def _confirm_many(engine: Engine, client: int, sku: str) -> list[orders.SalesOrderView]:
    uow = UnitOfWork(engine)
    return [
        orders.place_order(
            uow, f"client-{client}", [orders.NewLine(sku, Decimal(1), "WH")], confirm=True
        )
        for _ in range(ORDERS_EACH)
    ]


def _race(engine: Engine, sku: str) -> list[orders.SalesOrderView]:
    with ThreadPoolExecutor(CLIENTS) as pool:
        batches = list(pool.map(lambda c: _confirm_many(engine, c, sku), range(CLIENTS)))
    return [view for batch in batches for view in batch]


# Slow (seconds, 32 threads): the 16-client test of orders of many lines below covers the
# same (no over-reservation of a scarce item, one draft per supplier that pegs every order)
# in the default run; CI runs this one with `-m slow`.
@pytest.mark.slow
def test_32_clients_confirming_orders_for_a_scarce_item_never_over_reserve(engine: Engine) -> None:
    uow = UnitOfWork(engine)
    catalog.add_location(uow, Location("WH", "Warehouse"))
    catalog.add_item(uow, Item("SCARCE", "Scarce thing"))
    stock.receive(uow, "SCARCE", "WH", Decimal(ON_HAND))
    placed = _race(engine, "SCARCE")
    assert len(placed) == CLIENTS * ORDERS_EACH
    served = sum(view.lines[0].reserved for view in placed)
    backordered = [v for v in placed if v.lines[0].fulfilment == "backorder"]
    assert served == ON_HAND
    assert len(backordered) == CLIENTS * ORDERS_EACH - ON_HAND
    (row,) = queries.stock(uow, "SCARCE", "WH").items
    assert (row["on_hand"], row["reserved"], row["available"]) == (ON_HAND, ON_HAND, 0)
    reservations = stock.list_reservations(uow, sku="SCARCE", status="open", limit=500)
    assert sum(r.open_quantity for r in reservations.items) == ON_HAND
    with uow:
        assert uow.ledger.ledger_check() == {"unbalanced_items": []}
    history = orders.demand_history(uow, "D")
    assert history["qty"].sum() == CLIENTS * ORDERS_EACH
    assert history["stockout"].to_list() == [True]


# Slow (seconds, 32 threads): the 16-client test of orders of many lines below covers the
# same (no over-reservation of a scarce item, one draft per supplier that pegs every order)
# in the default run; CI runs this one with `-m slow`.
@pytest.mark.slow
def test_concurrent_pulls_share_one_draft_purchase_order_per_supplier(engine: Engine) -> None:
    uow = UnitOfWork(engine)
    catalog.add_location(uow, Location("WH", "Warehouse"))
    catalog.add_item(uow, Item("BESPOKE", "Bespoke part", policy=Policy.BUY_TO_ORDER))
    catalog.add_supplier(uow, Supplier("ACME", "Acme"))
    catalog.add_supplier_item(
        uow, SupplierItem("ACME", "BESPOKE", Decimal(3), 7, moq=Decimal(10), pack_size=Decimal(10))
    )
    placed = _race(engine, "BESPOKE")
    assert {v.lines[0].fulfilment for v in placed} == {"purchase"}
    drafts = purchasing.list_purchase_orders(uow, status="draft").items
    assert len(drafts) == 1
    assert drafts[0]["quantity"] == 130  # 128 pulled, rounded up to packs of 10
    po = purchasing.get_purchase_order(uow, drafts[0]["number"])
    assert len(po.lines) == 1
    assert len(po.lines[0].pegged_to) == CLIENTS * ORDERS_EACH


def test_concurrent_orders_of_many_lines_in_any_order_never_over_reserve_or_deadlock(
    engine: Engine,
) -> None:
    """Orders of six lines, each listing the same scarce and bought items in its own order:
    every order is served (rows and drafts are locked in one global order, so none waits on
    another in a circle), stock is never over-reserved, and each draft line covers its pegs."""
    uow = UnitOfWork(engine)
    catalog.add_location(uow, Location("WH", "Warehouse"))
    for code in ("NORTH", "SOUTH"):
        catalog.add_supplier(uow, Supplier(code, code.title()))
    scarce = [f"SCARCE-{i}" for i in range(3)]
    bought = [f"BOUGHT-{i}" for i in range(3)]
    for sku in scarce:
        catalog.add_item(uow, Item(sku, sku))
        stock.receive(uow, sku, "WH", Decimal(20))
    for n, sku in enumerate(bought):
        catalog.add_item(uow, Item(sku, sku, policy=Policy.BUY_TO_ORDER))
        supplier = ("NORTH", "SOUTH")[n % 2]
        catalog.add_supplier_item(
            uow, SupplierItem(supplier, sku, Decimal(2), 4, pack_size=Decimal(6))
        )
    clients = 16

    def confirm(client: int) -> list[orders.SalesOrderView]:
        skus = scarce + bought
        mine = UnitOfWork(engine)
        placed = []
        for k in range(3):
            turned = skus[(client + k) % 6 :] + skus[: (client + k) % 6]
            ordered = turned if client % 2 else list(reversed(turned))
            lines = [orders.NewLine(sku, Decimal(1), "WH") for sku in ordered]
            placed.append(orders.place_order(mine, f"client-{client}", lines, confirm=True))
        return placed

    with ThreadPoolExecutor(clients) as pool:
        views = [v for batch in pool.map(confirm, range(clients)) for v in batch]
    assert len(views) == clients * 3
    for sku in scarce:
        reserved = sum(ln.reserved for v in views for ln in v.lines if ln.sku == sku)
        assert reserved == 20  # 48 wanted, 20 on hand
        (row,) = queries.stock(uow, sku, "WH").items
        assert (row["reserved"], row["available"]) == (20, 0)
    drafts = purchasing.list_purchase_orders(uow, status="draft").items
    assert sorted(d["supplier"] for d in drafts) == ["NORTH", "SOUTH"]
    for draft in drafts:
        po = purchasing.get_purchase_order(uow, draft["number"])
        for line in po.lines:
            assert len(line.pegged_to) == clients * 3
            assert line.quantity == 48  # 48 pegged, a whole number of packs of 6
    with uow:
        assert uow.ledger.ledger_check() == {"unbalanced_items": []}
