"""`leanstock bench web`'s generated catalogue and page timing, on a small catalogue (both
databases): every page it times answers 200 to a signed-in owner, and the data has what the
pages need to be realistic (late purchase orders, stock-outs, expiring and expired lots)."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from leanstock.adapters.db.uow import UnitOfWork
from leanstock.benchmarks import web
from leanstock.services import attention, queries


@pytest.mark.slow
def test_the_generated_catalogue_has_what_the_pages_show_and_every_page_is_timed(
    db_url: str, engine: Engine
) -> None:
    web.load_generated(engine, 60)
    uow = UnitOfWork(engine)
    today = attention.today(uow)
    assert today.late_purchases.total == web.ORDERS // 2
    assert today.stock_outs.total == 2 * 2  # SKU-00001 and SKU-00031 sold out at both stores
    assert today.expiring_lots.total == 3 * 6  # six lot-tracked items at three locations
    assert today.orders_to_ship.total == web.ORDERS
    levels = queries.stock_page(uow, "SKU-00010", "WH")
    assert levels.items[0]["expired"] > 0
    with web.signed_in(db_url) as (client, signed_engine):
        figures = web.time_pages(client, signed_engine, 2)
    assert set(figures) == set(web.pages(engine))
    assert {"today", "stock", "suppliers", "purchase_order", "sales_order"} <= set(figures)
    assert {"production_order", "transfer_order", "settings_users"} <= set(figures)
    for page in figures.values():
        assert 0 < page["p50_ms"] <= page["p95_ms"]
