"""The database itself keeps the ledger's history: a posted operation, its moves and the
revaluations it caused are never updated or deleted, whoever connects (migration 0015), on
SQLite and PostgreSQL. A correction is a new operation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DatabaseError

from leanstock.adapters.db.uow import UnitOfWork
from leanstock.domain.catalog import Item, Location
from leanstock.services import catalog, queries, stock

D = Decimal
TABLES = ("operations", "moves", "revaluations")


@pytest.fixture
def posted(uow: UnitOfWork) -> UnitOfWork:
    """A receipt, a shipment, and a late receipt dated before the shipment (a revaluation)."""
    start = datetime.now(UTC) - timedelta(days=30)
    catalog.add_location(uow, Location("WH", "Warehouse"))
    catalog.add_item(uow, Item("CUP", "Paper cup"))
    stock.receive(uow, "CUP", "WH", D(10), unit_cost=D(1), occurred_at=start)
    stock.ship(uow, "CUP", "WH", D(8), occurred_at=start + timedelta(days=20))
    stock.receive(uow, "CUP", "WH", D(5), unit_cost=D(3), occurred_at=start + timedelta(days=1))
    return uow


def rows(engine: Engine) -> dict[str, list[tuple[object, ...]]]:
    with engine.connect() as db:
        return {
            table: [tuple(r) for r in db.execute(text(f"SELECT * FROM {table} ORDER BY id"))]
            for table in TABLES
        }


@pytest.mark.parametrize("table", TABLES)
def test_the_database_refuses_to_update_or_delete_ledger_history(
    posted: UnitOfWork, engine: Engine, table: str
) -> None:
    before = rows(engine)
    assert before[table], f"the example posts {table} rows"
    statements = [f"UPDATE {table} SET occurred_at = occurred_at", f"DELETE FROM {table}"]
    if engine.dialect.name == "postgresql":
        statements.append(f"TRUNCATE {table} CASCADE")
    for statement in statements:
        with pytest.raises(DatabaseError) as refused, engine.begin() as db:
            db.execute(text(statement))
        assert (
            f"{table} is append-only: a posted stock operation is never changed; "
            "post a correcting one" in str(refused.value)
        )
    assert rows(engine) == before


def test_a_correction_is_a_new_operation_and_the_old_moves_stay(
    posted: UnitOfWork, engine: Engine
) -> None:
    before = rows(engine)
    stock.count(posted, "CUP", "WH", D(6))  # 7 on hand, 6 counted: one more move out

    after = rows(engine)
    assert after["moves"][: len(before["moves"])] == before["moves"]
    assert after["operations"][: len(before["operations"])] == before["operations"]
    assert len(after["moves"]) == len(before["moves"]) + 1
    assert [r["on_hand"] for r in queries.stock(posted, sku="CUP").items] == [D(6)]
