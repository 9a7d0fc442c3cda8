"""The outbox (domain events for webhooks) and the audit trail (who changed what)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select, text

from leanstock.adapters.db import order_tables as o
from leanstock.adapters.db.audit import stamp
from leanstock.adapters.db.base import Repository, to_json, utc_now
from leanstock.domain.events import DomainEvent

_INSERT_EVENT = o.outbox.insert()
_INSERT_AUDIT = o.audit_log.insert()
_BOTH: dict[tuple[int, int], Any] = {}


def _event_and_audit(events: int, audits: int) -> Any:
    """Outbox and audit rows in one statement (a data-modifying CTE), for PostgreSQL: one
    round trip for the whole commit. Built once per shape."""
    key = (events, audits)
    if key not in _BOTH:
        values = ", ".join(
            f"(:event_{n}, :subject_{n}, :payload_{n}, :created_at)" for n in range(events)
        )
        rows = ", ".join(
            f"(:actor, :action_{n}, :audit_subject_{n}, :changes_{n}, :created_at, "
            ":credential, :request_id, :address)"
            for n in range(audits)
        )
        _BOTH[key] = text(
            f"WITH event AS (INSERT INTO outbox (event, subject, payload, created_at) "
            f"VALUES {values}) "
            "INSERT INTO audit_log "
            "(actor, action, subject, changes, created_at, credential, request_id, address) "
            f"VALUES {rows}"
        )
    return _BOTH[key]


class OutboxRepository(Repository):
    def write(self, events: Sequence[DomainEvent], actor: str) -> None:
        """Write recorded events as they commit: an outbox row for each event with a name (for
        webhooks), an audit row, by `actor`, for each with an action, stamped with the
        request's credential, id and address (`audit.stamp`). In the order recorded."""
        at = utc_now()
        published = [
            {
                "event": e.event_name,
                "subject": e.subject,
                "payload": to_json(e.payload()),
                "created_at": at,
            }
            for e in events
            if e.event_name is not None
        ]
        audited = [
            {
                **stamp(),
                "actor": actor,
                "action": e.audit_action,
                "subject": e.subject,
                "changes": to_json(e.changes()),
                "created_at": at,
            }
            for e in events
            if e.audit_action is not None
        ]
        if self.dialect == "postgresql" and published and audited:
            params: dict[str, Any] = {**stamp(), "actor": actor, "created_at": at}
            for n, row in enumerate(published):
                params |= {
                    f"event_{n}": row["event"],
                    f"subject_{n}": row["subject"],
                    f"payload_{n}": row["payload"],
                }
            for n, row in enumerate(audited):
                params |= {
                    f"action_{n}": row["action"],
                    f"audit_subject_{n}": row["subject"],
                    f"changes_{n}": row["changes"],
                }
            self.db.execute(_event_and_audit(len(published), len(audited)), params)
            return
        if published:
            self.db.execute(_INSERT_EVENT, published)
        if audited:
            self.db.execute(_INSERT_AUDIT, audited)

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
