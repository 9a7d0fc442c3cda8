"""Tables of webhook publishing: subscriptions, one delivery per event and subscription, and
a log row per attempt (migration 0010)."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from leanstock.adapters.db.metadata import Id, Timestamp, metadata

webhook_subscriptions = Table(
    "webhook_subscriptions",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("url", String(2000), nullable=False),
    Column("secret", String(200), nullable=False),
    Column("events", Text, nullable=False),  # JSON list of event names, or ["*"]
    Column("active", Boolean, nullable=False),
    Column("failures", Integer, nullable=False),  # consecutive failed attempts
    Column("disabled_reason", String(500), nullable=True),
    Column("created_at", Timestamp, nullable=False),
)

# status: pending (to deliver at next_attempt_at), delivered, or dead (gave up at give_up_at).
webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("subscription_id", Id, ForeignKey("webhook_subscriptions.id"), nullable=False),
    Column("outbox_id", Id, ForeignKey("outbox.id"), nullable=False),
    Column("subject", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", Timestamp, nullable=False),
    Column("give_up_at", Timestamp, nullable=False),
    Column("last_status", Integer, nullable=True),
    Column("last_error", String(500), nullable=True),
    Column("delivered_at", Timestamp, nullable=True),
    UniqueConstraint("subscription_id", "outbox_id", name="uq_webhook_deliveries_event"),
    Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
    Index("ix_webhook_deliveries_order", "subscription_id", "subject", "status", "outbox_id"),
)

webhook_attempts = Table(
    "webhook_attempts",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("delivery_id", Id, ForeignKey("webhook_deliveries.id"), nullable=False, index=True),
    Column("attempted_at", Timestamp, nullable=False),
    Column("status_code", Integer, nullable=True),
    Column("error", String(500), nullable=True),
    Column("milliseconds", Integer, nullable=False),
)
