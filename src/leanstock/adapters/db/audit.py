"""The audit trail: append a row, read rows back. Nothing here updates or deletes one, and the
database refuses to (triggers of migration 0006)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, func, select

from leanstock.adapters.db import order_tables as o
from leanstock.adapters.db.accounts import aware
from leanstock.domain.access import current

_INSERT = o.audit_log.insert()


def stamp() -> dict[str, Any]:
    """The columns the request context fills in: who acted, with which credential, in which
    request and from where. Every writer of the audit trail takes them from here."""
    context = current()
    return {
        "actor": context.actor_name,
        "credential": context.credential,
        "request_id": context.request_id,
        "address": context.address,
    }


class AuditRepository:
    def __init__(self, connection: Connection) -> None:
        self.db = connection

    def record(
        self,
        action: str,
        subject: str,
        changes: dict[str, Any],
        actor: str | None = None,
        credential: str | None = None,
    ) -> None:
        """Append one row; `changes` holds `[before, after]` pairs where a value changed.
        `actor` and `credential` name who acted where the request has no principal yet
        (signing in)."""
        row = stamp()
        if actor is not None:
            row["actor"] = actor
        if credential is not None:
            row["credential"] = credential
        self.db.execute(
            _INSERT,
            {
                **row,
                "action": action,
                "subject": subject,
                "changes": json.dumps(changes, default=str, sort_keys=True),
                "created_at": datetime.now(UTC),
            },
        )

    def search(
        self,
        subject: str | None = None,
        actor: str | None = None,
        action: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        request_id: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> tuple[list[dict[str, Any]], int]:
        """Rows matching every filter given, newest first."""
        log = o.audit_log
        query = select(log)
        for column, value in (
            (log.c.subject, subject),
            (log.c.actor, actor),
            (log.c.action, action),
            (log.c.request_id, request_id),
        ):
            if value is not None:
                query = query.where(column == value)
        if since is not None:
            query = query.where(log.c.created_at >= since)
        if until is not None:
            query = query.where(log.c.created_at < until)
        total = self.db.execute(select(func.count()).select_from(query.subquery())).scalar_one()
        rows = self.db.execute(
            query.order_by(log.c.id.desc()).limit(limit).offset(offset)
        ).mappings()
        return [
            {**r, "changes": json.loads(r["changes"]), "created_at": aware(r["created_at"])}
            for r in rows
        ], int(total)
