"""Where `Idempotency-Key`s live: the first request's claim, its stored response, expiry.

The HTTP side (the middleware that fingerprints a request and replays the answer) is in
`entrypoints/api/idempotency.py`; this is its SQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, delete, select
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

    def claim(self, key: str, fingerprint: str) -> Stored | None:
        """None when this request now owns the key; else what is stored under it."""
        now = datetime.now(UTC)
        try:
            with self.engine.begin() as db:
                db.execute(
                    delete(t.idempotency_keys).where(
                        t.idempotency_keys.c.key == key,
                        t.idempotency_keys.c.created_at < now - self.keep,
                    )
                )
                db.execute(
                    t.idempotency_keys.insert().values(
                        key=key, fingerprint=fingerprint, created_at=now
                    )
                )
            return None
        except IntegrityError:
            return self.get(key)

    def get(self, key: str) -> Stored | None:
        with self.engine.begin() as db:
            row = db.execute(
                select(t.idempotency_keys).where(t.idempotency_keys.c.key == key)
            ).first()
        if row is None:
            return None
        return Stored(row.fingerprint, row.status_code, row.content_type, row.body)

    def complete(self, key: str, status_code: int, content_type: str | None, body: bytes) -> None:
        with self.engine.begin() as db:
            db.execute(
                t.idempotency_keys.update()
                .where(t.idempotency_keys.c.key == key)
                .values(status_code=status_code, content_type=content_type, body=body)
            )

    def forget(self, key: str) -> None:
        with self.engine.begin() as db:
            db.execute(delete(t.idempotency_keys).where(t.idempotency_keys.c.key == key))
