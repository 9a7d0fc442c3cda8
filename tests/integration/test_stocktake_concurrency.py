"""Counts opened at once at one location: exactly one is opened, the others are refused naming
it (SQLite and PostgreSQL)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

from sqlalchemy import Engine

from leanstock.adapters.db.uow import UnitOfWork
from leanstock.domain.catalog import Item, Location
from leanstock.domain.errors import Conflict
from leanstock.services import catalog, stock
from leanstock.services.stock import stocktakes

CLIENTS = 8


def _start(engine: Engine, client: int) -> str:
    category = None if client % 2 else "cups"
    try:
        return stocktakes.start_stocktake(
            UnitOfWork(engine), "WH", category=category, freeze=True, actor=f"counter-{client}"
        ).number
    except Conflict as refused:
        return f"refused: {refused.detail}"


def test_counts_opened_at_once_at_one_location_open_one(engine: Engine) -> None:
    uow = UnitOfWork(engine)
    catalog.add_location(uow, Location("WH", "Warehouse"))
    catalog.add_item(uow, Item("CUP", "Cup", category="cups"))
    stock.receive(uow, "CUP", "WH", Decimal(5))
    with ThreadPoolExecutor(CLIENTS) as pool:
        answers = list(pool.map(lambda c: _start(engine, c), range(CLIENTS)))
    opened = [a for a in answers if not a.startswith("refused")]
    assert len(opened) == 1, answers
    refusals = [a for a in answers if a.startswith("refused")]
    assert all(opened[0] in a for a in refusals), answers
    page = stocktakes.list_stocktakes(uow, status="open")
    assert [s.number for s in page.items] == opened
    (line,) = stocktakes.get_stocktake(uow, opened[0]).lines
    assert (line.sku, line.expected) == ("CUP", Decimal(5))
