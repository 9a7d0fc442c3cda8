"""Statements sent together: psycopg's pipeline mode on PostgreSQL.

A write whose result nobody reads (a move inserted, a balance upserted, an audit row, the
COMMIT) need not wait for its answer before the next is sent. Inside `pipelined` they go out
back to back and are answered together at the end of the block: one round trip for the lot
instead of one each. The database runs them in the order sent, each as it would alone, so
what they do is unchanged; a statement that fails aborts the rest of the block, and the
transaction is rolled back as after any failure.

Only statements whose rows are not read may run in the block: SQLAlchemy reads a result's
columns when the statement is executed, which a pipelined statement does not have yet. SQLite
runs in the process, where there is no round trip to save; there the block changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError


@contextmanager
def pipelined(connection: Connection) -> Iterator[None]:
    """Send the block's statements in one round trip on PostgreSQL (see the module)."""
    driver = connection.connection.driver_connection
    if connection.dialect.name != "postgresql" or not isinstance(driver, psycopg.Connection):
        yield
        return
    try:
        with driver.pipeline():
            yield
    except psycopg.Error as error:
        # Raised when the answers come, outside SQLAlchemy's own wrapping: wrapped here as it
        # would have been (IntegrityError, OperationalError, ...), so the unit of work turns it
        # into the same conflict or retry.
        raise DBAPIError.instance(None, None, error, psycopg.Error) from error
