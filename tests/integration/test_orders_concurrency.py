"""Concurrent confirmations never over-reserve, and all pull onto one draft per supplier."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

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
