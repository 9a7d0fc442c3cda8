"""Engines for SQLite (embedded default) and PostgreSQL, and schema upgrades with Alembic."""

from __future__ import annotations

import re
from importlib.resources import files
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import StaticPool

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATION_FILE = re.compile(r"^(\d{4})_\w+\.py$")


def normalise_url(url: str) -> str:
    """Accept `postgresql://` and `postgres://` URLs and use psycopg 3 for them."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def make_engine(url: str, pool_size: int = 10, echo: bool = False) -> Engine:
    """An engine whose transactions are safe under concurrent writers.

    SQLite: WAL journal (readers never block the writer), foreign keys on, and every
    transaction starts with BEGIN IMMEDIATE, so two writers queue on the write lock instead of
    both reading and then failing to upgrade (SQLAlchemy docs, "Serializable isolation /
    Savepoints / Transactional DDL" for pysqlite). PostgreSQL: READ COMMITTED plus the row
    locks the repositories take.
    """
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        memory = parsed.database in (None, "", ":memory:")
        # The driver's own transaction handling is off (`isolation_level = None` below: we
        # send BEGIN IMMEDIATE ourselves), so the connections are in SQLAlchemy's AUTOCOMMIT
        # level from the start. A unit of work that asks for AUTOCOMMIT (the token check of
        # every API request) then changes nothing on its connection: at the default level,
        # SQLAlchemy set the connection back to it when returned to the pool, with a
        # `PRAGMA read_uncommitted = 0` and the driver's own implicit transactions turned on
        # again, on every request. SQLAlchemy still calls the driver's commit and rollback,
        # which end the BEGIN IMMEDIATE transaction.
        kwargs: dict[str, Any] = {
            "connect_args": {"check_same_thread": False, "timeout": 30},
            "isolation_level": "AUTOCOMMIT",
        }
        if memory:
            kwargs["poolclass"] = StaticPool
        engine = create_engine(url, echo=echo, **kwargs)

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            if not memory:
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _on_begin(connection: Any) -> None:
            # An AUTOCOMMIT connection (one read, `UnitOfWork(autocommit=True)`) runs each
            # statement on its own and takes no write lock for a read.
            if connection.get_execution_options().get("isolation_level") != "AUTOCOMMIT":
                connection.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return create_engine(
        url, echo=echo, pool_size=pool_size, max_overflow=0, pool_timeout=60, pool_recycle=1800
    )


def alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(files("leanstock") / "migrations"))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to `revision` (a fresh database gets every table)."""
    from alembic import command

    command.upgrade(alembic_config(engine), revision)


def head_revision() -> str:
    """The revision this code's schema is at: the newest migration's number.

    Migrations are files `NNNN_what.py` whose revision is `NNNN` and whose down_revision is
    the one before (a test holds them to it), so the head is known without loading Alembic
    and every migration script, which would double the start-up time of a command.
    """
    numbers = [
        found.group(1)
        for entry in (files("leanstock") / "migrations" / "versions").iterdir()
        if (found := MIGRATION_FILE.match(entry.name))
    ]
    return max(numbers)


def schema_revision(engine: Engine) -> str | None:
    """The revision the database's schema is at; None when it has no Leanstock schema."""
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        version = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    return None if version is None else str(version)
