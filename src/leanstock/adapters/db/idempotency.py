"""Where `Idempotency-Key`s live: a request's key, its fingerprint and its response.

A key's row is written in the same transaction as the request's own writes, and committed
with them (`claim` opens that transaction, `complete` stores the response into it): after a
crash there is either the key with its work and its answer, or neither. A claim nobody
committed holds only a row lock (PostgreSQL) or the write lock (SQLite), which the database
drops when the connection dies, so no key is ever left "in progress".

The HTTP side (the middleware that fingerprints a request and replays the answer) is in
`entrypoints/api/idempotency.py`; this is its SQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, Engine, delete, select
from sqlalchemy.exc import IntegrityError

from leanstock.adapters.db import tables as t


@dataclass(frozen=True)
class Stored:
    fingerprint: str
    status_code: int | None
    content_type: str | None
    body: bytes | None


class IdempotencyStore:
    """Idempotency keys in the database, kept for `keep` after their first use."""

    def __init__(self, engine: Engine, keep: timedelta) -> None:
        self.engine = engine
        self.keep = keep

    def claim(self, key: str, fingerprint: str) -> Connection | Stored:
        """A connection in an open transaction that holds the new key (the request's work
        goes into that transaction; `complete`, then commit, or roll back), or what is stored
        under the key when a request with it has been committed.

        A concurrent request with the same key waits here until the first one's transaction
        ends: PostgreSQL makes the second INSERT wait for the first's commit or rollback;
        SQLite's BEGIN IMMEDIATE waits for the write lock. Then it finds the stored answer,
        or, when the first rolled back (or its process died), claims the key itself.
        """
        now = datetime.now(UTC)
        table = t.idempotency_keys
        connection = self.engine.connect()
        try:
            connection.begin()
            connection.execute(
                delete(table).where(table.c.key == key, table.c.created_at < now - self.keep)
            )
            try:
                with connection.begin_nested():
                    connection.execute(
                        table.insert().values(key=key, fingerprint=fingerprint, created_at=now)
                    )
                return connection
            except IntegrityError:
                row = connection.execute(select(table).where(table.c.key == key)).one()
                connection.rollback()
                connection.close()
                return Stored(row.fingerprint, row.status_code, row.content_type, row.body)
        except BaseException:
            connection.close()
            raise

    def complete(
        self,
        connection: Connection,
        key: str,
        status_code: int,
        content_type: str | None,
        body: bytes,
    ) -> None:
        """Store the response in the claim's transaction (kept when the caller commits)."""
        table = t.idempotency_keys
        connection.execute(
            table.update()
            .where(table.c.key == key)
            .values(status_code=status_code, content_type=content_type, body=body)
        )
