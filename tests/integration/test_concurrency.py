"""No oversell: concurrent clients can never reserve or ship more than is on hand."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from sqlalchemy import Engine

from leanstock.adapters.db.uow import UnitOfWork
from leanstock.domain.catalog import Item, Location
from leanstock.domain.errors import OutOfStock
from leanstock.services import catalog, queries, stock

CLIENTS = 32
ON_HAND = 500


def _stocked(engine: Engine) -> None:
    uow = UnitOfWork(engine)
    catalog.add_location(uow, Location("WH", "Warehouse"))
    catalog.add_item(uow, Item("SCARCE", "Scarce thing"))
    stock.receive(uow, "SCARCE", "WH", Decimal(ON_HAND))


def _until_refused(engine: Engine, client: int, act: str) -> tuple[int, int]:
    """One client taking 1 unit at a time until the ledger says no: (successes, refusals)."""
    uow = UnitOfWork(engine)
    done = 0
    for n in range(ON_HAND):
        try:
            if act == "reserve":
                stock.reserve(uow, "SCARCE", "WH", Decimal(1), f"client-{client}-{n}")
            else:
                stock.ship(uow, "SCARCE", "WH", Decimal(1))
            done += 1
        except OutOfStock:
            return done, 1
    return done, 0


def _race(engine: Engine, act: str) -> tuple[int, int]:
    _stocked(engine)
    with ThreadPoolExecutor(CLIENTS) as pool:
        results = list(pool.map(lambda c: _until_refused(engine, c, act), range(CLIENTS)))
    return sum(r[0] for r in results), sum(r[1] for r in results)


@pytest.mark.slow
def test_32_clients_cannot_reserve_more_than_is_on_hand(engine: Engine) -> None:
    succeeded, refused = _race(engine, "reserve")
    assert succeeded == ON_HAND
    assert refused == CLIENTS
    (row,) = queries.stock(UnitOfWork(engine), "SCARCE", "WH").items
    assert (row["on_hand"], row["reserved"], row["available"]) == (ON_HAND, ON_HAND, 0)


@pytest.mark.slow
def test_32_clients_cannot_ship_more_than_is_on_hand(engine: Engine) -> None:
    succeeded, refused = _race(engine, "ship")
    assert succeeded == ON_HAND
    assert refused == CLIENTS
    (row,) = queries.stock(UnitOfWork(engine), "SCARCE", "WH").items
    assert row["on_hand"] == 0
    assert queries.moves(UnitOfWork(engine), "SCARCE").total == ON_HAND + 1
