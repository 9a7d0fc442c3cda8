"""A prebuilt statement sent straight on psycopg's connection, without SQLAlchemy's per-call work.

SQLAlchemy spends about a tenth of a millisecond of CPU on every execution of even a cached
statement (its cache key, the execution context, the result's metadata); psycopg on its own
spends about as much again. For the one statement every API request sends (the token check)
that is worth saving: `read_once` compiles the statement once per dialect to the driver's
SQL text, and runs it on the pooled connection's psycopg connection as a prepared statement,
outside any transaction (autocommit: one round trip, as `UnitOfWork(autocommit=True)`).

Only for PostgreSQL and only for statements whose columns need no conversion of SQLAlchemy's
(plain integers, strings, booleans and timestamps: psycopg answers them as SQLAlchemy would);
`tests/integration/test_prebuilt_queries.py` holds the answers to the SQLAlchemy path's. A
driver error surfaces as SQLAlchemy's `DBAPIError`, as it would through SQLAlchemy, and a lost
connection is dropped from the pool. The statement is not seen by SQLAlchemy's
`before_cursor_execute` listeners.
"""

from __future__ import annotations

from collections import namedtuple
from typing import Any

import psycopg
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import Executable
from sqlalchemy.sql.compiler import Compiled

_compiled: dict[tuple[int, str], tuple[str, Any]] = {}


def _sql(engine: Engine, statement: Executable) -> tuple[str, Any]:
    key = (id(statement), engine.dialect.name)
    found = _compiled.get(key)
    if found is None:
        compiled: Compiled = statement.compile(dialect=engine.dialect)  # type: ignore[attr-defined]
        binds = getattr(compiled, "binds", None) or {}
        if any(b.expanding for b in binds.values()):
            raise ValueError("read_once takes no expanding (IN list) parameters")
        columns = [c[0] for c in getattr(compiled, "_result_columns", None) or ()]
        found = (compiled.string, namedtuple("Row", columns, rename=True))
        _compiled[key] = found
    return found


def read_once(engine: Engine, statement: Executable, parameters: dict[str, Any]) -> list[Any]:
    """The rows of `statement` (a SELECT built once, at import) as named tuples, run on its own
    on PostgreSQL's driver connection. Keep `statement` alive for the process's life: it is
    compiled once and known by its identity."""
    text, row = _sql(engine, statement)
    pooled = engine.raw_connection()
    driver = pooled.driver_connection
    assert isinstance(driver, psycopg.Connection)
    try:
        was = driver.autocommit
        driver.autocommit = True
        try:
            with driver.cursor() as cursor:
                cursor.execute(text, parameters, prepare=True)
                return [row(*r) for r in cursor.fetchall()]
        finally:
            if not driver.closed:
                driver.autocommit = was
    except psycopg.Error as error:
        lost = engine.dialect.is_disconnect(error, pooled, None)  # type: ignore[arg-type]
        if lost:
            pooled.invalidate(error)
        raise DBAPIError.instance(
            text,
            parameters,
            error,
            psycopg.Error,
            connection_invalidated=lost,
            dialect=engine.dialect,
        ) from error
    finally:
        pooled.close()
