"""Webhook subscriptions and deliveries: fanning outbox events out, claiming due deliveries
once across processes, and recording each attempt."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, exists, select, update

from leanstock.adapters.db import order_tables as o
from leanstock.adapters.db import webhook_tables as w
from leanstock.adapters.db.base import Repository, utc_now
from leanstock.domain.errors import NotFound

PENDING, DELIVERED, DEAD = "pending", "delivered", "dead"


def _subscription(row: Any) -> dict[str, Any]:
    values = dict(row._mapping)
    values["events"] = json.loads(values["events"])
    return values


class WebhooksRepository(Repository):
    def add_subscription(self, url: str, secret: str, events: Sequence[str]) -> dict[str, Any]:
        values = {
            "url": url,
            "secret": secret,
            "events": json.dumps(list(events)),
            "active": True,
            "failures": 0,
            "disabled_reason": None,
            "created_at": utc_now(),
        }
        new_id = self._add(w.webhook_subscriptions, **values)
        return {**values, "id": new_id, "events": list(events)}

    def subscriptions(self) -> list[dict[str, Any]]:
        rows = self.db.execute(
            select(w.webhook_subscriptions).order_by(w.webhook_subscriptions.c.id)
        )
        return [_subscription(r) for r in rows]

    def subscription(self, subscription_id: int) -> dict[str, Any]:
        row = self.db.execute(
            select(w.webhook_subscriptions).where(w.webhook_subscriptions.c.id == subscription_id)
        ).first()
        if row is None:
            raise NotFound("webhook", subscription_id, "webhook_id")
        return _subscription(row)

    def fan_out(self, now: datetime, give_up_at: datetime, limit: int) -> int:
        """Turn up to `limit` unpublished outbox events, oldest first, into one pending
        delivery per active subscription that wants them, and mark them published. On
        PostgreSQL the events are claimed with FOR UPDATE SKIP LOCKED, so two publishers
        never take the same one; SQLite's write lock serialises them anyway."""
        query = (
            select(o.outbox.c.id, o.outbox.c.event, o.outbox.c.subject)
            .where(o.outbox.c.published_at.is_(None))
            .order_by(o.outbox.c.id)
            .limit(limit)
        )
        if self.dialect == "postgresql":
            query = query.with_for_update(skip_locked=True)
        events = self.db.execute(query).all()
        if not events:
            return 0
        subscriptions = [s for s in self.subscriptions() if s["active"]]
        rows = [
            {
                "subscription_id": s["id"],
                "outbox_id": event_id,
                "subject": subject,
                "status": PENDING,
                "attempts": 0,
                "next_attempt_at": now,
                "give_up_at": give_up_at,
            }
            for event_id, name, subject in events
            for s in subscriptions
            if "*" in s["events"] or name in s["events"]
        ]
        if rows:
            self.db.execute(w.webhook_deliveries.insert(), rows)
        ids = [event_id for event_id, _, _ in events]
        self.db.execute(update(o.outbox).where(o.outbox.c.id.in_(ids)).values(published_at=now))
        return len(events)

    def claim_due(self, now: datetime, lease_until: datetime, limit: int) -> list[dict[str, Any]]:
        """Pending deliveries due by `now` of active subscriptions, each the oldest pending one
        of its subscription and object (so one object's events arrive in order), claimed
        until `lease_until`: another publisher skips them until then."""
        d = w.webhook_deliveries
        earlier = d.alias("earlier")
        query = (
            select(
                d.c.id,
                d.c.outbox_id,
                d.c.attempts,
                d.c.give_up_at,
                d.c.subscription_id,
                w.webhook_subscriptions.c.url,
                w.webhook_subscriptions.c.secret,
                o.outbox.c.event,
                o.outbox.c.subject,
                o.outbox.c.payload,
                o.outbox.c.created_at,
            )
            .join(w.webhook_subscriptions, w.webhook_subscriptions.c.id == d.c.subscription_id)
            .join(o.outbox, o.outbox.c.id == d.c.outbox_id)
            .where(
                d.c.status == PENDING,
                d.c.next_attempt_at <= now,
                w.webhook_subscriptions.c.active.is_(True),
                ~exists().where(
                    and_(
                        earlier.c.subscription_id == d.c.subscription_id,
                        earlier.c.subject == d.c.subject,
                        earlier.c.status == PENDING,
                        earlier.c.outbox_id < d.c.outbox_id,
                    )
                ),
            )
            .order_by(d.c.outbox_id)
            .limit(limit)
        )
        if self.dialect == "postgresql":
            query = query.with_for_update(of=d, skip_locked=True)
        rows = [dict(r._mapping) for r in self.db.execute(query)]
        if rows:
            self.db.execute(
                update(d)
                .where(d.c.id.in_([r["id"] for r in rows]))
                .values(next_attempt_at=lease_until)
            )
        return rows

    def record_attempt(
        self,
        delivery: dict[str, Any],
        at: datetime,
        status_code: int | None,
        error: str | None,
        milliseconds: int,
        outcome: str,
        next_attempt_at: datetime | None,
        max_failures: int,
    ) -> None:
        """Log the attempt; mark the delivery delivered, pending again, or dead; count the
        subscription's consecutive failures and disable it at `max_failures`."""
        d, s = w.webhook_deliveries, w.webhook_subscriptions
        self.db.execute(
            w.webhook_attempts.insert().values(
                delivery_id=delivery["id"],
                attempted_at=at,
                status_code=status_code,
                error=error,
                milliseconds=milliseconds,
            )
        )
        values: dict[str, Any] = {
            "status": outcome,
            "attempts": d.c.attempts + 1,
            "last_status": status_code,
            "last_error": error,
        }
        if outcome == DELIVERED:
            values["delivered_at"] = at
        if next_attempt_at is not None:
            values["next_attempt_at"] = next_attempt_at
        self.db.execute(update(d).where(d.c.id == delivery["id"]).values(values))
        if outcome == DELIVERED:
            self.db.execute(
                update(s).where(s.c.id == delivery["subscription_id"]).values(failures=0)
            )
            return
        self.db.execute(
            update(s).where(s.c.id == delivery["subscription_id"]).values(failures=s.c.failures + 1)
        )
        self.db.execute(
            update(s)
            .where(s.c.id == delivery["subscription_id"], s.c.failures >= max_failures, s.c.active)
            .values(
                active=False,
                disabled_reason=f"disabled after {max_failures} failed attempts in a row; "
                f"last: {error or status_code}",
            )
        )

    def replay(
        self, subscription_id: int, now: datetime, give_up_at: datetime, since: datetime | None
    ) -> int:
        """Enable the subscription again and queue its dead deliveries (and, with `since`,
        the delivered ones of events since then) for another try. The number queued."""
        d, s = w.webhook_deliveries, w.webhook_subscriptions
        self.subscription(subscription_id)
        self.db.execute(
            update(s)
            .where(s.c.id == subscription_id)
            .values(active=True, failures=0, disabled_reason=None)
        )
        condition = d.c.status == DEAD
        if since is not None:
            condition = condition | and_(
                d.c.status == DELIVERED,
                d.c.outbox_id.in_(select(o.outbox.c.id).where(o.outbox.c.created_at >= since)),
            )
        result = self.db.execute(
            update(d)
            .where(d.c.subscription_id == subscription_id, condition)
            .values(status=PENDING, attempts=0, next_attempt_at=now, give_up_at=give_up_at)
        )
        return int(result.rowcount)

    def deliveries(
        self, subscription_id: int, limit: int, offset: int
    ) -> tuple[list[dict[str, Any]], int]:
        self.subscription(subscription_id)
        d = w.webhook_deliveries
        query = (
            select(
                d.c.id,
                d.c.outbox_id.label("event_id"),
                o.outbox.c.event,
                d.c.subject,
                d.c.status,
                d.c.attempts,
                d.c.next_attempt_at,
                d.c.last_status,
                d.c.last_error,
                d.c.delivered_at,
            )
            .join(o.outbox, o.outbox.c.id == d.c.outbox_id)
            .where(d.c.subscription_id == subscription_id)
        )
        return self._page(query, d.c.outbox_id.desc(), limit, offset)
