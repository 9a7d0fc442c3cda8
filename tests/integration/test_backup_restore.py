"""`leanstock backup` and `leanstock restore`, on SQLite and PostgreSQL: a restored backup
equals the original table by table, row by row, passes the ledger's invariants and takes new
work; a restore never overwrites a database that holds tables unless told to.

On PostgreSQL a backup is of a whole database, so these tests make scratch databases of their
own on the test server (filled from the session's migrated template) and drop them after.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, inspect, text
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from conftest import COPYING, POSTGRES_URL, Templates, _create_database
from leanstock.adapters.db import backup as backups
from leanstock.adapters.db.engine import make_engine, normalise_url
from leanstock.adapters.db.uow import UnitOfWork
from leanstock.domain.access import Role
from leanstock.domain.catalog import Item, Location, LocationKind
from leanstock.entrypoints.cli import app
from leanstock.services import accounts, catalog, stock

D = Decimal
runner = CliRunner()
NewDatabase = Callable[[bool], str]
# A scratch PostgreSQL database takes seconds to make and drop (a checkpoint each).
BOTH = pytest.mark.parametrize(
    "db_kind",
    ["sqlite", pytest.param("postgres", marks=[pytest.mark.postgres, pytest.mark.slow])],
    indirect=True,
)


@pytest.fixture
def new_database(db_kind: str, templates: Templates, tmp_path: Path) -> Iterator[NewDatabase]:
    """`new_database(migrated)`: the URL of a database of this test's own, empty or at the
    newest schema. On PostgreSQL a scratch database, dropped after the test."""
    made: list[str] = []

    def make(migrated: bool) -> str:
        if db_kind == "sqlite":
            path = tmp_path / f"db-{uuid.uuid4().hex[:8]}.db"
            if migrated:
                path.write_bytes(Path(templates._sqlite_template("migrated", None)).read_bytes())
            return f"sqlite:///{path}"
        if not POSTGRES_URL:
            pytest.skip("LEANSTOCK_TEST_POSTGRES_URL is not set")
        name = f"backup_{uuid.uuid4().hex[:12]}"
        template = templates._postgres_template("migrated", None) if migrated else None
        with COPYING:  # the spare copies are made from the same template (tests/conftest.py)
            _create_database(name, template)
        made.append(name)
        url = make_url(normalise_url(POSTGRES_URL)).set(database=name)
        return url.render_as_string(hide_password=False)

    yield make
    for name in made:
        with _admin() as admin:
            admin.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@contextmanager
def _admin() -> Iterator[Any]:
    assert POSTGRES_URL is not None
    engine = create_engine(normalise_url(POSTGRES_URL), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            yield connection
    finally:
        engine.dispose()


def run_business(engine: Engine) -> None:
    """A little of everything the ledger holds: lots, transfers, shipments, reservations, a
    count, a backdated receipt (a revaluation), a user (the audit trail)."""
    uow = UnitOfWork(engine)
    start = datetime.now(UTC) - timedelta(days=30)
    catalog.add_location(uow, Location("WH", "Warehouse"))
    catalog.add_location(uow, Location("STORE", "Store", LocationKind.STORE))
    catalog.add_item(uow, Item("CUP", "Paper cup"))
    catalog.add_item(uow, Item("MILK", "Milk 1l", unit="l", lot_tracked=True, shelf_life_days=10))
    stock.receive(uow, "CUP", "WH", D(100), unit_cost=D("0.12"), occurred_at=start)
    stock.receive(uow, "MILK", "WH", D(40), lot="L1", unit_cost=D("0.9"))
    stock.receive(uow, "MILK", "WH", D(20), lot="L2", unit_cost=D("1.1"))
    stock.transfer(uow, "CUP", "WH", "STORE", D(30))
    stock.ship(uow, "CUP", "WH", D(12), occurred_at=start + timedelta(days=20))
    stock.receive(uow, "CUP", "WH", D(5), unit_cost=D("0.5"), occurred_at=start + timedelta(days=2))
    stock.ship(uow, "MILK", "WH", D(25))
    stock.reserve(uow, "MILK", "WH", D(7), "SO-000001/1")
    held = stock.reserve(uow, "CUP", "STORE", D(3), "SO-000002/1")
    stock.release(uow, held.id)
    stock.count(uow, "CUP", "WH", D(70))
    accounts.create_user(uow, "owner@example.com", "correct horse battery staple", Role.OWNER)


def contents(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in a stable order."""
    engine = make_engine(url)
    try:
        with engine.connect() as db:
            return {
                table: sorted(
                    (tuple(r) for r in db.execute(text(f'SELECT * FROM "{table}"'))), key=repr
                )
                for table in sorted(inspect(db).get_table_names())
            }
    finally:
        engine.dispose()


def assert_ledger_invariants(url: str) -> None:
    """Per item the balances sum to zero; on hand = Σ moves per item and location (and = Σ
    its lots' balances); reserved = Σ open reservations."""
    engine = make_engine(url)
    try:
        with engine.connect() as db:
            unbalanced = db.execute(
                text("SELECT item_id FROM balances GROUP BY item_id HAVING sum(quantity) <> 0")
            ).all()
            assert unbalanced == []
            from_moves = {
                (r.item_id, r.loc): r.q
                for r in db.execute(
                    text(
                        "SELECT item_id, loc, sum(q) AS q FROM ("
                        " SELECT item_id, target_id AS loc, quantity AS q FROM moves"
                        " UNION ALL SELECT item_id, source_id, -quantity FROM moves"
                        ") legs GROUP BY item_id, loc"
                    )
                )
            }
            lots = {
                (r.item_id, r.location_id): r.q
                for r in db.execute(
                    text(
                        "SELECT item_id, location_id, sum(quantity) AS q FROM balances"
                        " GROUP BY item_id, location_id"
                    )
                )
            }
            assert {k: v for k, v in lots.items() if v} == {
                k: v for k, v in from_moves.items() if v
            }
            stock_rows = db.execute(
                text("SELECT item_id, location_id, on_hand, reserved FROM stock")
            ).all()
            assert stock_rows, "the example holds stock"
            open_reserved = {
                (r.item_id, r.location_id): r.q
                for r in db.execute(
                    text(
                        "SELECT item_id, location_id, sum(open_quantity) AS q FROM reservations"
                        " WHERE status = 'open' GROUP BY item_id, location_id"
                    )
                )
            }
            for row in stock_rows:
                key = (row.item_id, row.location_id)
                assert row.on_hand == from_moves.get(key, D(0))
                assert row.reserved == open_reserved.get(key, D(0))
    finally:
        engine.dispose()


def cli(url: str, *args: str) -> Any:
    return runner.invoke(app, ["--database", url, *args])


@BOTH
def test_a_restored_backup_equals_the_original_and_keeps_the_ledger_balanced(
    new_database: NewDatabase, tmp_path: Path
) -> None:
    source = new_database(True)
    engine = make_engine(source)
    run_business(engine)
    original = contents(source)
    assert all(original[t] for t in ("moves", "operations", "revaluations", "reservations"))
    file = tmp_path / "leanstock.backup"

    made = cli(source, "backup", str(file))
    assert made.exit_code == 0, made.output
    assert "Backed up" in made.output
    assert file.stat().st_size > 0
    target = new_database(False)
    restored = cli(target, "restore", str(file))
    assert restored.exit_code == 0, restored.output

    assert contents(target) == original
    assert_ledger_invariants(target)
    copy = make_engine(target)  # new work continues where the original left off
    try:
        stock.receive(UnitOfWork(copy), "CUP", "WH", D(1))
        assert cli(target, "stock", "--sku", "CUP").exit_code == 0
    finally:
        copy.dispose()
    assert contents(source) == original  # a backup changes nothing
    engine.dispose()


@BOTH
def test_a_restore_refuses_a_database_that_is_not_empty_unless_forced(
    new_database: NewDatabase, tmp_path: Path
) -> None:
    source = new_database(True)
    engine = make_engine(source)
    run_business(engine)
    file = tmp_path / "leanstock.backup"
    assert cli(source, "backup", str(file)).exit_code == 0
    backed_up = contents(source)
    stock.receive(UnitOfWork(engine), "CUP", "WH", D(9))  # work after the backup
    engine.dispose()
    later = contents(source)

    refused = cli(source, "restore", str(file))
    assert refused.exit_code == 2
    message = " ".join(refused.output.split())
    assert "is not empty" in message
    assert "pass --force" in message
    assert contents(source) == later

    again = cli(source, "backup", str(file))
    assert again.exit_code == 2
    assert "exists already" in again.output
    assert "--force" in again.output

    forced = cli(source, "restore", "--force", str(file))
    assert forced.exit_code == 0, forced.output
    assert contents(source) == backed_up
    assert_ledger_invariants(source)


@pytest.mark.parametrize("db_kind", ["sqlite"], indirect=True)
def test_a_sqlite_backup_taken_while_stock_is_posted_is_consistent(
    new_database: NewDatabase, tmp_path: Path
) -> None:
    source = new_database(True)
    engine = make_engine(source)
    run_business(engine)
    uow = UnitOfWork(engine)
    stock.receive(uow, "CUP", "WH", D(100_000))
    stop = threading.Event()
    posted = 0

    def post() -> None:
        nonlocal posted
        while not stop.is_set():
            stock.transfer(uow, "CUP", "WH", "STORE", D(1))
            posted += 1

    writer = threading.Thread(target=post)
    writer.start()
    try:
        while posted < 3:
            stop.wait(0.01)
        files = [tmp_path / f"during-{n}.db" for n in range(3)]
        for file in files:
            assert backups.backup(source, file).kind == "sqlite"
    finally:
        stop.set()
        writer.join()
        engine.dispose()
    for file in files:
        copy = f"sqlite:///{file}"
        assert_ledger_invariants(copy)
        assert cli(copy, "stock", "--sku", "CUP").exit_code == 0


def test_a_backup_restores_only_into_its_own_kind_of_database(tmp_path: Path) -> None:
    not_a_backup = tmp_path / "notes.txt"
    not_a_backup.write_text("hello")
    refused = cli(f"sqlite:///{tmp_path}/new.db", "restore", str(not_a_backup))
    assert refused.exit_code == 2
    assert "is not a Leanstock backup" in refused.output
    dump = tmp_path / "pg.dump"
    dump.write_bytes(b"PGDMP\x01\x0e\x00")
    refused = cli(f"sqlite:///{tmp_path}/new.db", "restore", str(dump))
    assert "is a PostgreSQL backup" in " ".join(refused.output.split())
    not_a_database = tmp_path / "notes.db"
    not_a_database.write_text("hello")
    good = tmp_path / "good.db"
    good.write_bytes(b"SQLite format 3\x00" + bytes(100))
    refused = cli(f"sqlite:///{not_a_database}", "restore", str(good))
    assert refused.exit_code == 2
    assert "Cannot open the database" in " ".join(refused.output.split())
    assert not_a_database.read_text() == "hello"
    missing = cli(f"sqlite:///{tmp_path}/none.db", "backup", str(tmp_path / "b.db"))
    assert missing.exit_code == 2
    assert "There is no database at" in missing.output
    assert not (tmp_path / "b.db").exists()
    assert not (tmp_path / ".b.db.partial").exists()


def test_without_the_postgresql_client_a_backup_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr("glob.glob", lambda _pattern: [])
    monkeypatch.setenv("PATH", str(tmp_path))
    refused = cli("postgresql://nobody@127.0.0.1:1/none", "backup", str(tmp_path / "x.dump"))
    assert refused.exit_code == 2
    message = " ".join(refused.output.split())
    assert "pg_dump is not installed" in message
    assert "apt install postgresql-client" in message
    assert not (tmp_path / "x.dump").exists()
