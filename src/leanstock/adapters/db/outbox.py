"""The outbox (domain events for webhooks) and the audit trail (who changed what)."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select, text

from leanstock.adapters.db import order_tables as o
from leanstock.adapters.db.audit import stamp
from leanstock.adapters.db.base import Repository, to_json, utc_now

_INSERT_EVENT = o.outbox.insert()
_INSERT_AUDIT = o.audit_log.insert()
_EVENT_AND_AUDIT = text(
    "WITH event AS (INSERT INTO outbox (event, subject, payload, created_at) "
    "VALUES (:event, :subject, :payload, :created_at)) "
    "INSERT INTO audit_log "
    "(actor, action, subject, changes, created_at, credential, request_id, address) "
    "VALUES (:actor, :action, :subject, :changes, :created_at, :credential, :request_id, "
    ":address)"
)


class OutboxRepository(Repository):
    def event(self, name: str, subject: str, payload: dict[str, Any]) -> None:
        """A domain event for webhooks, committed (or not) with the change that caused it."""
        self.db.execute(
            _INSERT_EVENT,
            {
                "event": name,
                "subject": subject,
                "payload": to_json(payload),
                "created_at": utc_now(),
            },
        )

    def audit(self, actor: str, action: str, subject: str, changes: dict[str, Any]) -> None:
        self.db.execute(
            _INSERT_AUDIT,
            {
                **stamp(),
                "actor": actor,
                "action": action,
                "subject": subject,
                "changes": to_json(changes),
                "created_at": utc_now(),
            },
        )

    def event_and_audit(
        self,
        name: str,
        payload: dict[str, Any],
        actor: str,
        action: str,
        subject: str,
        changes: dict[str, Any],
    ) -> None:
        """`event` and `audit` at once: one round trip on PostgreSQL (a data-modifying CTE)."""
        if self.dialect != "postgresql":
            self.event(name, subject, payload)
            self.audit(actor, action, subject, changes)
            return
        self.db.execute(
            _EVENT_AND_AUDIT,
            {
                **stamp(),
                "event": name,
                "subject": subject,
                "payload": to_json(payload),
                "actor": actor,
                "action": action,
                "changes": to_json(changes),
                "created_at": utc_now(),
            },
        )

    def events(self, subject: str | None = None) -> list[dict[str, Any]]:
        query = select(o.outbox).order_by(o.outbox.c.id)
        if subject is not None:
            query = query.where(o.outbox.c.subject == subject)
        return [
            {**r, "payload": json.loads(r["payload"])} for r in self.db.execute(query).mappings()
        ]

    def audit_trail(self, subject: str) -> list[dict[str, Any]]:
        query = (
            select(o.audit_log).where(o.audit_log.c.subject == subject).order_by(o.audit_log.c.id)
        )
        return [
            {**r, "changes": json.loads(r["changes"])} for r in self.db.execute(query).mappings()
        ]
