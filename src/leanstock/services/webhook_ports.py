"""The port of webhooks: subscriptions, and the deliveries claimed once and retried
(`adapters/db/webhooks.py`; the unit of work's `webhooks`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol


class WebhooksRepo(Protocol):
    """Webhook subscriptions, and one delivery per outbox event and subscription."""

    def add_subscription(self, url: str, secret: str, events: Sequence[str]) -> dict[str, Any]: ...
    def subscriptions(self) -> list[dict[str, Any]]: ...
    def subscription(self, subscription_id: int) -> dict[str, Any]: ...
    def fan_out(self, now: datetime, give_up_at: datetime, limit: int) -> int: ...
    def claim_due(
        self, now: datetime, lease_until: datetime, limit: int
    ) -> list[dict[str, Any]]: ...
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
    ) -> None: ...
    def replay(
        self, subscription_id: int, now: datetime, give_up_at: datetime, since: datetime | None
    ) -> int: ...
    def deliveries(
        self, subscription_id: int, limit: int, offset: int
    ) -> tuple[list[dict[str, Any]], int]: ...
