"""Webhook subscriptions: create, list, see deliveries, replay."""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from leanstock.adapters.webhooks.sender import check_target
from leanstock.config import get_settings
from leanstock.domain import event_schemas as schemas
from leanstock.domain.errors import NotFound
from leanstock.entrypoints.api.bounds import Id, Moment
from leanstock.entrypoints.api.deps import UowDep, permit
from leanstock.entrypoints.api.paging import Limit, Offset
from leanstock.services import webhooks

router = APIRouter(tags=["webhooks"])


class WebhookIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: str = Field(max_length=2000, description="http(s) URL of a public receiver.")
    events: list[str] = Field(
        min_length=1, max_length=100, description='Event types (sales_order.shipped), or "*".'
    )


class WebhookOut(BaseModel):
    id: int
    url: str
    events: list[str]
    active: bool
    failures: int
    disabled_reason: str | None
    created_at: datetime

    @classmethod
    def of(cls, row: dict[str, Any]) -> WebhookOut:
        return cls.model_validate({k: row[k] for k in cls.model_fields})


class WebhookCreated(WebhookOut):
    secret: str = Field(description="Signs every delivery; shown only now: keep it.")


class DeliveryOut(BaseModel):
    id: int
    event_id: int
    event: str
    subject: str
    status: str
    attempts: int
    next_attempt_at: datetime | None
    last_status: int | None
    last_error: str | None
    delivered_at: datetime | None


class DeliveriesOut(BaseModel):
    items: list[DeliveryOut]
    total: int
    limit: int
    offset: int


class ReplayOut(BaseModel):
    queued: int


@router.post("/webhooks", status_code=201, dependencies=[permit("webhook:write")])
def create_webhook(body: WebhookIn, uow: UowDep) -> WebhookCreated:
    """Subscribe a URL to event types. The URL is refused when it leads to a loopback,
    private, link-local or cloud metadata address."""
    check = partial(check_target, allow_private=get_settings().webhooks_allow_private)
    created = webhooks.subscribe(uow, body.url, body.events, check)
    return WebhookCreated.model_validate(
        {**WebhookOut.of(created).model_dump(), "secret": created["secret"]}
    )


@router.get("/webhooks", dependencies=[permit("webhook:read")])
def list_webhooks(uow: UowDep) -> list[WebhookOut]:
    return [WebhookOut.of(s) for s in webhooks.subscriptions(uow)]


@router.get("/webhooks/{webhook_id}/deliveries", dependencies=[permit("webhook:read")])
def list_deliveries(
    webhook_id: Id, uow: UowDep, limit: Limit = 50, offset: Offset = 0
) -> DeliveriesOut:
    """The deliveries of a subscription, newest event first, with their last attempt."""
    rows, total = webhooks.deliveries(uow, webhook_id, limit, offset)
    return DeliveriesOut(
        items=[DeliveryOut.model_validate(r) for r in rows], total=total, limit=limit, offset=offset
    )


@router.post("/webhooks/{webhook_id}/replay", dependencies=[permit("webhook:write")])
def replay_webhook(
    webhook_id: Id,
    uow: UowDep,
    since: Annotated[
        Moment | None, Query(description="Also send again what was delivered since then.")
    ] = None,
) -> ReplayOut:
    """Enable the subscription again and send its dead deliveries once more."""
    return ReplayOut(queued=webhooks.replay(uow, webhook_id, since))


@router.get("/events/schemas", dependencies=[permit("webhook:read")])
def event_schemas() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of every event type's payload, the `data` of a
    delivery, by type; each carries its version (`x-version`, also in its `$id`)."""
    return schemas.schemas()


@router.get("/events/schemas/{event}", dependencies=[permit("webhook:read")])
def event_schema(event: str) -> dict[str, Any]:
    """The JSON Schema of one event type's payload."""
    if event not in schemas.EVENTS:
        raise NotFound("event type", f"{event} (GET /events/schemas lists them)", "event")
    return schemas.schema(event)
