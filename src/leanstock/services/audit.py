"""Read the audit trail: who changed what, when, in which request, filtered and newest first."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from leanstock.adapters.db.uow import UnitOfWork
from leanstock.domain.errors import InvalidInput
from leanstock.services.paging import page_bounds
from leanstock.services.ports import Page


def _utc(moment: datetime | None) -> datetime | None:
    """In UTC, as stored (SQLite compares the text, so every bound must be in one zone)."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def audit_trail(
    uow: UnitOfWork,
    subject: str | None = None,
    actor: str | None = None,
    action: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    request_id: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> Page[dict[str, Any]]:
    """Rows matching every filter: `subject` is the object (an order number, `user:<email>`,
    `token:<prefix>`), `actor` who acted, `since` ≤ time < `until`."""
    since, until = _utc(since), _utc(until)
    if since is not None and until is not None and until <= since:
        raise InvalidInput("`until` must be after `since`.", "until")
    limit, offset = page_bounds(limit, offset)
    with uow:
        rows, total = uow.audit.search(
            subject, actor, action, since, until, request_id, limit, offset
        )
    return Page(rows, total, limit, offset)
