"""Webhooks: subscriptions per event type, and the publisher that delivers the outbox.

Every committed change writes its events to the outbox in its own transaction. `publish`
then, in short transactions of its own: (1) fans unpublished events out into one delivery per
subscription that wants them and sets the events' `published_at`; (2) claims due deliveries,
the oldest pending one per subscription and object, for a lease; (3) sends each, signed
(`domain.webhooks.sign`), and records the attempt: delivered, or retried with exponential
backoff (`next_wait`) until GIVE_UP_AFTER, then dead. Delivery is at least once (a crash
between sending and recording sends again after the lease); `Leanstock-Event-Id` lets the
receiver drop repeats. Several publishers may run at once: each event and delivery is
claimed by one (FOR UPDATE SKIP LOCKED on PostgreSQL, the write lock on SQLite).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from leanstock.domain.event_schemas import version
from leanstock.domain.events import Changed, created
from leanstock.domain.webhooks import (
    EVENT_HEADER,
    EVENT_ID_HEADER,
    GIVE_UP_AFTER,
    MAX_FAILURES,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    Sent,
    checked_events,
    checked_url,
    next_wait,
    sign,
)
from leanstock.services.paging import page_bounds
from leanstock.services.ports import UnitOfWork
from leanstock.services.retry import retrying

LEASE = timedelta(minutes=2)
Sender = Callable[[str, dict[str, str], bytes], Sent]


@dataclass(frozen=True)
class Published:
    events: int
    delivered: int
    failed: int
    dead: int


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(UTC)


@retrying
def subscribe(
    uow: UnitOfWork, url: str, events: list[str], check: Callable[[str], object]
) -> dict[str, Any]:
    """Save a subscription; `check` refuses a URL that leads to a forbidden address (SSRF)
    before anything is saved. The secret is made here and shown once, in the answer."""
    url = checked_url(url)[0]
    names = checked_events(events)
    check(url)
    with uow:
        subscription = uow.webhooks.add_subscription(url, secrets.token_urlsafe(32), names)
        uow.record(
            Changed(
                subject=f"webhook:{subscription['id']}",
                verb="webhook_create",
                values=created({"url": url, "events": names}),
            )
        )
        uow.commit()
    return subscription


def subscriptions(uow: UnitOfWork) -> list[dict[str, Any]]:
    with uow:
        return uow.webhooks.subscriptions()


def deliveries(
    uow: UnitOfWork, subscription_id: int, limit: int = 50, offset: int = 0
) -> tuple[list[dict[str, Any]], int]:
    limit, offset = page_bounds(limit, offset)
    with uow:
        return uow.webhooks.deliveries(subscription_id, limit, offset)


@retrying
def replay(
    uow: UnitOfWork,
    subscription_id: int,
    since: datetime | None = None,
    now: datetime | None = None,
) -> int:
    """Enable a subscription again and queue its dead deliveries (and, with `since`, those
    delivered since then) to be sent once more. The number queued."""
    moment = _now(now)
    with uow:
        queued = uow.webhooks.replay(subscription_id, moment, moment + GIVE_UP_AFTER, since)
        uow.record(
            Changed(
                subject=f"webhook:{subscription_id}",
                verb="webhook_replay",
                values={
                    "queued": queued,
                    **({"since": since.isoformat()} if since is not None else {}),
                },
            )
        )
        uow.commit()
    return queued


def _body(delivery: dict[str, Any]) -> bytes:
    created = delivery["created_at"]
    created = created.replace(tzinfo=UTC) if created.tzinfo is None else created
    return json.dumps(
        {
            "id": str(delivery["outbox_id"]),
            "type": delivery["event"],
            "subject": delivery["subject"],
            "occurred_at": created.isoformat(),
            "data": json.loads(delivery["payload"]),
            # The JSON Schema `data` follows (GET /api/v1/events/schemas/{type}).
            "dataschema": f"urn:leanstock:event:{delivery['event']}:v{version(delivery['event'])}",
        },
        sort_keys=True,
    ).encode()


@retrying
def _fan_out(uow: UnitOfWork, now: datetime, limit: int) -> int:
    with uow:
        count = uow.webhooks.fan_out(now, now + GIVE_UP_AFTER, limit)
        uow.commit()
    return count


@retrying
def _claim(uow: UnitOfWork, now: datetime, limit: int) -> list[dict[str, Any]]:
    with uow:
        claimed = uow.webhooks.claim_due(now, now + LEASE, limit)
        uow.commit()
    return claimed


@retrying
def _record(uow: UnitOfWork, delivery: dict[str, Any], sent: Sent, now: datetime) -> str:
    attempts = int(delivery["attempts"]) + 1
    give_up = delivery["give_up_at"]
    give_up = give_up.replace(tzinfo=UTC) if give_up.tzinfo is None else give_up
    retry_at = now + next_wait(attempts)
    if sent.ok:
        outcome, next_at = "delivered", None
    elif retry_at > give_up:
        outcome, next_at = "dead", None
    else:
        outcome, next_at = "pending", retry_at
    with uow:
        uow.webhooks.record_attempt(
            delivery,
            now,
            sent.status_code,
            sent.error,
            sent.milliseconds,
            outcome,
            next_at,
            MAX_FAILURES,
        )
        uow.commit()
    return outcome


def publish(
    uow: UnitOfWork, send: Sender, now: datetime | None = None, batch: int = 100
) -> Published:
    """One pass of the publisher: fan out new events, then deliver what is due."""
    moment = _now(now)
    events = _fan_out(uow, moment, batch)
    delivered = failed = dead = 0
    for delivery in _claim(uow, moment, batch):
        body = _body(delivery)
        timestamp = int(moment.timestamp())
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "Leanstock-Webhooks/1",
            EVENT_ID_HEADER: str(delivery["outbox_id"]),
            EVENT_HEADER: delivery["event"],
            TIMESTAMP_HEADER: str(timestamp),
            SIGNATURE_HEADER: sign(delivery["secret"], timestamp, body),
        }
        outcome = _record(uow, delivery, send(delivery["url"], headers, body), _now(now))
        delivered += outcome == "delivered"
        failed += outcome == "pending"
        dead += outcome == "dead"
    return Published(events, delivered, failed, dead)
