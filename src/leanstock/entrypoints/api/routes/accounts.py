"""Sign-in and sign-out, who am I, users (owners) and API tokens."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import Field

from leanstock.adapters.auth.credentials import same
from leanstock.domain.access import PERMISSIONS, Actor, Role, Scope
from leanstock.domain.accounts import MAX_PASSWORD, MAX_TOKEN_DAYS, User
from leanstock.domain.errors import Forbidden, NotAuthenticated
from leanstock.entrypoints.api.bounds import Id
from leanstock.entrypoints.api.deps import Principal, UowDep, permit
from leanstock.entrypoints.api.paging import Limit, Offset
from leanstock.entrypoints.api.schemas import In, Out, PageOut
from leanstock.entrypoints.api.security import (
    CSRF_HEADER,
    client_address,
    cookie_name,
    forget_cookie,
)
from leanstock.services import accounts, signin, tokens

router = APIRouter(tags=["accounts"])
Password = Field(min_length=1, max_length=MAX_PASSWORD)


class LoginIn(In):
    email: str = Field(min_length=1, max_length=320)
    password: str = Password


class UserOut(Out):
    id: int
    email: str
    display_name: str
    role: Role
    active: bool
    locations: list[str] | None = Field(description="Limited to these locations (warehouse).")
    supplier: str | None = Field(description="The one supplier a supplier user works for.")

    @classmethod
    def of(cls, user: User) -> UserOut:
        return cls(
            id=user.id,
            email=user.email,
            display_name=user.display_name,
            role=user.role,
            active=user.active,
            locations=sorted(user.locations) if user.locations is not None else None,
            supplier=user.supplier,
        )


class MeOut(Out):
    email: str
    display_name: str
    role: Role
    scope: Scope
    locations: list[str] | None
    supplier: str | None
    credential: str = Field(description="`session`, or `token:<prefix>`.")
    permissions: list[str]
    csrf_token: str | None = Field(
        description=f"Send it as {CSRF_HEADER} on every state-changing request made with the "
        "session cookie; absent for tokens."
    )

    @classmethod
    def of(cls, actor: Actor, csrf: str | None) -> MeOut:
        return cls(
            email=actor.email,
            display_name=actor.display_name,
            role=actor.role,
            scope=actor.scope,
            locations=sorted(actor.locations) if actor.locations is not None else None,
            supplier=actor.supplier,
            credential=actor.credential,
            permissions=sorted(p for p in PERMISSIONS[actor.role] if actor.can(p)),
            csrf_token=csrf,
        )


class SignedInOut(Out):
    me: MeOut
    expires_at: datetime


class PasswordChangeIn(In):
    current_password: str = Password
    new_password: str = Password


class PasswordResetIn(In):
    password: str = Password


class UserIn(In):
    email: str = Field(min_length=1, max_length=320)
    password: str = Password
    role: Role
    display_name: str | None = Field(default=None, max_length=200)
    locations: list[str] | None = Field(default=None, max_length=500)
    supplier: str | None = Field(default=None, max_length=64)


class UserPatch(In):
    display_name: str | None = Field(default=None, min_length=1, max_length=200)
    role: Role | None = Field(default=None, description="null leaves the role as it is.")
    active: bool | None = Field(default=None, description="null leaves it as it is.")
    locations: list[str] | None = Field(default=None, max_length=500)
    supplier: str | None = Field(default=None, max_length=64)

    def changes(self) -> dict[str, Any]:
        """A null role or active flag is no change (not "no role", nor "inactive")."""
        return {
            name: value
            for name, value in super().changes().items()
            if value is not None or name not in ("role", "active")
        }


class TokenIn(In):
    name: str = Field(min_length=1, max_length=100)
    scope: Scope = Scope.WRITE
    expires_in_days: int = Field(default=90, ge=1, le=MAX_TOKEN_DAYS)


class TokenOut(Out):
    id: int
    prefix: str
    name: str
    user: str
    scope: Scope
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None
    status: str


class NewTokenOut(TokenOut):
    token: str = Field(description="The token itself: shown now and never again.")


# Signing in and out


@router.post("/auth/login")
def login(body: LoginIn, request: Request, response: Response, uow: UowDep) -> SignedInOut:
    """Sign in with email and password: a session cookie (secure, HttpOnly, SameSite=Lax) and
    the CSRF token to send with state-changing requests. Wrong email or password answer alike;
    repeated failures are refused for a growing while (429 with Retry-After)."""
    settings = request.app.state.settings
    previous = request.cookies.get(cookie_name(settings))
    signed = signin.login(
        uow,
        body.email,
        body.password,
        client_address(request.scope),
        timedelta(hours=settings.session_absolute_hours),
        timedelta(minutes=settings.session_idle_minutes),
    )
    if previous:  # a new session id at every sign-in; the old one ends
        signin.logout(uow, previous)
    response.set_cookie(
        cookie_name(settings),
        signed.session_id,
        max_age=settings.session_absolute_hours * 3600,
        path="/",
        secure=settings.cookie_secure,
        httponly=True,
        samesite="lax",
    )
    return SignedInOut(me=MeOut.of(signed.actor, signed.csrf_token), expires_at=signed.expires_at)


@router.post("/auth/logout", status_code=204)
def logout(request: Request, uow: UowDep) -> Response:
    """End the web session of the cookie (with its CSRF token) and forget the cookie."""
    settings = request.app.state.settings
    name = cookie_name(settings)
    session_id = request.cookies.get(name)
    if session_id:
        try:
            found = signin.session(
                uow, session_id, timedelta(minutes=settings.session_idle_minutes)
            )
        except NotAuthenticated:
            found = None
        if found is not None:
            if not same(request.headers.get(CSRF_HEADER, ""), found.csrf_token):
                raise Forbidden(f"Signing out needs the {CSRF_HEADER} header.")
            signin.logout(uow, session_id)
    response = Response(status_code=204)
    forget_cookie(response, name)
    return response


# The caller


@router.get("/me", dependencies=[permit("account:read")])
def me(request: Request, actor: Principal) -> MeOut:
    """Who is calling: user, role, bindings, the credential used and what it may do."""
    return MeOut.of(actor, request.scope.get("state", {}).get("csrf_token"))


@router.post("/me/password", status_code=204)
def change_password(
    body: PasswordChangeIn,
    request: Request,
    uow: UowDep,
    actor: Annotated[Actor, permit("account:self")],
) -> Response:
    """Change your own password (the current one is checked, throttled like a sign-in); your
    other web sessions end."""
    settings = request.app.state.settings
    session_id = request.cookies.get(cookie_name(settings))
    kept = session_id if actor.credential == "session" else None
    accounts.change_password(
        uow,
        actor,
        body.current_password,
        body.new_password,
        client_address(request.scope),
        keep_session=kept,
    )
    return Response(status_code=204)


# Users (owners)


@router.get("/users", dependencies=[permit("user:read")])
def list_users(
    uow: UowDep,
    limit: Limit = 50,
    offset: Offset = 0,
    role: Role | None = None,
    active: bool | None = None,
) -> PageOut[UserOut]:
    page = accounts.list_users(uow, limit, offset, role, active)
    return PageOut[UserOut](
        items=[UserOut.of(u) for u in page.items],
        total=page.total,
        limit=page.limit,
        offset=page.offset,
    )


@router.post("/users", status_code=201, dependencies=[permit("user:write")])
def create_user(body: UserIn, uow: UowDep) -> UserOut:
    """Add a user (password at least 12 characters and not a common one)."""
    user = accounts.create_user(
        uow,
        body.email,
        body.password,
        body.role,
        name=body.display_name,
        locations=body.locations,
        supplier=body.supplier,
    )
    return UserOut.of(user)


@router.get("/users/{user_id}", dependencies=[permit("user:read")])
def get_user(user_id: Id, uow: UowDep) -> UserOut:
    return UserOut.of(accounts.get_user(uow, user_id))


@router.patch("/users/{user_id}", dependencies=[permit("user:write")])
def update_user(user_id: Id, body: UserPatch, uow: UowDep) -> UserOut:
    """Change role, bindings, display name or active flag; the user's web sessions end when
    their role, bindings or state change."""
    return UserOut.of(accounts.update_user(uow, user_id, body.changes()))


@router.post("/users/{user_id}/password", status_code=204, dependencies=[permit("user:write")])
def reset_password(user_id: Id, body: PasswordResetIn, uow: UowDep) -> Response:
    """Set a new password for a user; their web sessions end."""
    accounts.reset_password(uow, user_id, body.password)
    return Response(status_code=204)


# API tokens


def _token_out(view: tokens.TokenView) -> TokenOut:
    return TokenOut.model_validate(view)


@router.get("/tokens")
def list_tokens(
    uow: UowDep,
    actor: Annotated[Actor, permit("token:read")],
    limit: Limit = 50,
    offset: Offset = 0,
    everyone: Annotated[bool, Query(description="Every user's tokens (owners).")] = False,
) -> PageOut[TokenOut]:
    """Your tokens, newest first (never their secrets)."""
    if everyone:
        actor.require("user:read")
    page = tokens.list_tokens(uow, None if everyone else actor.user_id, limit, offset)
    return PageOut[TokenOut](
        items=[_token_out(t) for t in page.items],
        total=page.total,
        limit=page.limit,
        offset=page.offset,
    )


@router.post("/tokens", status_code=201)
def create_token(
    body: TokenIn, uow: UowDep, actor: Annotated[Actor, permit("token:write")]
) -> NewTokenOut:
    """Create a token for yourself; its secret is in this answer only. A token cannot create
    tokens (sign in, or use `leanstock token create`), so a leaked one cannot breed."""
    if actor.credential != "session" or actor.user_id is None:
        raise Forbidden("Create tokens from a signed-in session or with `leanstock token create`.")
    made = tokens.create_token(
        uow, actor.user_id, body.name, body.scope, timedelta(days=body.expires_in_days)
    )
    return NewTokenOut(**_token_out(made.token).model_dump(), token=made.secret)


@router.get("/tokens/{token_id}")
def get_token(token_id: Id, uow: UowDep, actor: Annotated[Actor, permit("token:read")]) -> TokenOut:
    return _token_out(tokens.get_token(uow, actor, token_id))


@router.post("/tokens/{token_id}/revoke")
def revoke_token(
    token_id: Id, uow: UowDep, actor: Annotated[Actor, permit("token:write")]
) -> TokenOut:
    """Revoke one of your tokens (owners: anyone's); it stops working at once."""
    return _token_out(tokens.revoke_token(uow, actor, token_id))
