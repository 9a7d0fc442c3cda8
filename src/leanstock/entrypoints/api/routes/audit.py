"""The audit trail, for owners and managers."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import Field

from leanstock.entrypoints.api.bounds import Moment
from leanstock.entrypoints.api.deps import UowDep, permit
from leanstock.entrypoints.api.paging import Limit, Offset
from leanstock.entrypoints.api.schemas import Out, PageOut
from leanstock.services import audit

router = APIRouter(tags=["audit"])


class AuditEntryOut(Out):
    id: int
    created_at: datetime
    actor: str
    credential: str | None = Field(description="`session`, `token:<prefix>` or `cli`.")
    request_id: str | None
    address: str | None
    action: str
    subject: str
    changes: dict[str, Any] = Field(description="`[before, after]` of each value changed.")


@router.get("/audit", dependencies=[permit("audit:read")])
def audit_trail(
    uow: UowDep,
    object: Annotated[
        str | None,
        Query(description="An order number, `user:<email>` or `token:<prefix>`.", max_length=300),
    ] = None,
    actor: Annotated[str | None, Query(description="Who acted (an email).", max_length=254)] = None,
    action: Annotated[str | None, Query(max_length=64)] = None,
    since: Moment | None = None,
    until: Moment | None = None,
    request_id: Annotated[str | None, Query(max_length=64)] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> PageOut[AuditEntryOut]:
    """Who changed what and when, newest first; every filter given must match."""
    page = audit.audit_trail(uow, object, actor, action, since, until, request_id, limit, offset)
    return PageOut[AuditEntryOut](
        items=[AuditEntryOut.model_validate(r) for r in page.items],
        total=page.total,
        limit=page.limit,
        offset=page.offset,
    )
