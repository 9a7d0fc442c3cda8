"""Lot receipts, scraps and counts cost fewer statements in one step (issue #18, migration 0026).

Counted with SQLAlchemy's `before_cursor_execute`, as docs/performance.md counts them, for the
use case alone (the request's token check is not in it). On PostgreSQL the step sends one call
where the rules in Python send a statement per lock, read and write; SQLite has no step, so
both counts are the same there. What the step decides is held to the rules in Python by the
shared case table (`test_stock_batch_planned.py`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine, event

from leanstock.adapters.db.ledger import LedgerRepository
from leanstock.adapters.db.uow import UnitOfWork
from leanstock.domain.catalog import Item, Location, Supplier
from leanstock.domain.ledger import ScrapReason
from leanstock.services import catalog, stock

D = Decimal
LATER = datetime.now(UTC).date() + timedelta(days=40)


def _counted(engine: Engine, call: Callable[[], Any]) -> int:
    statements: list[str] = []

    def counted(*args: Any) -> None:
        statements.append(args[2])

    event.listen(engine, "before_cursor_execute", counted)
    try:
        call()
    finally:
        event.remove(engine, "before_cursor_execute", counted)
    return len(statements)


def _documents(uow: UnitOfWork, prefix: str) -> dict[str, Callable[[], Any]]:
    """A receipt of a known lot, a new one and an item without lots; scraps of a named lot and by
    FEFO; counts."""
    lots, plain = f"{prefix}-LOTS", f"{prefix}-PLAIN"
    catalog.add_item(uow, Item(lots, "Dated", lot_tracked=True, shelf_life_days=30))
    catalog.add_item(uow, Item(plain, "Plain"))
    stock.receive(uow, lots, "WH", D(10), lot="A", expires_on=LATER)
    stock.receive(uow, plain, "WH", D(10))
    stock.scrap(uow, plain, "WH", D(1), ScrapReason.DAMAGE)  # the scrap rows exist from here
    stock.count(uow, plain, "WH", D(10))  # and the adjustment's
    return {
        "lot receipt": lambda: stock.receive_lines(
            uow,
            "WH",
            [
                stock.StockLine(lots, D(2), lot="A"),
                stock.StockLine(lots, D(3), lot="B", expires_on=LATER),
                stock.StockLine(plain, D(1)),
            ],
            supplier="ACME",
        ),
        "scrap of a named lot": lambda: stock.scrap(
            uow, lots, "WH", D(1), ScrapReason.EXPIRY, lot="A", note="torn"
        ),
        "scrap by FEFO": lambda: stock.scrap(uow, lots, "WH", D(4), ScrapReason.SPOILAGE),
        "count of a lot": lambda: stock.count(uow, lots, "WH", D(7), lot="A"),
        "count of a new lot": lambda: stock.count(uow, lots, "WH", D(2), lot="N"),
        "count that matches": lambda: stock.count(uow, plain, "WH", D(10)),
    }


# The most statements each sends in one step: the names it resolves (a scrap and a count also
# their location, a count the open stocktakes), the call and the commit. The rules in Python
# sent 12, 10, 10, 13, 16 and 7 when this was written.
IN_ONE_STEP = {
    "lot receipt": 3,
    "scrap of a named lot": 4,
    "scrap by FEFO": 4,
    "count of a lot": 5,
    "count of a new lot": 5,
    "count that matches": 5,
}


@pytest.mark.parametrize("kind", sorted(IN_ONE_STEP))
def test_a_lot_receipt_a_scrap_or_a_count_costs_fewer_statements_in_one_step(
    uow: UnitOfWork, engine: Engine, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    catalog.add_location(uow, Location("WH", "Warehouse"))
    catalog.add_supplier(uow, Supplier("ACME", "Acme"))
    in_one_step = _counted(engine, _documents(uow, "STEP")[kind])
    monkeypatch.setattr(LedgerRepository, "posts_in_one_step", lambda self: False)
    in_python = _counted(engine, _documents(uow, "PY")[kind])
    if engine.dialect.name == "postgresql":
        assert in_one_step < in_python
        assert in_one_step <= IN_ONE_STEP[kind]
    else:
        assert in_one_step == in_python
