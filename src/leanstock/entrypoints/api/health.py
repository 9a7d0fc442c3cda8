"""`GET /api/v1/health`: liveness and readiness for a load balancer, a reverse proxy or a
monitor, without signing in.

200 when the process answers, the database answers, and its schema is the one this version of
Leanstock runs on (`alembic_version` = the newest migration); otherwise 503, a problem whose
detail says which check failed and what to do, so the proxy takes this process out of
rotation until `leanstock init` has upgraded the schema or the database is back.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from leanstock import __version__
from leanstock.adapters.db.engine import head_revision, schema_revision
from leanstock.entrypoints.api.problems import PROBLEM
from leanstock.entrypoints.api.schemas import Out

router = APIRouter(tags=["meta"])

_NOT_READY = {
    "description": "Not ready: the database does not answer, or its schema is not this "
    "version's. The detail says which; `checks` holds each check's result.",
    "content": {PROBLEM: {}},
}


def checks(engine: Engine, head: str) -> tuple[dict[str, str], str | None]:
    """Each check's result, and why the service is not ready (None when it is)."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        revision = schema_revision(engine)
    except SQLAlchemyError as error:
        cause = getattr(error, "orig", None) or error
        reason = (str(cause).splitlines() or ["no detail"])[0]
        return (
            {"database": "unreachable", "schema": "unknown"},
            f"The database does not answer ({type(error).__name__}: {reason}).",
        )
    found = {"database": "ok", "schema": revision or "none"}
    if revision == head:
        return {**found, "schema": "ok"}, None
    if revision is None:
        return found, "The database has no Leanstock schema; run `leanstock init`."
    return found, (
        f"The database's schema is {revision}; this leanstock {__version__} needs {head}. "
        + (
            "Back it up, then run `leanstock init` to upgrade it."
            if revision < head
            else "Upgrade leanstock."
        )
    )


class HealthOut(Out):
    status: str
    version: str
    checks: dict[str, str]


@router.get(
    "/health",
    response_model=HealthOut,
    summary="Liveness and readiness",
    responses={503: _NOT_READY},
)
def health(request: Request) -> HealthOut | JSONResponse:
    """`{"status": "ok", ...}` when this process can serve requests: the database answers and
    its schema is current. No sign-in needed."""
    found, reason = checks(request.app.state.engine, head_revision())
    if reason is not None:
        body: dict[str, Any] = {
            "type": "about:blank",
            "title": "Not ready",
            "status": 503,
            "detail": reason,
            "checks": found,
        }
        return JSONResponse(body, 503, headers={"Retry-After": "10"}, media_type=PROBLEM)
    return HealthOut(status="ok", version=__version__, checks=found)
