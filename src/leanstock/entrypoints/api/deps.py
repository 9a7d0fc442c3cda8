"""FastAPI dependencies: a unit of work per request, and the principal making it.

Authentication happens in `security.AuthenticationMiddleware`, before routing, for every path
but the few public ones, so a route that forgot to ask still cannot be reached anonymously.
Each route then declares the one permission it needs with `permit(...)`: 403 when the
principal's role (or a read-only token) lacks it.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from leanstock.adapters.db.uow import UnitOfWork
from leanstock.domain.access import ALL_PERMISSIONS, Actor
from leanstock.domain.errors import NotAuthenticated


async def unit_of_work(request: Request) -> UnitOfWork:
    """A unit of work that reads only what the principal may see: its repositories narrow
    every list to the principal's bindings (`Actor.visibility`), so a route cannot forget to."""
    actor = request.scope.get("state", {}).get("actor")
    if isinstance(actor, Actor):
        return UnitOfWork(request.app.state.engine, actor.visibility)
    return UnitOfWork(request.app.state.engine)


UowDep = Annotated[UnitOfWork, Depends(unit_of_work)]


# Declares the Bearer scheme in the OpenAPI document (the docs' Authorize button); checking
# the token is the middleware's work.
_bearer = HTTPBearer(auto_error=False, description="An API token: `lst_...`.")


async def current_actor(
    request: Request,
    _token: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Actor:
    """The authenticated principal of this request (session cookie or Bearer token)."""
    actor = request.scope.get("state", {}).get("actor")
    if not isinstance(actor, Actor):
        raise NotAuthenticated("Sign in, or send an API token as `Authorization: Bearer <token>`.")
    return actor


Principal = Annotated[Actor, Depends(current_actor)]


def permit(*permissions: str) -> Any:
    """A dependency that lets through only principals with one of `permissions` (403
    otherwise) and gives the route the principal:
    `actor: Annotated[Actor, permit("purchase:release")]`, or
    `dependencies=[permit("catalog:read")]` when the route does not need it."""
    unknown = [p for p in permissions if p not in ALL_PERMISSIONS]
    if not permissions or unknown:
        raise ValueError(f"Unknown permission {unknown!r}: add it to domain/access.py.")

    async def check(actor: Principal) -> Actor:
        if not any(actor.can(p) for p in permissions):
            actor.require(permissions[0])
        return actor

    check.permissions = permissions  # type: ignore[attr-defined]
    check.__name__ = "permit_" + "_or_".join(p.replace(":", "_") for p in permissions)
    return Depends(check)


def permissions_of(dependency: Any) -> tuple[str, ...] | None:
    """The permissions a `permit` dependency checks (for tests walking every route)."""
    return getattr(dependency, "permissions", None)
